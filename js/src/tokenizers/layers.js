import {tokenizer} from './tokenizer.js';
import {fail, utf8Decoder} from './util.js';

// ---- WebnetsTokenizer: the tokenizer as a TF.js layer (string tensor in, int32 ids out) ----

function hexJson(hex) {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.substr(2 * i, 2), 16);
  return JSON.parse(utf8Decoder.decode(bytes));
}

// The strings of a string tensor. dataSync() decodes them with a TextDecoder that drops a leading
// U+FEFF (it takes it for a byte order mark), so a text starting with one would lose it: read the
// stored UTF-8 bytes and decode them keeping it, as Keras does.
const MAX_TEXT_CHARS = 1 << 20;

function stringValues(tf, x) {
  try {
    const raw = tf.engine().readSync(x.dataId);
    if (Array.isArray(raw) && raw.every((b) => b instanceof Uint8Array)) return raw.map((b) => utf8Decoder.decode(b));
  } catch (error) {
    // a backend that keeps no bytes: fall back to tfjs' own decoding
  }
  return x.dataSync();
}

function defineLayers(tf) {
  // config.spec: the hex digits of the spec's UTF-8 JSON (tfjs rewrites other string values of a
  // config on load and save). Input: strings of shape [batch] or [batch, n]; output: int32 ids of
  // shape [...input shape, sequence_length], padded with the tokenizer's pad id. No weights. TF.js
  // has no string ops: the strings are read out (dataSync), tokenized here, and put back as a tensor.
  // tfjs' model.predict() refuses string inputs: use model.apply / execute (or webnets' predict).
  class WebnetsTokenizer extends tf.layers.Layer {
    static className = 'WebnetsTokenizer';

    constructor(config) {
      super(Object.assign({}, config, {trainable: false}));
      this.specHex = config.spec;
      const spec = hexJson(config.spec);
      if (!spec.sequence_length) fail(`${this.name}: the spec has no sequence_length.`);
      this.tokenizer = tokenizer(spec);
      this.sequenceLength = spec.sequence_length;
    }

    call(inputs) {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (x.dtype !== 'string') {
        fail(`${this.name} (WebnetsTokenizer) takes a string tensor (tf.tensor(['some text', ...])), `
          + `got ${x.dtype}.`);
      }
      const texts = stringValues(tf, x);
      texts.forEach((text, i) => {
        // Read whole into JavaScript: a text of many megabytes would freeze a page for a few tokens.
        if (text.length > MAX_TEXT_CHARS) {
          fail(`${this.name} (WebnetsTokenizer): text ${i} is ${text.length.toLocaleString('en')} characters long, `
            + `more than the ${MAX_TEXT_CHARS.toLocaleString('en')} webnets reads; cut it before predicting.`);
        }
      });
      const length = this.sequenceLength;
      const ids = new Int32Array(texts.length * length);
      for (let i = 0; i < texts.length; i++) ids.set(this.tokenizer.encode(texts[i]), i * length);
      return tf.tensor(ids, [...x.shape, length], 'int32');
    }

    computeOutputShape(inputShape) {
      const shape = Array.isArray(inputShape[0]) ? inputShape[0] : inputShape;
      return [...shape, this.sequenceLength];
    }

    getConfig() {
      return Object.assign({}, super.getConfig(), {spec: this.specHex});
    }
  }
  return [WebnetsTokenizer];
}

export {defineLayers};
