// Parity of webnets' fused wasm kernels (WebnetsAttention, WebnetsLayerNorm) and of its Concat against
// TF.js's own kernels; run by parity.mjs in its Node process (tests/test_wasm_kernels.py asserts on it).
// Each case runs three ways: webnets' kernels registered on wasm, the same on TF.js's cpu backend (the
// reference: composed ops there), and on wasm with webnets' kernels unregistered (the stock kernels).
// Compared as max |difference| / max |reference|.
import {register as registerLayers} from '../src/layers/index.js';
import {registerWebnetsKernels, unregisterWebnetsKernels, webnetsKernel, webnetsKernelStats} from '../src/kernels/index.js';

export function compare(got, want) {
  let diff = 0;
  let scale = 0;
  let finite = true;
  for (let i = 0; i < want.length; i++) {
    if (!Number.isFinite(got[i])) finite = false;
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return {maxAbsDiff: diff, rel: diff / (scale || 1), sameLength: got.length === want.length, finite};
}

// Every gradient of a layer against the largest of them: the key bias' gradient is 0 in exact
// arithmetic (softmax ignores a shift of every score of a row), so alone it compares rounding noise.
function compareAll(got, want) {
  const flat = (list) => Float32Array.from(list.flatMap((g) => Array.from(g)));
  return compare(flat(got), flat(want));
}

const size = (shape) => shape.reduce((x, y) => x * y, 1);
const counts = (name) => ({...webnetsKernelStats[name]});
const delta = (name, before) => Object.fromEntries(Object.entries(webnetsKernelStats[name]).map(([k, v]) => [k, v - before[k]]));

// ---- attention: the kernel against the same computation composed from TF.js ops ----

// softmax(mask(Q Kᵀ scale)) V from ops, in the kernel's conventions (see js/src/kernels/attention.js),
// with the layer's masking: hidden scores become exactly -1e9 (scores * keep + (keep - 1) * 1e9).
function composedAttention(tf, {q, k, v, mask}, a) {
  return tf.tidy(() => {
    const {batch: B, heads: N, kvHeads: KV, keyDim: K, valueDim: V} = a;
    const rows = (t) => size(t.shape) / t.shape[t.shape.length - 1];
    const T = rows(q) / B, S = rows(k) / B;
    const columns = (t, at, width) => tf.slice(tf.reshape(t, [rows(t), -1]), [0, at], [-1, width]);
    const split = (t, at, len, n, d) => tf.transpose(tf.reshape(columns(t, at, n * d), [B, len, n, d]), [0, 2, 1, 3]);
    const group = Int32Array.from({length: N}, (_, n) => Math.floor(n / (N / KV)));
    const qh = split(q, a.qColumn || 0, T, N, K);
    const kh = tf.gather(split(k, a.kColumn || 0, S, KV, K), group, 1);
    const vh = tf.gather(split(v, a.vColumn || 0, S, KV, V), group, 1);
    let scores = tf.mul(tf.matMul(qh, kh, false, true), a.scale == null ? 1 : a.scale);
    let keep = null;
    if (mask && a.maskMode === 'additive') scores = tf.add(scores, mask);
    if (mask && a.maskMode !== 'additive') keep = tf.cast(tf.notEqual(mask, 0), 'float32');
    if (a.causal || a.window > 0) {
      const band = new Float32Array(T * S);
      for (let i = 0; i < T; i++) for (let j = 0; j < S; j++) {
        band[i * S + j] = (a.causal && j > i) || (a.window > 0 && Math.abs(i - j) >= a.window) ? 0 : 1;
      }
      const b = tf.tensor(band, [1, 1, T, S]);
      keep = keep ? tf.mul(keep, b) : b;
    }
    if (keep) scores = tf.add(tf.mul(scores, keep), tf.mul(tf.sub(keep, 1), 1e9));
    let p = tf.softmax(scores, -1);
    if (keep && a.zeroMasked) p = tf.mul(p, keep);
    return tf.reshape(tf.transpose(tf.matMul(p, vh), [0, 2, 1, 3]), [B * T, N * V]);
  });
}

function attentionCases(rand, pick) {
  const ODD = [1, 3, 17, 63, 130];
  const DIMS = [1, 3, 16, 17, 64];
  const MASKS = ['none', 'value', 'query', 'full', 'band', 'heads', 'additive'];
  const cases = [];
  for (let c = 0; c < 42; c++) {
    const B = pick([1, 2, 3]);
    const KV = pick([1, 2, 3]);
    const N = KV * pick([1, 2, 4]);
    // Every odd length as T and as S, then random; joint (q, k, v one tensor) needs T = S.
    const T = c < 5 ? ODD[c] : pick(ODD);
    const S = c >= 5 && c < 10 ? ODD[c - 5] : (c % 3 === 0 ? T : pick(ODD));
    const K = c < 5 ? DIMS[c] : pick(DIMS);
    const V = c >= 10 && c < 15 ? DIMS[c - 10] : pick(DIMS);
    const mask = MASKS[c % MASKS.length];
    cases.push({B, N, KV, T, S, K, V, mask, joint: T === S && c % 2 === 0,
      causal: c % 4 === 1, window: c % 5 === 2 ? 1 + Math.floor((rand() + 1) * 4) : 0,
      zeroMasked: c % 3 === 1, scale: c % 2 ? 1 : 0.125 + (rand() + 1) / 4});
  }
  return cases;
}

function makeAttentionData(c, fill) {
  const qWidth = c.N * c.K, kWidth = c.KV * c.K, vWidth = c.KV * c.V;
  const data = {};
  if (c.joint) {
    const pad = 2;  // columns before the projections, so no column offset is 0
    data.joint = {shape: [c.B * c.T, pad + qWidth + kWidth + vWidth], values: fill(c.B * c.T * (pad + qWidth + kWidth + vWidth))};
    data.columns = {qColumn: pad, kColumn: pad + qWidth, vColumn: pad + qWidth + kWidth};
  } else {
    data.q = {shape: [c.B, c.T, qWidth], values: fill(c.B * c.T * qWidth)};
    data.k = {shape: [c.B * c.S, kWidth], values: fill(c.B * c.S * kWidth)};
    data.v = {shape: [c.B * c.S, vWidth], values: fill(c.B * c.S * vWidth)};
    data.columns = {};
  }
  const shapes = {value: [c.B, 1, 1, c.S], query: [c.B, 1, c.T, 1], full: [c.B, 1, c.T, c.S], band: [1, 1, c.T, c.S],
    heads: [c.B, c.N, c.T, c.S], additive: [c.B, 1, c.T, c.S]};
  if (c.mask !== 'none') {
    const shape = shapes[c.mask];
    const values = fill(size(shape)).map((x) => (c.mask === 'additive' ? 3 * x : (x < -0.4 ? 0 : 1)));
    // A fully hidden row (query mask 0), where Keras' softmax gives uniform weights (zeroMasked: zeros).
    if (c.mask === 'query' || c.mask === 'full') values.fill(0, 0, c.mask === 'query' ? 1 : c.S);
    data.mask = {shape, values};
  }
  return data;
}

function attentionOnce(tf, c, data, fused) {
  return tf.tidy(() => {
    const t = (d) => tf.tensor(d.values, d.shape);
    const joint = data.joint ? t(data.joint) : null;
    const inputs = {q: joint || t(data.q), k: joint || t(data.k), v: joint || t(data.v), mask: data.mask ? t(data.mask) : undefined};
    const attrs = {batch: c.B, heads: c.N, kvHeads: c.KV, keyDim: c.K, valueDim: c.V, ...data.columns, scale: c.scale,
      maskMode: c.mask === 'none' ? 'none' : (c.mask === 'additive' ? 'additive' : 'keep'), causal: c.causal,
      window: c.window, zeroMasked: c.zeroMasked};
    const y = fused ? fused(inputs, attrs) : composedAttention(tf, inputs, attrs);
    return y ? {shape: y.shape, data: y.dataSync()} : null;
  });
}

// ---- layers: WebnetsMultiHeadAttention / GroupedQueryAttention / LayerNormalization ----

const layerClass = (tf, name) => tf.serialization.SerializationMap.getMap().classNameMap[name][0];

function layerCases() {
  const mha = 'WebnetsMultiHeadAttention';
  return [
    {id: 'self', cls: mha, config: {numHeads: 4, keyDim: 16, valueIndex: 0}, inputs: [[2, 17, 64]]},
    {id: 'self-causal', cls: mha, config: {numHeads: 3, keyDim: 5, valueIndex: 0, useCausalMask: true}, inputs: [[1, 63, 13]]},
    {id: 'cross-key', cls: mha, config: {numHeads: 2, keyDim: 7, valueDim: 9, valueIndex: 1, keyIndex: 2},
      inputs: [[3, 5, 11], [3, 9, 6], [3, 9, 4]]},
    {id: 'masks', cls: mha, config: {numHeads: 2, keyDim: 8, valueIndex: 1, queryMaskIndex: 2, valueMaskIndex: 3},
      inputs: [[2, 7, 16], [2, 10, 16], {mask: [2, 7]}, {mask: [2, 10]}]},
    {id: 'attention-mask-zero-masked', cls: mha, config: {numHeads: 2, keyDim: 4, valueIndex: 0, attentionMaskIndex: 1,
      zeroMasked: true}, inputs: [[2, 9, 8], {mask: [2, 9, 9]}]},
    {id: 'window-gate-output-dims', cls: mha, config: {numHeads: 2, keyDim: 6, valueIndex: 0, slidingWindow: 3,
      useGate: true, outputDims: [5]}, inputs: [[1, 12, 10]]},
    {id: 'rank4-no-bias', cls: mha, config: {numHeads: 2, keyDim: 3, valueIndex: 0, useBias: false}, inputs: [[2, 3, 5, 6]]},
    {id: 'dropout-at-inference', cls: mha, config: {numHeads: 2, keyDim: 4, valueIndex: 0, dropout: 0.5}, inputs: [[1, 6, 8]]},
    {id: 'gqa', cls: 'WebnetsGroupedQueryAttention', config: {numQueryHeads: 6, numKeyValueHeads: 2, headDim: 5,
      valueIndex: 0, useCausalMask: true}, inputs: [[2, 11, 12]]},
    // Not the kernel's: the probabilities are an output, so the ops run (no WebnetsAttention call).
    {id: 'scores-returned', cls: mha, config: {numHeads: 2, keyDim: 4, valueIndex: 0, returnAttentionScores: true},
      inputs: [[1, 5, 8]], fused: 0},
  ];
}

function layerNormCases() {
  const ln = 'WebnetsLayerNormalization';
  return [
    {id: 'ln-64', cls: ln, config: {epsilon: 1e-6}, inputs: [[2, 9, 64]]},
    {id: 'ln-odd-1', cls: ln, config: {}, inputs: [[5, 1]]},
    {id: 'ln-odd-3', cls: ln, config: {epsilon: 1e-5}, inputs: [[4, 3]]},
    {id: 'ln-odd-17-rank4', cls: ln, config: {}, inputs: [[2, 3, 4, 17]]},
    {id: 'ln-odd-63-no-center', cls: ln, config: {center: false}, inputs: [[7, 63]]},
    {id: 'ln-130-no-scale', cls: ln, config: {scale: false}, inputs: [[3, 130]]},
    {id: 'ln-plain', cls: ln, config: {scale: false, center: false}, inputs: [[2, 33]]},
    {id: 'ln-rms', cls: ln, config: {rmsScaling: true}, inputs: [[6, 31]]},
    {id: 'ln-768', cls: ln, config: {epsilon: 1e-12}, inputs: [[1, 5, 768]]},
    // Not the kernel's (not only the last axis): the ops run.
    {id: 'ln-axis-1', cls: ln, config: {axis: 1}, inputs: [[3, 5, 7]], fused: 0},
    {id: 'ln-two-axes', cls: ln, config: {axis: [-2, -1]}, inputs: [[3, 5, 7]], fused: 0},
  ];
}

// Inputs of a layer case: floats, or 0/1 masks ({mask: shape}, about a third hidden, row 0 all hidden).
function layerInputs(c, fill) {
  return c.inputs.map((spec) => {
    if (Array.isArray(spec)) return {shape: spec, values: fill(size(spec))};
    const values = fill(size(spec.mask)).map((x) => (x < -0.33 ? 0 : 1));
    values.fill(0, 0, spec.mask[spec.mask.length - 1]);
    return {shape: spec.mask, values};
  });
}

function applyLayer(tf, layer, data) {
  return tf.tidy(() => {
    const xs = data.map((d) => tf.tensor(d.values, d.shape));
    let y = layer.apply(xs.length === 1 ? xs[0] : xs);
    if (Array.isArray(y)) y = y[0];
    return {shape: y.shape, data: y.dataSync()};
  });
}

// Gradients of sum(layer(x) * w) for every weight and the first input, with the tape on: the layers
// compose TF.js ops there (no fused call) and must give the stock kernels' gradients.
function layerGrads(tf, layer, data) {
  return tf.tidy(() => {
    const xs = data.map((d) => tf.tensor(d.values, d.shape));
    const outOf = (x0) => {
      let y = layer.apply([x0, ...xs.slice(1)].length === 1 ? x0 : [x0, ...xs.slice(1)]);
      if (Array.isArray(y)) y = y[0];
      return tf.sum(tf.mul(y, tf.sin(tf.range(0, size(y.shape)).reshape(y.shape))));
    };
    const weights = layer.trainableWeights.map((w) => w.val);
    const {grads} = weights.length ? tf.variableGrads(() => outOf(xs[0]), weights) : {grads: {}};
    const dx = tf.grad(outOf)(xs[0]);
    return [...Object.keys(grads).sort().map((k) => grads[k].dataSync()), dx.dataSync()];
  });
}

// ---- Concat ----

function concatCases(pick) {
  const cases = [];
  const ODD = [1, 3, 17, 63, 130];
  for (let c = 0; c < 24; c++) {
    const rank = 1 + (c % 4);
    const base = Array.from({length: rank}, () => pick([1, 2, 3, 17, 5]));
    const axis = c % rank;
    const count = 2 + (c % 4);
    const shapes = Array.from({length: count}, (_, i) => base.map((d, a) => (a === axis ? (c % 7 === 3 && i === 1 ? 0 : pick(ODD)) : d)));
    cases.push({shapes, axis: c % 5 === 4 ? axis - rank : axis, dtype: c % 3 === 2 ? 'int32' : 'float32'});
  }
  return cases;
}

function concatOnce(tf, c, data) {
  return tf.tidy(() => {
    const y = tf.concat(data.map((d, i) => tf.tensor(d, c.shapes[i], c.dtype)), c.axis);
    return {shape: y.shape, data: y.dataSync()};
  });
}

export async function fusedParity(tf, rand) {
  const fill = (n) => Float32Array.from({length: n}, rand);
  const pick = (list) => list[Math.floor((rand() + 1) / 2 * list.length) % list.length];
  registerLayers(tf);
  await tf.setBackend('wasm');
  await registerWebnetsKernels(tf);
  const report = {};

  // Attention kernel cases.
  const aCases = attentionCases(rand, pick);
  const aData = aCases.map((c) => makeAttentionData(c, fill));
  const before = counts('WebnetsAttention');
  const fused = webnetsKernel(tf, 'WebnetsAttention');
  const mine = aCases.map((c, i) => attentionOnce(tf, c, aData[i], fused));
  const attentionCalls = delta('WebnetsAttention', before);
  unregisterWebnetsKernels(tf);
  const stock = aCases.map((c, i) => attentionOnce(tf, c, aData[i], null));
  await tf.setBackend('cpu');
  const cpuKernel = webnetsKernel(tf, 'WebnetsAttention');  // null: not on wasm
  const cpu = aCases.map((c, i) => attentionOnce(tf, c, aData[i], null));
  report.attention = {
    calls: attentionCalls, onCpu: cpuKernel,
    cases: aCases.map((c, i) => ({...c, shape: mine[i] && mine[i].shape, cpuShape: cpu[i].shape,
      ...(mine[i] ? compare(mine[i].data, cpu[i].data) : {rel: null}),
      relStock: mine[i] ? compare(mine[i].data, stock[i].data).rel : null})),
  };

  // Layers: registered on wasm, unregistered on wasm, cpu. One layer per case (weights built once on
  // wasm, then read on cpu: TF.js moves the data).
  await tf.setBackend('wasm');
  await registerWebnetsKernels(tf);
  const lCases = [...layerCases(), ...layerNormCases()];
  const layers = lCases.map((c) => new (layerClass(tf, c.cls))({...c.config}));
  const lData = lCases.map((c) => layerInputs(c, fill));
  const results = [];
  for (let i = 0; i < lCases.length; i++) {
    const name = lCases[i].cls === 'WebnetsLayerNormalization' ? 'WebnetsLayerNorm' : 'WebnetsAttention';
    const b = counts(name);
    applyLayer(tf, layers[i], lData[i]);  // builds the weights
    layers[i].setWeights(layers[i].getWeights().map((w) => tf.tensor(fill(size(w.shape)), w.shape)));
    const b2 = counts(name);
    const got = applyLayer(tf, layers[i], lData[i]);
    const calls = delta(name, b2);
    const g0 = counts(name);
    const grads = layerGrads(tf, layers[i], lData[i]);
    const gradCalls = delta(name, g0);
    results.push({got, calls, grads, gradCalls, buildCalls: b2[Object.keys(b2)[0]] - b[Object.keys(b)[0]]});
  }
  unregisterWebnetsKernels(tf);
  const lStock = lCases.map((c, i) => ({out: applyLayer(tf, layers[i], lData[i]), grads: layerGrads(tf, layers[i], lData[i])}));
  await tf.setBackend('cpu');
  const lCpu = lCases.map((c, i) => ({out: applyLayer(tf, layers[i], lData[i]), grads: layerGrads(tf, layers[i], lData[i])}));
  report.layers = lCases.map((c, i) => ({
    id: c.id, cls: c.cls, expectedFused: c.fused == null ? 1 : c.fused, calls: results[i].calls,
    gradCalls: results[i].gradCalls, shape: results[i].got.shape, cpuShape: lCpu[i].out.shape,
    ...compare(results[i].got.data, lCpu[i].out.data),
    relStock: compare(results[i].got.data, lStock[i].out.data).rel,
    gradRel: compareAll(results[i].grads, lCpu[i].grads).rel,
    gradRelStock: compareAll(results[i].grads, lStock[i].grads).rel,
    gradCount: results[i].grads.length,
  }));

  // Concat: exact (a copy), against cpu and the stock wasm kernel; bool goes to the stock kernel.
  await tf.setBackend('wasm');
  await registerWebnetsKernels(tf);
  const cCases = concatCases(pick);
  const cData = cCases.map((c) => c.shapes.map((s) => {
    const values = fill(size(s));
    return c.dtype === 'int32' ? Int32Array.from(values, (x) => Math.round(x * 1e6)) : values;
  }));
  const cb = counts('Concat');
  const cMine = cCases.map((c, i) => concatOnce(tf, c, cData[i]));
  const concatCalls = delta('Concat', cb);
  const bb = counts('Concat');
  const boolOut = tf.concat([tf.tensor([true, false], [1, 2], 'bool'), tf.tensor([false], [1, 1], 'bool')], 1).dataSync();
  const boolCalls = delta('Concat', bb);
  unregisterWebnetsKernels(tf);
  const cStock = cCases.map((c, i) => concatOnce(tf, c, cData[i]));
  await tf.setBackend('cpu');
  const cCpu = cCases.map((c, i) => concatOnce(tf, c, cData[i]));
  const exact = (x, y) => x.length === y.length && x.every((v, j) => Object.is(v, y[j]));
  report.concat = {
    calls: concatCalls, bool: {calls: boolCalls, values: Array.from(boolOut)},
    cases: cCases.map((c, i) => ({shapes: c.shapes, axis: c.axis, dtype: c.dtype, shape: cMine[i].shape,
      cpuShape: cCpu[i].shape, stockShape: cStock[i].shape, exactCpu: exact(cMine[i].data, cCpu[i].data),
      exactStock: exact(cMine[i].data, cStock[i].data),
      // a single non-empty input: the stock kernel returns it as it is
      single: c.shapes.filter((s) => size(s) > 0).length < 2})),
  };
  await tf.setBackend('wasm');
  return report;
}
