// ---- Operation: a keras.ops call on symbolic tensors in a Functional graph ----
export function defineOperation(tf, H) {
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
