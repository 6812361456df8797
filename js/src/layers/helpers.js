// Helpers every section may use.
export function helpers(tf) {
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

  // A copy of `t` (reshaped to `shape`) with data of its own, not a view of the weight it came from:
  // WASM's fused matMul takes a bias whose data is rank 1, and packs a kernel once per tensor. On the
  // CPU-side backends it is read out and uploaded again; on WebGL and WebGPU a kernel copies it on the
  // GPU, since a synchronous read-back there stalls the page (and on WebGPU under SwiftShader it broke
  // the next asynchronous read: "A valid external Instance reference no longer exists").
  function ownData(t, shape = t.shape) {
    const backend = tf.getBackend();
    if (backend === 'wasm' || backend === 'cpu') return tf.tensor(t.dataSync(), shape, t.dtype);
    return tf.mul(tf.reshape(t, shape), tf.scalar(1, t.dtype));
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

  return {one, oneShape, onceForSameInputs, camel, normalize, fromSpec, toSpec, recording, derived, ownData, matMul2d, einsum,
    moveAxes, encode, encodedShape};
}
