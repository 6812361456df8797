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
// At inference on wasm, where registerWebnetsKernels ran on this tf, MultiHeadAttention and
// GroupedQueryAttention hand the core (scores, mask, softmax, values) to webnets' fused kernel
// (js/src/kernels/attention.js, found through TF.js's kernel registry: js/src/kernels/registry.js).
import {webnetsKernel} from '../kernels/registry.js';

export function defineAttention(tf, H) {
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
    const own = H.ownData;
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

  // The prepared projection of x2d, unsplit: [rows, sum(sizes)].
  function projectPreparedJoined(x2d, prepared) {
    return prepared.bias == null ? tf.matMul(x2d, prepared.kernel)
      : tf.fused.matMul({a: x2d, b: prepared.kernel, bias: prepared.bias});
  }

  function projectPrepared(x2d, prepared) {
    const y = projectPreparedJoined(x2d, prepared);
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
          // webnets' fused attention kernel (js/src/kernels/attention.js), where registered (wasm, after
          // registerWebnetsKernels): one call from the projections, read in place (a joint projection at
          // its columns, no split) to the heads' values laid out for the output projection; no
          // transposes, no [B, N, T, S] tensors. Probabilities are not returned and there is no dropout
          // at inference; it returns null for what it does not cover, and the ops below run.
          const dropping = this.dropout > 0 && kwargs && kwargs.training;
          const fused = this.returnAttentionScores || dropping ? null : webnetsKernel(tf, 'WebnetsAttention');
          const joined = groups.map((g, i) => projectPreparedJoined(flat(g.tensor), prepared[i]));
          if (fused) {
            const at = {};
            groups.forEach((g, i) => {
              let column = 0;
              g.names.forEach((name, j) => { at[name] = {tensor: joined[i], column}; column += prepared[i].sizes[j]; });
            });
            const mask = this.keepMask(xs, s, B, T, S, false);
            const out = fused({q: at.query.tensor, k: at.key.tensor, v: at.value.tensor, mask: mask || undefined}, {
              batch: B, heads: N, kvHeads: KV, keyDim: K, valueDim: V, qColumn: at.query.column,
              kColumn: at.key.column, vColumn: at.value.column, scale: 1, maskMode: mask ? 'keep' : 'none',
              causal: this.useCausalMask, window: this.slidingWindow == null ? 0 : this.slidingWindow,
              zeroMasked: this.zeroMasked && (mask != null || this.useCausalMask || this.slidingWindow != null)});
            if (out) return this.finish(out, query, q2, tDims);
          }
          const out = {};
          groups.forEach((g, i) => {
            const parts = prepared[i].sizes.length === 1 ? [joined[i]] : tf.split(joined[i], prepared[i].sizes, 1);
            parts.forEach((y, j) => { out[g.names[j]] = y; });
          });
          ({query: q, key: k, value: v} = out);
        }
        let scores = tf.matMul(queryGroups(q), heads(k, S, K, KV), false, true);  // [B*KV, R*T, S]
        scores = tf.reshape(scores, [B, N, T, S]);

        const mask = this.keepMask(xs, s, B, T, S, true);
        if (mask != null) scores = replaceMasked(scores, mask);
        let probabilities = tf.softmax(scores, -1);  // [B, N, T, S]
        // Keras' Softmax-layer path zeroes masked positions after the softmax (a fully masked row
        // becomes zeros); its fused dot_product_attention path leaves such a row uniform.
        if (mask != null && this.zeroMasked) probabilities = tf.mul(probabilities, mask);
        let used = probabilities;
        if (this.dropout > 0 && kwargs && kwargs.training) used = tf.dropout(probabilities, this.dropout);

        let out = tf.matMul(tf.reshape(used, [B * KV, R * T, S]), heads(v, S, V, KV));  // [B*KV, R*T, V]
        out = tf.reshape(tf.transpose(tf.reshape(out, [B, N, T, V]), [0, 2, 1, 3]), [B * T, N * V]);
        out = this.finish(out, query, q2, tDims);
        if (!this.returnAttentionScores) return out;
        return [out, tf.reshape(probabilities, [B, N, ...tDims, ...sDims])];
      });
    }

    // The attention mask as a 0/1 float32 tensor broadcasting to [B, N, T, S] (null: none), as Keras'
    // _compute_attention_mask: query [B,T,1] & value [B,1,S] & key [B,1,S] & causal [1,T,S] & sliding
    // window [1,T,S] & attention_mask. withBand: false leaves causality and the window out (the fused
    // kernel applies them itself, without a [T, S] tensor).
    keepMask(xs, s, B, T, S, withBand) {
      let mask = null;
      const and = (m) => { mask = mask == null ? m : tf.mul(mask, m); };
      if (s.queryMask >= 0) and(tf.reshape(keep(xs[s.queryMask]), [B, 1, T, 1]));
      if (s.valueMask >= 0) and(tf.reshape(keep(xs[s.valueMask]), [B, 1, 1, S]));
      if (s.keyMask >= 0) and(tf.reshape(keep(xs[s.keyMask]), [B, 1, 1, S]));
      if (withBand && (this.useCausalMask || this.slidingWindow != null)) {
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
      return mask;
    }

    // The heads' values [B*T, N*V] -> the layer's output: gate, output projection, shape.
    finish(out, query, q2, tDims) {
      const B = query.shape[0];
      if (this.useGate) out = tf.mul(out, tf.sigmoid(project(q2, this.gate.kernel, this.gate.bias)));
      if (H.recording()) {
        out = project(out, this.attentionOutput.kernel, this.attentionOutput.bias);
      } else {
        // At inference a rank-2 kernel and rank-1 bias with data of their own, kept while the weights
        // keep theirs (H.derived): one fused matMul, and WASM's XNNPACK packs the kernel once (its cache
        // is keyed by the tensor, and a reshape of the weight is a new tensor each call).
        const prepared = H.derived(this, 'output-projection', () => tf.tidy(() => {
          const own = H.ownData;
          const kernel = this.attentionOutput.kernel.read();
          const bias = this.attentionOutput.bias;
          return {kernel: own(tf.reshape(kernel, [out.shape[1], -1])),
            bias: bias ? own(tf.reshape(bias.read(), [-1])) : null};
        }));
        out = prepared.bias ? tf.fused.matMul({a: out, b: prepared.kernel, bias: prepared.bias})
          : tf.matMul(out, prepared.kernel);
      }
      const outDims = this.outputDims || [query.shape[query.shape.length - 1]];
      return tf.reshape(out, [B, ...tDims, ...outDims]);
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
