// WebnetsAttention: softmax(Q·Kᵀ·scale, masked)·V for every batch and head in one WebAssembly call
// (webnets_attention in js/wasm/kernels.c), for WebnetsMultiHeadAttention / GroupedQueryAttention at
// inference. TF.js composes the same from about 15 kernels (4 transposes, 2 batched matmuls on the
// scalar loop, the mask arithmetic, softmax), each with its allocation and bookkeeping.
//
// Inputs: q, k, v, each a float32 tensor whose last axis is a row (rank 2: [batch * length, width]);
// the heads are read where a dense projection writes them, row r of q holding head n's query at
// columns qColumn + n*keyDim ..., so q, k and v may be one tensor (the query, key and value projections
// of self-attention computed side by side) at different columns. Optional `mask`: float32 of rank 4
// broadcasting to [batch, heads, T, S] (each axis 1 or full); maskMode 'keep' hides scores where it is
// 0 (they become -1e9, as the layer's replaceMasked does), 'additive' adds it to the scaled scores.
// Attrs: batch, heads, kvHeads (query head n reads key/value head floor(n / (heads / kvHeads))),
// keyDim, valueDim, qColumn, kColumn, vColumn, scale, maskMode, causal (hide j > i), window (> 0: hide
// |i - j| >= window), zeroMasked (hidden probabilities zeroed after the softmax).
// Output: [batch * T, heads * valueDim], head n's values at columns n*valueDim (what the output
// projection reads). No gradient is registered: webnetsCall refuses while a tape records.
import {addressOf, liveEntry, product, scratch} from './instance.js';

export const ATTENTION = 'WebnetsAttention';

const MODES = {none: 0, keep: 1, additive: 2};

// The geometry of a call, or null when webnets' kernel does not take it.
function geometry(inputs, attrs) {
  const {q, k, v, mask} = inputs;
  const {batch: B, heads: N, kvHeads: KV, keyDim: K, valueDim: V} = attrs;
  const qColumn = attrs.qColumn || 0, kColumn = attrs.kColumn || 0, vColumn = attrs.vColumn || 0;
  if ([q, k, v].some((t) => t.dtype !== 'float32' || t.shape.length < 2)) return null;
  if (!(B > 0 && N > 0 && KV > 0 && K > 0 && V > 0) || N % KV !== 0) return null;
  const width = (t) => t.shape[t.shape.length - 1];
  const rows = (t) => product(t.shape) / width(t);
  const T = rows(q) / B, S = rows(k) / B;
  if (!Number.isInteger(T) || !Number.isInteger(S) || T === 0 || S === 0 || rows(v) !== rows(k)) return null;
  if (qColumn + N * K > width(q) || kColumn + KV * K > width(k) || vColumn + KV * V > width(v)) return null;
  const mode = MODES[attrs.maskMode || (mask ? 'keep' : 'none')];
  if (mode == null || (mode !== 0) !== !!mask) return null;
  let strides = [0, 0, 0, 0];
  if (mask) {
    const full = [B, N, T, S];
    if (mask.dtype !== 'float32' || mask.shape.length !== 4 || mask.shape.some((d, i) => d !== 1 && d !== full[i])) return null;
    let step = 1;
    strides = [0, 0, 0, 0];
    for (let i = 3; i >= 0; i--) {
      strides[i] = mask.shape[i] === 1 ? 0 : step;
      step *= mask.shape[i];
    }
  }
  return {B, N, KV, K, V, T, S, qColumn, kColumn, vColumn, mode, strides, widths: [width(q), width(k), width(v)]};
}

export function makeAttention(stats) {
  function kernelFunc({inputs, backend, attrs}) {
    const g = geometry(inputs, attrs);
    const entry = liveEntry(backend);
    if (!g || !entry) throw new Error(`${ATTENTION}: called on a case it does not cover; call it through webnetsCall`);
    const {exports} = entry;
    const out = backend.makeOutput([g.B * g.T, g.N * g.V], 'float32');
    const work = scratch(entry, backend, exports.webnets_attention_scratch_floats(g.T, g.S, g.K, g.V) * 4);
    const at = (t, column) => addressOf(backend, t) + column * 4;
    const {q, k, v, mask} = inputs;
    exports.webnets_attention(at(q, g.qColumn), at(k, g.kColumn), at(v, g.vColumn), addressOf(backend, out),
      g.widths[0], g.widths[1], g.widths[2], g.N * g.V, g.B, g.N, g.KV, g.T, g.S, g.K, g.V,
      attrs.scale == null ? 1 : attrs.scale, mask ? addressOf(backend, mask) : 0, g.mode, ...g.strides,
      attrs.causal ? 1 : 0, attrs.window > 0 ? attrs.window : 0, attrs.zeroMasked ? 1 : 0, work);
    stats.webnets++;
    return out;
  }
  return {kernelFunc, geometry};
}

// The call the layers make (see registry.js): the kernel through the engine (so tf.tidy tracks the
// result and tf.profile lists it), or null for what it does not cover.
export function makeAttentionCall(tf, stats) {
  return function webnetsAttention(inputs, attrs) {
    const engine = tf.engine();
    if (engine.isTapeOn() || !liveEntry(tf.backend()) || !geometry(inputs, attrs)) {
      stats.refused++;
      return null;
    }
    const named = {q: inputs.q, k: inputs.k, v: inputs.v};
    if (inputs.mask) named.mask = inputs.mask;
    return engine.runKernel(ATTENTION, named, attrs);
  };
}
