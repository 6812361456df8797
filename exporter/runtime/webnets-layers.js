// webnets-layers.js: webnets' own TF.js layer classes, for what tfjs-layers 4.22 lacks.
//
// One plain file, no build step. Every class subclasses tf.layers.Layer, has a
// static className, adds its weights with addWeight (so TF.js trains them), and is
// registered with tf.serialization.registerClass, which tf.loadLayersModel consults.
//
//   page:  <script src="tf.min.js"></script><script src="webnets-layers.js"></script>
//          (a classic script registers everything on the global `tf`)
//   Node:  require('<dir>/webnets-layers.js').register(tf)
//
// TF.js converts the snake_case keys *and* string values of a layer config to
// camelCase before a constructor sees them (names excepted), so constructors read
// camelCase keys and compare camelCase values. getConfig returns camelCase keys, as
// tfjs' own layers do; model.save() writes them back in snake_case.
(function (root, factory) {
  const api = factory();
  if (typeof module === 'object' && module.exports) module.exports = api;
  if (root) {
    root.webnetsLayers = api;
    if (root.tf && root.tf.layers) api.register(root.tf);
  }
})(typeof globalThis !== 'undefined' ? globalThis : this, function () {
  'use strict';

  const VERSION = '1';

  // Helpers every section may use.
  function helpers(tf) {
    const one = (x) => (Array.isArray(x) ? x[0] : x);
    // The one input shape of a layer called on one tensor.
    const oneShape = (shape) => (Array.isArray(shape[0]) ? shape[0] : shape);

    // tfjs-layers' executor (model.predict, execute, fit) applies a layer once per output
    // *tensor*: an LSTM with return_state (3 outputs) ran its whole loop three times. A layer
    // with several outputs computes through this: called again with the very same input and
    // mask tensors, the same training flag and unchanged weights (an optimizer or setWeights
    // gives a variable new data), it returns the outputs it just computed. Callers get clones
    // (shared data, no copy), because the executor disposes an output once its consumers have
    // run, while the next call still has to return it; the originals are let go once the
    // current synchronous execution is over.
    const list = (x) => (x == null ? [] : (Array.isArray(x) ? x : [x]));
    const clones = (outputs) => (Array.isArray(outputs) ? outputs.map((t) => t.clone()) : outputs.clone());
    function onceForSameInputs(layer, inputs, kwargs, compute) {
      const keys = [...list(inputs), ...list(kwargs && kwargs.mask), ...list(kwargs && kwargs.initialState)];
      const data = layer.weights.map((w) => w.read().dataId);
      const training = !!(kwargs && kwargs.training);
      const last = layer._webnetsLast;
      if (last && last.training === training && last.keys.length === keys.length
          && last.keys.every((k, i) => k === keys[i]) && last.data.every((d, i) => d === data[i])
          && !list(last.outputs).some((t) => t.isDisposed)) {
        return clones(last.outputs);
      }
      const outputs = compute();
      const entry = {keys, data, training, outputs};
      layer._webnetsLast = entry;
      Promise.resolve().then(() => {
        if (layer._webnetsLast === entry) layer._webnetsLast = null;
        tf.dispose(outputs);  // the clones keep their data
      });
      return clones(outputs);
    }

    // Config keys in either spelling; a camelCase key wins over its snake_case twin.
    const camel = (key) => key.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
    const normalize = (args) => {
      const out = {};
      for (const [key, value] of Object.entries(args || {})) {
        const c = camel(key);
        if (c === key || !(c in out)) out[c] = value;
      }
      return out;
    };
    // An initializer / regularizer / constraint from its serialized form ({className, config}),
    // through the classes tfjs registered; `fallback` names a tf.initializers factory.
    function fromSpec(spec, fallback) {
      if (spec != null && typeof spec === 'object' && typeof spec.getClassName === 'function') return spec;
      const className = spec && (spec.className || spec.class_name);
      const entry = className && tf.serialization.SerializationMap.getMap().classNameMap[className];
      if (entry) return entry[1](entry[0], normalize(spec.config || {}));
      return fallback ? tf.initializers[fallback]({}) : null;
    }
    const toSpec = (value) => (value != null && typeof value.getClassName === 'function'
      ? {className: value.getClassName(), config: value.getConfig()} : (value == null ? null : value));

    // Whether gradients are being recorded (model.fit, tf.grads): then everything must be computed
    // from the weights by ops, nothing taken from a cache or read out to JavaScript.
    function recording() {
      const engine = tf.engine();
      return typeof engine.isTapeOn === 'function' ? engine.isTapeOn() : true;
    }

    // Tensors derived from a layer's weights only (a split recurrent kernel, a combined bias),
    // kept across calls while the weights keep their data: a step model is called once per
    // character, and a sliced kernel is a new tensor each time, which WASM's matMul then packs
    // again (the demo GRU step: 18 ms, 2 ms with the split kept). While gradients are recorded
    // they are made afresh, so that training reaches the weights through them.
    function derived(layer, key, make) {
      if (recording()) return make();
      const data = layer.weights.map((w) => w.read().dataId);
      const store = layer._webnetsDerived || (layer._webnetsDerived = {});
      const hit = store[key];
      if (hit && hit.data.length === data.length && hit.data.every((d, i) => d === data[i])) return hit.value;
      // The tensors in `value` (nested arrays and objects too); the weights themselves (a
      // Variable, returned as it is) are neither kept nor disposed here.
      const owned = (value) => (value instanceof tf.Tensor ? (value instanceof tf.Variable ? [] : [value])
        : (value != null && typeof value === 'object' ? Object.values(value).flatMap(owned) : []));
      if (hit) tf.dispose(owned(hit.value));
      const value = make();
      owned(value).forEach((t) => tf.keep(t));
      store[key] = {data, value};
      return value;
    }

    // act(a b + bias) for a 2D `a`. On WebGL a one-row `a` is doubled and the product's first row
    // kept: TF.js' packed matMul shader took 3.9 ms for [1, 384] x [384, 1536] on SwiftShader
    // (Chrome's software WebGL) and 2.7 ms for [2, 384] x [384, 1536] with the concat and the row
    // slice; from 384 output columns up it gains, below 128 the two extra kernels cost more than
    // it saves (0.56 -> 0.77 ms for [1, 384] x [384, 64]). A batch of one is what a page
    // generating text or classifying one input runs.
    // activation: one TF.js fuses into the matMul ('linear', 'relu', 'relu6', 'elu', 'sigmoid', ...).
    function matMul2d(a, b, bias, activation = 'linear') {
      const product = (x) => (bias == null && activation === 'linear' ? tf.matMul(x, b)
        : tf.fused.matMul({a: x, b, bias: bias == null ? undefined : bias, activation}));
      if (a.shape[0] !== 1 || b.shape[1] < 256 || tf.getBackend() !== 'webgl') return product(a);
      return tf.slice(product(tf.concat([a, a], 0)), [0, 0], [1, b.shape[1]]);
    }
    return {one, oneShape, onceForSameInputs, camel, normalize, fromSpec, toSpec, recording, derived, matMul2d};
  }

  // ---- Attention: MultiHeadAttention, Attention, AdditiveAttention (+ WebnetsMask, their mask carrier) ----
  //
  // Masks. Keras 3 hands an attention layer the Keras mask of *each* input (query, value, key).
  // tfjs' executor (model.predict / fit) passes a layer only the mask of its *first* input, as
  // kwargs.mask, so the masks of the other inputs would be lost. The exporter therefore feeds
  // every mask an attention layer needs as an explicit extra input: a WebnetsMask layer, called
  // on the masked tensor, receives that tensor's mask (it is its first and only input) and
  // outputs it as float32 0/1. The attention layers read only those inputs; their config says
  // which inputs they get, in this order:
  //   MultiHeadAttention: query, value, [key], [attention_mask], [query mask], [value mask], [key mask]
  //   Attention, AdditiveAttention: query, value, [key], [query mask], [value mask]
  // each distinct tensor once (config: valueIndex, keyIndex, ..., -1 where absent).
  //
  // Only ops every backend (WASM, WebGL, CPU) has: batched rank-3 matMul, reshape, transpose,
  // softmax, add/sub/mul, tanh, sigmoid, notEqual, cast. Training goes by autodiff through them.
  function defineAttention(tf, H) {
    const prod = (dims) => dims.reduce((a, b) => a * b, 1);
    const list = (x) => (Array.isArray(x) ? x : [x]);
    const index = (value, fallback) => (value == null ? fallback : value);
    // The large number Keras uses to hide masked scores (float32).
    const LARGE = 1e9;

    // A serialized tfjs object ({className, config}) -> the tf.initializers / regularizers /
    // constraints instance, so a layer built in JS is created as Keras would; loaded weights
    // override initializers anyway.
    function make(namespace, spec, fallback) {
      if (spec == null) return fallback == null ? undefined : namespace[fallback]();
      const className = String(spec.className || spec.class_name || '').toLowerCase();
      // Case-insensitive: 'L1L2' is tf.regularizers.l1l2, 'LeCunNormal' tf.initializers.leCunNormal.
      const found = Object.keys(namespace).find((k) => k.toLowerCase() === className);
      const factory = found && namespace[found];
      if (typeof factory !== 'function') return fallback == null ? undefined : namespace[fallback]();
      return factory(spec.config || {});
    }

    // 0/1 float32 of a mask-like tensor: nonzero (true) keeps, as Keras' cast to bool.
    const keep = (m) => tf.cast(tf.notEqual(tf.cast(m, 'float32'), 0), 'float32');

    // Where `keep` is 0, replace scores by -1e9 (exactly: scores * 0 + (-1e9)); Keras' masked
    // softmax does the same (MultiHeadAttention, -1e9 or a larger number: the same softmax).
    const replaceMasked = (scores, keepMask) => tf.add(tf.mul(scores, keepMask), tf.mul(tf.sub(keepMask, 1), LARGE));

    // Lower-triangular [T, S] 0/1 (row >= column), as Keras' cumsum-based causal mask, and the
    // symmetric band |row - column| < window of MultiHeadAttention(sliding_window).
    function bandMask(T, S, causal, window) {
      const data = new Float32Array(T * S);
      for (let i = 0; i < T; i++) {
        for (let j = 0; j < S; j++) {
          let ok = true;
          if (causal && j > i) ok = false;
          if (window != null && Math.abs(i - j) >= window) ok = false;
          data[i * S + j] = ok ? 1 : 0;
        }
      }
      return tf.tensor(data, [T, S], 'float32');
    }

    // x2d [rows, dIn] times kernel [...in, ...out] (prod(in) = dIn) (+ bias [...out]) ->
    // [rows, prod(out)]: EinsumDense "abc,cde->abde" / "abcd,cde->abe", flattened to a rank-2 matMul.
    function project(x2d, kernel, bias) {
      let y = tf.matMul(x2d, tf.reshape(kernel.read(), [x2d.shape[1], -1]));
      if (bias) y = tf.add(y, tf.reshape(bias.read(), [-1]));
      return y;
    }

    // MultiHeadAttention's projections at inference (no gradients recorded), prepared once per
    // version of the weights (H.derived): rank-2 kernels and rank-1 biases with data of their own
    // (WASM's fused matMul takes a bias whose data is rank 1, and packs a kernel once per tensor),
    // so that each projection is one fused matMul; the query's scaled by 1/sqrt(key_dim) (a
    // multiply fewer); and inputs that are one tensor (self-attention: query, key and value)
    // projected side by side in one matMul, then split.
    // groups: [[name, ...], ...], the projections sharing an input, in order.
    function preparedProjections(layer, groups) {
      const own = (t, shape) => tf.tensor(t.dataSync(), shape, 'float32');
      const scale = {query: 1 / Math.sqrt(layer.keyDim)};
      const dense = (name) => layer[name];
      const prepare = (names) => {
        const kernels = names.map((n) => {
          const k = dense(n).kernel.read();
          const k2 = tf.reshape(k, [k.shape[0], -1]);
          return scale[n] ? tf.mul(k2, scale[n]) : k2;
        });
        const biases = layer.useBias ? names.map((n) => {
          const b = tf.reshape(dense(n).bias.read(), [-1]);
          return scale[n] ? tf.mul(b, scale[n]) : b;
        }) : null;
        const kernel = kernels.length === 1 ? kernels[0] : tf.concat(kernels, 1);
        const bias = biases == null ? null : (biases.length === 1 ? biases[0] : tf.concat(biases, 0));
        return {kernel: own(kernel, kernel.shape), bias: bias == null ? null : own(bias, [bias.shape[0]]),
          sizes: kernels.map((k) => k.shape[1])};
      };
      return tf.tidy(() => groups.map(prepare));
    }

    function projectPrepared(x2d, prepared) {
      const y = prepared.bias == null ? tf.matMul(x2d, prepared.kernel)
        : tf.fused.matMul({a: x2d, b: prepared.kernel, bias: prepared.bias});
      return prepared.sizes.length === 1 ? [y] : tf.split(y, prepared.sizes, 1);
    }

    // Carries the Keras mask of its one input to the next layer as a float32 0/1 tensor.
    // Keras: an attention layer's output carries the query's mask; returned scores carry none.
    function outputMask(layer, inputs) {
      const s = layer.slots();
      const mask = s.queryMask >= 0 ? tf.tidy(() => tf.cast(keep(list(inputs)[s.queryMask]), 'bool')) : null;
      return layer.returnAttentionScores ? [mask, null] : mask;
    }

    class WebnetsMask extends tf.layers.Layer {
      static className = 'WebnetsMask';

      constructor(config) {
        super(config);
        this.supportsMasking = true;
      }

      call(inputs, kwargs) {
        return tf.tidy(() => {
          const x = H.one(inputs);
          let mask = kwargs && kwargs.mask;
          if (Array.isArray(mask)) mask = mask[0];
          if (mask == null) {
            throw new Error(`${this.name}: the Keras model has a mask here (from Embedding(mask_zero=True) `
              + 'or Masking), but TF.js propagated none to this point, so attention cannot be masked as in Keras.');
          }
          return tf.cast(tf.reshape(mask, x.shape.slice(0, -1)), 'float32');
        });
      }

      computeOutputShape(inputShape) {
        return H.oneShape(inputShape).slice(0, -1);
      }

      computeMask() {
        return null;
      }
    }

    // Keras 3 MultiHeadAttention (default attention_axes: every axis but batch, heads and features;
    // higher-rank inputs are flattened to one sequence axis, which is the same computation).
    //   q = query Wq + bq, k = key Wk + bk, v = value Wv + bv        (per head)
    //   scores = softmax(mask(q k^T / sqrt(key_dim)))                [B, N, T, S]
    //   out = (concat_heads(scores v) [* sigmoid(query Wg + bg)]) Wo + bo
    // dropout: Keras drops attention probabilities in training; so does this class (tf.dropout,
    // when TF.js trains, i.e. in fit); prediction never drops.
    class WebnetsMultiHeadAttention extends tf.layers.Layer {
      static className = 'WebnetsMultiHeadAttention';

      constructor(config) {
        super(config);
        this.numHeads = config.numHeads;
        this.keyDim = config.keyDim;
        this.valueDim = config.valueDim == null ? config.keyDim : config.valueDim;
        this.outputDims = config.outputDims == null ? null : list(config.outputDims);
        this.useBias = config.useBias !== false;
        this.useGate = config.useGate === true;
        this.dropout = config.dropout || 0;
        this.slidingWindow = config.slidingWindow == null ? null : config.slidingWindow;
        this.useCausalMask = config.useCausalMask === true;
        this.returnAttentionScores = config.returnAttentionScores === true;
        this.zeroMasked = config.zeroMasked === true;
        // Where each input is in the input list (-1: absent). The exporter passes each distinct
        // tensor once (tfjs' executor disposes a tensor too early when one layer takes it twice).
        this.valueIndex = index(config.valueIndex, 1);
        this.keyIndex = index(config.keyIndex, -1);
        this.attentionMaskIndex = index(config.attentionMaskIndex, -1);
        this.queryMaskIndex = index(config.queryMaskIndex, -1);
        this.valueMaskIndex = index(config.valueMaskIndex, -1);
        this.keyMaskIndex = index(config.keyMaskIndex, -1);
        for (const key of ['kernelInitializer', 'biasInitializer', 'kernelRegularizer', 'biasRegularizer',
          'activityRegularizer', 'kernelConstraint', 'biasConstraint']) {
          this[key] = config[key] == null ? null : config[key];
        }
        this.seed = config.seed == null ? null : config.seed;
        this.supportsMasking = true;
      }

      slots() {
        return {value: this.valueIndex, key: this.keyIndex >= 0 ? this.keyIndex : this.valueIndex,
          attentionMask: this.attentionMaskIndex, queryMask: this.queryMaskIndex, valueMask: this.valueMaskIndex,
          keyMask: this.keyMaskIndex};
      }

      build(inputShape) {
        const shapes = Array.isArray(inputShape[0]) ? inputShape : [inputShape];
        const s = this.slots();
        const queryShape = shapes[0];
        const valueShape = shapes[s.value];
        const keyShape = shapes[s.key];
        const N = this.numHeads;
        const outDims = this.outputDims || [queryShape[queryShape.length - 1]];
        const kInit = () => make(tf.initializers, this.kernelInitializer, 'glorotUniform');
        const bInit = () => make(tf.initializers, this.biasInitializer, 'zeros');
        const kReg = make(tf.regularizers, this.kernelRegularizer);
        const bReg = make(tf.regularizers, this.biasRegularizer);
        const kCon = make(tf.constraints, this.kernelConstraint);
        const bCon = make(tf.constraints, this.biasConstraint);
        const dense = (name, dIn, middle, out) => {
          const kernel = this.addWeight(`${name}/kernel`, [dIn, ...middle, ...out],
            'float32', kInit(), kReg, true, kCon);
          const bias = this.useBias
            ? this.addWeight(`${name}/bias`, out, 'float32', bInit(), bReg, true, bCon) : null;
          return {kernel, bias};
        };
        const last = (shape) => shape[shape.length - 1];
        this.query = dense('query', last(queryShape), [], [N, this.keyDim]);
        this.key = dense('key', last(keyShape), [], [N, this.keyDim]);
        if (this.useGate) this.gate = dense('gate', last(queryShape), [], [N, this.valueDim]);
        this.value = dense('value', last(valueShape), [], [N, this.valueDim]);
        this.attentionOutput = dense('attention_output', N, [this.valueDim], outDims);
        this.built = true;
      }

      call(inputs, kwargs) {
        // Two outputs with return_attention_scores: computed once (H.onceForSameInputs).
        return this.returnAttentionScores ? H.onceForSameInputs(this, inputs, kwargs || {}, () => this.attend(inputs, kwargs))
          : this.attend(inputs, kwargs);
      }

      attend(inputs, kwargs) {
        return tf.tidy(() => {
          const xs = list(inputs);
          const s = this.slots();
          const query = xs[0];
          const value = xs[s.value];
          const key = xs[s.key];
          const N = this.numHeads;
          const K = this.keyDim;
          const V = this.valueDim;
          const B = query.shape[0];
          const tDims = query.shape.slice(1, -1);
          const sDims = value.shape.slice(1, -1);
          const T = prod(tDims);
          const S = prod(sDims);
          const flat = (x) => tf.reshape(x, [-1, x.shape[x.shape.length - 1]]);
          // [B*len, N*d] -> [B*N, len, d]
          const heads = (x, len, d) => tf.reshape(tf.transpose(tf.reshape(x, [B, len, N, d]), [0, 2, 1, 3]), [B * N, len, d]);

          const q2 = flat(query);
          let q;
          let k;
          let v;
          if (H.recording()) {
            // Training: the projections from the weights themselves, so gradients reach them.
            q = tf.mul(project(q2, this.query.kernel, this.query.bias), 1 / Math.sqrt(K));
            k = project(flat(key), this.key.kernel, this.key.bias);
            v = project(flat(value), this.value.kernel, this.value.bias);
          } else {
            // Which projections share an input tensor: [query, key, value] in groups, in order.
            const groups = [];
            for (const [name, tensor] of [['query', query], ['key', key], ['value', value]]) {
              const group = groups.find((g) => g.tensor === tensor);
              if (group) group.names.push(name); else groups.push({tensor, names: [name]});
            }
            const signature = groups.map((g) => g.names.join('+')).join(',');
            const prepared = H.derived(this, `projections:${signature}`,
              () => preparedProjections(this, groups.map((g) => g.names)));
            const out = {};
            groups.forEach((g, i) => {
              projectPrepared(flat(g.tensor), prepared[i]).forEach((y, j) => { out[g.names[j]] = y; });
            });
            ({query: q, key: k, value: v} = out);
          }
          let scores = tf.matMul(heads(q, T, K), heads(k, S, K), false, true);  // [B*N, T, S]
          scores = tf.reshape(scores, [B, N, T, S]);

          // The attention mask, as Keras' _compute_attention_mask: query [B,T,1] & value [B,1,S]
          // & key [B,1,S] & causal [1,T,S] & sliding window [1,T,S] & attention_mask.
          let mask = null;
          const and = (m) => { mask = mask == null ? m : tf.mul(mask, m); };
          if (s.queryMask >= 0) and(tf.reshape(keep(xs[s.queryMask]), [B, 1, T, 1]));
          if (s.valueMask >= 0) and(tf.reshape(keep(xs[s.valueMask]), [B, 1, 1, S]));
          if (s.keyMask >= 0) and(tf.reshape(keep(xs[s.keyMask]), [B, 1, 1, S]));
          if (this.useCausalMask || this.slidingWindow != null) {
            and(tf.reshape(bandMask(T, S, this.useCausalMask, this.slidingWindow), [1, 1, T, S]));
          }
          if (s.attentionMask >= 0) {
            // Keras inserts axes before the last two until the mask has the scores' rank 4:
            // [B, T, S] -> [B, 1, T, S]; [B, N, T, S] stays.
            const am = keep(xs[s.attentionMask]);
            const shape = am.shape;
            const full = [...shape.slice(0, -2), ...new Array(Math.max(0, 4 - shape.length)).fill(1), ...shape.slice(-2)];
            and(tf.reshape(am, full));
          }
          if (mask != null) scores = replaceMasked(scores, mask);
          let probabilities = tf.softmax(scores, -1);  // [B, N, T, S]
          // Keras' Softmax-layer path zeroes masked positions after the softmax (a fully masked row
          // becomes zeros); its fused dot_product_attention path leaves such a row uniform.
          if (mask != null && this.zeroMasked) probabilities = tf.mul(probabilities, mask);
          let used = probabilities;
          if (this.dropout > 0 && kwargs && kwargs.training) used = tf.dropout(probabilities, this.dropout);

          let out = tf.matMul(tf.reshape(used, [B * N, T, S]), heads(v, S, V));  // [B*N, T, V]
          out = tf.reshape(tf.transpose(tf.reshape(out, [B, N, T, V]), [0, 2, 1, 3]), [B * T, N * V]);
          if (this.useGate) out = tf.mul(out, tf.sigmoid(project(q2, this.gate.kernel, this.gate.bias)));
          out = project(out, this.attentionOutput.kernel, this.attentionOutput.bias);
          const outDims = this.outputDims || [query.shape[query.shape.length - 1]];
          out = tf.reshape(out, [B, ...tDims, ...outDims]);
          if (!this.returnAttentionScores) return out;
          return [out, tf.reshape(probabilities, [B, N, ...tDims, ...sDims])];
        });
      }

      computeOutputShape(inputShape) {
        const shapes = Array.isArray(inputShape[0]) ? inputShape : [inputShape];
        const queryShape = shapes[0];
        const valueShape = shapes[this.valueIndex];
        const outDims = this.outputDims || [queryShape[queryShape.length - 1]];
        const out = [...queryShape.slice(0, -1), ...outDims];
        if (!this.returnAttentionScores) return out;
        return [out, [queryShape[0], this.numHeads, ...queryShape.slice(1, -1), ...valueShape.slice(1, -1)]];
      }

      // Keras: the output carries the query's mask; the scores carry none.
      computeMask(inputs) {
        return outputMask(this, inputs);
      }

      getConfig() {
        return {
          ...super.getConfig(),
          numHeads: this.numHeads, keyDim: this.keyDim, valueDim: this.valueDim, outputDims: this.outputDims,
          useBias: this.useBias, useGate: this.useGate, dropout: this.dropout, slidingWindow: this.slidingWindow,
          useCausalMask: this.useCausalMask, returnAttentionScores: this.returnAttentionScores,
          zeroMasked: this.zeroMasked,
          valueIndex: this.valueIndex, keyIndex: this.keyIndex, attentionMaskIndex: this.attentionMaskIndex,
          queryMaskIndex: this.queryMaskIndex, valueMaskIndex: this.valueMaskIndex, keyMaskIndex: this.keyMaskIndex,
          kernelInitializer: this.kernelInitializer, biasInitializer: this.biasInitializer,
          kernelRegularizer: this.kernelRegularizer, biasRegularizer: this.biasRegularizer,
          activityRegularizer: this.activityRegularizer, kernelConstraint: this.kernelConstraint,
          biasConstraint: this.biasConstraint, seed: this.seed,
        };
      }
    }

    // Keras 3 Attention (Luong; score_mode "dot" or "concat") and AdditiveAttention (Bahdanau):
    //   scores [B, Tq, Tv]; masked (value mask, causal) by scores - 1e9; softmax over Tv;
    //   out = probabilities value, zeroed where the query is masked.
    class BaseAttention extends tf.layers.Layer {
      constructor(config) {
        super(config);
        this.useScale = config.useScale === true;
        this.dropout = config.dropout || 0;
        this.seed = config.seed == null ? null : config.seed;
        this.useCausalMask = config.useCausalMask === true;
        this.returnAttentionScores = config.returnAttentionScores === true;
        // Input positions, as for WebnetsMultiHeadAttention (-1: absent; no key: the value).
        this.valueIndex = index(config.valueIndex, 1);
        this.keyIndex = index(config.keyIndex, -1);
        this.queryMaskIndex = index(config.queryMaskIndex, -1);
        this.valueMaskIndex = index(config.valueMaskIndex, -1);
        this.supportsMasking = true;
      }

      slots() {
        return {value: this.valueIndex, key: this.keyIndex >= 0 ? this.keyIndex : this.valueIndex,
          queryMask: this.queryMaskIndex, valueMask: this.valueMaskIndex};
      }

      call(inputs, kwargs) {
        // Two outputs with return_attention_scores: computed once (H.onceForSameInputs).
        return this.returnAttentionScores ? H.onceForSameInputs(this, inputs, kwargs || {}, () => this.attend(inputs, kwargs))
          : this.attend(inputs, kwargs);
      }

      attend(inputs, kwargs) {
        return tf.tidy(() => {
          const xs = list(inputs);
          const s = this.slots();
          // Leading batch axes flattened: [B', T, d].
          const q = xs[0];
          const v = xs[s.value];
          const k = xs[s.key];
          const batch = q.shape.slice(0, -2);
          const B = prod(batch);
          const Tq = q.shape[q.shape.length - 2];
          const Tv = v.shape[v.shape.length - 2];
          const q3 = tf.reshape(q, [B, Tq, q.shape[q.shape.length - 1]]);
          const k3 = tf.reshape(k, [B, Tv, k.shape[k.shape.length - 1]]);
          const v3 = tf.reshape(v, [B, Tv, v.shape[v.shape.length - 1]]);
          let scores = this.scores(q3, k3);  // [B, Tq, Tv]
          let keepMask = null;
          if (s.valueMask >= 0) keepMask = tf.reshape(keep(xs[s.valueMask]), [B, 1, Tv]);
          if (this.useCausalMask) {
            const causal = tf.reshape(bandMask(Tq, Tv, true, null), [1, Tq, Tv]);
            keepMask = keepMask == null ? causal : tf.mul(keepMask, causal);
          }
          // Keras: where(padding, scores - 1e9, scores).
          if (keepMask != null) scores = tf.sub(scores, tf.mul(tf.sub(1, keepMask), LARGE));
          let weights = tf.softmax(scores, -1);
          if (this.dropout > 0 && kwargs && kwargs.training) weights = tf.dropout(weights, this.dropout);
          let out = tf.matMul(weights, v3);  // [B, Tq, dv]
          if (s.queryMask >= 0) out = tf.mul(out, tf.reshape(keep(xs[s.queryMask]), [B, Tq, 1]));
          out = tf.reshape(out, [...batch, Tq, v.shape[v.shape.length - 1]]);
          if (!this.returnAttentionScores) return out;
          return [out, tf.reshape(weights, [...batch, Tq, Tv])];
        });
      }

      computeOutputShape(inputShape) {
        const s = this.slots();
        const shapes = Array.isArray(inputShape[0]) ? inputShape : [inputShape];  // [x, x]: x once
        const queryShape = shapes[0];
        const valueShape = shapes[s.value];
        const keyShape = shapes[s.key];
        const out = [...queryShape.slice(0, -1), valueShape[valueShape.length - 1]];
        if (!this.returnAttentionScores) return out;
        return [out, [...queryShape.slice(0, -1), keyShape[keyShape.length - 2]]];
      }

      // Keras: the output carries the query's mask.
      computeMask(inputs) {
        return outputMask(this, inputs);
      }

      getConfig() {
        return {
          ...super.getConfig(), useScale: this.useScale, dropout: this.dropout, seed: this.seed,
          useCausalMask: this.useCausalMask, returnAttentionScores: this.returnAttentionScores,
          valueIndex: this.valueIndex, keyIndex: this.keyIndex, queryMaskIndex: this.queryMaskIndex,
          valueMaskIndex: this.valueMaskIndex,
        };
      }
    }

    class WebnetsAttention extends BaseAttention {
      static className = 'WebnetsAttention';

      constructor(config) {
        super(config);
        this.scoreMode = config.scoreMode || 'dot';
        if (this.scoreMode !== 'dot' && this.scoreMode !== 'concat') {
          throw new Error(`${this.name}: unknown scoreMode ${this.scoreMode}`);
        }
      }

      build() {
        if (this.useScale) this.scale = this.addWeight('scale', [], 'float32', tf.initializers.ones());
        if (this.scoreMode === 'concat') {
          this.concatScoreWeight = this.addWeight('concat_score_weight', [], 'float32', tf.initializers.ones());
        }
        this.built = true;
      }

      scores(q, k) {
        if (this.scoreMode === 'dot') {
          const scores = tf.matMul(q, k, false, true);
          return this.useScale ? tf.mul(scores, this.scale.read()) : scores;
        }
        // concat: w * sum(tanh([scale *] (q[:, :, None] + k[:, None])), -1)
        let sum = tf.add(tf.expandDims(q, 2), tf.expandDims(k, 1));
        if (this.useScale) sum = tf.mul(this.scale.read(), sum);
        return tf.mul(this.concatScoreWeight.read(), tf.sum(tf.tanh(sum), -1));
      }

      getConfig() {
        return {...super.getConfig(), scoreMode: this.scoreMode};
      }
    }

    class WebnetsAdditiveAttention extends BaseAttention {
      static className = 'WebnetsAdditiveAttention';

      build(inputShape) {
        const queryShape = H.oneShape(inputShape);
        if (this.useScale) {
          this.scale = this.addWeight('scale', [queryShape[queryShape.length - 1]], 'float32',
            tf.initializers.glorotUniform({}));
        }
        this.built = true;
      }

      // sum([scale *] tanh(q[:, :, None] + k[:, None]), -1)
      scores(q, k) {
        let t = tf.tanh(tf.add(tf.expandDims(q, 2), tf.expandDims(k, 1)));
        if (this.useScale) t = tf.mul(this.scale.read(), t);
        return tf.sum(t, -1);
      }
    }

    return [WebnetsMask, WebnetsMultiHeadAttention, WebnetsAttention, WebnetsAdditiveAttention];
  }

  // ---- Convolution: Conv1D / Conv2D with groups (tfjs' conv layers have no `groups`) ----
  function defineConvolution(tf, H) {
    const list = (v, n) => (Array.isArray(v) ? v : Array(n).fill(v));

    // Keras 3 grouped convolution: the input channels split into `groups` equal blocks, block g
    // convolved with kernel[..., g * cout/groups : (g + 1) * cout/groups] gives output block g.
    // Rank 1 runs as rank 2 with a unit width axis. channels_last only (the translator transposes).
    class WebnetsGroupedConv extends tf.layers.Layer {
      static className = 'WebnetsGroupedConv';

      constructor(config) {
        super(config);
        this.rank = config.rank;
        this.filters = config.filters;
        this.groups = config.groups;
        this.kernelSize = list(config.kernelSize, this.rank);
        this.strides = list(config.strides || 1, this.rank);
        this.dilationRate = list(config.dilationRate || 1, this.rank);
        this.padding = config.padding || 'valid';
        this.useBias = config.useBias !== false;
        this.activation = config.activation || 'linear';
        this.activationLayer = tf.layers.activation({activation: this.activation});
      }

      build(inputShape) {
        const channels = H.oneShape(inputShape).slice(-1)[0];
        if (channels % this.groups !== 0 || this.filters % this.groups !== 0) {
          throw new Error(`${this.name}: ${channels} channels and ${this.filters} filters cannot form ${this.groups} groups`);
        }
        this.kernel = this.addWeight('kernel', [...this.kernelSize, channels / this.groups, this.filters], 'float32',
          tf.initializers.glorotUniform({}));
        if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', tf.initializers.zeros());
        this.built = true;
      }

      call(inputs) {
        return tf.tidy(() => {
          let x = H.one(inputs);
          let kernel = this.kernel.read();
          const as2d = (v) => (this.rank === 1 ? [v[0], 1] : v);
          if (this.rank === 1) {
            x = tf.expandDims(x, 2);
            kernel = tf.expandDims(kernel, 1);
          }
          const inBlock = x.shape[3] / this.groups;
          const outBlock = this.filters / this.groups;
          const blocks = [];
          for (let g = 0; g < this.groups; g++) {
            const xs = tf.slice(x, [0, 0, 0, g * inBlock], [-1, -1, -1, inBlock]);
            const ks = tf.slice(kernel, [0, 0, 0, g * outBlock], [-1, -1, -1, outBlock]);
            blocks.push(tf.conv2d(xs, ks, as2d(this.strides), this.padding, 'NHWC', as2d(this.dilationRate)));
          }
          let y = tf.concat(blocks, 3);
          if (this.useBias) y = tf.add(y, this.bias.read());
          if (this.rank === 1) y = tf.squeeze(y, [2]);
          return this.activationLayer.apply(y);
        });
      }

      computeOutputShape(inputShape) {
        const shape = H.oneShape(inputShape);
        const out = [shape[0]];
        for (let d = 0; d < this.rank; d++) {
          const size = shape[d + 1];
          const span = (this.kernelSize[d] - 1) * this.dilationRate[d] + 1;
          out.push(size == null ? null
            : this.padding === 'same' ? Math.ceil(size / this.strides[d])
              : Math.floor((size - span) / this.strides[d]) + 1);
        }
        return [...out, this.filters];
      }

      getConfig() {
        return {...super.getConfig(), rank: this.rank, filters: this.filters, groups: this.groups,
          kernelSize: this.kernelSize, strides: this.strides, dilationRate: this.dilationRate, padding: this.padding,
          useBias: this.useBias, activation: this.activation};
      }
    }

    return [WebnetsGroupedConv];
  }

  // ---- EinsumDense: Keras 3's einsum with a kernel, as transpose + one matMul ----
  function defineEinsum(tf, H) {
    const product = (dims) => dims.reduce((a, b) => a * b, 1);

    // No Transpose kernel for the identity permutation: a transposed kernel is a new tensor on
    // every call, and WASM's matMul then packs its weights again each time (its cache keys on the
    // weight tensor's data).
    const transposed = (x, perm) => (perm.every((p, i) => p === i) ? x : tf.transpose(x, perm));

    // Rewrites x (letters `inSpec`) . kernel (`kernelSpec`) -> `outSpec` as one 2D matMul: x's
    // free axes then the contracted ones, the kernel's contracted axes then its free ones.
    // (WASM has no Einsum kernel; matMul, transpose and reshape exist on every backend.)
    function contract(x, kernel, inSpec, kernelSpec, outSpec) {
      const contracted = [...inSpec].filter((c) => kernelSpec.includes(c) && !outSpec.includes(c));
      const freeIn = [...inSpec].filter((c) => !contracted.includes(c));
      const freeKernel = [...kernelSpec].filter((c) => !contracted.includes(c));
      const size = {};
      [...inSpec].forEach((c, i) => { size[c] = x.shape[i]; });
      [...kernelSpec].forEach((c, i) => { size[c] = kernel.shape[i]; });
      const xT = transposed(x, [...freeIn, ...contracted].map((c) => inSpec.indexOf(c)));
      const kT = transposed(kernel, [...contracted, ...freeKernel].map((c) => kernelSpec.indexOf(c)));
      const inner = product(contracted.map((c) => size[c]));
      const y = tf.matMul(tf.reshape(xT, [-1, inner]), tf.reshape(kT, [inner, -1]));
      const produced = [...freeIn, ...freeKernel];
      const shaped = tf.reshape(y, produced.map((c) => size[c]));
      return transposed(shaped, [...outSpec].map((c) => produced.indexOf(c)));
    }

    // Replaces "..." by letters for the axes it stands for in an input of `rank`.
    function expand(equation, rank) {
      const [left, outSpec] = equation.split('->');
      const [inSpec, kernelSpec] = left.split(',');
      if (!inSpec.includes('...')) return [inSpec, kernelSpec, outSpec];
      const spare = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'].filter((c) => !equation.includes(c));
      const fill = spare.slice(0, rank - (inSpec.length - 3)).join('');
      return [inSpec.replace('...', fill), kernelSpec, outSpec.replace('...', fill)];
    }

    class WebnetsEinsumDense extends tf.layers.Layer {
      static className = 'WebnetsEinsumDense';

      constructor(config) {
        super(config);
        this.equation = config.equation;
        this.kernelShape = config.kernelShape;
        this.biasShape = config.biasShape || null;
        this.fullOutputShape = config.fullOutputShape;
        this.activation = config.activation || 'linear';
        this.activationLayer = tf.layers.activation({activation: this.activation});
      }

      build() {
        this.kernel = this.addWeight('kernel', this.kernelShape, 'float32', tf.initializers.glorotUniform({}));
        if (this.biasShape) this.bias = this.addWeight('bias', this.biasShape, 'float32', tf.initializers.zeros());
        this.built = true;
      }

      call(inputs) {
        return tf.tidy(() => {
          const x = H.one(inputs);
          const [inSpec, kernelSpec, outSpec] = expand(this.equation, x.rank);
          let y = contract(x, this.kernel.read(), inSpec, kernelSpec, outSpec);
          if (this.bias) y = tf.add(y, this.bias.read());  // aligned to the trailing output axes
          return this.activationLayer.apply(y);
        });
      }

      computeOutputShape(inputShape) {
        return [H.oneShape(inputShape)[0], ...this.fullOutputShape.slice(1)];
      }

      getConfig() {
        return {...super.getConfig(), equation: this.equation, kernelShape: this.kernelShape,
          biasShape: this.biasShape, fullOutputShape: this.fullOutputShape, activation: this.activation};
      }
    }

    // Keras Dense on an input of rank > 2 ([batch, time, features]: every Dense of a transformer,
    // the output layer of a language model). tfjs' Dense computes it through K.dot, which
    // transposes the kernel on every call, even by the identity permutation, so WASM packs the
    // weights again each time (0.2 ms for a 384 x 50 kernel, against 0.02 ms). Here: reshape to
    // 2D, one fused matMul with the kernel as stored, reshape back. Weights and config as tfjs'
    // Dense (kernel [in, units], bias [units]).
    class WebnetsDense extends tf.layers.Layer {
      static className = 'WebnetsDense';

      constructor(config) {
        super(config);
        this.units = config.units;
        this.activation = config.activation || 'linear';
        this.useBias = config.useBias == null ? true : !!config.useBias;
        this.activationLayer = this.activation === 'linear' ? null : tf.layers.activation({activation: this.activation});
        this.kernelInitializer = H.fromSpec(config.kernelInitializer, 'glorotUniform');
        this.biasInitializer = H.fromSpec(config.biasInitializer, 'zeros');
        this.kernelRegularizer = H.fromSpec(config.kernelRegularizer);
        this.biasRegularizer = H.fromSpec(config.biasRegularizer);
        this.kernelConstraint = H.fromSpec(config.kernelConstraint);
        this.biasConstraint = H.fromSpec(config.biasConstraint);
        this.supportsMasking = true;
      }

      build(inputShape) {
        const shape = H.oneShape(inputShape);
        const inputDim = shape[shape.length - 1];
        this.kernel = this.addWeight('kernel', [inputDim, this.units], 'float32', this.kernelInitializer,
          this.kernelRegularizer, true, this.kernelConstraint);
        this.bias = this.useBias ? this.addWeight('bias', [this.units], 'float32', this.biasInitializer,
          this.biasRegularizer, true, this.biasConstraint) : null;
        this.built = true;
      }

      call(inputs) {
        return tf.tidy(() => {
          const x = H.one(inputs);
          const lead = x.shape.slice(0, -1);
          const flat = tf.reshape(x, [-1, x.shape[x.shape.length - 1]]);
          const y = H.matMul2d(flat, this.kernel.read(), this.bias ? this.bias.read() : null);
          const out = tf.reshape(y, [...lead, this.units]);
          return this.activationLayer ? this.activationLayer.apply(out) : out;
        });
      }

      computeMask(inputs, mask) {
        return mask == null ? null : H.one(mask);  // Keras' Dense passes the mask on
      }

      computeOutputShape(inputShape) {
        return [...H.oneShape(inputShape).slice(0, -1), this.units];
      }

      getConfig() {
        return {...super.getConfig(), units: this.units, activation: this.activation, useBias: this.useBias,
          kernelInitializer: H.toSpec(this.kernelInitializer), biasInitializer: H.toSpec(this.biasInitializer),
          kernelRegularizer: H.toSpec(this.kernelRegularizer), biasRegularizer: H.toSpec(this.biasRegularizer),
          kernelConstraint: H.toSpec(this.kernelConstraint), biasConstraint: H.toSpec(this.biasConstraint)};
      }
    }

    return [WebnetsEinsumDense, WebnetsDense];
  }

  // ---- Normalization: GroupNormalization, UnitNormalization, LayerNormalization(rms_scaling) ----
  function defineNormalization(tf, H) {
    // Axis of `rank` counted from the front (Keras allows negative axes).
    const positive = (axis, rank) => (axis < 0 ? axis + rank : axis);
    const axesOf = (axis, rank) => (Array.isArray(axis) ? axis : [axis]).map((a) => positive(a, rank)).sort();
    // The options the Keras normalization layers share, with Keras' defaults.
    const normalizationOptions = (layer, config) => Object.assign(layer, {
      axis: config.axis == null ? -1 : config.axis,
      epsilon: config.epsilon == null ? 1e-3 : config.epsilon,
      center: config.center !== false,
      scale: config.scale !== false,
      supportsMasking: true,
    });

    // Keras 3 GroupNormalization: the channel axis is split into `groups`, each group is
    // normalized over every axis but the batch (mean and biased variance), then scaled and
    // shifted per channel: x * inv + (beta - mean * inv) with inv = gamma / sqrt(var + eps).
    class WebnetsGroupNormalization extends tf.layers.Layer {
      static className = 'WebnetsGroupNormalization';

      constructor(config) {
        super(config);
        normalizationOptions(this, config);
        this.groups = config.groups;
      }

      build(inputShape) {
        const shape = H.oneShape(inputShape);
        const axis = positive(this.axis, shape.length);
        const channels = shape[axis];
        if (channels == null || channels % this.groups !== 0) {
          throw new Error(`${this.name}: ${channels} channels cannot be split into ${this.groups} groups`);
        }
        if (this.scale) this.gamma = this.addWeight('gamma', [channels], 'float32', tf.initializers.ones());
        if (this.center) this.beta = this.addWeight('beta', [channels], 'float32', tf.initializers.zeros());
        this.built = true;
      }

      call(inputs) {
        return tf.tidy(() => {
          const x = H.one(inputs);
          const shape = x.shape;
          const rank = shape.length;
          const axis = positive(this.axis, rank);
          const groups = this.groups;
          const perGroup = shape[axis] / groups;
          // [batch, ..., groups, perGroup, ...]: the group axis sits where the channels were.
          const grouped = [...shape.slice(0, axis), groups, perGroup, ...shape.slice(axis + 1)];
          const xg = tf.reshape(x, grouped);
          const reduce = [];
          for (let a = 1; a < grouped.length; a++) if (a !== axis) reduce.push(a);
          const {mean, variance} = tf.moments(xg, reduce, true);
          const broadcast = grouped.map((d, a) => (a === axis || a === axis + 1 ? d : 1));
          let inv = tf.rsqrt(tf.add(variance, this.epsilon));
          if (this.scale) inv = tf.mul(inv, tf.reshape(this.gamma.read(), broadcast));
          let shift = tf.neg(tf.mul(mean, inv));
          if (this.center) shift = tf.add(shift, tf.reshape(this.beta.read(), broadcast));
          return tf.reshape(tf.add(tf.mul(xg, inv), shift), shape);
        });
      }

      computeOutputShape(inputShape) {
        return H.oneShape(inputShape);
      }

      getConfig() {
        return {...super.getConfig(), groups: this.groups, axis: this.axis, epsilon: this.epsilon,
          center: this.center, scale: this.scale};
      }
    }

    // Keras 3 UnitNormalization: x * min(1 / sqrt(sum(x^2)), 1e12) over `axis`.
    class WebnetsUnitNormalization extends tf.layers.Layer {
      static className = 'WebnetsUnitNormalization';

      constructor(config) {
        super(config);
        this.axis = config.axis == null ? -1 : config.axis;
        this.supportsMasking = true;
      }

      call(inputs) {
        return tf.tidy(() => {
          const x = H.one(inputs);
          const squares = tf.sum(tf.square(x), axesOf(this.axis, x.rank), true);
          return tf.mul(x, tf.minimum(tf.rsqrt(squares), 1e12));
        });
      }

      computeOutputShape(inputShape) {
        return H.oneShape(inputShape);
      }

      getConfig() {
        return {...super.getConfig(), axis: this.axis};
      }
    }

    // Keras 3 LayerNormalization over `axis`: (x - mean) / sqrt(var + eps) * gamma + beta, and with
    // rms_scaling=True x / sqrt(var + eps) * gamma (Keras 3.15 divides by the variance about the
    // mean, not the mean square; no beta). tfjs' own LayerNormalization computes the first, but
    // tiles its statistics and parameters to the input's shape on every call (4 Tile kernels,
    // most of a transformer block's time on WASM); here they broadcast.
    class WebnetsLayerNormalization extends tf.layers.Layer {
      static className = 'WebnetsLayerNormalization';

      constructor(config) {
        super(config);
        normalizationOptions(this, config);
        this.rmsScaling = config.rmsScaling === true;
      }

      build(inputShape) {
        const shape = H.oneShape(inputShape);
        const axes = axesOf(this.axis, shape.length);
        const size = axes.map((a) => shape[a]);
        if (this.scale) this.gamma = this.addWeight('gamma', size, 'float32', tf.initializers.ones());
        if (this.center && !this.rmsScaling) this.beta = this.addWeight('beta', size, 'float32', tf.initializers.zeros());
        this.built = true;
      }

      call(inputs) {
        return tf.tidy(() => {
          const x = H.one(inputs);
          const axes = axesOf(this.axis, x.rank);
          const broadcast = x.shape.map((d, a) => (axes.includes(a) ? d : 1));
          const {mean, variance} = tf.moments(x, axes, true);
          let y = tf.mul(this.rmsScaling ? x : tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.epsilon)));
          if (this.scale) y = tf.mul(y, tf.reshape(this.gamma.read(), broadcast));
          if (this.beta) y = tf.add(y, tf.reshape(this.beta.read(), broadcast));
          return y;
        });
      }

      computeOutputShape(inputShape) {
        return H.oneShape(inputShape);
      }

      getConfig() {
        return {...super.getConfig(), axis: this.axis, epsilon: this.epsilon, center: this.center, scale: this.scale,
          rmsScaling: this.rmsScaling};
      }
    }

    return [WebnetsGroupNormalization, WebnetsUnitNormalization, WebnetsLayerNormalization];
  }

  // ---- Operation: a keras.ops call on symbolic tensors in a Functional graph ----
  function defineOperation(tf, H) {
    const reduce = (fn) => (x, o) => fn(x, o.axis == null ? null : o.axis, Boolean(o.keepdims));
    // Softmax over any axis (tf.softmax only takes the last): exp(x - max) / sum, as Keras computes it.
    const softmax = (x, o) => {
      const axis = o.axis == null ? -1 : o.axis;
      const shifted = tf.exp(tf.sub(x, tf.max(x, axis, true)));
      return tf.div(shifted, tf.sum(shifted, axis, true));
    };
    // op name (camelCase: tfjs camelCases string config values) -> (operands, options) -> tensor.
    // The exporter's table (exporter/layers/operations.py) lists the Keras op behind each.
    const OPS = {
      mean: reduce(tf.mean), sum: reduce(tf.sum), max: reduce(tf.max), min: reduce(tf.min), prod: reduce(tf.prod),
      concat: (xs, o) => tf.concat(xs, o.axis), stack: (xs, o) => tf.stack(xs, o.axis),
      reshape: ([x], o) => tf.reshape(x, o.shape), transpose: ([x], o) => tf.transpose(x, o.perm || undefined),
      expandDims: ([x], o) => tf.expandDims(x, o.axis), squeeze: ([x], o) => tf.squeeze(x, o.axis == null ? undefined : [].concat(o.axis)),
      sqrt: ([x]) => tf.sqrt(x), square: ([x]) => tf.square(x), abs: ([x]) => tf.abs(x), exp: ([x]) => tf.exp(x),
      log: ([x]) => tf.log(x), erf: ([x]) => tf.erf(x), sign: ([x]) => tf.sign(x), neg: ([x]) => tf.neg(x),
      reciprocal: ([x]) => tf.reciprocal(x), floor: ([x]) => tf.floor(x), ceil: ([x]) => tf.ceil(x),
      sin: ([x]) => tf.sin(x), cos: ([x]) => tf.cos(x), rsqrt: ([x]) => tf.rsqrt(x),
      pow: ([a, b]) => tf.pow(a, b), maximum: ([a, b]) => tf.maximum(a, b), minimum: ([a, b]) => tf.minimum(a, b),
      add: ([a, b]) => tf.add(a, b), sub: ([a, b]) => tf.sub(a, b), mul: ([a, b]) => tf.mul(a, b), div: ([a, b]) => tf.div(a, b),
      matMul: ([a, b]) => tf.matMul(a, b), greater: ([a, b]) => tf.greater(a, b), greaterEqual: ([a, b]) => tf.greaterEqual(a, b),
      less: ([a, b]) => tf.less(a, b), lessEqual: ([a, b]) => tf.lessEqual(a, b), equal: ([a, b]) => tf.equal(a, b),
      notEqual: ([a, b]) => tf.notEqual(a, b), where: ([c, a, b]) => tf.where(tf.cast(c, 'bool'), a, b),
      clipByValue: ([x], o) => tf.clipByValue(x, o.min, o.max), softmax: ([x], o) => softmax(x, o),
    };
    const SINGLE = new Set(['mean', 'sum', 'max', 'min', 'prod']);

    // config: op, operands [{tensor: i} | {constant: number or nested array}], options, outputShape
    // (Keras' own static output shape, batch axis included).
    class WebnetsOperation extends tf.layers.Layer {
      static className = 'WebnetsOperation';

      constructor(config) {
        super(config);
        if (!OPS[config.op]) throw new Error(`${config.name}: webnets-layers.js has no operation '${config.op}'`);
        this.op = config.op;
        this.operands = config.operands;
        this.options = config.options || {};
        this.outputShapeOfOp = config.outputShape;
      }

      call(inputs) {
        return tf.tidy(() => {
          const tensors = Array.isArray(inputs) ? inputs : [inputs];
          const values = this.operands.map((o) => (o.tensor != null ? tensors[o.tensor] : tf.tensor(o.constant, undefined, 'float32')));
          return OPS[this.op](SINGLE.has(this.op) ? values[0] : values, this.options);
        });
      }

      computeOutputShape() {
        return this.outputShapeOfOp;
      }

      getConfig() {
        return {...super.getConfig(), op: this.op, operands: this.operands, options: this.options,
          outputShape: this.outputShapeOfOp};
      }
    }

    return [WebnetsOperation];
  }

  // ---- Pooling: the masked mean of Keras 3's GlobalAveragePooling1D (tfjs' ignores masks) ----
  function definePooling(tf, H) {
    // With a mask (from Embedding(mask_zero=True) or Masking upstream), Keras averages the
    // unmasked steps only: sum(where(mask, x, 0)) / sum(mask). Without one, the plain mean.
    class WebnetsGlobalAveragePooling1D extends tf.layers.Layer {
      static className = 'WebnetsGlobalAveragePooling1D';

      constructor(config) {
        super(config);
        this.keepdims = Boolean(config.keepdims);
        this.supportsMasking = true;
      }

      call(inputs, kwargs) {
        return tf.tidy(() => {
          const x = H.one(inputs);
          const mask = kwargs && kwargs.mask ? H.one(kwargs.mask) : null;
          if (!mask) return tf.mean(x, 1, this.keepdims);
          // [batch, steps]; tfjs' merge layers hand on their combined mask as [1, batch, steps].
          const keep = tf.reshape(tf.cast(mask, 'bool'), [x.shape[0], x.shape[1], 1]);
          const weights = tf.cast(keep, x.dtype);
          return tf.div(tf.sum(tf.where(keep, x, tf.zerosLike(x)), 1, this.keepdims), tf.sum(weights, 1, this.keepdims));
        });
      }

      computeMask() {
        return null;  // the steps are pooled away
      }

      computeOutputShape(inputShape) {
        const [b, steps, channels] = H.oneShape(inputShape);
        return this.keepdims ? [b, 1, channels] : [b, channels];
      }

      getConfig() {
        return {...super.getConfig(), keepdims: this.keepdims};
      }
    }

    return [WebnetsGlobalAveragePooling1D];
  }

// --- recurrent: WebnetsSimpleRNN, WebnetsLSTM, WebnetsGRU (Keras 3's cells, fewer kernels) ----
//
// tfjs-layers' RNNs run their cell through a generic loop (for a one-step call the LSTM ran
// its cell three times: 91 kernels on WASM), and its GRU slices the recurrent kernel on every
// step. These classes do what Keras 3 computes with as few TF.js kernels as the maths allows:
// the input projection of all time steps (with the bias) is one matMul; a step is one matMul
// with the recurrent kernel (split once per call where the cell needs it split) and the gates
// on whole [batch, gates * units] tensors. SimpleRNN: 3 kernels per step, GRU: 12, LSTM: 15.
function defineRecurrent(tf, H) {
  const {camel, normalize, fromSpec, toSpec} = H;

  // Activations are called on every time step, so the common ones are plain tf ops; the rest
  // go through a tfjs Activation layer (the same functions tfjs' own RNNs use).
  const FAST = {sigmoid: tf.sigmoid, tanh: tf.tanh, relu: tf.relu, linear: (x) => x};
  function activationFn(name) {
    const key = camel(String(name || 'linear'));
    if (FAST[key]) return FAST[key];
    const layer = tf.layers.activation({activation: key});
    return (x) => layer.apply(x);
  }


  // The rows of the input projection [steps * batch, width], one [batch, width] tensor a step.
  // tfjs-backend-wasm's Slice (and Unpack, made of it) copies its whole source out of the WASM
  // heap for every slice it takes, so unstacking a 96-step projection of the demo LSTM cost 26 ms
  // of its 40 ms predict. On WASM at inference the rows are read out once and uploaded one by one
  // (microseconds each). While gradients are recorded (fit) the rows must come from ops on the
  // projection, so that training reaches the kernel through them.
  function timeSteps(proj, steps, batch, width) {
    if (steps <= 1) return steps === 1 ? [proj] : [];
    if (tf.getBackend() !== 'wasm' || H.recording()) return tf.unstack(tf.reshape(proj, [steps, batch, width]));
    const data = proj.dataSync();
    const size = batch * width;
    return Array.from({length: steps}, (_, t) => tf.tensor2d(data.subarray(t * size, (t + 1) * size), [batch, width]));
  }

  // x + h k. On WebGL and CPU one fused matMul with x as its bias (a shader program fewer on every
  // step). Not on WASM: its fused matMul takes only a rank-1 bias, and it packs the kernel again for
  // every new bias tensor (the demo LSTM's 96 steps went from 20 to 250 ms).
  function plusMatMul(x, h, kernel) {
    if (tf.getBackend() !== 'wasm') return H.matMul2d(h, kernel, x);
    return tf.add(x, tf.matMul(h, kernel));
  }

  // Activations TF.js can fuse into a matMul (tanh is not among them).
  const FUSABLE = new Set(['linear', 'relu', 'relu6', 'elu', 'sigmoid']);
  const fusable = (name) => (FUSABLE.has(camel(String(name))) ? camel(String(name)) : null);

  // [recurrent; input] kernel columns [from, from + size): the weights of one matMul of [h, x].
  const stacked = (recurrent, input, from, size) => tf.concat(
    [tf.slice(recurrent, [0, from], [-1, size]), tf.slice(input, [0, from], [-1, size])], 0);

  // What SimpleRNN, LSTM and GRU share: config, weights [input, gates * units] and
  // [units, gates * units], Keras 3's masking, go_backwards, initial and returned states.
  // A subclass gives `gates`, `stateCount`, biasShape(), inputBias(), prepare() (per call)
  // and cell(x, states, prepared) -> new states, the first of which is the output; and for one
  // time step alone prepareSingleStep() and singleStep(x, states, prepared), x unprojected.
  class WebnetsRecurrent extends tf.layers.Layer {
    constructor(args, gates, stateCount) {
      const a = normalize(args);
      super(a);
      const kind = this.constructor.className;
      if (a.stateful) {
        throw new Error(`${kind} '${this.name}': stateful=true is not supported; pass the state in and out ` +
          '(initial_state= / return_state=True), as webnets\' step form does.');
      }
      this.units = a.units;
      if (!(Number.isInteger(this.units) && this.units > 0)) {
        throw new Error(`${kind} '${this.name}': units must be a positive integer, got ${this.units}.`);
      }
      this.gates = gates;
      this.stateCount = stateCount;
      this.args = a;
      this.activationName = a.activation == null ? 'tanh' : a.activation;
      this.activationFn = activationFn(this.activationName);
      if (gates > 1) {  // LSTM's and GRU's gates
        this.recurrentActivationName = a.recurrentActivation == null ? 'sigmoid' : a.recurrentActivation;
        this.recurrentActivationFn = activationFn(this.recurrentActivationName);
      }
      this.useBias = a.useBias == null ? true : !!a.useBias;
      this.returnSequences = !!a.returnSequences;
      this.returnState = !!a.returnState;
      this.goBackwards = !!a.goBackwards;
      this.zeroOutputForMask = !!a.zeroOutputForMask;
      // Keras 3 passes the upstream mask only to a layer called on one tensor: called with an
      // initial state (and no mask=), it runs unmasked. The exporter sets this then.
      this.ignoreMask = !!a.ignoreMask;
      this.unroll = !!a.unroll;  // ignored: TF.js loops in JavaScript anyway
      // Inference no-ops; training in TF.js does not drop either (Keras does).
      this.dropout = a.dropout || 0;
      this.recurrentDropout = a.recurrentDropout || 0;
      this.kernelInitializer = fromSpec(a.kernelInitializer, 'glorotUniform');
      this.recurrentInitializer = fromSpec(a.recurrentInitializer, 'orthogonal');
      this.biasInitializer = fromSpec(a.biasInitializer, 'zeros');
      this.kernelRegularizer = fromSpec(a.kernelRegularizer);
      this.recurrentRegularizer = fromSpec(a.recurrentRegularizer);
      this.biasRegularizer = fromSpec(a.biasRegularizer);
      this.kernelConstraint = fromSpec(a.kernelConstraint);
      this.recurrentConstraint = fromSpec(a.recurrentConstraint);
      this.biasConstraint = fromSpec(a.biasConstraint);
      this.supportsMasking = true;
      this.stateSize = stateCount === 1 ? this.units : new Array(stateCount).fill(this.units);
    }

    // Bidirectional counts the states (h; LSTM: h, c) to split initial states and outputs.
    get states() {
      return new Array(this.stateCount).fill(null);
    }

    biasInitializerFor() {
      return this.biasInitializer;
    }

    build(inputShape) {
      const shape = H.oneShape(inputShape);
      const inputDim = shape[shape.length - 1];
      const width = this.gates * this.units;
      this.kernel = this.addWeight('kernel', [inputDim, width], 'float32', this.kernelInitializer,
        this.kernelRegularizer, true, this.kernelConstraint);
      this.recurrentKernel = this.addWeight('recurrent_kernel', [this.units, width], 'float32',
        this.recurrentInitializer, this.recurrentRegularizer, true, this.recurrentConstraint);
      this.bias = this.useBias
        ? this.addWeight('bias', this.biasShape(), 'float32', this.biasInitializerFor(), this.biasRegularizer,
          true, this.biasConstraint)
        : null;
      this.built = true;
    }

    biasShape() {
      return [this.gates * this.units];
    }

    // The bias added to the input projection of every step, [gates * units], or null.
    inputBias() {
      return this.useBias ? this.bias.read() : null;
    }

    computeOutputShape(inputShape) {
      const shape = H.oneShape(inputShape);
      const output = this.returnSequences ? [shape[0], shape[1], this.units] : [shape[0], this.units];
      if (!this.returnState) return output;
      return [output, ...new Array(this.stateCount).fill(null).map(() => [shape[0], this.units])];
    }

    computeMask(inputs, mask) {
      const m = Array.isArray(mask) ? mask[0] : mask;  // Keras 3 passes it on even when ignoreMask
      const output = this.returnSequences && m != null ? m : null;
      return this.returnState ? [output, ...new Array(this.stateCount).fill(null)] : output;
    }

    // inputs: the sequence [batch, time, features], optionally followed by the initial states
    // (a Functional graph passes them as extra inputs; Bidirectional as kwargs.initialState).
    call(inputs, kwargs) {
      kwargs = kwargs || {};
      return this.returnState ? H.onceForSameInputs(this, inputs, kwargs, () => this.run(inputs, kwargs))
        : this.run(inputs, kwargs);
    }

    run(inputs, kwargs) {
      return tf.tidy(() => {
        const list = Array.isArray(inputs) ? inputs : [inputs];
        const x = list[0];
        let initial = list.length > 1 ? list.slice(1) : kwargs.initialState;
        if (initial != null && !Array.isArray(initial)) initial = [initial];
        if (initial != null && initial.length !== this.stateCount) {
          throw new Error(`${this.constructor.className} '${this.name}': expected ${this.stateCount} initial ` +
            `state(s), got ${initial.length}.`);
        }
        let mask = Array.isArray(kwargs.mask) ? kwargs.mask[0] : kwargs.mask;
        if (this.ignoreMask) mask = null;
        const [batch, steps, features] = x.shape;
        const u = this.units;
        const width = this.gates * u;
        if (steps === 1 && mask == null) {
          // One time step (a step model's call): one matMul of [h, x] with the recurrent and input
          // kernels stacked, instead of projecting x first (SimpleRNN 3 -> 2 kernels, LSTM 14 -> 13,
          // GRU 13 -> 10 a step, on WASM).
          const states = initial != null ? initial
            : new Array(this.stateCount).fill(null).map(() => tf.zeros([batch, u]));
          const prepared = H.derived(this, 'singleStep', () => this.prepareSingleStep());
          const fresh = this.singleStep(tf.reshape(x, [batch, features]), states, prepared);
          const output = this.returnSequences ? tf.reshape(fresh[0], [batch, 1, u]) : fresh[0];
          return this.returnState ? [output, ...fresh] : output;
        }

        // One projection for all steps, time-major so that step t is one row block.
        const flat = steps === 1 ? tf.reshape(x, [batch, features])
          : tf.reshape(tf.transpose(x, [1, 0, 2]), [steps * batch, features]);
        const bias = H.derived(this, 'inputBias', () => this.inputBias());
        const proj = H.matMul2d(flat, this.kernel.read(), bias);
        const xs = timeSteps(proj, steps, batch, width);
        let masks = null;
        let keeps = null;
        if (mask != null) {
          const m = tf.expandDims(tf.transpose(tf.cast(mask, 'float32'), [1, 0]), 2);  // [time, batch, 1]
          masks = tf.unstack(m);
          keeps = tf.unstack(tf.sub(1, m));
        }
        const prepared = H.derived(this, 'prepare', () => this.prepare());

        // As Keras: a masked step keeps the state; its output is the previous output (zeros
        // before the first unmasked step), or zeros with zero_output_for_mask.
        const select = (t, a, b) => tf.add(tf.mul(a, masks[t]), tf.mul(b, keeps[t]));
        const trackOutput = masks != null && initial != null && !this.zeroOutputForMask;
        let states = initial != null ? initial : new Array(this.stateCount).fill(null).map(() => tf.zeros([batch, u]));
        let out = trackOutput ? tf.zeros([batch, u]) : null;
        const outputs = [];
        for (let n = 0; n < steps; ++n) {
          const t = this.goBackwards ? steps - 1 - n : n;
          const next = tf.tidy(() => {
            const fresh = this.cell(xs[t], states, prepared);
            if (masks == null) return [fresh[0], ...fresh];
            const kept = fresh.map((s, i) => select(t, s, states[i]));
            if (this.zeroOutputForMask) return [tf.mul(fresh[0], masks[t]), ...kept];
            return [trackOutput ? select(t, fresh[0], out) : kept[0], ...kept];
          });
          out = next[0];
          states = next.slice(1);
          if (this.returnSequences) outputs.push(out);
        }
        if (steps === 0) out = tf.zeros([batch, u]);
        let output = out;
        if (this.returnSequences) {
          output = steps === 0 ? tf.zeros([batch, 0, u])
            : (steps === 1 ? tf.reshape(outputs[0], [batch, 1, u]) : tf.stack(outputs, 1));
        }
        return this.returnState ? [output, ...states] : output;
      });
    }

    getConfig() {
      // camelCase keys, as tfjs' own layers: Bidirectional copies this config and flips
      // `goBackwards`, and saving (model.toJSON) writes the keys back in snake_case.
      const config = {
        units: this.units,
        activation: this.activationName,
        useBias: this.useBias,
        kernelInitializer: toSpec(this.kernelInitializer),
        recurrentInitializer: toSpec(this.recurrentInitializer),
        biasInitializer: toSpec(this.biasInitializer),
        kernelRegularizer: toSpec(this.kernelRegularizer),
        recurrentRegularizer: toSpec(this.recurrentRegularizer),
        biasRegularizer: toSpec(this.biasRegularizer),
        kernelConstraint: toSpec(this.kernelConstraint),
        recurrentConstraint: toSpec(this.recurrentConstraint),
        biasConstraint: toSpec(this.biasConstraint),
        dropout: this.dropout,
        recurrentDropout: this.recurrentDropout,
        returnSequences: this.returnSequences,
        returnState: this.returnState,
        goBackwards: this.goBackwards,
        stateful: false,
        unroll: this.unroll,
        zeroOutputForMask: this.zeroOutputForMask,
        ignoreMask: this.ignoreMask,
        ...(this.gates > 1 ? {recurrentActivation: this.recurrentActivationName} : {}),
      };
      return Object.assign({}, super.getConfig(), config);
    }
  }

  // Keras 3 SimpleRNN: h' = a(x W + b + h U).
  class WebnetsSimpleRNN extends WebnetsRecurrent {
    static className = 'WebnetsSimpleRNN';

    constructor(args) {
      super(args, 1, 1);
    }

    prepare() {
      return this.recurrentKernel.read();
    }

    cell(x, [h], recurrent) {
      return [this.activationFn(plusMatMul(x, h, recurrent))];
    }

    prepareSingleStep() {
      return {kernel: tf.concat([this.recurrentKernel.read(), this.kernel.read()], 0),
        bias: this.useBias ? this.bias.read() : null};
    }

    singleStep(x, [h], p) {
      const fused = fusable(this.activationName);
      const z = H.matMul2d(tf.concat([h, x], 1), p.kernel, p.bias, fused || 'linear');
      return [fused ? z : this.activationFn(z)];
    }
  }

  // Keras 3 LSTM, gate order i, f, c, o:
  //   z = x W + b + h U;  i, f, o = ra(z_i, z_f, z_o);  c' = f * c + i * a(z_c);  h' = o * a(c')
  // unit_forget_bias: the bias starts at ones for the forget gate (an initializer only).
  class WebnetsLSTM extends WebnetsRecurrent {
    static className = 'WebnetsLSTM';

    constructor(args) {
      super(args, 4, 2);
      this.unitForgetBias = this.args.unitForgetBias == null ? true : !!this.args.unitForgetBias;
    }

    biasInitializerFor() {
      if (!this.unitForgetBias) return this.biasInitializer;
      const u = this.units;
      const base = this.biasInitializer;
      // Duck-typed tfjs Initializer: addWeight only calls apply(shape, dtype).
      return {
        apply: (shape, dtype) => tf.tidy(() => tf.concat([base.apply([u], dtype), tf.ones([u], dtype),
          base.apply([2 * u], dtype)], 0)),
        getClassName: () => base.getClassName(),
        getConfig: () => base.getConfig(),
      };
    }

    prepare() {
      return this.recurrentKernel.read();
    }

    cell(x, [h, c], recurrent) {
      return this.fromGates(plusMatMul(x, h, recurrent), c);
    }

    prepareSingleStep() {
      return {kernel: tf.concat([this.recurrentKernel.read(), this.kernel.read()], 0),
        bias: this.useBias ? this.bias.read() : null};
    }

    singleStep(x, [h, c], p) {
      return this.fromGates(H.matMul2d(tf.concat([h, x], 1), p.kernel, p.bias), c);
    }

    // z = x W + b + h U, [batch, 4u] -> [h', c']
    fromGates(z, c) {
      const [zi, zf, zc, zo] = tf.split(z, 4, 1);
      const ra = this.recurrentActivationFn;
      const c2 = tf.add(tf.mul(ra(zf), c), tf.mul(ra(zi), this.activationFn(zc)));
      return [tf.mul(ra(zo), this.activationFn(c2)), c2];
    }

    getConfig() {
      return {...super.getConfig(), unitForgetBias: this.unitForgetBias};
    }
  }

  // Keras 3 GRU (keras/src/layers/rnn/gru.py), gate order z, r, h:
  //   z = ra(x Wz + bz + h Uz + b'z),  r = ra(x Wr + br + h Ur + b'r)
  //   reset_after:  hh = a(x Wh + bh + r * (h Uh + b'h))     bias [2, 3u] = [input; recurrent]
  //   otherwise:    hh = a(x Wh + bh + (r * h) Uh)           bias [3u]
  //   h' = z * h + (1 - z) * hh
  class WebnetsGRU extends WebnetsRecurrent {
    static className = 'WebnetsGRU';

    constructor(args) {
      super(args, 3, 1);
      this.resetAfter = this.args.resetAfter == null ? true : !!this.args.resetAfter;
    }

    biasShape() {
      return this.resetAfter ? [2, 3 * this.units] : [3 * this.units];
    }

    // reset_after: the recurrent biases of z and r join the input bias (they are added as they
    // are); the h one stays inside r * (h Uh + b'h), so prepare() adds it to that matMul.
    inputBias() {
      if (!this.useBias) return null;
      const bias = this.bias.read();
      if (!this.resetAfter) return bias;
      const u = this.units;
      const [input, recurrent] = tf.split(bias, 2, 0);
      return tf.add(tf.reshape(input, [3 * u]),
        tf.concat([tf.slice(tf.reshape(recurrent, [3 * u]), [0], [2 * u]), tf.zeros([u])], 0));
    }

    prepare() {
      const u = this.units;
      const recurrent = this.recurrentKernel.read();
      if (this.resetAfter) {
        // h U + [0, 0, b'h] in one fused matMul per step.
        const bias = this.useBias
          ? tf.concat([tf.zeros([2 * u]), tf.slice(tf.reshape(this.bias.read(), [2, 3 * u]), [1, 2 * u], [1, u]).reshape([u])], 0)
          : null;
        return {recurrent, bias};
      }
      // Split once per call, not once per step as tfjs' GRU cell does.
      const [zr, hh] = tf.split(recurrent, [2 * u, u], 1);
      return {zr, hh};
    }

    cell(x, [h], p) {
      const u = this.units;
      const ra = this.recurrentActivationFn;
      if (this.resetAfter) {
        const inner = H.matMul2d(h, p.recurrent, p.bias);
        // The gates of z and r on the whole row (the h third of it is not used).
        const gates = ra(tf.add(x, inner));
        const [z, r] = tf.split(gates, [u, u, u], 1);
        const hh = this.activationFn(tf.add(tf.slice(x, [0, 2 * u], [-1, u]), tf.mul(r, tf.slice(inner, [0, 2 * u], [-1, u]))));
        return [tf.add(hh, tf.mul(z, tf.sub(h, hh)))];  // z * h + (1 - z) * hh
      }
      const [xZR, xH] = tf.split(x, [2 * u, u], 1);
      const [z, r] = tf.split(ra(plusMatMul(xZR, h, p.zr)), 2, 1);
      const hh = this.activationFn(plusMatMul(xH, tf.mul(r, h), p.hh));
      return [tf.add(hh, tf.mul(z, tf.sub(h, hh)))];
    }

    // One step: the z/r gates as one matMul of [h, x] with their activation fused; then
    // reset_after=False: a matMul of [r * h, x]; reset_after=True: h Uh and x Wh as two small
    // matMuls. (One matMul of [h, x] with [[Uzr, Uh, 0], [Wzr, 0, Wh]] has fewer kernels but
    // multiplies a third more weights, a quarter of them zeros: as slow as the LSTM's step.)
    prepareSingleStep() {
      const u = this.units;
      const U = this.recurrentKernel.read();
      const W = this.kernel.read();
      const bias = this.useBias ? this.bias.read() : null;
      if (!this.resetAfter) {
        return {zr: stacked(U, W, 0, 2 * u), h: stacked(U, W, 2 * u, u),
          zrBias: bias && tf.slice(bias, [0], [2 * u]), hBias: bias && tf.slice(bias, [2 * u], [u])};
      }
      // Rank-1 bias pieces (what WASM's fused matMul takes): sliced from the flattened bias, since
      // on WASM a reshape shares its source's data, whose recorded shape the kernel checks.
      const part = (row, from, size) => tf.slice(tf.reshape(bias, [-1]), [row * 3 * u + from], [size]);
      return {zr: stacked(U, W, 0, 2 * u), uh: tf.slice(U, [0, 2 * u], [-1, u]), wh: tf.slice(W, [0, 2 * u], [-1, u]),
        zrBias: bias && tf.add(part(0, 0, 2 * u), part(1, 0, 2 * u)), uhBias: bias && part(1, 2 * u, u),
        whBias: bias && part(0, 2 * u, u)};
    }

    singleStep(x, [h], p) {
      const ra = this.recurrentActivationFn;
      const fused = fusable(this.recurrentActivationName);
      const zr = H.matMul2d(tf.concat([h, x], 1), p.zr, p.zrBias, fused || 'linear');
      const [z, r] = tf.split(fused ? zr : ra(zr), 2, 1);
      const hh = this.resetAfter
        ? this.activationFn(tf.add(H.matMul2d(x, p.wh, p.whBias), tf.mul(r, H.matMul2d(h, p.uh, p.uhBias))))
        : this.activationFn(H.matMul2d(tf.concat([tf.mul(r, h), x], 1), p.h, p.hBias));
      return [tf.add(hh, tf.mul(z, tf.sub(h, hh)))];
    }

    getConfig() {
      return {...super.getConfig(), resetAfter: this.resetAfter};
    }
  }

  return [WebnetsSimpleRNN, WebnetsLSTM, WebnetsGRU];
}

  // ---- Resizing: Keras 3's half-pixel bilinear / nearest, crop or pad to the aspect ratio ----
  function defineResizing(tf, H) {
    // The [outSize, inSize] matrix M with resize(x) = M x along one axis, for TF's half-pixel
    // sampling (tf.image.resize, which Keras 3 uses): bilinear reads in = (i + 0.5) * s - 0.5,
    // nearest reads floor((i + 0.5) * s), with s = inSize / outSize, clamped to the image.
    function samplingMatrix(outSize, inSize, interpolation) {
      const m = new Float32Array(outSize * inSize);
      const s = inSize / outSize;
      for (let i = 0; i < outSize; i++) {
        if (interpolation === 'nearest') {
          m[i * inSize + Math.min(Math.floor((i + 0.5) * s), inSize - 1)] = 1;
          continue;
        }
        const at = (i + 0.5) * s - 0.5;
        const low = Math.floor(at);
        const lerp = at - low;
        const lower = Math.max(low, 0);
        const upper = Math.min(Math.ceil(at), inSize - 1);
        m[i * inSize + lower] += 1 - lerp;
        m[i * inSize + upper] += lerp;
      }
      return tf.tensor2d(m, [outSize, inSize]);
    }

    // NHWC resize whose forward pass is tfjs' own kernel (fast on every backend) and whose
    // gradient is the transposed sampling matrices: tfjs' ResizeBilinearGrad /
    // ResizeNearestNeighborGrad are missing on WASM, so training there would fail.
    function resize(x, height, width, interpolation) {
      const [, inH, inW] = x.shape;
      if (inH === height && inW === width) return x;  // half-pixel sampling at scale 1 is the identity
      const run = tf.customGrad((images, save) => {
        const value = interpolation === 'nearest'
          ? tf.image.resizeNearestNeighbor(images, [height, width], false, true)
          : tf.image.resizeBilinear(images, [height, width], false, true);
        return {
          value,
          gradFunc: (dy) => tf.tidy(() => {
            const [b, , , c] = dy.shape;
            const rows = samplingMatrix(height, inH, interpolation);  // [height, inH]
            const cols = samplingMatrix(width, inW, interpolation);  // [width, inW]
            // dx[b, p, q, c] = sum_ij rows[i, p] cols[j, q] dy[b, i, j, c]
            const alongRows = tf.matMul(rows, tf.reshape(tf.transpose(dy, [1, 0, 2, 3]), [height, b * width * c]), true);
            const r = tf.transpose(tf.reshape(alongRows, [inH, b, width, c]), [2, 1, 0, 3]);  // [width, b, inH, c]
            const alongCols = tf.matMul(cols, tf.reshape(r, [width, b * inH * c]), true);  // [inW, b*inH*c]
            return tf.transpose(tf.reshape(alongCols, [inW, b, inH, c]), [1, 2, 0, 3]);
          }),
        };
      });
      return run(x);
    }

    // Keras' integer arithmetic for the crop / pad box, from backend/tensorflow/image.py resize().
    const truncate = (v) => Math.trunc(Math.fround(v));

    function cropToAspect(x, height, width) {
      const [, h, w] = x.shape;
      const cropH = Math.max(Math.min(h, truncate((w * height) / width)), 1);
      const cropW = Math.max(Math.min(w, truncate((h * width) / height)), 1);
      const top = truncate((h - cropH) / 2);
      const left = truncate((w - cropW) / 2);
      return tf.slice(x, [0, top, left, 0], [-1, cropH, cropW, -1]);
    }

    function padToAspect(x, height, width, fillValue) {
      const [, h, w] = x.shape;
      const padH = Math.max(h, truncate((w * height) / width));
      const padW = Math.max(w, truncate((h * width) / height));
      // Keras pads both sides by the rounded-down half, so an odd difference loses a row.
      const top = truncate((padH - h) / 2);
      const left = truncate((padW - w) / 2);
      if (top <= 0 && left <= 0) return x;
      return tf.pad(x, [[0, 0], [top, top], [left, left], [0, 0]], fillValue);
    }

    const toChannelsLast = (x, format) => (format === 'channelsFirst' ? tf.transpose(x, [0, 2, 3, 1]) : x);
    const fromChannelsLast = (x, format) => (format === 'channelsFirst' ? tf.transpose(x, [0, 3, 1, 2]) : x);

    function checkInterpolation(layer, interpolation) {
      if (interpolation !== 'bilinear' && interpolation !== 'nearest') {
        throw new Error(`${layer.name}: interpolation '${interpolation}' is not implemented (bilinear, nearest)`);
      }
    }

    // Keras 3 Resizing (and the resize behind CenterCrop of a too-small image): optional crop or
    // pad to the target aspect ratio, then a half-pixel resize to (height, width).
    class WebnetsResizing extends tf.layers.Layer {
      static className = 'WebnetsResizing';

      constructor(config) {
        super(config);
        this.height = config.height;
        this.width = config.width;
        this.interpolation = config.interpolation || 'bilinear';
        this.cropToAspectRatio = Boolean(config.cropToAspectRatio);
        this.padToAspectRatio = Boolean(config.padToAspectRatio);
        this.fillValue = config.fillValue || 0;
        this.dataFormat = config.dataFormat || 'channelsLast';
        checkInterpolation(this, this.interpolation);
      }

      call(inputs) {
        return tf.tidy(() => {
          let x = toChannelsLast(H.one(inputs), this.dataFormat);
          if (this.cropToAspectRatio) x = cropToAspect(x, this.height, this.width);
          else if (this.padToAspectRatio) x = padToAspect(x, this.height, this.width, this.fillValue);
          return fromChannelsLast(resize(x, this.height, this.width, this.interpolation), this.dataFormat);
        });
      }

      computeOutputShape(inputShape) {
        const [b, a1, a2, a3] = H.oneShape(inputShape);
        return this.dataFormat === 'channelsFirst' ? [b, a1, this.height, this.width] : [b, this.height, this.width, a3];
      }

      getConfig() {
        return {...super.getConfig(), height: this.height, width: this.width, interpolation: this.interpolation,
          cropToAspectRatio: this.cropToAspectRatio, padToAspectRatio: this.padToAspectRatio,
          fillValue: this.fillValue, dataFormat: this.dataFormat};
      }
    }

    // Keras 3 UpSampling2D(interpolation='bilinear'): a half-pixel resize by integer factors
    // (tfjs' UpSampling2D samples bilinearly without half-pixel centres).
    class WebnetsUpSampling2D extends tf.layers.Layer {
      static className = 'WebnetsUpSampling2D';

      constructor(config) {
        super(config);
        this.size = config.size || [2, 2];
        this.interpolation = config.interpolation || 'bilinear';
        this.dataFormat = config.dataFormat || 'channelsLast';
        checkInterpolation(this, this.interpolation);
      }

      call(inputs) {
        return tf.tidy(() => {
          const x = toChannelsLast(H.one(inputs), this.dataFormat);
          const [, h, w] = x.shape;
          return fromChannelsLast(resize(x, h * this.size[0], w * this.size[1], this.interpolation), this.dataFormat);
        });
      }

      computeOutputShape(inputShape) {
        const shape = H.oneShape(inputShape).slice();
        const [hAxis, wAxis] = this.dataFormat === 'channelsFirst' ? [2, 3] : [1, 2];
        shape[hAxis] = shape[hAxis] == null ? null : shape[hAxis] * this.size[0];
        shape[wAxis] = shape[wAxis] == null ? null : shape[wAxis] * this.size[1];
        return shape;
      }

      getConfig() {
        return {...super.getConfig(), size: this.size, interpolation: this.interpolation, dataFormat: this.dataFormat};
      }
    }

    // Keras 3 CenterCrop where the input size is not known at export (a known, large enough
    // input becomes a tfjs Cropping2D): crop from (size - target) // 2, or, when the image is
    // smaller than the target, Keras' smart_resize (crop to the aspect ratio, bilinear resize).
    class WebnetsCenterCrop extends tf.layers.Layer {
      static className = 'WebnetsCenterCrop';

      constructor(config) {
        super(config);
        this.height = config.height;
        this.width = config.width;
        this.dataFormat = config.dataFormat || 'channelsLast';
      }

      call(inputs) {
        return tf.tidy(() => {
          const x = toChannelsLast(H.one(inputs), this.dataFormat);
          const [, h, w] = x.shape;
          const y = h >= this.height && w >= this.width
            ? tf.slice(x, [0, Math.floor((h - this.height) / 2), Math.floor((w - this.width) / 2), 0],
              [-1, this.height, this.width, -1])
            : resize(cropToAspect(x, this.height, this.width), this.height, this.width, 'bilinear');
          return fromChannelsLast(y, this.dataFormat);
        });
      }

      computeOutputShape(inputShape) {
        return WebnetsResizing.prototype.computeOutputShape.call(this, inputShape);
      }

      getConfig() {
        return {...super.getConfig(), height: this.height, width: this.width, dataFormat: this.dataFormat};
      }
    }

    return [WebnetsResizing, WebnetsUpSampling2D, WebnetsCenterCrop];
  }

  // ---- Embedding: ReversibleEmbedding (the tied output projection of language models) ----
  function defineEmbedding(tf, H) {
    return [];
  }

  // ---- Signal: the audio front ends (STFTSpectrogram, MelSpectrogram) ----
  function defineSignal(tf, H) {
    return [];
  }

  // ---- Image preprocessing that computes from the image: AutoContrast, Equalization, CLAHE ----
  function defineImagePreprocessing(tf, H) {
    return [];
  }

  const SECTIONS = [defineAttention, defineConvolution, defineEinsum, defineEmbedding, defineImagePreprocessing,
    defineNormalization, defineOperation, definePooling, defineRecurrent, defineResizing, defineSignal];

  // Registers every class on `tf` and returns their class names. Registering again (another
  // export's copy) replaces the classes, as tf.serialization.registerClass does for one name.
  function register(tf) {
    if (!tf || !tf.layers || !tf.serialization) {
      throw new Error('webnets-layers.js: register(tf) needs the TensorFlow.js module (@tensorflow/tfjs); '
        + 'in a page, load tf.min.js before webnets-layers.js.');
    }
    const H = helpers(tf);
    const classes = SECTIONS.flatMap((define) => define(tf, H));
    for (const cls of classes) tf.serialization.registerClass(cls);
    return classes.map((cls) => cls.className);
  }

  return {register, VERSION};
});
