// BatchMatMul through webnets' SIMD GEMM (webnets_batch_matmul in js/wasm/kernels.c).
//
// The stock kernel uses XNNPACK only for untransposed, batch-1 products and a scalar C++ loop for
// everything else: attention's Q·Kᵀ and P·V, and every matmul of a gradient. This one covers float32
// products with a transpose or a batch: batches shared, or broadcast from one side ([1] or [3] against
// [2,3]). The rest goes to the stock kernel: untransposed single products (XNNPACK there, with weights
// packed once and cached), other dtypes, broadcasts that do not flatten to one batch dimension
// ([2,1] x [1,3]), empty tensors, and calls made before the module is instantiated.
// BatchMatMul's gradient is made of BatchMatMuls, so gradients go through this kernel too.
import {addressOf, instantiate, liveEntry, product, scratch, started} from './instance.js';

// Whether batch index `bi % product(side)` is the broadcast of `side` against `outer`: true when
// `side`, left-padded with 1s, is 1s followed by exactly `outer`'s trailing dims ([3] or [1, 3] against
// [2, 3]); false for [2, 1] against [2, 3], which no single modulo expresses.
function flatBroadcast(side, outer) {
  const padded = [...new Array(outer.length - side.length).fill(1), ...side];
  let i = 0;
  while (i < padded.length && padded[i] === 1) i++;
  for (; i < padded.length; i++) if (padded[i] !== outer[i]) return false;
  return true;
}

export function makeBatchMatMul(tf, stock, stats) {
  const fallback = (args) => {
    stats.stock++;
    return stock.kernelFunc(args);
  };
  return function batchMatMul(args) {
    const {inputs, backend, attrs} = args;
    const {a, b} = inputs;
    const entry = liveEntry(backend);
    if (!entry) {
      if (!started(backend)) instantiate(tf, backend);
      return fallback(args);
    }
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) {
      return fallback(args);
    }
    const transposeA = !!attrs.transposeA;
    const transposeB = !!attrs.transposeB;
    const ra = a.shape.length;
    const rb = b.shape.length;
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const ka = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const outerA = a.shape.slice(0, -2);
    const outerB = b.shape.slice(0, -2);
    let outer;
    try {
      outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
    } catch {
      return fallback(args); // the stock kernel raises TF.js's own message
    }
    const batch = product(outer);
    // Untransposed single products go to XNNPACK in the stock kernel, with its packed weights cached
    // on B's tensor id; measured faster than repacking here for the dense-layer shapes (bench.mjs).
    if (!transposeA && !transposeB && batch === 1) return fallback(args);
    // One flat batch loop covers equal batches and broadcasts of trailing batch dims; [2,1] x [1,3]
    // does not flatten.
    const flat = flatBroadcast(outerA, outer) && flatBroadcast(outerB, outer);
    if (ka !== kb || !flat || m * n * ka * batch === 0) return fallback(args);

    const out = backend.makeOutput([...outer, m, n], 'float32');
    const {exports} = entry;
    const work = scratch(entry, backend, exports.webnets_gemm_scratch_floats(m, n, ka) * 4);
    exports.webnets_batch_matmul(addressOf(backend, a), addressOf(backend, b), addressOf(backend, out), batch,
      product(outerA), product(outerB), m, n, ka, transposeA ? 1 : 0, transposeB ? 1 : 0, work);
    stats.webnets++;
    return out;
  };
}
