// webnets-layers.js: webnets' own TF.js layer classes, for what tfjs-layers 4.22 lacks.
//
// One plain file, no build step. Every class subclasses tf.layers.Layer, has a
// static className, adds its weights with addWeight (so TF.js trains them), and is
// registered with tf.serialization.registerClass, which tf.loadLayersModel consults.
//
//   page:  <script src="tf.min.js"></script><script src="webnets-layers.js"></script>
//          (a classic script registers everything on the global `tf`)
//   Node:  require('<dir>/webnets-layers.js').register(tf)
//   then:  webnetsLayers.predict(model, inputs) (page) / require(...).predict(model, inputs) (Node) runs
//          any exported model, string inputs included (see `predict` at the end of this file)
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
    // A two-operand einsum with explicit letters ('btnh,bsnh->bnts'), as transposes, reshapes and one
    // (batched) matMul: WASM has no Einsum kernel. Letters in both operands and the output are batch
    // axes, in both but not the output contracted, in one operand and the output free; a letter in one
    // operand only and not the output is summed out first.
    function einsum(equation, a, b) {
      const [left, out] = equation.split('->');
      let [specA, specB] = left.split(',');
      const sumOut = (x, spec, other) => {
        const gone = [...spec].filter((c) => !other.includes(c) && !out.includes(c));
        return gone.length ? [tf.sum(x, gone.map((c) => spec.indexOf(c))), [...spec].filter((c) => !gone.includes(c)).join('')]
          : [x, spec];
      };
      [a, specA] = sumOut(a, specA, specB);
      [b, specB] = sumOut(b, specB, specA);
      const size = {};
      [...specA].forEach((c, i) => { size[c] = a.shape[i]; });
      [...specB].forEach((c, i) => { size[c] = b.shape[i]; });
      const batch = [...specA].filter((c) => specB.includes(c) && out.includes(c));
      const contracted = [...specA].filter((c) => specB.includes(c) && !out.includes(c));
      const freeA = [...specA].filter((c) => !specB.includes(c));
      const freeB = [...specB].filter((c) => !specA.includes(c));
      const count = (letters) => letters.reduce((n, c) => n * size[c], 1);
      const arranged = (x, spec, order) => {
        const perm = order.map((c) => spec.indexOf(c));
        return perm.every((p, i) => p === i) ? x : tf.transpose(x, perm);
      };
      const a3 = tf.reshape(arranged(a, specA, [...batch, ...freeA, ...contracted]), [count(batch), count(freeA), count(contracted)]);
      const b3 = tf.reshape(arranged(b, specB, [...batch, ...contracted, ...freeB]), [count(batch), count(contracted), count(freeB)]);
      const produced = [...batch, ...freeA, ...freeB];
      const y = tf.reshape(tf.matMul(a3, b3), produced.map((c) => size[c]));
      return arranged(y, produced.join(''), [...out]);
    }

    // numpy's moveaxis: the `from` axes go to the `to` positions, the rest keep their order.
    function moveAxes(x, from, to) {
      const rank = x.rank;
      const norm = (a) => (a < 0 ? a + rank : a);
      const source = from.map(norm), target = to.map(norm);
      const rest = [...Array(rank).keys()].filter((a) => !source.includes(a));
      const perm = new Array(rank);
      target.forEach((t, i) => { perm[t] = source[i]; });
      for (let a = 0; a < rank; a += 1) if (perm[a] === undefined) perm[a] = rest.shift();
      return perm.every((p, i) => p === i) ? x : tf.transpose(x, perm);
    }

    // Keras 3 numerical_utils.encode_categorical_inputs on int32 indices: 'int' as it is; 'oneHot' with
    // a trailing axis of 1 dropped first; 'multiHot' / 'count' the one-hot vectors' maximum / sum over
    // axis 1 (TensorFlow's bincount fast path for rank 2 computes the same; an index outside
    // [0, depth) counts nowhere), the count weighted by `countWeights` when given.
    function encode(indices, mode, depth, dtype, countWeights) {
      if (mode === 'int') return tf.cast(indices, dtype);
      let ids = indices;
      if (mode === 'oneHot' && ids.rank > 1 && ids.shape[ids.rank - 1] === 1) ids = tf.squeeze(ids, [ids.rank - 1]);
      // int32 first: TF.js' WASM oneHot writes integers whatever dtype it is asked for. tf.oneHot needs a
      // depth of 2 at least: a depth of 1 (no boundaries, one token) is the first column of depth 2.
      let hot = tf.cast(tf.oneHot(ids, Math.max(depth, 2)), 'float32');
      if (depth < 2) hot = tf.slice(hot, new Array(hot.rank).fill(0), [...hot.shape.slice(0, -1), depth]);
      if (mode === 'oneHot') return tf.cast(hot, dtype);
      if (mode === 'multiHot') return tf.cast(tf.max(hot, 1), dtype);
      if (countWeights == null) return tf.cast(tf.sum(hot, 1), dtype);
      return tf.sum(tf.mul(hot, tf.expandDims(tf.cast(countWeights, 'float32'), -1)), 1);
    }

    function encodedShape(shape, mode, depth) {
      if (mode === 'int') return shape;
      if (mode === 'oneHot') {
        return shape.length > 1 && shape[shape.length - 1] === 1 ? [...shape.slice(0, -1), depth] : [...shape, depth];
      }
      return [shape[0], ...shape.slice(2), depth];
    }

    return {one, oneShape, onceForSameInputs, camel, normalize, fromSpec, toSpec, recording, derived, matMul2d, einsum,
      moveAxes, encode, encodedShape};
  }

  // ---- Attention: MultiHeadAttention, GroupedQueryAttention, Attention, AdditiveAttention (+ WebnetsMask) ----
  //
  // Masks. Keras 3 hands an attention layer the Keras mask of *each* input (query, value, key).
  // tfjs' executor (model.predict / fit) passes a layer only the mask of its *first* input, as
  // kwargs.mask, so the masks of the other inputs would be lost. The exporter therefore feeds
  // every mask an attention layer needs as an explicit extra input: a WebnetsMask layer, called
  // on the masked tensor, receives that tensor's mask (it is its first and only input) and
  // outputs it as float32 0/1. The attention layers read only those inputs; their config says
  // which inputs they get, in this order:
  //   MultiHeadAttention, GroupedQueryAttention: query, value, [key], [attention_mask], [query mask],
  //     [value mask], [key mask]
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
        // GroupedQueryAttention: key and value have fewer heads, each shared by numHeads / numKeyValueHeads
        // query heads (WebnetsGroupedQueryAttention below); MultiHeadAttention has as many.
        this.numKeyValueHeads = config.numKeyValueHeads == null ? config.numHeads : config.numKeyValueHeads;
        if (this.numHeads % this.numKeyValueHeads !== 0) {
          throw new Error(`${this.name}: ${this.numHeads} query heads cannot share ${this.numKeyValueHeads} key/value heads`);
        }
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
        const KV = this.numKeyValueHeads;
        this.key = dense('key', last(keyShape), [], [KV, this.keyDim]);
        if (this.useGate) this.gate = dense('gate', last(queryShape), [], [N, this.valueDim]);
        this.value = dense('value', last(valueShape), [], [KV, this.valueDim]);
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
          const heads = (x, len, d, n) => tf.reshape(tf.transpose(tf.reshape(x, [B, len, n, d]), [0, 2, 1, 3]), [B * n, len, d]);
          // Grouped query attention (KV key/value heads, each read by R consecutive query heads, as Keras'
          // ops.repeat(key, R, axis=2) lines them up): the R query heads of a group are stacked along the
          // time axis, [B*T, N*K] -> [B*KV, R*T, K], so one batched matMul per group computes their scores
          // against the group's keys, [B*KV, R*T, S] = [B, N, T, S], without repeating the keys.
          const KV = this.numKeyValueHeads;
          const R = N / KV;
          const queryGroups = (x) => (R === 1 ? heads(x, T, K, N) : tf.reshape(tf.transpose(tf.reshape(
            tf.transpose(tf.reshape(x, [B, T, KV, R * K]), [0, 2, 1, 3]), [B * KV, T, R, K]), [0, 2, 1, 3]), [B * KV, R * T, K]));

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
          let scores = tf.matMul(queryGroups(q), heads(k, S, K, KV), false, true);  // [B*KV, R*T, S]
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

          let out = tf.matMul(tf.reshape(used, [B * KV, R * T, S]), heads(v, S, V, KV));  // [B*KV, R*T, V]
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

    // Keras 3 GroupedQueryAttention: MultiHeadAttention with head_dim for key and value alike, the
    // output as wide as the query, and numKeyValueHeads key/value heads, each shared by
    // numQueryHeads / numKeyValueHeads consecutive query heads. Its weights have MultiHeadAttention's
    // names and layout (query [d, N, h], key and value [d, KV, h], attention_output [N, h, d]).
    class WebnetsGroupedQueryAttention extends WebnetsMultiHeadAttention {
      static className = 'WebnetsGroupedQueryAttention';

      constructor(config) {
        super({...config, numHeads: config.numQueryHeads, keyDim: config.headDim, valueDim: config.headDim,
          outputDims: null});
      }

      getConfig() {
        const config = super.getConfig();
        for (const key of ['numHeads', 'keyDim', 'valueDim', 'outputDims']) delete config[key];
        return {...config, numQueryHeads: this.numHeads, numKeyValueHeads: this.numKeyValueHeads,
          headDim: this.keyDim};
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

    return [WebnetsMask, WebnetsMultiHeadAttention, WebnetsGroupedQueryAttention, WebnetsAttention,
      WebnetsAdditiveAttention];
  }

  // ---- Convolution: Conv1D / Conv2D with groups (tfjs' conv layers have no `groups`), and the
  // transposed convolutions tfjs lacks (output_padding, dilation, a trainable 3D one) ----
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

    // Keras 3 Conv1DTranspose / Conv2DTranspose / Conv3DTranspose where tfjs' layers fall short:
    // output_padding, dilation_rate, Conv1DTranspose channels_first, and every Conv3DTranspose
    // (tfjs' cannot train, and runs wrongly on WASM: see fullTransposed). Keras (backend/tensorflow/nn.py conv_transpose) calls
    // tf.nn.conv_transpose with the output shape of compute_conv_transpose_output_shape: the input
    // gradient of the forward conv that takes that shape to the input's. Here the full ('valid')
    // transposed conv is computed, its front cropped by the forward conv's leading pad and its end
    // zero-extended to Keras' length: the same sums for any padding and output_padding.
    const range = (from, to) => Array.from({length: to - from}, (_, i) => from + i);

    // Keras' output length along one axis (backend/common/backend_utils.py
    // _get_output_shape_given_tf_padding); span is the dilated kernel size.
    function transposedLength(size, kernel, stride, padding, outputPadding, dilation) {
      if (size == null) return null;
      const span = (kernel - 1) * dilation + 1;
      if (padding === 'valid') return (size - 1) * stride + (outputPadding == null ? Math.max(span, stride) : span + outputPadding);
      return outputPadding == null ? size * stride : (size - 1) * stride + (span % 2) + outputPadding;
    }

    // The forward conv's leading pad, which TF's transposed conv drops from the front of the full
    // result: 'same' pads max((size - 1) * stride + span - length, 0) in all, the smaller half first.
    function leadingPad(size, length, span, stride, padding) {
      return padding === 'same' ? Math.floor(Math.max((size - 1) * stride + span - length, 0) / 2) : 0;
    }

    // t with (rate - 1) zeros between its elements along axes first, first + 1, ... (one rate each).
    // Built by ops, so gradients reach the original elements only.
    function spread(t, rates, first) {
      return rates.reduce((x, rate, i) => {
        const axis = first + i;
        const shape = x.shape;
        if (rate === 1 || shape[axis] === 1) return x;
        const gaps = tf.zeros([...shape.slice(0, axis + 1), rate - 1, ...shape.slice(axis + 1)]);
        const spaced = tf.reshape(tf.concat([tf.expandDims(x, axis + 1), gaps], axis + 1),
          [...shape.slice(0, axis), shape[axis] * rate, ...shape.slice(axis + 1)]);
        const size = shape.slice();
        size[axis] = (shape[axis] - 1) * rate + 1;
        return tf.slice(spaced, shape.map(() => 0), size);
      }, t);
    }

    // The full transposed conv of a channels_last 4D / 5D x: (size - 1) * stride + kernel per axis.
    // 3D: tfjs-backend-wasm 4.22's Conv3DBackpropInputV2 (behind conv3dTranspose) returns wrong sums,
    // and tfjs has no gradient for it, so 3D runs as the forward conv3d of the stride-spread input,
    // padded by kernel - 1 on each side, with the kernel flipped and its channel axes swapped (the same
    // products, plus exact zeros), with TF's gradient: conv3d for the input, Conv3DBackpropFilterV2
    // for the kernel.
    function fullTransposed(x, kernel, strides) {
      if (x.rank === 4) {
        const shape = [x.shape[0], ...x.shape.slice(1, -1).map((n, i) => (n - 1) * strides[i] + kernel.shape[i]),
          kernel.shape[2]];
        return tf.conv2dTranspose(x, kernel, shape, strides, 'valid');
      }
      return tf.customGrad((input, filter, save) => {
        save([input, filter]);
        const edges = filter.shape.slice(0, 3).map((k) => [k - 1, k - 1]);
        const padded = tf.pad(spread(input, strides, 1), [[0, 0], ...edges, [0, 0]]);
        const flipped = tf.transpose(tf.reverse(filter, [0, 1, 2]), [0, 1, 2, 4, 3]);
        return {
          value: tf.conv3d(padded, flipped, 1, 'valid'),
          gradFunc: (dy, [savedInput, savedFilter]) => [
            tf.conv3d(dy, savedFilter, strides, 'valid'),
            tf.engine().runKernel('Conv3DBackpropFilterV2', {x: dy, dy: savedInput},
              {strides, pad: 'valid', filterShape: savedFilter.shape}),
          ],
        };
      })(x, kernel);
    }

    class WebnetsConvTranspose extends tf.layers.Layer {
      static className = 'WebnetsConvTranspose';

      constructor(config) {
        super(config);
        this.rank = config.rank;
        this.filters = config.filters;
        this.kernelSize = list(config.kernelSize, this.rank);
        this.strides = list(config.strides || 1, this.rank);
        this.padding = config.padding || 'valid';
        this.outputPadding = config.outputPadding == null ? null : list(config.outputPadding, this.rank);
        this.dilationRate = list(config.dilationRate || 1, this.rank);
        this.dataFormat = config.dataFormat || 'channelsLast';
        this.useBias = config.useBias !== false;
        this.activation = config.activation || 'linear';
        this.activationLayer = tf.layers.activation({activation: this.activation});
        this.kernelInitializer = H.fromSpec(config.kernelInitializer, 'glorotUniform');
        this.biasInitializer = H.fromSpec(config.biasInitializer, 'zeros');
        this.kernelRegularizer = H.fromSpec(config.kernelRegularizer);
        this.biasRegularizer = H.fromSpec(config.biasRegularizer);
        this.kernelConstraint = H.fromSpec(config.kernelConstraint);
        this.biasConstraint = H.fromSpec(config.biasConstraint);
        if (this.padding !== 'valid' && this.padding !== 'same') {
          throw new Error(`${this.name}: padding '${this.padding}' is not one of 'valid', 'same'`);
        }
      }

      build(inputShape) {
        const shape = H.oneShape(inputShape);
        const channels = shape[this.dataFormat === 'channelsFirst' ? 1 : shape.length - 1];
        // Keras' layout: kernel_size + (filters, input channels).
        this.kernel = this.addWeight('kernel', [...this.kernelSize, this.filters, channels], 'float32',
          this.kernelInitializer, this.kernelRegularizer, true, this.kernelConstraint);
        this.bias = this.useBias ? this.addWeight('bias', [this.filters], 'float32', this.biasInitializer,
          this.biasRegularizer, true, this.biasConstraint) : null;
        this.built = true;
      }

      outputLengths(sizes) {
        return sizes.map((n, i) => transposedLength(n, this.kernelSize[i], this.strides[i], this.padding,
          this.outputPadding && this.outputPadding[i], this.dilationRate[i]));
      }

      call(inputs) {
        return tf.tidy(() => {
          const rank = this.rank;
          const first = this.dataFormat === 'channelsFirst';
          let x = H.one(inputs);
          if (first) x = tf.transpose(x, [0, ...range(2, rank + 2), 1]);
          const sizes = x.shape.slice(1, -1);
          // Dilation: the kernel with (rate - 1) zeros between its taps (what TF's oneDNN kernels and
          // JAX compute; tfjs' transposed convs have no dilation).
          const kernel = spread(this.kernel.read(), this.dilationRate, 0);
          let y;
          if (rank === 1) {  // as rank 2 with a unit width axis
            y = tf.squeeze(fullTransposed(tf.expandDims(x, 2), tf.expandDims(kernel, 1), [this.strides[0], 1]), [2]);
          } else {
            y = fullTransposed(x, kernel, this.strides);
          }
          const lengths = this.outputLengths(sizes);
          const begin = sizes.map((n, i) => leadingPad(n, lengths[i], kernel.shape[i], this.strides[i], this.padding));
          const kept = lengths.map((n, i) => Math.min(n, y.shape[i + 1] - begin[i]));
          if (kept.some((n, i) => begin[i] > 0 || n < y.shape[i + 1])) y = tf.slice(y, [0, ...begin, 0], [-1, ...kept, -1]);
          // Keras' output rows past the full result (valid padding with output_padding or a stride
          // above the kernel) have no input in them: zeros, then the bias.
          if (kept.some((n, i) => n < lengths[i])) {
            y = tf.pad(y, [[0, 0], ...kept.map((n, i) => [0, lengths[i] - n]), [0, 0]]);
          }
          if (this.bias) y = tf.add(y, this.bias.read());
          if (first) y = tf.transpose(y, [0, rank + 1, ...range(1, rank + 1)]);
          return this.activationLayer.apply(y);
        });
      }

      computeOutputShape(inputShape) {
        const shape = H.oneShape(inputShape);
        const first = this.dataFormat === 'channelsFirst';
        const lengths = this.outputLengths(first ? shape.slice(2) : shape.slice(1, -1));
        return first ? [shape[0], this.filters, ...lengths] : [shape[0], ...lengths, this.filters];
      }

      getConfig() {
        return {...super.getConfig(), rank: this.rank, filters: this.filters, kernelSize: this.kernelSize,
          strides: this.strides, padding: this.padding, outputPadding: this.outputPadding,
          dilationRate: this.dilationRate, dataFormat: this.dataFormat, useBias: this.useBias,
          activation: this.activation,
          kernelInitializer: H.toSpec(this.kernelInitializer), biasInitializer: H.toSpec(this.biasInitializer),
          kernelRegularizer: H.toSpec(this.kernelRegularizer), biasRegularizer: H.toSpec(this.biasRegularizer),
          kernelConstraint: H.toSpec(this.kernelConstraint), biasConstraint: H.toSpec(this.biasConstraint)};
      }
    }

    return [WebnetsGroupedConv, WebnetsConvTranspose];
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

  // ---- Normalization: GroupNormalization, UnitNormalization, LayerNormalization(rms_scaling), RMSNormalization ----
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

    // Keras 3 RMSNormalization (keras.ops.rms_normalization): x * rsqrt(mean(x^2 over axis) + epsilon) * scale.
    // `scale` has the sizes of the normalized axes and multiplies with numpy broadcasting, as in Keras
    // (against the trailing axes: per feature for the last axis). Keras computes in float32 and scales
    // there, before casting to the layer's dtype; TF.js computes in float32 throughout.
    // Keras' layer does not support masking: an incoming mask goes no further (computeMask: null).
    class WebnetsRMSNormalization extends tf.layers.Layer {
      static className = 'WebnetsRMSNormalization';

      constructor(config) {
        super(config);
        this.axis = config.axis == null ? -1 : config.axis;
        this.epsilon = config.epsilon == null ? 1e-6 : config.epsilon;
        this.supportsMasking = true;
      }

      build(inputShape) {
        const shape = H.oneShape(inputShape);
        const size = axesOf(this.axis, shape.length).map((a) => shape[a]);
        this.scaleWeight = this.addWeight('scale', size, 'float32', tf.initializers.ones());
        this.built = true;
      }

      call(inputs) {
        return tf.tidy(() => {
          const x = H.one(inputs);
          const meanSquare = tf.mean(tf.square(x), axesOf(this.axis, x.rank), true);
          return tf.mul(tf.mul(x, tf.rsqrt(tf.add(meanSquare, this.epsilon))), this.scaleWeight.read());
        });
      }

      computeOutputShape(inputShape) {
        return H.oneShape(inputShape);
      }

      computeMask() {
        return null;
      }

      getConfig() {
        return {...super.getConfig(), axis: this.axis, epsilon: this.epsilon};
      }
    }

    return [WebnetsGroupNormalization, WebnetsUnitNormalization, WebnetsLayerNormalization, WebnetsRMSNormalization];
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
    // keras.layers.Softmax called with a mask: masked logits (mask false, or <= 0.5) become -1e9, and
    // masked outputs 0 (a fully masked row gives zeros, not a uniform distribution).
    const maskedSoftmax = (x, mask, o) => {
      const keep = tf.broadcastTo(mask.dtype === 'bool' ? mask : tf.greater(mask, 0.5), x.shape);
      const probabilities = softmax(tf.where(keep, x, tf.fill(x.shape, -1e9)), o);
      return tf.where(keep, probabilities, tf.zerosLike(probabilities));
    };
    // op name (camelCase: tfjs camelCases string config values) -> (operands, options) -> tensor.
    // The exporter's table (exporter/layers/operations.py) lists the Keras op behind each.
    const OPS = {
      mean: reduce(tf.mean), sum: reduce(tf.sum), max: reduce(tf.max), min: reduce(tf.min), prod: reduce(tf.prod),
      all: reduce((x, axis, keep) => tf.all(tf.cast(x, 'bool'), axis, keep)),
      any: reduce((x, axis, keep) => tf.any(tf.cast(x, 'bool'), axis, keep)),
      concat: (xs, o) => tf.concat(xs, o.axis), stack: (xs, o) => tf.stack(xs, o.axis),
      reshape: ([x], o) => tf.reshape(x, o.shape.map((d, i) => ((o.copy || []).includes(i) ? x.shape[i] : d))), transpose: ([x], o) => tf.transpose(x, o.perm || undefined),
      expandDims: ([x], o) => tf.expandDims(x, o.axis), squeeze: ([x], o) => tf.squeeze(x, o.axis == null ? undefined : [].concat(o.axis)),
      sqrt: ([x]) => tf.sqrt(x), square: ([x]) => tf.square(x), abs: ([x]) => tf.abs(x), exp: ([x]) => tf.exp(x),
      log: ([x]) => tf.log(x), erf: ([x]) => tf.erf(x), sign: ([x]) => tf.sign(x), neg: ([x]) => tf.neg(x),
      reciprocal: ([x]) => tf.reciprocal(x), floor: ([x]) => tf.floor(x), ceil: ([x]) => tf.ceil(x),
      sin: ([x]) => tf.sin(x), cos: ([x]) => tf.cos(x), rsqrt: ([x]) => tf.rsqrt(x),
      pow: ([a, b]) => tf.pow(a, b), maximum: ([a, b]) => tf.maximum(a, b), minimum: ([a, b]) => tf.minimum(a, b),
      add: ([a, b]) => tf.add(a, b), sub: ([a, b]) => tf.sub(a, b), mul: ([a, b]) => tf.mul(a, b), div: ([a, b]) => tf.div(a, b),
      matMul: ([a, b]) => matMul(a, b), greater: ([a, b]) => tf.greater(a, b), greaterEqual: ([a, b]) => tf.greaterEqual(a, b),
      less: ([a, b]) => tf.less(a, b), lessEqual: ([a, b]) => tf.lessEqual(a, b), equal: ([a, b]) => tf.equal(a, b),
      notEqual: ([a, b]) => tf.notEqual(a, b), where: ([c, a, b]) => tf.where(tf.cast(c, 'bool'), a, b),
      clipByValue: ([x], o) => tf.clipByValue(x, o.min, o.max), softmax: ([x], o) => softmax(x, o),
      maskedSoftmax: ([x, mask], o) => maskedSoftmax(x, mask, o),
      split: ([x], o) => tf.split(x, o.sizes, o.axis), einsum: ([a, b], o) => H.einsum(o.equation, a, b),
      repeat: ([x], o) => repeat(x, o.repeats, o.axis), tile: ([x], o) => tf.tile(x, o.repeats),
      zerosLike: ([x], o) => (o.dtype ? tf.zeros(x.shape, o.dtype) : tf.zerosLike(x)),
      onesLike: ([x], o) => (o.dtype ? tf.ones(x.shape, o.dtype) : tf.onesLike(x)),
      take: ([x, indices], o) => (o.axis == null ? tf.gather(tf.reshape(x, [-1]), tf.cast(indices, 'int32'))
        : tf.gather(x, tf.cast(indices, 'int32'), o.axis)),
      takeAlongAxis: ([x, indices], o) => takeAlongAxis(x, indices, o.axis),
      flip: ([x], o) => tf.reverse(x, o.axis == null ? undefined : o.axis), band: ([x], o) => band(x, o.k, o.upper),
      argMax: ([x], o) => argMax(x, o), moveaxis: ([x], o) => H.moveAxes(x, o.source, o.destination),
      log1p: ([x]) => tf.log1p(x), expm1: ([x]) => tf.expm1(x), tan: ([x]) => tf.tan(x),
      getItem: ([x], o) => getItem(x, o), causalMask: ([x]) => causalMask(x), bandMask: ([m], o) => bandMask(m, o.band),
      logicalAnd: ([a, b]) => tf.logicalAnd(tf.cast(a, 'bool'), tf.cast(b, 'bool')),
      logicalOr: ([a, b]) => tf.logicalOr(tf.cast(a, 'bool'), tf.cast(b, 'bool')), logicalNot: ([x]) => tf.logicalNot(tf.cast(x, 'bool')),
      cast: ([x], o) => (o.dtype ? tf.cast(x, o.dtype) : tf.clone(x)),
    };
    const SINGLE = new Set(['mean', 'sum', 'max', 'min', 'prod', 'all', 'any']);

    // numpy's matmul. x @ W (a 2D right side, what a traced layer's add_weight kernel is) runs as one 2D
    // matMul of the rows; other batch shapes are broadcast explicitly first, because tfjs' BatchMatMul
    // gradient does not sum over broadcast batch axes (the kernel's gradient came back [3, 16, 8]).
    function matMul(a, b) {
      if (b.rank === 2 && a.rank > 2) {
        const rows = tf.matMul(tf.reshape(a, [-1, a.shape[a.rank - 1]]), b);
        return tf.reshape(rows, [...a.shape.slice(0, -1), b.shape[1]]);
      }
      const batchA = a.shape.slice(0, -2), batchB = b.shape.slice(0, -2);
      if (batchA.length === batchB.length && batchA.every((d, i) => d === batchB[i])) return tf.matMul(a, b);
      const rank = Math.max(batchA.length, batchB.length);
      const pad = (s) => [...new Array(rank - s.length).fill(1), ...s];
      const batch = pad(batchA).map((d, i) => Math.max(d, pad(batchB)[i]));
      return tf.matMul(tf.broadcastTo(a, [...batch, ...a.shape.slice(-2)]), tf.broadcastTo(b, [...batch, ...b.shape.slice(-2)]));
    }

    // (batch, steps, steps) booleans, true where the key position <= the query position: keras-hub's
    // causal mask for a full sequence of whatever length the input has.
    function causalMask(x) {
      const steps = x.shape[1];
      const lower = tf.linalg.bandPart(tf.ones([steps, steps], 'int32'), -1, 0);
      return tf.broadcastTo(tf.cast(lower, 'bool'), [x.shape[0], steps, steps]);
    }

    // (1, queries, keys) booleans, true where |query - key| <= band: keras-hub's sliding attention window.
    function bandMask(mask, band) {
      const [, queries, keys] = mask.shape;
      return tf.expandDims(tf.cast(tf.linalg.bandPart(tf.ones([queries, keys], 'int32'), band, band), 'bool'), 0);
    }

    // numpy's triu (upper, keep j - i >= k) / tril (keep j - i <= k) on the last two axes.
    function band(x, k, upper) {
      const [rows, cols] = x.shape.slice(-2);
      const i = tf.reshape(tf.range(0, rows, 1, 'int32'), [rows, 1]), j = tf.reshape(tf.range(0, cols, 1, 'int32'), [1, cols]);
      const offset = tf.sub(j, i);
      const keep = upper ? tf.greaterEqual(offset, k) : tf.lessEqual(offset, k);
      return tf.where(tf.broadcastTo(keep, x.shape), x, tf.zerosLike(x));
    }

    // numpy's argmax: over the flattened tensor when axis is None; keepdims keeps the axis as size 1.
    function argMax(x, {axis, keepdims}) {
      if (axis == null) return tf.argMax(tf.reshape(x, [-1]));
      const found = tf.argMax(x, axis);
      return keepdims ? tf.expandDims(found, axis) : found;
    }

    // numpy's take_along_axis (BERT's MaskedLMHead gathers the masked positions): the indices broadcast
    // against x on every other axis; both are moved so the axis is last and flattened, and each index
    // is offset to its own row of x (one plain gather, which has a gradient; WASM's gather with
    // batchDims reads out of bounds).
    function takeAlongAxis(x, indices, axis) {
      const a = axis < 0 ? axis + x.rank : axis;
      const shape = x.shape.map((d, i) => (i === a ? indices.shape[i] : d));
      const idx = tf.broadcastTo(tf.cast(indices, 'int32'), shape);
      const last = x.rank - 1;
      const xs = H.moveAxes(x, [a], [last]), is = H.moveAxes(idx, [a], [last]);
      const length = xs.shape[last], picks = is.shape[last];
      const rows = is.size / picks;
      const offsets = tf.mul(tf.reshape(tf.range(0, rows, 1, 'int32'), [rows, 1]), tf.scalar(length, 'int32'));
      const flat = tf.reshape(tf.add(tf.reshape(is, [rows, picks]), offsets), [-1]);
      const taken = tf.gather(tf.reshape(xs, [-1]), flat);
      return H.moveAxes(tf.reshape(taken, is.shape), [last], [a]);
    }

    // numpy's repeat along one axis: each entry `repeats` times in a row.
    function repeat(x, repeats, axis) {
      const a = axis < 0 ? axis + x.rank : axis;
      const tiled = tf.tile(tf.expandDims(x, a + 1), [...new Array(a + 1).fill(1), repeats, ...new Array(x.rank - a - 1).fill(1)]);
      const shape = [...x.shape];
      shape[a] *= repeats;
      return tf.reshape(tiled, shape);
    }

    // x[key] as the exporter normalized it (operations.py _get_item): Python's slice bounds on each
    // input axis (negative counts from the end, clamped to the axis), then the output layout, where
    // integer-indexed axes drop out and None adds an axis of size 1.
    function getItem(x, {axes, layout}) {
      const clamp = (v, n, fallback) => (v == null ? fallback : Math.min(Math.max(v < 0 ? v + n : v, 0), n));
      const begin = [], end = [], strides = [];
      axes.forEach((a, i) => {
        const n = x.shape[i];
        if (a.index != null) {
          const k = a.index < 0 ? a.index + n : a.index;
          begin.push(k); end.push(k + 1); strides.push(1);
        } else {
          const start = clamp(a.start, n, 0);
          begin.push(start); end.push(Math.max(clamp(a.stop, n, n), start)); strides.push(a.step || 1);
        }
      });
      // slice + gather rather than stridedSlice, which has no gradient in TF.js (BERT's pooler reads x[:, 0]).
      let y = tf.slice(x, begin, end.map((e, i) => e - begin[i]));
      strides.forEach((step, axis) => {
        if (step > 1) y = tf.gather(y, tf.range(0, y.shape[axis], step, 'int32'), axis);
      });
      return tf.reshape(y, layout.map((l) => (l.new ? 1 : y.shape[l.axis])));
    }

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

    // A variable a traced layer created with add_weight (exporter/layers/tracing.py): the layer's
    // graph reads it where Keras' call() read the attribute. It is called on the graph's first input
    // only because a TF.js layer needs an input; its output is the variable (no batch axis), and
    // gradients reach the weight through the identity, so it trains.
    class WebnetsVariable extends tf.layers.Layer {
      static className = 'WebnetsVariable';

      constructor(config) {
        super(config);
        this.shape = config.shape;
        this.valueDtype = config.dtype || 'float32';
      }

      build() {
        this.value = this.addWeight('value', this.shape, this.valueDtype, tf.initializers.zeros(), null, this.trainable);
        this.built = true;
      }

      call() {
        return tf.clone(this.value.read());
      }

      computeOutputShape() {
        return this.shape;
      }

      getConfig() {
        return {...super.getConfig(), shape: this.shape, dtype: this.valueDtype};
      }
    }

    return [WebnetsOperation, WebnetsVariable];
  }

  // ---- Pooling: the masked mean of Keras 3's GlobalAveragePooling1D (tfjs' ignores masks), and
  // adaptive pooling to sizes that do not divide the input ----
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

    // Keras 3's adaptive pooling windows along an axis of `size` pooled to `out`: output i reads
    // [floor(i * size / out), ceil((i + 1) * size / out)). Keras' TF backend (backend/tensorflow/nn.py
    // _compute_static_gather_indices) gathers, from stride-1 pools with windows ceil(size / out)
    // and ceil(size / out) + 1, the one whose window is exactly this one.
    const adaptiveWindows = (size, out) => Array.from({length: out},
      (_, i) => [Math.floor((i * size) / out), Math.ceil(((i + 1) * size) / out)]);

    // Keras 3 AdaptiveAveragePooling1D/2D/3D and AdaptiveMaxPooling1D/2D/3D: each spatial axis
    // pooled to its output size in turn, as Keras does (the mean of means of equal-sized windows
    // is the mean of the box). reduction: 'average' or 'max'. The translator sends sizes that
    // divide evenly to tfjs' own pooling layers; this runs the rest.
    class WebnetsAdaptivePooling extends tf.layers.Layer {
      static className = 'WebnetsAdaptivePooling';

      constructor(config) {
        super(config);
        this.rank = config.rank;
        this.outputSize = Array.isArray(config.outputSize) ? config.outputSize : Array(this.rank).fill(config.outputSize);
        this.dataFormat = config.dataFormat || 'channelsLast';
        this.reduction = config.reduction;
        if (this.reduction !== 'average' && this.reduction !== 'max') {
          throw new Error(`${this.name}: reduction '${this.reduction}' is not 'average' or 'max'`);
        }
      }

      reduce(x, axis, keepDims) {
        return this.reduction === 'max' ? tf.max(x, axis, keepDims) : tf.mean(x, axis, keepDims);
      }

      poolAxis(x, axis, out) {
        const size = x.shape[axis];
        if (size % out === 0) {  // equal windows: one reshape and one reduction
          const shape = x.shape.slice();
          shape.splice(axis, 1, out, size / out);
          return this.reduce(tf.reshape(x, shape), axis + 1, false);
        }
        const pieces = adaptiveWindows(size, out).map(([start, end]) => {
          const begin = x.shape.map(() => 0);
          const extent = x.shape.map(() => -1);
          begin[axis] = start;
          extent[axis] = end - start;
          return this.reduce(tf.slice(x, begin, extent), axis, true);
        });
        return tf.concat(pieces, axis);
      }

      call(inputs) {
        return tf.tidy(() => {
          const firstAxis = this.dataFormat === 'channelsFirst' ? 2 : 1;
          return this.outputSize.reduce((x, out, i) => this.poolAxis(x, firstAxis + i, out), H.one(inputs));
        });
      }

      computeOutputShape(inputShape) {
        const shape = H.oneShape(inputShape);
        return this.dataFormat === 'channelsFirst' ? [shape[0], shape[1], ...this.outputSize]
          : [shape[0], ...this.outputSize, shape[shape.length - 1]];
      }

      getConfig() {
        return {...super.getConfig(), rank: this.rank, outputSize: this.outputSize, dataFormat: this.dataFormat,
          reduction: this.reduction};
      }
    }

    // x max-pooled along one axis (window, stride, and 'valid' / 'same' padding as TF pads each axis)
    // by tf.maxPool on a [before, size, 1, after] view of it.
    function maxPoolAxis(x, axis, window, stride, padding) {
      if (window === 1 && stride === 1) return x;
      const product = (dims) => dims.reduce((a, b) => a * b, 1);
      const view = [product(x.shape.slice(0, axis)), x.shape[axis], 1, product(x.shape.slice(axis + 1))];
      const pooled = tf.maxPool(tf.reshape(x, view), [window, 1], [stride, 1], padding);
      const shape = x.shape.slice();
      shape[axis] = pooled.shape[1];
      return tf.reshape(pooled, shape);
    }

    // Keras 3 MaxPooling3D with a pool size of 1 on some axis (C3D's (1, 2, 2)): tfjs-backend-wasm
    // 4.22's MaxPool3D returns wrong maxima then (off by up to 2.4 on N(0, 1) inputs). The max over
    // a box is the max along each of its axes in turn, so this pools one axis after the other
    // with 2D max pooling, which is right on every backend.
    class WebnetsMaxPooling3D extends tf.layers.Layer {
      static className = 'WebnetsMaxPooling3D';

      constructor(config) {
        super(config);
        const triple = (v) => (Array.isArray(v) ? v : Array(3).fill(v));
        this.poolSize = triple(config.poolSize == null ? 2 : config.poolSize);
        this.strides = config.strides == null ? this.poolSize : triple(config.strides);
        this.padding = config.padding || 'valid';
        this.dataFormat = config.dataFormat || 'channelsLast';
      }

      call(inputs) {
        return tf.tidy(() => {
          const firstAxis = this.dataFormat === 'channelsFirst' ? 2 : 1;
          return this.poolSize.reduce((x, window, i) => maxPoolAxis(x, firstAxis + i, window, this.strides[i],
            this.padding), H.one(inputs));
        });
      }

      computeOutputShape(inputShape) {
        const shape = H.oneShape(inputShape).slice();
        const firstAxis = this.dataFormat === 'channelsFirst' ? 2 : 1;
        this.poolSize.forEach((window, i) => {
          const size = shape[firstAxis + i];
          if (size == null) return;
          shape[firstAxis + i] = this.padding === 'same' ? Math.ceil(size / this.strides[i])
            : Math.floor((size - window) / this.strides[i]) + 1;
        });
        return shape;
      }

      getConfig() {
        return {...super.getConfig(), poolSize: this.poolSize, strides: this.strides, padding: this.padding,
          dataFormat: this.dataFormat};
      }
    }

    return [WebnetsGlobalAveragePooling1D, WebnetsAdaptivePooling, WebnetsMaxPooling3D];
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

  // Keras 3's LSTM gates (keras/src/layers/rnn/lstm.py, and conv_lstm.py with convolutions for the
  // products), order i, f, c, o on the last axis of z = x W + b + h U:
  //   i, f, o = ra(z_i, z_f, z_o);  c' = f * c + i * a(z_c);  h' = o * a(c')   -> [h', c']
  function lstmGates(z, c, a, ra) {
    const [zi, zf, zc, zo] = tf.split(z, 4, z.rank - 1);
    const c2 = tf.add(tf.mul(ra(zf), c), tf.mul(ra(zi), a(zc)));
    return [tf.mul(ra(zo), a(c2)), c2];
  }

  // unit_forget_bias: the LSTM bias starts at [init(u), ones(u), init(2u)] (an initializer only).
  // Duck-typed tfjs Initializer: addWeight only calls apply(shape, dtype).
  function forgetBiasInitializer(base, u) {
    return {
      apply: (shape, dtype) => tf.tidy(() => tf.concat([base.apply([u], dtype), tf.ones([u], dtype),
        base.apply([2 * u], dtype)], 0)),
      getClassName: () => base.getClassName(),
      getConfig: () => base.getConfig(),
    };
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
      // TF.js loops in JavaScript anyway; kept only for Keras' unrolled masking quirk (see run()).
      this.unroll = !!a.unroll;
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
      // Inside a WebnetsStackedRNN a cell's weights are named cell_<i>/kernel, ...
      this.weightPrefix = '';
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
      const name = (weight) => `${this.weightPrefix}${weight}`;
      this.kernel = this.addWeight(name('kernel'), this.kernelShape(shape), 'float32', this.kernelInitializer,
        this.kernelRegularizer, true, this.kernelConstraint);
      this.recurrentKernel = this.addWeight(name('recurrent_kernel'), this.recurrentKernelShape(), 'float32',
        this.recurrentInitializer, this.recurrentRegularizer, true, this.recurrentConstraint);
      this.bias = this.useBias
        ? this.addWeight(name('bias'), this.biasShape(), 'float32', this.biasInitializerFor(), this.biasRegularizer,
          true, this.biasConstraint)
        : null;
      this.built = true;
    }

    // Keras' kernel [input features, gates * units] for a sequence of shape `inputShape`.
    kernelShape(inputShape) {
      return [inputShape[inputShape.length - 1], this.gates * this.units];
    }

    recurrentKernelShape() {
      return [this.units, this.gates * this.units];
    }

    biasShape() {
      return [this.gates * this.units];
    }

    // The bias added to the input projection of every step, [gates * units], or null.
    inputBias() {
      return this.useBias ? this.bias.read() : null;
    }

    // The sizes of the states (h; LSTM: h, c), the shapes of the states and of one step's output,
    // and their rank: what a stack of cells (several sizes) and ConvLSTM (spatial states) change.
    stateSizes() {
      return new Array(this.stateCount).fill(this.units);
    }

    stateShapes(batch) {
      return this.stateSizes().map((size) => [batch, size]);
    }

    outputShape(batch) {
      return [batch, this.units];
    }

    stateRank() {
      return 2;
    }

    // One step's output among the new states a cell returns (every cell here outputs its h).
    outputOf(states) {
      return states[0];
    }

    computeOutputShape(inputShape) {
      const shape = H.oneShape(inputShape);
      const step = this.outputShape(shape[0]);
      const output = this.returnSequences ? [shape[0], shape[1], ...step.slice(1)] : step;
      if (!this.returnState) return output;
      return [output, ...this.stateShapes(shape[0])];
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
        const [batch, steps] = x.shape;
        if (steps === 1 && mask == null && typeof this.singleStep === 'function') {
          // One time step (a step model's call): one matMul of [h, x] with the recurrent and input
          // kernels stacked, instead of projecting x first (SimpleRNN 3 -> 2 kernels, LSTM 14 -> 13,
          // GRU 13 -> 10 a step, on WASM).
          const u = this.units;
          const states = initial != null ? initial
            : new Array(this.stateCount).fill(null).map(() => tf.zeros([batch, u]));
          const prepared = H.derived(this, 'singleStep', () => this.prepareSingleStep());
          const fresh = this.singleStep(tf.reshape(x, [batch, x.shape[2]]), states, prepared);
          const output = this.returnSequences ? tf.reshape(fresh[0], [batch, 1, u]) : fresh[0];
          return this.returnState ? [output, ...fresh] : output;
        }

        const xs = this.stepInputs(x);
        let masks = null;
        let keeps = null;
        if (mask != null) {
          // [time, batch, 1, ...]: a sample's 0/1 at step t, broadcast over a state of any rank.
          const m = tf.reshape(tf.transpose(tf.cast(mask, 'float32'), [1, 0]),
            [steps, batch, ...new Array(this.stateRank() - 1).fill(1)]);
          masks = tf.unstack(m);
          keeps = tf.unstack(tf.sub(1, m));
        }
        const prepared = this.prepared();

        // As Keras: a masked step keeps the state; its output is the previous output (zeros
        // before the first unmasked step), or zeros with zero_output_for_mask.
        // Keras' unrolled loop (keras/src/backend/tensorflow/rnn.py, unroll=True) instead zeroes a
        // returned sequence once the loop is over, by the mask in *input* order, also when go_backwards
        // puts the outputs in reverse order; in the loop a masked step repeats the previous output.
        const unrolledZeros = masks != null && this.unroll && this.goBackwards && this.zeroOutputForMask
          && this.returnSequences;
        const zeroOutput = this.zeroOutputForMask && !unrolledZeros;
        const select = (t, a, b) => tf.add(tf.mul(a, masks[t]), tf.mul(b, keeps[t]));
        const trackOutput = masks != null && initial != null && !zeroOutput;
        let states = initial != null ? initial : this.stateShapes(batch).map((shape) => tf.zeros(shape));
        let out = trackOutput ? tf.zeros(this.outputShape(batch)) : null;
        const outputs = [];
        for (let n = 0; n < steps; ++n) {
          const t = this.goBackwards ? steps - 1 - n : n;
          const next = tf.tidy(() => {
            const fresh = this.cell(xs[t], states, prepared);
            const output = this.outputOf(fresh);
            if (masks == null) return [output, ...fresh];
            const kept = fresh.map((s, i) => select(t, s, states[i]));
            if (zeroOutput) return [tf.mul(output, masks[t]), ...kept];
            return [trackOutput ? select(t, output, out) : this.outputOf(kept), ...kept];
          });
          out = next[0];
          states = next.slice(1);
          if (this.returnSequences) outputs.push(out);
        }
        if (steps === 0) out = tf.zeros(this.outputShape(batch));
        let output = out;
        if (this.returnSequences) {
          output = steps === 0 ? tf.zeros([batch, 0, ...this.outputShape(batch).slice(1)])
            : (steps === 1 ? tf.expandDims(outputs[0], 1) : tf.stack(outputs, 1));
          if (unrolledZeros) {
            output = tf.mul(output, tf.reshape(tf.cast(mask, 'float32'),
              [batch, steps, ...new Array(this.stateRank() - 1).fill(1)]));
          }
        }
        return this.returnState ? [output, ...states] : output;
      });
    }

    // The cell's input at every step, x W + b: one projection for all steps, time-major so that
    // step t is one row block.
    stepInputs(x) {
      const [batch, steps, features] = x.shape;
      const flat = steps === 1 ? tf.reshape(x, [batch, features])
        : tf.reshape(tf.transpose(x, [1, 0, 2]), [steps * batch, features]);
      const bias = H.derived(this, 'inputBias', () => this.inputBias());
      const proj = H.matMul2d(flat, this.kernel.read(), bias);
      return timeSteps(proj, steps, batch, this.gates * this.units);
    }

    // What prepare() derives from the weights, kept while they keep their data.
    prepared() {
      return H.derived(this, 'prepare', () => this.prepare());
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
      return this.unitForgetBias ? forgetBiasInitializer(this.biasInitializer, this.units) : this.biasInitializer;
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
      return lstmGates(z, c, this.activationFn, this.recurrentActivationFn);
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

  // Keras 3 RNN(StackedRNNCells([...])) (keras/src/layers/rnn/stacked_rnn_cells.py): every step runs the
  // cells in order, each on the previous cell's output of that step; the layer outputs the last cell's
  // output and returns every cell's states, flattened in cell order (an LSTM cell's h, c), as Keras'
  // functional graph numbers them. Keras masks all cells' states together at a masked step, which a chain
  // of separate layers would not reproduce with go_backwards (the next layer would get the mask in input
  // order, its input in reverse order) nor split initial states for. The cells are WebnetsSimpleRNN /
  // WebnetsLSTM / WebnetsGRU objects used for their weights and step math only (never applied), their
  // weights named cell_<i>/kernel, cell_<i>/recurrent_kernel, cell_<i>/bias inside this layer.
  const RNN_KEYS = ['returnSequences', 'returnState', 'goBackwards', 'stateful', 'unroll', 'zeroOutputForMask',
    'ignoreMask'];

  class WebnetsStackedRNN extends WebnetsRecurrent {
    static className = 'WebnetsStackedRNN';

    constructor(args) {
      const a = normalize(args);
      const cells = (a.cells || []).map((spec) => {
        const className = spec && (spec.className || spec.class_name);
        const Cell = STACKABLE[className];
        if (!Cell) {
          throw new Error(`WebnetsStackedRNN '${a.name}': a cell of class ${className} cannot be stacked; ` +
            `expected one of ${Object.keys(STACKABLE).join(', ')}.`);
        }
        return new Cell({...normalize(spec.config), returnSequences: false, returnState: false});
      });
      if (!cells.length) throw new Error(`WebnetsStackedRNN '${a.name}': no cells.`);
      super({...a, units: cells[cells.length - 1].units}, 1, cells.reduce((n, cell) => n + cell.stateCount, 0));
      this.cells = cells;
      this.stateSize = this.stateSizes();
    }

    // The cells' weights, as tfjs' own StackedRNNCells lists them (training and loading go through these).
    get trainableWeights() {
      return this.trainable ? this.cells.flatMap((cell) => cell.trainableWeights) : [];
    }

    get nonTrainableWeights() {
      return this.cells.flatMap((cell) => (this.trainable ? cell.nonTrainableWeights : cell.weights));
    }

    build(inputShape) {
      const shape = H.oneShape(inputShape);
      let features = shape[shape.length - 1];
      this.cells.forEach((cell, i) => {
        cell.weightPrefix = `cell_${i}/`;
        cell.build([shape[0], shape[1], features]);
        features = cell.units;
      });
      this.built = true;
    }

    stateSizes() {
      return this.cells.flatMap((cell) => cell.stateSizes());
    }

    // The first cell's inputs are projected for all steps at once; the others' inside each step.
    stepInputs(x) {
      return this.cells[0].stepInputs(x);
    }

    prepared() {
      return this.cells.map((cell) => ({recurrent: cell.prepared(),
        bias: H.derived(cell, 'inputBias', () => cell.inputBias())}));
    }

    cell(x, states, prepared) {
      const fresh = [];
      let input = null;
      this.cells.forEach((cell, k) => {
        const own = states.slice(fresh.length, fresh.length + cell.stateCount);
        const projected = k === 0 ? x : H.matMul2d(input, cell.kernel.read(), prepared[k].bias);
        const next = cell.cell(projected, own, prepared[k].recurrent);
        input = cell.outputOf(next);
        fresh.push(...next);
      });
      return fresh;
    }

    // The last cell's output: the first of its states.
    outputOf(states) {
      return states[states.length - this.cells[this.cells.length - 1].stateCount];
    }

    getConfig() {
      const own = super.getConfig();
      const config = tf.layers.Layer.prototype.getConfig.call(this);
      RNN_KEYS.forEach((key) => { config[key] = own[key]; });
      config.cells = this.cells.map((cell) => {
        const cellConfig = cell.getConfig();
        ['name', ...RNN_KEYS].forEach((key) => delete cellConfig[key]);
        return {className: cell.constructor.className, config: cellConfig};
      });
      return config;
    }
  }

  const STACKABLE = {WebnetsSimpleRNN, WebnetsLSTM, WebnetsGRU};

  // Keras 3 ConvLSTM1D / 2D / 3D (keras/src/layers/rnn/conv_lstm.py): an LSTM whose products are
  // convolutions,  z = conv(x, W; strides, padding, dilation_rate) + b + conv(h, U; stride 1, 'same', no
  // dilation),  gates i, f, c, o on the channel axis (lstmGates); h and c have the shape of the input
  // convolution's output. Keras convolves each gate apart; one convolution with all 4 * filters output
  // channels computes the same sums. The input convolution runs once for all steps (time folded into the
  // batch), leaving one recurrent convolution a step (tfjs' ConvLSTM2D splits its kernels and runs eight).
  // The exporter keeps tfjs' ConvLSTM2D where it is exact; this class runs ConvLSTM1D, ConvLSTM3D, and
  // ConvLSTM2D with channels_first, an initial_state or a mask.
  // channels_first runs as channels_last: the sequence and initial states are transposed in, the
  // outputs and states back (tfjs-backend-wasm's convolutions take channels_last only).
  class WebnetsConvLSTM extends WebnetsRecurrent {
    static className = 'WebnetsConvLSTM';

    constructor(args) {
      const a = normalize(args);
      super({...a, units: a.filters}, 4, 2);
      this.rank = a.rank;
      if (![1, 2, 3].includes(this.rank)) {
        throw new Error(`WebnetsConvLSTM '${this.name}': rank must be 1, 2 or 3, got ${this.rank}.`);
      }
      const perAxis = (value) => (Array.isArray(value) ? value.slice() : new Array(this.rank).fill(value));
      this.filters = a.filters;
      this.kernelSize = perAxis(a.kernelSize);
      this.strides = perAxis(a.strides == null ? 1 : a.strides);
      this.dilationRate = perAxis(a.dilationRate == null ? 1 : a.dilationRate);
      this.padding = camel(String(a.padding || 'valid')).toLowerCase();
      this.dataFormat = camel(String(a.dataFormat || 'channels_last'));  // 'channelsLast' / 'channelsFirst'
      this.channelsFirst = this.dataFormat === 'channelsFirst';
      this.unitForgetBias = a.unitForgetBias == null ? true : !!a.unitForgetBias;
      this.outSpatial = null;
    }

    biasInitializerFor() {
      return this.unitForgetBias ? forgetBiasInitializer(this.biasInitializer, this.filters) : this.biasInitializer;
    }

    // One step's input shape, channels last: [...spatial, channels].
    stepShape(inputShape) {
      const step = inputShape.slice(2);
      return this.channelsFirst ? [...step.slice(1), step[0]] : step;
    }

    // The input convolution's output size on each spatial axis (Keras' compute_conv_output_shape).
    spatialOut(spatial) {
      return spatial.map((size, d) => {
        if (size == null) return null;
        const span = (this.kernelSize[d] - 1) * this.dilationRate[d] + 1;
        return this.padding === 'same' ? Math.ceil(size / this.strides[d])
          : Math.floor((size - span) / this.strides[d]) + 1;
      });
    }

    build(inputShape) {
      const step = this.stepShape(H.oneShape(inputShape));
      this.outSpatial = this.spatialOut(step.slice(0, -1));
      super.build(inputShape);
    }

    kernelShape(inputShape) {
      const step = this.stepShape(inputShape);
      return [...this.kernelSize, step[step.length - 1], 4 * this.filters];
    }

    recurrentKernelShape() {
      return [...this.kernelSize, this.filters, 4 * this.filters];
    }

    stateShapes(batch) {
      return [this.outputShape(batch), this.outputShape(batch)];
    }

    outputShape(batch) {
      return [batch, ...this.outSpatial, this.filters];
    }

    stateRank() {
      return this.rank + 2;
    }

    convolve(x, kernel, strides, padding, dilations) {
      if (this.rank === 1) return tf.conv1d(x, kernel, strides[0], padding, 'NWC', dilations[0]);
      if (this.rank === 2) return tf.conv2d(x, kernel, strides, padding, 'NHWC', dilations);
      return tf.conv3d(x, kernel, strides, padding, 'NDHWC', dilations);
    }

    // The input convolution of all steps at once, time-major, then one [batch, ...spatial, 4 * filters]
    // tensor a step (through timeSteps, which spares WASM's slices).
    stepInputs(x) {
      const [batch, steps, ...step] = x.shape;
      const flat = tf.reshape(tf.transpose(x, [1, 0, ...step.map((_, i) => i + 2)]), [steps * batch, ...step]);
      let proj = this.convolve(flat, this.kernel.read(), this.strides, this.padding, this.dilationRate);
      if (this.useBias) proj = tf.add(proj, this.bias.read());
      const shape = proj.shape.slice(1);
      const size = shape.reduce((n, d) => n * d, 1);
      return timeSteps(tf.reshape(proj, [steps * batch, size]), steps, batch, size)
        .map((z) => tf.reshape(z, [batch, ...shape]));
    }

    prepare() {
      return this.recurrentKernel.read();
    }

    cell(x, [h, c], recurrent) {
      const ones = new Array(this.rank).fill(1);
      return lstmGates(tf.add(x, this.convolve(h, recurrent, ones, 'same', ones)), c, this.activationFn,
        this.recurrentActivationFn);
    }

    run(inputs, kwargs) {
      if (!this.channelsFirst) return super.run(inputs, kwargs);
      return tf.tidy(() => {
        const axes = (n) => Array.from({length: n}, (_, i) => i);
        const spatial = axes(this.rank);
        // [lead..., C, s...] <-> [lead..., s..., C], `lead` axes (batch, time) left in place.
        const toLast = (t, lead) => tf.transpose(t, [...axes(lead), ...spatial.map((i) => lead + 1 + i), lead]);
        const toFirst = (t, lead) => tf.transpose(t, [...axes(lead), lead + this.rank, ...spatial.map((i) => lead + i)]);
        const list = Array.isArray(inputs) ? inputs : [inputs];
        let initial = list.length > 1 ? list.slice(1) : kwargs.initialState;
        if (initial != null && !Array.isArray(initial)) initial = [initial];
        const result = super.run(toLast(list[0], 2),
          {...kwargs, initialState: initial == null ? null : initial.map((s) => toLast(s, 1))});
        const outputs = (Array.isArray(result) ? result : [result])
          .map((t, i) => toFirst(t, i === 0 && this.returnSequences ? 2 : 1));
        return Array.isArray(result) ? outputs : outputs[0];
      });
    }

    computeOutputShape(inputShape) {
      const shape = H.oneShape(inputShape);
      const spatial = this.spatialOut(this.stepShape(shape).slice(0, -1));
      const state = this.channelsFirst ? [shape[0], this.filters, ...spatial] : [shape[0], ...spatial, this.filters];
      const output = this.returnSequences ? [shape[0], shape[1], ...state.slice(1)] : state;
      return this.returnState ? [output, state, state.slice()] : output;
    }

    getConfig() {
      const config = {...super.getConfig(), rank: this.rank, filters: this.filters, kernelSize: this.kernelSize,
        strides: this.strides, padding: this.padding, dataFormat: this.dataFormat, dilationRate: this.dilationRate,
        unitForgetBias: this.unitForgetBias};
      delete config.units;
      return config;
    }
  }

  return [WebnetsSimpleRNN, WebnetsLSTM, WebnetsGRU, WebnetsStackedRNN, WebnetsConvLSTM];
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

    // x with each element repeated `times` times along `axis`: copies joined on a new axis after it,
    // folded back in. Exact, and its gradient (the sum over the copies) is plain slices on every backend.
    function repeatAxis(x, axis, times) {
      if (times === 1) return x;
      const shape = x.shape.slice();
      shape[axis] *= times;
      return tf.reshape(tf.concat(Array(times).fill(tf.expandDims(x, axis + 1)), axis + 1), shape);
    }

    // Keras 3 UpSampling3D: each voxel repeated size[i] times along spatial axis i (ops.repeat,
    // up_sampling3d.py). tfjs has no 3D layer, and a lowering through its nearest UpSampling2D would
    // train wrongly on the CPU backend: its ResizeNearestNeighborGrad is wrong for batches above one.
    class WebnetsUpSampling3D extends tf.layers.Layer {
      static className = 'WebnetsUpSampling3D';

      constructor(config) {
        super(config);
        this.size = Array.isArray(config.size) ? config.size : Array(3).fill(config.size == null ? 2 : config.size);
        this.dataFormat = config.dataFormat || 'channelsLast';
      }

      call(inputs) {
        return tf.tidy(() => {
          const firstAxis = this.dataFormat === 'channelsFirst' ? 2 : 1;
          return this.size.reduce((x, times, i) => repeatAxis(x, firstAxis + i, times), H.one(inputs));
        });
      }

      computeOutputShape(inputShape) {
        const shape = H.oneShape(inputShape).slice();
        const firstAxis = this.dataFormat === 'channelsFirst' ? 2 : 1;
        this.size.forEach((times, i) => {
          if (shape[firstAxis + i] != null) shape[firstAxis + i] *= times;
        });
        return shape;
      }

      getConfig() {
        return {...super.getConfig(), size: this.size, dataFormat: this.dataFormat};
      }
    }

    return [WebnetsResizing, WebnetsUpSampling2D, WebnetsCenterCrop, WebnetsUpSampling3D];
  }

  // ---- Embedding: ReversibleEmbedding (the tied output projection of language models) ----
  function defineEmbedding(tf, H) {
    // Keras 3 ReversibleEmbedding. On token ids it is Keras' Embedding: ids cast to int32 (floats
    // truncated), rows of `embeddings` taken. Called with reverse=True on vectors [..., outputDim] it
    // projects them to logits [..., inputDim]: x embeddings^T (tieWeights) or x reverse_embeddings, then
    // tanh(logits / logitSoftCap) * logitSoftCap when a soft cap is set.
    // A language model calls one layer both ways (ids in, logits out): in TF.js too it is one layer with
    // ONE embeddings weight, which receives the gradients of both calls, as in Keras. TF.js hands a layer
    // no per-call arguments, so the direction comes from the input's rank: reverseRanks lists the ranks
    // of the reverse calls (the exporter checks that no lookup has one of them).
    // Masks: Keras sets the mask_zero padding mask on the real tensors only, not in the graph the exporter
    // reads; the exporter refuses models in which a layer would use it, so none is produced here.
    class WebnetsReversibleEmbedding extends tf.layers.Layer {
      static className = 'WebnetsReversibleEmbedding';

      constructor(config) {
        super(config);
        this.inputDim = config.inputDim;
        this.outputDim = config.outputDim;
        this.tieWeights = config.tieWeights !== false;
        this.logitSoftCap = config.logitSoftCap == null ? null : config.logitSoftCap;
        this.reverseRanks = config.reverseRanks || [];
        this.embeddingsInitializer = config.embeddingsInitializer == null ? null : config.embeddingsInitializer;
        this.embeddingsRegularizer = config.embeddingsRegularizer == null ? null : config.embeddingsRegularizer;
        this.embeddingsConstraint = config.embeddingsConstraint == null ? null : config.embeddingsConstraint;
        this.supportsMasking = true;
      }

      build() {
        // Keras initializes reverse_embeddings with embeddings_initializer, without regularizer or constraint.
        const init = () => H.fromSpec(this.embeddingsInitializer, 'randomUniform');
        this.embeddings = this.addWeight('embeddings', [this.inputDim, this.outputDim], 'float32', init(),
          undefined, true, H.fromSpec(this.embeddingsConstraint));
        this.regularizer = H.fromSpec(this.embeddingsRegularizer);
        if (!this.tieWeights) {
          this.reverseEmbeddings = this.addWeight('reverse_embeddings', [this.outputDim, this.inputDim], 'float32',
            init());
        }
        this.built = true;
      }

      isReverse(rank) {
        return this.reverseRanks.includes(rank);
      }

      // embeddings_regularizer. tfjs' model asks a layer for its losses once per call of it in the model
      // (Container.calculateLosses), a language model calls this one twice, and Keras adds a weight's
      // penalty once: each call's share is the penalty divided by the number of calls.
      calculateLosses() {
        if (this.regularizer == null || !this.built) return [];
        const calls = Math.max(1, this.inboundNodes.length);
        return [tf.div(this.regularizer.apply(this.embeddings.read()), calls)];
      }

      call(inputs) {
        return tf.tidy(() => {
          const x = H.one(inputs);
          if (!this.isReverse(x.rank)) {
            return tf.gather(this.embeddings.read(), x.dtype === 'int32' ? x : tf.cast(x, 'int32'));
          }
          const flat = tf.reshape(x, [-1, this.outputDim]);
          let logits = this.tieWeights ? tf.matMul(flat, this.embeddings.read(), false, true)
            : tf.matMul(flat, this.reverseEmbeddings.read());
          if (this.logitSoftCap != null) logits = tf.mul(tf.tanh(tf.div(logits, this.logitSoftCap)), this.logitSoftCap);
          return tf.reshape(logits, [...x.shape.slice(0, -1), this.inputDim]);
        });
      }

      computeOutputShape(inputShape) {
        const shape = H.oneShape(inputShape);
        return this.isReverse(shape.length) ? [...shape.slice(0, -1), this.inputDim] : [...shape, this.outputDim];
      }

      computeMask() {
        return null;
      }

      getConfig() {
        return {...super.getConfig(), inputDim: this.inputDim, outputDim: this.outputDim, tieWeights: this.tieWeights,
          logitSoftCap: this.logitSoftCap, reverseRanks: this.reverseRanks,
          embeddingsInitializer: this.embeddingsInitializer, embeddingsRegularizer: this.embeddingsRegularizer,
          embeddingsConstraint: this.embeddingsConstraint};
      }
    }

    return [WebnetsReversibleEmbedding];
  }

  // ---- Signal: the audio front ends (STFTSpectrogram, MelSpectrogram) ----
  function defineSignal(tf, H) {
    // conv1d of every channel of `signals` [B, C, T] with `kernel` [frameLength, 1, bins]: the frames
    // of each channel times the kernel's columns (Keras' STFTSpectrogram._apply_conv, and the DFT of
    // tf.signal.stft as MelSpectrogram computes it). Returns [B, C, frames, bins]. TF.js' conv1d pads
    // 'same' as TensorFlow does (half of the total padding before, the rest after).
    function framesTimesKernel(signals, kernel, stride, padding) {
      const [b, c, t] = signals.shape;
      const y = tf.conv1d(tf.reshape(signals, [b * c, t, 1]), kernel, stride, padding);
      return tf.reshape(y, [b, c, y.shape[1], y.shape[2]]);
    }

    // Keras 3 STFTSpectrogram: convolutions with its real_kernel / imag_kernel weights (the windowed
    // DFT basis Keras' STFT initializer made; trainable, as in Keras), then the output mode.
    class WebnetsSTFTSpectrogram extends tf.layers.Layer {
      static className = 'WebnetsSTFTSpectrogram';

      constructor(config) {
        super(config);
        this.mode = config.mode || 'log';
        this.frameLength = config.frameLength;
        this.frameStep = config.frameStep;  // resolved by the exporter (Keras' frame_length // 2 default)
        this.fftLength = config.fftLength;  // resolved too; bins = fftLength // 2 + 1
        this.padding = config.padding || 'valid';
        this.expandDims = Boolean(config.expandDims);
        this.dataFormat = config.dataFormat || 'channelsLast';
        this.epsilon = config.epsilon == null ? 1e-7 : config.epsilon;  // keras.backend.epsilon() at export
      }

      build() {
        const shape = [this.frameLength, 1, Math.floor(this.fftLength / 2) + 1];
        const zeros = tf.initializers.zeros();
        if (this.mode !== 'imag') this.realKernel = this.addWeight('real_kernel', shape, 'float32', zeros);
        if (this.mode !== 'real') this.imagKernel = this.addWeight('imag_kernel', shape, 'float32', zeros);
        this.built = true;
      }

      call(inputs) {
        return tf.tidy(() => {
          const x = H.one(inputs);
          const signals = this.dataFormat === 'channelsFirst' ? x : tf.transpose(x, [0, 2, 1]);  // [B, C, T]
          const part = (kernel) => framesTimesKernel(signals, kernel.read(), this.frameStep, this.padding);
          const real = this.realKernel ? part(this.realKernel) : null;
          const imag = this.imagKernel ? part(this.imagKernel) : null;
          return this.arrange(this.modeOutput(real, imag));  // [B, C, frames, bins] -> Keras' layout
        });
      }

      // STFTSpectrogram.call's modes, on [B, C, frames, bins].
      modeOutput(real, imag) {
        if (this.mode === 'real') return real;
        if (this.mode === 'imag') return imag;
        if (this.mode === 'angle') return tf.atan2(imag, real);
        if (this.mode === 'stft') return tf.concat([real, imag], 3);
        const power = tf.add(tf.square(real), tf.square(imag));
        if (this.mode === 'psd') {
          // power + the inner bins again: every bin but the first and the last counts twice.
          const bins = power.shape[3];
          const inner = tf.slice(power, [0, 0, 0, 1], [-1, -1, -1, bins - 2]);
          return tf.add(power, tf.pad(inner, [[0, 0], [0, 0], [0, 0], [1, 1]]));
        }
        const magnitude = tf.sqrt(tf.maximum(power, this.epsilon));
        return this.mode === 'magnitude' ? magnitude : tf.log(tf.maximum(magnitude, this.epsilon));
      }

      // Keras' _adjust_shapes from [B, C, frames, bins]: channels_last [B, frames, C * bins] or, with
      // expand_dims, [B, frames, bins, C]; channels_first [B, C * bins, frames] or [B, C, frames, bins].
      arrange(y) {
        const [b, c, frames, bins] = y.shape;
        if (this.dataFormat === 'channelsFirst') {
          return this.expandDims ? y : tf.reshape(tf.transpose(y, [0, 1, 3, 2]), [b, c * bins, frames]);
        }
        return this.expandDims ? tf.transpose(y, [0, 2, 3, 1])
          : tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [b, frames, c * bins]);
      }

      computeOutputShape(inputShape) {
        const shape = H.oneShape(inputShape);
        const first = this.dataFormat === 'channelsFirst';
        const [channels, time] = first ? [shape[1], shape[2]] : [shape[2], shape[1]];
        const bins = (Math.floor(this.fftLength / 2) + 1) * (this.mode === 'stft' ? 2 : 1);
        const frames = time == null ? null : (this.padding === 'same' ? Math.ceil(time / this.frameStep)
          : Math.floor((time - this.frameLength) / this.frameStep) + 1);
        const flat = channels == null ? null : channels * bins;
        if (this.expandDims) return first ? [shape[0], channels, frames, bins] : [shape[0], frames, bins, channels];
        return first ? [shape[0], flat, frames] : [shape[0], frames, flat];
      }

      getConfig() {
        return {...super.getConfig(), mode: this.mode, frameLength: this.frameLength, frameStep: this.frameStep,
          fftLength: this.fftLength, padding: this.padding, expandDims: this.expandDims, dataFormat: this.dataFormat,
          epsilon: this.epsilon};
      }
    }

    // The analysis window of Keras' TensorFlow stft (backend/tensorflow/math.py): a periodic Hann or
    // Hamming window of sequenceLength (or the given values), zero-padded on both sides to fftLength
    // as Keras pads it ((fft - seq) // 2 before). With no window, tf.signal.stft takes the frames of
    // fftLength samples as they are: sequenceLength plays no part.
    function stftWindow(window, sequenceLength, fftLength) {
      if (window == null) return new Float64Array(fftLength).fill(1);
      const n = sequenceLength;
      // tf.signal's raised cosine a - b cos(2 pi i / d), periodic (as Keras asks): d = n for an even n, but
      // n - 1 for an odd one (TensorFlow's window_ops._raised_cosine_window), and [1] for n = 1.
      const d = n % 2 === 0 ? n : n - 1;
      const raised = (a, b) => Array.from({length: n},
        (_, i) => (n === 1 ? 1 : a - b * Math.cos((2 * Math.PI * i) / d)));
      let values;
      if (Array.isArray(window)) values = window;
      else if (window === 'hann') values = raised(0.5, 0.5);
      else if (window === 'hamming') values = raised(0.54, 0.46);
      else throw new Error(`webnets-layers.js: unknown stft window '${window}' (hann, hamming, values or null)`);
      const before = Math.floor((fftLength - n) / 2);
      const padded = new Float64Array(fftLength);
      values.forEach((v, i) => { padded[before + i] = v; });
      return padded;
    }

    // [fftLength, 1, 2 * bins]: the windowed DFT basis, cosines then sines, so that one conv1d over a
    // signal gives each frame's real and (negated) imaginary rfft parts. Angles from (k n mod N), in
    // float64, so the basis is exact to float32 rounding.
    function dftKernel(window, fftLength) {
      const bins = Math.floor(fftLength / 2) + 1;
      const data = new Float32Array(fftLength * 2 * bins);
      for (let n = 0; n < fftLength; n++) {
        for (let k = 0; k < bins; k++) {
          const angle = (2 * Math.PI * ((k * n) % fftLength)) / fftLength;
          data[n * 2 * bins + k] = window[n] * Math.cos(angle);
          data[n * 2 * bins + bins + k] = window[n] * Math.sin(angle);
        }
      }
      return tf.tensor3d(data, [fftLength, 1, 2 * bins]);
    }

    // Keras 3 MelSpectrogram: the magnitude of ops.stft (center=True: reflect-padded by fftLength // 2,
    // frames of fftLength every sequenceStride, the window above), raised to magExp, times Keras' own
    // mel matrix (a weight the exporter computed with MelSpectrogram.linear_to_mel_weight_matrix), then
    // optionally decibels, output [batch, melBins, frames]. TF.js' WASM backend has no FFT kernel, so
    // the DFT is a conv1d with the basis. As in Keras' _dbscale, the top_db floor is relative to the
    // maximum over the whole batch (ops.max with no axis), so a sample's output depends on its batch.
    class WebnetsMelSpectrogram extends tf.layers.Layer {
      static className = 'WebnetsMelSpectrogram';

      constructor(config) {
        super(config);
        this.fftLength = config.fftLength;
        this.sequenceStride = config.sequenceStride;
        this.sequenceLength = config.sequenceLength || config.fftLength;
        this.window = config.window === undefined ? 'hann' : config.window;
        this.numMelBins = config.numMelBins;
        this.powerToDb = config.powerToDb !== false;
        this.topDb = config.topDb;
        this.magExp = config.magExp;
        this.minPower = config.minPower;
        this.refPower = config.refPower;
      }

      build() {
        const bins = Math.floor(this.fftLength / 2) + 1;
        this.melWeights = this.addWeight('mel_weights', [bins, this.numMelBins], 'float32', tf.initializers.zeros(),
          undefined, false);
        this.basis = tf.keep(dftKernel(stftWindow(this.window, this.sequenceLength, this.fftLength), this.fftLength));
        this.built = true;
      }

      call(inputs) {
        return tf.tidy(() => {
          const x = H.one(inputs);  // [B, T]
          const half = Math.floor(this.fftLength / 2);
          const padded = tf.mirrorPad(x, [[0, 0], [half, half]], 'reflect');
          const parts = framesTimesKernel(tf.expandDims(padded, 1), this.basis, this.sequenceStride, 'valid');
          const [b, , frames, both] = parts.shape;
          const bins = both / 2;
          const real = tf.slice(parts, [0, 0, 0, 0], [-1, -1, -1, bins]);
          const imag = tf.slice(parts, [0, 0, 0, bins], [-1, -1, -1, bins]);
          // Keras: sqrt(real^2 + imag^2) ** mag_exp, then tensordot with the mel matrix.
          const spec = tf.pow(tf.sqrt(tf.add(tf.square(real), tf.square(imag))), this.magExp);
          let mel = tf.reshape(tf.matMul(tf.reshape(spec, [b * frames, bins]), this.melWeights.read()),
            [b, frames, this.numMelBins]);
          if (this.powerToDb) mel = this.decibels(mel);
          return tf.transpose(mel, [0, 2, 1]);
        });
      }

      // Keras' _dbscale: 10 log10(max(S, min_power)) - 10 log10(max(|ref_power|, min_power)), floored at
      // (its maximum over everything) - top_db. log10 as Keras' TF backend computes it: log(x) / log(10).
      decibels(mel) {
        const log10 = (t) => tf.div(tf.log(t), tf.log(tf.scalar(10)));
        const reference = tf.mul(10, log10(tf.maximum(tf.abs(tf.scalar(this.refPower)), this.minPower)));
        const logSpec = tf.sub(tf.mul(10, log10(tf.maximum(mel, this.minPower))), reference);
        return tf.maximum(logSpec, tf.sub(tf.max(logSpec), this.topDb));
      }

      computeOutputShape(inputShape) {
        const [batch, time] = H.oneShape(inputShape);
        const half = Math.floor(this.fftLength / 2);
        const frames = time == null ? null : Math.floor((time + 2 * half - this.fftLength) / this.sequenceStride) + 1;
        return [batch, this.numMelBins, frames];
      }

      getConfig() {
        return {...super.getConfig(), fftLength: this.fftLength, sequenceStride: this.sequenceStride,
          sequenceLength: this.sequenceLength, window: this.window, numMelBins: this.numMelBins,
          powerToDb: this.powerToDb, topDb: this.topDb, magExp: this.magExp, minPower: this.minPower,
          refPower: this.refPower};
      }

      dispose() {
        const result = super.dispose();
        if (result.refCountAfterDispose === 0 && this.basis) {  // the DFT basis is no weight: freed here
          tf.dispose(this.basis);
          this.basis = null;
        }
        return result;
      }
    }

    return [WebnetsSTFTSpectrogram, WebnetsMelSpectrogram];
  }

  // ---- Image preprocessing that computes from the image: AutoContrast, Equalization, CLAHE ----
  function defineImagePreprocessing(tf, H) {
    // Keras' BaseImagePreprocessingLayer._transform_value_range, in float32 as Keras computes it:
    // (x - from_low) / (from_high - from_low) * (to_high - to_low) + to_low; nothing when equal.
    const f32 = Math.fround;
    function changeRange(x, [fromLow, fromHigh], [toLow, toHigh]) {
      if (fromLow === toLow && fromHigh === toHigh) return x;
      const unit = tf.div(tf.sub(x, f32(fromLow)), f32(f32(fromHigh) - f32(fromLow)));
      return tf.add(tf.mul(unit, f32(f32(toHigh) - f32(toLow))), f32(toLow));
    }
    const PIXELS = [0, 255];

    // Keras 3 AutoContrast: each image's values, per channel, stretched to [0, 255] (of the value range)
    // over axes 1 and 2, as Keras reduces whatever the data format; a channel whose stretch is NaN in
    // Keras (a constant channel: 255 / 0 times 0) keeps its original values. Keras' clip lets NaN
    // through, so the NaN test is made before the clip here (TF.js' WASM clip need not keep NaN).
    class WebnetsAutoContrast extends tf.layers.Layer {
      static className = 'WebnetsAutoContrast';

      constructor(config) {
        super(config);
        this.valueRange = config.valueRange || PIXELS;
      }

      call(inputs) {
        return tf.tidy(() => {
          const original = tf.cast(H.one(inputs), 'float32');
          const images = changeRange(original, this.valueRange, PIXELS);
          const low = tf.min(images, [1, 2], true);
          const high = tf.max(images, [1, 2], true);
          const scale = tf.div(255, tf.sub(high, low));
          const offset = tf.mul(tf.neg(low), scale);
          const stretched = tf.add(tf.mul(images, scale), offset);
          const results = changeRange(tf.clipByValue(stretched, 0, 255), PIXELS, this.valueRange);
          return tf.where(tf.isNaN(stretched), original, results);
        });
      }

      computeOutputShape(inputShape) {
        return H.oneShape(inputShape);
      }

      getConfig() {
        return {...super.getConfig(), valueRange: this.valueRange};
      }
    }

    // Keras 3 ContrastLimitedAdaptiveHistogramEqualization (image_preprocessing/clahe.py), step by step:
    // images padded (symmetric) to whole tiles, a 256-bin histogram of int(clip(v)) per tile and channel,
    // clipped at clip_limit * tile_pixels / 256 with the excess spread over all bins, its CDF scaled to
    // [0, 255], and each pixel's value looked up in the four nearest tiles' CDFs (edge tiles repeated)
    // and blended bilinearly by the pixel's position between the tile centres.
    class WebnetsContrastLimitedAdaptiveHistogramEqualization extends tf.layers.Layer {
      static className = 'WebnetsContrastLimitedAdaptiveHistogramEqualization';

      constructor(config) {
        super(config);
        this.valueRange = config.valueRange || PIXELS;
        this.clipLimit = config.clipLimit == null ? 4 : config.clipLimit;
        this.tileGridSize = config.tileGridSize || [8, 8];
        this.dataFormat = config.dataFormat || 'channelsLast';
      }

      call(inputs) {
        return tf.tidy(() => {
          const x = H.one(inputs);
          const first = this.dataFormat === 'channelsFirst';
          const nhwc = first ? tf.transpose(x, [0, 2, 3, 1]) : x;
          const images = changeRange(tf.cast(nhwc, 'float32'), this.valueRange, PIXELS);
          const equalized = changeRange(this.clahe(images), PIXELS, this.valueRange);
          const y = tf.cast(equalized, x.dtype);  // Keras casts back to the input's dtype
          return first ? tf.transpose(y, [0, 3, 1, 2]) : y;
        });
      }

      clahe(images) {
        const [b, h, w, c] = images.shape;
        const [gridH, gridW] = this.tileGridSize;
        const tileH = Math.ceil(h / gridH);
        const tileW = Math.ceil(w / gridW);
        const padded = tileH * gridH === h && tileW * gridW === w ? images
          : tf.mirrorPad(images, [[0, 0], [0, tileH * gridH - h], [0, tileW * gridW - w], [0, 0]], 'symmetric');
        const cdf = this.tileCdfs(padded, b, gridH, gridW, tileH, tileW, c);  // [B, gridH + 2, gridW + 2, C, 256]
        const rows = tileAxis(tileH * gridH, tileH, gridH);
        const cols = tileAxis(tileW * gridW, tileW, gridW);
        // Flat indices into the CDFs, as Keras' strides: b, tile row, tile column, channel, value.
        const strideX = 256 * c;
        const strideY = strideX * (gridW + 2);
        const strideB = strideY * (gridH + 2);
        // (int32 tensors throughout: TF.js would make a plain number a float32 operand.)
        const along = (values, shape) => tf.reshape(tf.tensor1d(values, 'int32'), shape);
        const steps = (n, stride) => Array.from({length: n}, (_, i) => i * stride);
        const pixels = tf.cast(tf.clipByValue(padded, 0, 255), 'int32');
        const base = tf.add(tf.add(pixels, along(steps(b, strideB), [b, 1, 1, 1])), along(steps(c, 256), [1, 1, 1, c]));
        const flat = tf.reshape(cdf, [-1]);
        const look = (ys, xs) => tf.gather(flat, tf.add(base, tf.add(along(ys.map((v) => v * strideY), [1, -1, 1, 1]),
          along(xs.map((v) => v * strideX), [1, 1, -1, 1]))));
        const wy = tf.reshape(tf.tensor1d(rows.weight), [1, -1, 1, 1]);
        const wx = tf.reshape(tf.tensor1d(cols.weight), [1, 1, -1, 1]);
        const blend = (a, z, weight) => tf.add(tf.mul(a, tf.sub(1, weight)), tf.mul(z, weight));
        const top = blend(look(rows.low, cols.low), look(rows.low, cols.high), wx);
        const bottom = blend(look(rows.high, cols.low), look(rows.high, cols.high), wx);
        return tf.slice(blend(top, bottom, wy), [0, 0, 0, 0], [-1, h, w, -1]);
      }

      // The clipped, normalized CDF of every tile, with the first and last tile rows and columns repeated.
      tileCdfs(padded, b, gridH, gridW, tileH, tileW, c) {
        const tiles = tf.transpose(tf.reshape(padded, [b, gridH, tileH, gridW, tileW, c]), [0, 1, 3, 5, 2, 4]);
        // Keras: int32 cast (truncation towards zero), then clip to [0, 255]; the clip in float32, as
        // TF.js' WASM clip reads int32 data as floats.
        const truncated = tf.cast(tf.cast(tf.reshape(tiles, [-1, tileH * tileW]), 'int32'), 'float32');
        const values = tf.cast(tf.clipByValue(truncated, 0, 255), 'int32');
        let hists = tf.cast(tf.denseBincount(values, tf.tensor1d([], 'float32'), 256), 'float32');
        if (this.clipLimit > 0) {
          const limit = f32((this.clipLimit * (tileH * tileW)) / 256);
          const clipped = tf.clipByValue(hists, 0, limit);
          const excess = tf.sum(tf.sub(hists, clipped), 1, true);
          hists = tf.add(clipped, tf.div(excess, 256));
        }
        const cdf = tf.cumsum(hists, 1);  // a positive axis: TF.js' cumsum breaks on -1
        const cdfMin = tf.min(cdf, 1, true);
        const numerator = tf.mul(tf.sub(cdf, cdfMin), 255);
        const denominator = tf.sub(tileH * tileW, cdfMin);
        const safe = tf.where(tf.equal(denominator, 0), tf.onesLike(denominator), denominator);
        const norm = tf.reshape(tf.clipByValue(tf.div(numerator, safe), 0, 255), [b, gridH, gridW, c, 256]);
        const edges = (t, axis, n) => tf.concat([tf.slice(t, axisStart(axis, 0, 5), axisSize(axis, 1, 5)), t,
          tf.slice(t, axisStart(axis, n - 1, 5), axisSize(axis, 1, 5))], axis);
        return edges(edges(norm, 1, gridH), 2, gridW);
      }

      computeOutputShape(inputShape) {
        return H.oneShape(inputShape);
      }

      getConfig() {
        return {...super.getConfig(), valueRange: this.valueRange, clipLimit: this.clipLimit,
          tileGridSize: this.tileGridSize, dataFormat: this.dataFormat};
      }
    }

    const axisStart = (axis, at, rank) => Array.from({length: rank}, (_, i) => (i === axis ? at : 0));
    const axisSize = (axis, size, rank) => Array.from({length: rank}, (_, i) => (i === axis ? size : -1));

    // For each padded row (or column) of a CLAHE image: the two tile centres around it, as indices into
    // the edge-padded tile grid, and the weight of the second, in float32 as Keras computes them:
    // g = (i - tile / 2) / tile + 1, low = floor(g), weight = g - low, indices clipped to [0, grid + 1].
    function tileAxis(size, tile, grid) {
      const low = [];
      const high = [];
      const weight = new Float32Array(size);
      for (let i = 0; i < size; i++) {
        const g = f32(f32(f32(i - tile / 2) / tile) + 1);
        const floor = Math.floor(g);
        weight[i] = f32(g - floor);
        low.push(Math.min(Math.max(floor, 0), grid + 1));
        high.push(Math.min(Math.max(floor + 1, 0), grid + 1));
      }
      return {low, high, weight};
    }

    // ---- numeric preprocessing: Discretization, CategoryEncoding (H.encode: Keras' encode_categorical_inputs) ----

    // Keras 3 Discretization: the bin of each value is the number of boundaries <= it (TensorFlow's
    // Bucketize, with the boundaries in float32 as its attribute holds them), then encoded.
    // TensorFlow's CPU kernels flush subnormal floats to zero, so a value just below a boundary of 0
    // (-1e-45) falls in the bin of 0 there: the same flush here.
    const SMALLEST_NORMAL = 1.1754943508222875e-38;
    class WebnetsDiscretization extends tf.layers.Layer {
      static className = 'WebnetsDiscretization';

      constructor(config) {
        super(config);
        this.binBoundaries = config.binBoundaries;
        this.outputMode = config.outputMode || 'int';
        this.outputDtype = config.outputDtype || (this.outputMode === 'int' ? 'int32' : 'float32');
      }

      call(inputs) {
        return tf.tidy(() => {
          const raw = tf.cast(H.one(inputs), 'float32');
          const x = tf.where(tf.less(tf.abs(raw), SMALLEST_NORMAL), tf.zerosLike(raw), raw);
          const boundaries = this.binBoundaries;
          const count = boundaries.length;
          const indices = count === 0 ? tf.zeros(x.shape, 'int32')
            : tf.reshape(tf.searchSorted(tf.tensor2d(boundaries, [1, count]), tf.reshape(x, [1, -1]), 'right'), x.shape);
          return H.encode(indices, this.outputMode, boundaries.length + 1, this.outputDtype);
        });
      }

      computeOutputShape(inputShape) {
        return H.encodedShape(H.oneShape(inputShape), this.outputMode, this.binBoundaries.length + 1);
      }

      getConfig() {
        return {...super.getConfig(), binBoundaries: this.binBoundaries, outputMode: this.outputMode,
          outputDtype: this.outputDtype};
      }
    }

    // Keras 3 CategoryEncoding (tfjs-layers' own throws on an out-of-range id, which Keras ignores, and
    // takes no rank-3 input): called on [ids] or, with count weights, [ids, countWeights].
    class WebnetsCategoryEncoding extends tf.layers.Layer {
      static className = 'WebnetsCategoryEncoding';

      constructor(config) {
        super(config);
        this.numTokens = config.numTokens;
        this.outputMode = config.outputMode || 'multiHot';
        this.outputDtype = config.outputDtype || 'float32';
      }

      call(inputs) {
        return tf.tidy(() => {
          const [ids, weights] = Array.isArray(inputs) ? inputs : [inputs];
          return H.encode(tf.cast(ids, 'int32'), this.outputMode, this.numTokens, this.outputDtype, weights);
        });
      }

      computeOutputShape(inputShape) {
        return H.encodedShape(H.oneShape(inputShape), this.outputMode, this.numTokens);
      }

      getConfig() {
        return {...super.getConfig(), numTokens: this.numTokens, outputMode: this.outputMode,
          outputDtype: this.outputDtype};
      }
    }

    return [WebnetsAutoContrast, WebnetsContrastLimitedAdaptiveHistogramEqualization, WebnetsDiscretization,
      WebnetsCategoryEncoding];
  }

  // ---- Positions: keras-hub's PositionEmbedding, sliced to the length of the sequence it is given ----
  function definePositions(tf, H) {
    // config: sequenceLength (the table's rows), startIndex. Input: (batch, steps, features) with
    // steps <= sequenceLength - startIndex; output: rows [startIndex, startIndex + steps) of the
    // table, broadcast over the batch, as keras_hub.layers.PositionEmbedding.call computes it.
    class WebnetsPositionEmbedding extends tf.layers.Layer {
      static className = 'WebnetsPositionEmbedding';

      constructor(config) {
        super(config);
        this.sequenceLength = config.sequenceLength;
        this.startIndex = config.startIndex || 0;
        this.initializer = config.initializer;
      }

      build(inputShape) {
        const shape = H.oneShape(inputShape);
        this.embeddings = this.addWeight('embeddings', [this.sequenceLength, shape[shape.length - 1]], 'float32',
          H.fromSpec(this.initializer, 'glorotUniform'));
        this.built = true;
      }

      call(inputs) {
        return tf.tidy(() => {
          const x = H.one(inputs);
          const steps = x.shape[x.rank - 2];
          if (this.startIndex + steps > this.sequenceLength) {
            throw new Error(`${this.name}: a sequence of ${steps} steps from position ${this.startIndex} is longer `
              + `than the ${this.sequenceLength} positions this model was trained with; shorten the input.`);
          }
          const rows = tf.slice(this.embeddings.read(), [this.startIndex, 0], [steps, -1]);
          return tf.broadcastTo(rows, x.shape);
        });
      }

      computeOutputShape(inputShape) {
        return H.oneShape(inputShape);
      }

      getConfig() {
        return {...super.getConfig(), sequenceLength: this.sequenceLength, startIndex: this.startIndex,
          initializer: H.toSpec(this.initializer)};
      }
    }

    // keras-hub's RotaryEmbedding. config: inverseFrequencies (what the layer's own _get_inverse_freq gave
    // in Python, so every rope_type is Keras'), scale (YaRN's factor, else 1), sequenceAxis, featureAxis,
    // startIndex. angles = positions x frequencies, duplicated to the feature width; the output is
    // x cos + [-x2, x1] sin, with x1, x2 the halves of the feature axis (keras-hub's _apply_rotary_pos_emb).
    class WebnetsRotaryEmbedding extends tf.layers.Layer {
      static className = 'WebnetsRotaryEmbedding';

      constructor(config) {
        super(config);
        this.inverseFrequencies = config.inverseFrequencies;
        this.scale = config.scale == null ? 1 : config.scale;
        this.sequenceAxis = config.sequenceAxis == null ? 1 : config.sequenceAxis;
        this.featureAxis = config.featureAxis == null ? -1 : config.featureAxis;
        this.startIndex = config.startIndex || 0;
      }

      call(inputs) {
        return tf.tidy(() => {
          const moved = H.moveAxes(H.one(inputs), [this.featureAxis, this.sequenceAxis], [-1, 1]);
          const steps = moved.shape[1];
          const positions = tf.add(tf.range(0, steps, 1, 'float32'), this.startIndex);
          const frequencies = tf.outerProduct(positions, tf.tensor1d(this.inverseFrequencies, 'float32'));
          let angles = tf.concat([frequencies, frequencies], -1);  // [steps, features]
          angles = tf.reshape(angles, [1, steps, ...new Array(moved.rank - 3).fill(1), angles.shape[1]]);
          const cos = tf.mul(tf.cos(angles), this.scale), sin = tf.mul(tf.sin(angles), this.scale);
          const [first, second] = tf.split(moved, 2, -1);
          const rotated = tf.concat([tf.neg(second), first], -1);
          const out = tf.add(tf.mul(moved, cos), tf.mul(rotated, sin));
          return H.moveAxes(out, [-1, 1], [this.featureAxis, this.sequenceAxis]);
        });
      }

      computeOutputShape(inputShape) {
        return H.oneShape(inputShape);
      }

      getConfig() {
        return {...super.getConfig(), inverseFrequencies: this.inverseFrequencies, scale: this.scale,
          sequenceAxis: this.sequenceAxis, featureAxis: this.featureAxis, startIndex: this.startIndex};
      }
    }

    // keras-hub's SinePositionEncoding for the sequence it is given: for position p and feature j,
    // angle = p * (1 / maxWavelength) ^ (2 floor(j / 2) / features); sin on even features, cos on odd
    // ones; broadcast over the batch. config: maxWavelength, startIndex.
    class WebnetsSinePositionEncoding extends tf.layers.Layer {
      static className = 'WebnetsSinePositionEncoding';

      constructor(config) {
        super(config);
        this.maxWavelength = config.maxWavelength == null ? 10000 : config.maxWavelength;
        this.startIndex = config.startIndex || 0;
      }

      call(inputs) {
        return tf.tidy(() => {
          const x = H.one(inputs);
          const [steps, features] = x.shape.slice(-2);
          const positions = tf.add(tf.range(0, steps, 1, 'float32'), this.startIndex);
          const pairs = tf.mul(tf.floorDiv(tf.range(0, features, 1, 'int32'), 2), 2);
          const timescales = tf.pow(1 / this.maxWavelength, tf.div(tf.cast(pairs, 'float32'), features));
          const angles = tf.outerProduct(positions, timescales);
          const odd = tf.cast(tf.mod(tf.range(0, features, 1, 'int32'), 2), 'bool');
          const encoding = tf.where(tf.broadcastTo(odd, angles.shape), tf.cos(angles), tf.sin(angles));
          return tf.broadcastTo(encoding, x.shape);
        });
      }

      computeOutputShape(inputShape) {
        return H.oneShape(inputShape);
      }

      getConfig() {
        return {...super.getConfig(), maxWavelength: this.maxWavelength, startIndex: this.startIndex};
      }
    }

    // A learned token put in front of every sequence of a batch (ViT's class token): the weight
    // `class_token` [1, 1, features], repeated over the batch and concatenated before step 0.
    class WebnetsClassToken extends tf.layers.Layer {
      static className = 'WebnetsClassToken';

      build(inputShape) {
        const shape = H.oneShape(inputShape);
        this.classToken = this.addWeight('class_token', [1, 1, shape[shape.length - 1]], 'float32',
          tf.initializers.zeros());
        this.built = true;
      }

      call(inputs) {
        return tf.tidy(() => {
          const x = H.one(inputs);
          return tf.concat([tf.tile(this.classToken.read(), [x.shape[0], 1, 1]), x], 1);
        });
      }

      computeOutputShape(inputShape) {
        const shape = H.oneShape(inputShape);
        return [shape[0], shape[1] == null ? null : shape[1] + 1, shape[2]];
      }
    }

    return [WebnetsPositionEmbedding, WebnetsRotaryEmbedding, WebnetsSinePositionEncoding, WebnetsClassToken];
  }

  // ---- Text: Keras' string and lookup layers (TextVectorization, StringLookup, IntegerLookup, Hashing,
  // HashedCrossing), computed as Keras computes them on its TensorFlow backend ----
  //
  // TF.js has no string ops: these layers read their input out to JavaScript (dataSync; a string tensor
  // gives JS strings), compute there, and return int32 / float32 tensors (StringLookup(invert=True) a
  // string tensor). They have no weights and no gradients. tfjs' own model.predict() refuses string
  // inputs (it slices the batch with numeric ops); `predict` below runs any model.
  //
  // Strings in configs (vocabularies, mask and OOV tokens, Hashing's mask_value) travel as the hex digits
  // of their UTF-8 JSON (config key `strings`): tfjs camelCases every string value of a config on load
  // ('out_of_vocab' -> 'outOfVocab') and snake_cases and lowercases it on save, and hex survives both.
  // 64-bit salts travel as decimal strings, which survive too.
  function defineText(tf, H) {
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

  // ---- Activations tfjs has but cannot load by name ----
  // tfjs registers the tanh-approximated gelu as 'gelu_new' and camelCases activation names in configs
  // on load ('geluNew'), so a model naming it never loads; keras-hub's gelu_approximate is that formula.
  function defineActivations(tf) {
    const entry = tf.serialization.SerializationMap.getMap().classNameMap.gelu_new;
    if (!entry) return [];
    class WebnetsGeluApproximate extends entry[0] {
      static className = 'WebnetsGeluApproximate';
    }
    return [WebnetsGeluApproximate];
  }

  const SECTIONS = [defineAttention, defineConvolution, defineEinsum, defineEmbedding, defineImagePreprocessing,
    defineNormalization, defineOperation, definePooling, definePositions, defineRecurrent, defineResizing, defineSignal,
    defineText];

  // Registers every class on `tf` and returns their class names. Registering again (another
  // export's copy) replaces the classes, as tf.serialization.registerClass does for one name.
  function register(tf) {
    if (!tf || !tf.layers || !tf.serialization) {
      throw new Error('webnets-layers.js: register(tf) needs the TensorFlow.js module (@tensorflow/tfjs); '
        + 'in a page, load tf.min.js before webnets-layers.js.');
    }
    const H = helpers(tf);
    const classes = [...SECTIONS.flatMap((define) => define(tf, H)), ...defineActivations(tf)];
    for (const cls of classes) tf.serialization.registerClass(cls);
    registered = tf;
    return classes.map((cls) => cls.className);
  }
  let registered = null;  // the tf of the last register(tf), which predict uses

  // predict(model, inputs) -> tf.Tensor, or an array of them for a model with several outputs: one call
  // for every exported layers model, string inputs included (tfjs' model.predict() refuses strings: it
  // slices the batch with numeric ops). It runs model.apply at inference (training: false) under tf.tidy,
  // so that only the outputs remain (dispose them when done).
  //   inputs: for a model with one input, a tf.Tensor or a JavaScript array; for several, an array in
  //   model.inputs order or an object keyed by model.inputNames. A JS array becomes a tensor of the
  //   input's dtype; a string input takes one text per sample (['first text', 'second'] for an input of
  //   shape [null, 1]), and a lone string is a batch of one.
  // A tensor of the wrong kind (numbers for a string input, or strings for a number input) is refused
  // with an error naming the input and the layer it feeds.
  function predict(model, inputs) {
    const tf = registered;
    if (tf == null) {
      throw new Error('webnets-layers.js: predict(model, inputs) needs register(tf) first (a page\'s <script> tag '
        + 'registers on the global tf when it is loaded after tf.min.js).');
    }
    const specs = model.inputs;
    let given;
    if (specs.length === 1 && (inputs instanceof tf.Tensor || typeof inputs === 'string'
      || (Array.isArray(inputs) && !(inputs[0] instanceof tf.Tensor)))) {
      given = [inputs];
    } else if (Array.isArray(inputs)) {
      given = inputs;
    } else {
      given = model.inputNames.map((name) => {
        if (!(name in inputs)) throw new Error(`webnets predict: no value for the model's input '${name}'.`);
        return inputs[name];
      });
    }
    if (given.length !== specs.length) {
      throw new Error(`webnets predict: the model takes ${specs.length} inputs (${model.inputNames.join(', ')}), `
        + `and ${given.length} were given.`);
    }
    const consumer = (i) => {
      const nodes = model.inputLayers[i] ? model.inputLayers[i].outboundNodes : [];
      const layer = nodes.length ? nodes[0].outboundLayer : null;
      return layer ? ` (it feeds ${layer.name}, a ${layer.getClassName()})` : '';
    };
    return tf.tidy(() => {
      const tensors = given.map((value, i) => {
        const spec = specs[i];
        const wantsString = spec.dtype === 'string';
        let t = value instanceof tf.Tensor ? value
          : tf.tensor(typeof value === 'string' ? [value] : value, undefined, wantsString ? 'string' : spec.dtype);
        if ((t.dtype === 'string') !== wantsString) {
          throw new Error(`webnets predict: the model's input '${model.inputNames[i]}'${consumer(i)} takes `
            + `${wantsString ? 'strings' : spec.dtype + ' numbers'}, and was given a ${t.dtype} tensor. `
            + (wantsString ? 'Pass texts: an array of strings, one per sample, or tf.tensor([...texts]).'
              : 'Pass numbers (a tf.Tensor or a JS array).'));
        }
        // One text per sample for an input of shape [null, 1]: add the trailing axis.
        if (t.rank === spec.shape.length - 1 && spec.shape[spec.shape.length - 1] === 1) t = tf.expandDims(t, -1);
        return t;
      });
      // apply, not execute(inputs, outputNames): tfjs cannot look output names up in a model with a shared
      // layer (one with several inbound nodes); apply runs the model's own output tensors.
      return model.apply(tensors.length === 1 ? tensors[0] : tensors, {training: false});
    });
  }

  return {register, predict, VERSION};
});
