// ---- Text: Keras' string and lookup layers (TextVectorization, StringLookup, IntegerLookup, Hashing,
// HashedCrossing), computed as Keras computes them on its TensorFlow backend ----
//
// TF.js has no string ops: these layers read their input out to JavaScript (dataSync; a string tensor
// gives JS strings), compute there, and return int32 / float32 tensors (StringLookup(invert=True) a
// string tensor). They have no weights and no gradients. tfjs' own model.predict() refuses string
// inputs (it slices the batch with numeric ops); `predict` (predict.js) runs any model.
//
// Strings in configs (vocabularies, mask and OOV tokens, Hashing's mask_value) travel as the hex digits
// of their UTF-8 JSON (config key `strings`): tfjs camelCases every string value of a config on load
// ('out_of_vocab' -> 'outOfVocab') and snake_cases and lowercases it on save, and hex survives both.
// 64-bit salts travel as decimal strings, which survive too.
export function defineText(tf, H) {
  const utf8 = new TextEncoder();

  function decodeStrings(hex) {
    if (!hex) return {};
    const bytes = new Uint8Array(hex.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.substr(2 * i, 2), 16);
    return JSON.parse(new TextDecoder('utf-8').decode(bytes));
  }

  // ---- 64-bit hashes, as TensorFlow's kernels compute them (BigInt arithmetic mod 2^64) ----
  const MASK = 0xFFFFFFFFFFFFFFFFn;
  const K0 = 0xc3a5c85c97cb3127n, K1 = 0xb492b66fbe98f273n, K2 = 0x9ae16a3b2f90404fn;
  const mul = (a, b) => (a * b) & MASK;
  const add = (a, b) => (a + b) & MASK;
  const rotr = (v, s) => ((v >> s) | (v << (64n - s))) & MASK;
  const rotl = (v, s) => ((v << s) | (v >> (64n - s))) & MASK;
  const shiftMix = (v) => v ^ (v >> 47n);
  const u32 = (b, i) => (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
  const fetch32 = (b, i) => BigInt(u32(b, i));
  const fetch64 = (b, i) => (BigInt(u32(b, i + 4)) << 32n) | BigInt(u32(b, i));

  function hashLen16(u, v, m) {
    let a = mul(u ^ v, m);
    a ^= a >> 47n;
    let b = mul(v ^ a, m);
    b ^= b >> 47n;
    return mul(b, m);
  }

  function hashLen0to16(s, len) {
    if (len >= 8) {
      const m = add(K2, BigInt(len * 2));
      const a = add(fetch64(s, 0), K2);
      const b = fetch64(s, len - 8);
      const c = add(mul(rotr(b, 37n), m), a);
      const d = mul(add(rotr(a, 25n), b), m);
      return hashLen16(c, d, m);
    }
    if (len >= 4) {
      const m = add(K2, BigInt(len * 2));
      return hashLen16(BigInt(len) + (fetch32(s, 0) << 3n), fetch32(s, len - 4), m);
    }
    if (len > 0) {
      const y = BigInt((s[0] + (s[len >> 1] << 8)) >>> 0);
      const z = BigInt((len + (s[len - 1] << 2)) >>> 0);
      return mul(shiftMix(mul(y, K2) ^ mul(z, K0)), K2);
    }
    return K2;
  }

  function hashLen17to32(s, len) {
    const m = add(K2, BigInt(len * 2));
    const a = mul(fetch64(s, 0), K1);
    const b = fetch64(s, 8);
    const c = mul(fetch64(s, len - 8), m);
    const d = mul(fetch64(s, len - 16), K2);
    return hashLen16(add(add(rotr(add(a, b), 43n), rotr(c, 30n)), d), add(add(a, rotr(add(b, K2), 18n)), c), m);
  }

  function hashLen33to64(s, len) {
    const m = add(K2, BigInt(len * 2));
    const a = mul(fetch64(s, 0), K2);
    const b = fetch64(s, 8);
    const c = mul(fetch64(s, len - 8), m);
    const d = mul(fetch64(s, len - 16), K2);
    const y = add(add(rotr(add(a, b), 43n), rotr(c, 30n)), d);
    const z = hashLen16(y, add(add(a, rotr(add(b, K2), 18n)), c), m);
    const e = mul(fetch64(s, 16), m);
    const f = fetch64(s, 24);
    const g = mul(add(y, fetch64(s, len - 32)), m);
    const h = mul(add(z, fetch64(s, len - 24)), m);
    return hashLen16(add(add(rotr(add(e, f), 43n), rotr(g, 30n)), h), add(add(e, rotr(add(f, a), 18n)), g), m);
  }

  // [first, second] of farmhash's WeakHashLen32WithSeeds over s[i .. i + 32).
  function weakHash32(s, i, a, b) {
    const w = fetch64(s, i), x = fetch64(s, i + 8), y = fetch64(s, i + 16), z = fetch64(s, i + 24);
    a = add(a, w);
    b = rotr(add(add(b, a), z), 21n);
    const c = a;
    a = add(add(a, x), y);
    b = add(b, rotr(a, 44n));
    return [add(a, z), add(b, c)];
  }

  // TensorFlow's Fingerprint64 (tf.strings.to_hash_bucket_fast, tf.sparse.cross_hashed): FarmHash's
  // Fingerprint64, which is farmhashna::Hash64 (farmhash.cc), on the UTF-8 bytes.
  function fingerprint64(s) {
    const len = s.length;
    if (len <= 16) return hashLen0to16(s, len);
    if (len <= 32) return hashLen17to32(s, len);
    if (len <= 64) return hashLen33to64(s, len);
    const seed = 81n;
    let x = seed;
    let y = add(mul(seed, K1), 113n);
    let z = mul(shiftMix(add(mul(y, K2), 113n)), K2);
    let v = [0n, 0n], w = [0n, 0n];
    x = add(mul(x, K2), fetch64(s, 0));
    const end = Math.floor((len - 1) / 64) * 64;
    const last64 = len - 64;
    let i = 0;
    do {
      x = mul(rotr(add(add(add(x, y), v[0]), fetch64(s, i + 8)), 37n), K1);
      y = mul(rotr(add(add(y, v[1]), fetch64(s, i + 48)), 42n), K1);
      x ^= w[1];
      y = add(y, add(v[0], fetch64(s, i + 40)));
      z = mul(rotr(add(z, w[0]), 33n), K1);
      v = weakHash32(s, i, mul(v[1], K1), add(x, w[0]));
      w = weakHash32(s, i + 32, add(z, w[1]), add(y, fetch64(s, i + 16)));
      [z, x] = [x, z];
      i += 64;
    } while (i !== end);
    const m = add(K1, (z & 0xffn) << 1n);
    i = last64;
    w[0] = add(w[0], BigInt((len - 1) & 63));
    v[0] = add(v[0], w[0]);
    w[0] = add(w[0], v[0]);
    x = mul(rotr(add(add(add(x, y), v[0]), fetch64(s, i + 8)), 37n), m);
    y = mul(rotr(add(add(y, v[1]), fetch64(s, i + 48)), 42n), m);
    x ^= mul(w[1], 9n);
    y = add(y, add(mul(v[0], 9n), fetch64(s, i + 40)));
    z = mul(rotr(add(z, w[0]), 33n), m);
    v = weakHash32(s, i, mul(v[1], m), add(x, w[0]));
    w = weakHash32(s, i + 32, add(z, w[1]), add(y, fetch64(s, i + 16)));
    [z, x] = [x, z];
    return hashLen16(add(add(hashLen16(v[0], w[0], m), mul(shiftMix(y), K0)), z),
      add(hashLen16(v[1], w[1], m), x), m);
  }

  // TensorFlow's StrongKeyedHash (tf.strings.to_hash_bucket_strong): SipHash-2-4 keyed by the two
  // uint64 of the key, with SipHash's own padding (the last packet holds the remaining bytes and the
  // length's low byte on top), as the TensorFlow 2.19 wheel computes it. (The highwayhash headers that
  // wheel ships describe another padding, state_helpers.h PaddedUpdate; its binary does not use it:
  // tests/test_builtin_text.py checks thousands of strings of every length mod 8 against it.)
  function sipHash(key, s) {
    let v0 = 0x736f6d6570736575n ^ key[0], v1 = 0x646f72616e646f6dn ^ key[1];
    let v2 = 0x6c7967656e657261n ^ key[0], v3 = 0x7465646279746573n ^ key[1];
    const rounds = (n) => {
      for (let r = 0; r < n; r++) {
        v0 = add(v0, v1); v2 = add(v2, v3);
        v1 = rotl(v1, 13n); v3 = rotl(v3, 16n);
        v1 ^= v0; v3 ^= v2;
        v0 = rotl(v0, 32n);
        v2 = add(v2, v1); v0 = add(v0, v3);
        v1 = rotl(v1, 17n); v3 = rotl(v3, 21n);
        v1 ^= v2; v3 ^= v0;
        v2 = rotl(v2, 32n);
      }
    };
    const update = (packet) => { v3 ^= packet; rounds(2); v0 ^= packet; };
    const size = s.length;
    const whole = size - (size & 7);
    for (let i = 0; i < whole; i += 8) update(fetch64(s, i));
    const last = new Uint8Array(8);
    last.set(s.subarray(whole), 0);
    last[7] = size & 0xff;
    update(fetch64(last, 0));
    v2 ^= 0xffn;
    rounds(4);
    return v0 ^ v1 ^ v2 ^ v3;
  }

  // TensorFlow's FingerprintCat64 (tsl/platform/fingerprint.h), which tf.sparse.cross_hashed folds the
  // features of a cross with, starting from its default hash key 0xDECAFCAFFE.
  const CAT_MUL = 0xc6a4a7935bd1e995n;
  function fingerprintCat64(fp1, fp2) {
    let result = fp1 ^ CAT_MUL;
    result ^= mul(shiftMix(mul(fp2, CAT_MUL)), CAT_MUL);
    result = mul(result, CAT_MUL);
    result = mul(shiftMix(result), CAT_MUL);
    return shiftMix(result);
  }
  const CROSS_HASH_KEY = 0xDECAFCAFFEn;

  // Keras' salt (a pair of int64, from the config's decimal strings) -> the uint64 key TensorFlow uses.
  const saltKey = (salt) => (salt == null ? null : salt.map((v) => BigInt.asUintN(64, BigInt(v))));
  // The bucket of a string's UTF-8 bytes in [0, bins): to_hash_bucket_strong with a key, else _fast.
  const bucket = (text, bins, key) => {
    const bytes = utf8.encode(text);
    return Number((key ? sipHash(key, bytes) : fingerprint64(bytes)) % BigInt(bins));
  };
  // tf.as_string of an int64, the text Keras hashes for integers. A float input is first cast to int64
  // as TensorFlow's x86 kernels do: truncated, and NaN or out of range gives int64's minimum.
  const INT64_MIN = '-9223372036854775808';
  function integerText(value) {
    if (Number.isInteger(value)) return String(value);
    if (!Number.isFinite(value) || Math.abs(value) >= 2 ** 63) return INT64_MIN;
    return BigInt(Math.trunc(value)).toString();
  }

  // A text is read into JavaScript whole: one of many megabytes would freeze a page for what the
  // model reads of it (a few hundred tokens), so it is refused with the length it may have.
  const MAX_TEXT_CHARS = 1 << 20;
  function refuseLongTexts(name, className, texts) {
    texts.forEach((text, i) => {
      if (text.length > MAX_TEXT_CHARS) {
        throw new Error(`${name} (${className}): text ${i} is ${text.length.toLocaleString('en')} characters `
          + `long, more than the ${MAX_TEXT_CHARS.toLocaleString('en')} webnets reads; cut it before predicting `
          + '(the model reads only its first tokens anyway).');
      }
    });
  }

  // The JavaScript values of a tensor, and a clear error when its dtype is not what the layer takes.
  function valuesOf(layer, x, kind) {
    const isString = x.dtype === 'string';
    const wanted = kind === 'string' ? isString : (kind === 'number' ? !isString : true);
    if (!wanted) {
      const expected = kind === 'string' ? 'a string tensor (tf.tensor([\'some text\', ...]))'
        : 'a number tensor (int32 ids)';
      throw new Error(`${layer.name} (${layer.kerasClass}): expects ${expected}, but was given a ${x.dtype} `
        + 'tensor. Feed the model\'s input the dtype it was exported with (model.inputs[i].dtype).');
    }
    const values = x.dataSync();
    if (isString) refuseLongTexts(layer.name, layer.kerasClass, values);
    return values;
  }

  // tfjs-layers labels every symbolic output float32, and its executor casts each layer's output to that
  // label before the next layer gets it (a hash bucket above 2^24 would lose bits, a string fail). The
  // text layers' outputs carry their real dtype instead (int32 ids, float32 encodings, strings).
  class TextLayer extends tf.layers.Layer {
    apply(inputs, kwargs) {
      const out = super.apply(inputs, kwargs);
      for (const o of Array.isArray(out) ? out : [out]) {
        if (o != null && !(o instanceof tf.Tensor) && 'sourceLayer' in o) o.dtype = this.outputDtype;
      }
      return out;
    }
  }

  // ---- IndexLookup: Keras' StringLookup / IntegerLookup tables (keras/src/layers/preprocessing/index_lookup.py) ----
  const DROPPED = -1;  // counts nowhere: Keras' mask value (int64 max) outside non-int modes
  class Vocabulary {
    // tokens: the vocabulary without special tokens; maskToken, oovToken: null or a value.
    constructor(layer, {tokens, maskToken, oovToken, numOovIndices, outputMode, oovMethod, salt, integer}) {
      this.layer = layer;
      this.tokens = tokens;
      this.maskToken = maskToken;
      this.oovToken = oovToken;
      this.numOov = numOovIndices;
      this.outputMode = outputMode;
      this.integer = integer;
      // IntegerLookup spreads OOV integers over the OOV indices by floormod, unless oov_method='farmhash'.
      this.floormod = integer && oovMethod !== 'farmhash';
      this.key = saltKey(salt);
      this.oovStart = maskToken != null && outputMode === 'int' ? 1 : 0;
      this.tokenStart = this.oovStart + numOovIndices;
      this.indices = new Map(tokens.map((token, i) => [token, this.tokenStart + i]));
    }

    // The index Keras gives a value: the mask token's (0 in 'int' mode, else none), the token's, or an
    // OOV index (one, or a hash bucket among several).
    index(value) {
      if (this.maskToken != null && value === this.maskToken) return this.outputMode === 'int' ? 0 : DROPPED;
      const found = this.indices.get(value);
      if (found !== undefined) return found;
      if (this.numOov === 1) return this.oovStart;
      if (this.numOov === 0) {
        throw new Error(`${this.layer.name} (${this.layer.kerasClass}): ${JSON.stringify(value)} is not in the `
          + 'vocabulary, and the layer has num_oov_indices=0, so Keras raises an error too. Give it known values '
          + 'only, or export a layer with num_oov_indices >= 1.');
      }
      if (this.floormod) return this.oovStart + (((value % this.numOov) + this.numOov) % this.numOov);
      return this.oovStart + bucket(this.integer ? integerText(value) : value, this.numOov, this.key);
    }

    // invert=True: the token of an index (the mask token at 0 when there is one, else the OOV token).
    token(index) {
      if (this.maskToken != null && index === 0) return this.maskToken;
      const at = index - this.tokenStart;
      return at >= 0 && at < this.tokens.length ? this.tokens[at] : this.oovToken;
    }
  }

  // Per-row bincounts of index rows (an index outside [0, depth) counts nowhere), as Keras' TensorFlow
  // fast path computes multi_hot / count / tf_idf on rank-2 and ragged inputs: [rows, depth] float32.
  function countRows(rows, mode, depth, idf) {
    const out = new Float32Array(rows.length * depth);
    rows.forEach((row, r) => {
      for (const i of row) {
        if (i < 0 || i >= depth) continue;
        out[r * depth + i] = mode === 'multiHot' ? 1 : out[r * depth + i] + 1;
      }
    });
    if (mode === 'tfIdf') for (let k = 0; k < out.length; k++) out[k] = Math.fround(out[k] * idf[k % depth]);
    return out;
  }

  // The common config of the lookup layers: the lookup table's spec and the output encoding.
  function lookupConfig(config) {
    const strings = decodeStrings(config.strings);
    return {
      tokens: strings.tokens || [], maskToken: strings.maskToken == null ? null : strings.maskToken,
      oovToken: strings.oovToken == null ? null : strings.oovToken, numOovIndices: config.numOovIndices ?? 1,
      outputMode: config.outputMode || 'int', oovMethod: config.oovMethod || 'floormod', salt: config.salt || null,
    };
  }

  // Keras StringLookup and IntegerLookup. config: strings ({tokens, maskToken, oovToken}), numOovIndices,
  // invert, outputMode, depth (the encoded width: max_tokens with pad_to_max_tokens, else the vocabulary
  // size), idfWeights (tf_idf: one per index, as the Keras layer holds them), oovMethod, salt, outputDtype.
  class WebnetsStringLookup extends TextLayer {
    static className = 'WebnetsStringLookup';

    constructor(config) {
      super(config);
      this.config = config;
      const spec = lookupConfig(config);
      Object.assign(this, {numOovIndices: spec.numOovIndices, outputMode: spec.outputMode, oovMethod: spec.oovMethod,
        salt: spec.salt});
      this.invert = !!config.invert;
      this.depth = config.depth;
      this.idfWeights = config.idfWeights || null;
      this.outputDtype = config.outputDtype || (this.outputMode === 'int' ? 'int32' : 'float32');
      this.vocabulary = new Vocabulary(this, {...spec, integer: this.integer});
    }

    get kerasClass() { return 'StringLookup'; }
    get integer() { return false; }

    call(inputs) {
      const x = H.one(inputs);
      const keyKind = this.invert ? 'number' : (this.integer ? 'number' : 'string');
      const values = valuesOf(this, x, keyKind);
      return tf.tidy(() => {
        if (this.invert) {
          const tokens = Array.from(values, (v) => this.vocabulary.token(Math.trunc(v)));
          return this.integer ? tf.tensor(Int32Array.from(tokens), x.shape, 'int32') : tf.tensor(tokens, x.shape, 'string');
        }
        const keys = this.integer ? Array.from(values, (v) => (Number.isInteger(v) ? v : Math.trunc(v))) : values;
        const indices = Int32Array.from(keys, (v) => this.vocabulary.index(v));
        const ids = tf.tensor(indices, x.shape, 'int32');
        if (this.outputMode === 'tfIdf') {
          const counts = H.encode(ids, 'count', this.depth, 'float32');
          return tf.mul(counts, tf.tensor1d(this.idfWeights, 'float32'));
        }
        return H.encode(ids, this.outputMode, this.depth, this.outputDtype);
      });
    }

    computeOutputShape(inputShape) {
      const mode = this.outputMode === 'tfIdf' ? 'count' : this.outputMode;
      return H.encodedShape(H.oneShape(inputShape), mode, this.depth);
    }

    getConfig() {
      const c = this.config;
      return {...super.getConfig(), strings: c.strings, numOovIndices: this.numOovIndices, invert: this.invert,
        outputMode: this.outputMode, depth: this.depth, idfWeights: this.idfWeights, oovMethod: this.oovMethod,
        salt: this.salt, outputDtype: this.outputDtype};
    }
  }

  class WebnetsIntegerLookup extends WebnetsStringLookup {
    static className = 'WebnetsIntegerLookup';

    get kerasClass() { return 'IntegerLookup'; }
    get integer() { return true; }
  }

  // ---- TextVectorization (keras/src/layers/preprocessing/text_vectorization.py) ----
  // Keras calls tf.strings.lower without an encoding, which lowercases ASCII A-Z only (É, Σ, İ stay).
  const lower = (s) => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
  // Keras' punctuation regex, [!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\'], is the 32 ASCII punctuation
  // characters (',-\.' is the range , - .); Unicode punctuation (“ ” 。) stays.
  const PUNCTUATION = /[!"#$%&()*+,\-./:;<=>?@[\\\]^_`{|}~']/g;
  // tf.strings.split without a separator splits on runs of ASCII whitespace (absl::ascii_isspace:
  // space, \t, \n, \v, \f, \r); NBSP, U+3000 and friends are part of tokens.
  const WHITESPACE = /[ \t\n\v\f\r]+/;

  // tf.strings.ngrams(tokens, widths, separator=' '): for each width in order, every run of that many
  // tokens; a row shorter than a width gives none of it.
  function ngrams(tokens, widths) {
    if (widths == null) return tokens;
    const out = [];
    for (const width of widths) {
      for (let i = 0; i + width <= tokens.length; i++) out.push(tokens.slice(i, i + width).join(' '));
    }
    return out;
  }

  // config: standardize ('lowerAndStripPunctuation', 'lower', 'stripPunctuation' or null), split
  // ('whitespace', 'character' or null), ngrams (widths or null), outputMode, outputSequenceLength,
  // depth, idfWeights, strings ({tokens, maskToken: '', oovToken}: its StringLookup's vocabulary).
  // Input: strings of shape [batch] or [batch, 1] (with split null [batch, k] too, each string a token).
  class WebnetsTextVectorization extends TextLayer {
    static className = 'WebnetsTextVectorization';

    constructor(config) {
      super(config);
      this.config = config;
      this.standardize = config.standardize || null;
      this.split = config.split || null;
      this.ngrams = config.ngrams || null;
      this.outputMode = config.outputMode || 'int';
      this.outputSequenceLength = config.outputSequenceLength ?? null;
      this.depth = config.depth;
      this.idfWeights = config.idfWeights || null;
      this.outputDtype = this.outputMode === 'int' ? 'int32' : 'float32';
      const spec = lookupConfig(config);
      this.vocabulary = new Vocabulary(this, {...spec, numOovIndices: 1, outputMode: this.outputMode, integer: false});
    }

    get kerasClass() { return 'TextVectorization'; }

    standardized(text) {
      let s = text;
      if (this.standardize === 'lower' || this.standardize === 'lowerAndStripPunctuation') s = lower(s);
      if (this.standardize === 'stripPunctuation' || this.standardize === 'lowerAndStripPunctuation') {
        s = s.replace(PUNCTUATION, '');
      }
      return s;
    }

    tokens(text) {
      const s = this.standardized(text);
      if (this.split === 'whitespace') return s.split(WHITESPACE).filter((t) => t.length > 0);
      if (this.split === 'character') return Array.from(s);  // Unicode code points, as unicode_split
      return [s];
    }

    // The token rows of a batch: one row per sample, ngrams of its tokens.
    rows(x, values) {
      const batch = x.shape[0];
      const width = x.rank === 1 ? 1 : values.length / Math.max(batch, 1);
      const rows = [];
      for (let b = 0; b < batch; b++) {
        const row = this.split != null ? this.tokens(values[b])
          : Array.from(values.slice(b * width, (b + 1) * width), (v) => this.standardized(v));
        rows.push(x.rank === 1 && this.split == null ? row : ngrams(row, this.ngrams));
      }
      return rows;
    }

    // One text's tokens as this layer sees it (standardized, split, ngrams), each with the id it
    // gets, before output_sequence_length cuts or pads the row: what a page shows to explain an input
    // (web_demo/js/classify.js). The same code as call(), for one text of shape [1, 1].
    tokenIds(text) {
      return this.rows({rank: 2, shape: [1, 1]}, [text])[0].map((token) => ({token, id: this.vocabulary.index(token)}));
    }

    call(inputs) {
      const x = H.one(inputs);
      const values = valuesOf(this, x, 'string');
      return tf.tidy(() => {
        const rows = this.rows(x, values).map((row) => row.map((t) => this.vocabulary.index(t)));
        const batch = rows.length;
        if (this.outputMode === 'int') {
          if (x.rank === 1 && this.split == null) return tf.tensor(Int32Array.from(rows, (r) => r[0]), [batch], 'int32');
          // Rows padded with 0 (or cut) to output_sequence_length, else to the longest row.
          const length = this.outputSequenceLength ?? rows.reduce((n, r) => Math.max(n, r.length), 0);
          const out = new Int32Array(batch * length);
          rows.forEach((row, b) => out.set(row.slice(0, length), b * length));
          return tf.tensor(out, [batch, length], 'int32');
        }
        if (this.outputMode === 'oneHot') {
          // split null only (the translator refuses the ragged one-hot of split tokens).
          const width = rows.length ? rows[0].length : 1;
          const ids = tf.tensor(Int32Array.from(rows.flat()), x.rank === 1 ? [batch] : [batch, width], 'int32');
          return H.encode(ids, 'oneHot', this.depth, 'float32');
        }
        return tf.tensor(countRows(rows, this.outputMode, this.depth, this.idfWeights), [batch, this.depth], 'float32');
      });
    }

    computeOutputShape(inputShape) {
      const shape = H.oneShape(inputShape);
      const batch = shape[0];
      if (this.outputMode === 'int') {
        if (shape.length === 1 && this.split == null) return [batch];
        return [batch, this.outputSequenceLength ?? null];
      }
      if (this.outputMode === 'oneHot') return H.encodedShape(shape, 'oneHot', this.depth);
      return [batch, this.depth];
    }

    getConfig() {
      return {...super.getConfig(), standardize: this.standardize, split: this.split, ngrams: this.ngrams,
        outputMode: this.outputMode, outputSequenceLength: this.outputSequenceLength, depth: this.depth,
        idfWeights: this.idfWeights, strings: this.config.strings};
    }
  }

  // ---- Hashing (keras/src/layers/preprocessing/hashing.py) ----
  // config: numBins, strings ({maskValue}), salt (two decimal strings, or null), outputMode, outputDtype.
  // Strings hash their UTF-8 bytes; integers (and floats, truncated) the decimal text tf.as_string gives.
  class WebnetsHashing extends TextLayer {
    static className = 'WebnetsHashing';

    constructor(config) {
      super(config);
      this.config = config;
      this.numBins = config.numBins;
      this.maskValue = decodeStrings(config.strings).maskValue ?? null;
      this.salt = config.salt || null;
      this.key = saltKey(this.salt);
      this.outputMode = config.outputMode || 'int';
      this.outputDtype = config.outputDtype || (this.outputMode === 'int' ? 'int32' : 'float32');
    }

    get kerasClass() { return 'Hashing'; }

    // Keras: with a mask value (and more than one bin) the mask goes to bin 0 and the rest hash into
    // [1, numBins); the mask is compared before a float input is cast to int64.
    bin(value, isString, isFloat) {
      const masked = this.maskValue != null && this.numBins > 1;
      if (masked && (isFloat ? value === Math.fround(Number(this.maskValue)) : value === this.maskValue)) return 0;
      const bins = masked ? this.numBins - 1 : this.numBins;
      const text = isString ? value : integerText(value);
      return bucket(text, bins, this.key) + (masked ? 1 : 0);
    }

    call(inputs) {
      let x = H.one(inputs);
      const values = valuesOf(this, x, 'any');
      const isString = x.dtype === 'string', isFloat = x.dtype === 'float32';
      return tf.tidy(() => {
        // Keras squeezes a trailing axis of 1 before one-hot encoding (and encoding would again).
        const shape = this.outputMode === 'oneHot' && x.rank > 0 && x.shape[x.rank - 1] === 1 ? x.shape.slice(0, -1)
          : x.shape;
        const ids = tf.tensor(Int32Array.from(values, (v) => this.bin(v, isString, isFloat)), shape, 'int32');
        return H.encode(ids, this.outputMode, this.numBins, this.outputDtype);
      });
    }

    computeOutputShape(inputShape) {
      let shape = H.oneShape(inputShape);
      if (this.outputMode === 'oneHot' && shape.length > 0 && shape[shape.length - 1] === 1) shape = shape.slice(0, -1);
      return H.encodedShape(shape, this.outputMode, this.numBins);
    }

    getConfig() {
      return {...super.getConfig(), numBins: this.numBins, strings: this.config.strings, salt: this.salt,
        outputMode: this.outputMode, outputDtype: this.outputDtype};
    }
  }

  // ---- HashedCrossing (keras/src/layers/preprocessing/hashed_crossing.py) ----
  // tf.sparse.cross_hashed of dense [batch] or [batch, 1] features: per sample, FingerprintCat64 folded
  // over the features from the key 0xDECAFCAFFE, a string feature as its Fingerprint64 and an integer
  // as its own 64 bits; then mod numBins. config: numBins, outputMode ('int', 'oneHot'), outputDtype.
  class WebnetsHashedCrossing extends TextLayer {
    static className = 'WebnetsHashedCrossing';

    constructor(config) {
      super(config);
      this.numBins = config.numBins;
      this.outputMode = config.outputMode || 'int';
      this.outputDtype = config.outputDtype || (this.outputMode === 'int' ? 'int32' : 'float32');
    }

    get kerasClass() { return 'HashedCrossing'; }

    call(inputs) {
      const xs = Array.isArray(inputs) ? inputs : [inputs];
      const columns = xs.map((x) => {
        const values = valuesOf(this, x, 'any');
        return x.dtype === 'string' ? Array.from(values, (v) => fingerprint64(utf8.encode(v)))
          : Array.from(values, (v) => BigInt.asUintN(64, BigInt(Math.trunc(v))));
      });
      const shape = xs[0].shape;
      const bins = BigInt(this.numBins);
      const ids = Int32Array.from(columns[0], (_, i) => Number(
        columns.reduce((hash, column) => fingerprintCat64(hash, column[i]), CROSS_HASH_KEY) % bins));
      return tf.tidy(() => H.encode(tf.tensor(ids, shape, 'int32'), this.outputMode, this.numBins, this.outputDtype));
    }

    computeOutputShape(inputShape) {
      const shape = Array.isArray(inputShape[0]) ? inputShape[0] : inputShape;
      return H.encodedShape(shape, this.outputMode, this.numBins);
    }

    getConfig() {
      return {...super.getConfig(), numBins: this.numBins, outputMode: this.outputMode, outputDtype: this.outputDtype};
    }
  }

  return [WebnetsStringLookup, WebnetsIntegerLookup, WebnetsTextVectorization, WebnetsHashing, WebnetsHashedCrossing];
}
