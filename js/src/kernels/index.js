// webnets' WebAssembly kernels for TF.js's `wasm` backend (tfjs-backend-wasm 4.22), from js/wasm/kernels.c.
//
// registerWebnetsKernels(tf):
// - replaces the wasm backend's BatchMatMul with a SIMD128 GEMM (batch-matmul.js) and its Concat with a
//   copy in WebAssembly (concat.js); each falls back to the stock kernel, kept from before registration,
//   for what it does not cover;
// - registers two fused kernels TF.js has no equivalent of, WebnetsAttention (attention.js) and
//   WebnetsLayerNorm (layer-norm.js), which webnets' layers call at inference through registry.js, and
//   compose TF.js ops otherwise (other backends, gradient tapes, shapes not covered).
// Nothing runs before the module is instantiated against the backend's memory (instance.js), nor on an
// engine without WebAssembly SIMD: the stock kernels and the composed ops keep running there.
import {ATTENTION, makeAttention, makeAttentionCall} from './attention.js';
import {makeBatchMatMul} from './batch-matmul.js';
import {makeConcat} from './concat.js';
import {instantiate, liveEntry} from './instance.js';
import {LAYER_NORM, makeLayerNorm, makeLayerNormCall} from './layer-norm.js';

export {backendMemory} from './instance.js';
export {webnetsKernel} from './registry.js';

const BACKEND = 'wasm';

/**
 * Calls served per kernel: `webnets` by webnets' kernel, `stock` by TF.js's (replaced kernels), `refused`
 * (fused kernels) where the layer composed TF.js ops instead. For tests and profiles.
 */
export const webnetsKernelStats = {
  BatchMatMul: {webnets: 0, stock: 0},
  Concat: {webnets: 0, stock: 0},
  [ATTENTION]: {webnets: 0, refused: 0},
  [LAYER_NORM]: {webnets: 0, refused: 0},
};

// Stock kernels replaced by webnets' (name -> factory of the replacement).
const REPLACED = {BatchMatMul: makeBatchMatMul, Concat: makeConcat};
// Kernels of webnets' own, with the call the layers make (registry.js).
const FUSED = {
  [ATTENTION]: {make: (stats) => makeAttention(stats).kernelFunc, call: makeAttentionCall},
  [LAYER_NORM]: {make: makeLayerNorm, call: makeLayerNormCall},
};

// The stock kernel configs, per tf instance (a page may hold two copies of TF.js).
const stockKernels = new WeakMap();

/**
 * Registers webnets' kernels for the `wasm` backend of `tf` (which must have imported
 * @tensorflow/tfjs-backend-wasm). Safe to call more than once. Resolves to true once the kernels run
 * on the current wasm backend; false when the wasm backend is not active yet (they start when it is),
 * not registered, or lacks WebAssembly SIMD (the stock kernels keep running).
 */
export async function registerWebnetsKernels(tf) {
  if (!stockKernels.has(tf)) {
    const stock = {};
    for (const name of Object.keys(REPLACED)) {
      stock[name] = tf.getKernel(name, BACKEND);
      if (!stock[name]) return false;
    }
    stockKernels.set(tf, stock);
    for (const [name, make] of Object.entries(REPLACED)) {
      const kept = stock[name];
      tf.unregisterKernel(name, BACKEND);
      tf.registerKernel({
        kernelName: name,
        backendName: BACKEND,
        // The engine runs setup functions when the backend is set: the stock kernel's (its cwrap) must
        // still run, since unhandled cases call it; ours starts instantiating against the new backend.
        setupFunc: (backend) => {
          if (kept.setupFunc) kept.setupFunc(backend);
          instantiate(tf, backend);
        },
        disposeFunc: kept.disposeFunc,
        kernelFunc: make(tf, kept, webnetsKernelStats[name]),
      });
    }
    for (const [name, {make, call}] of Object.entries(FUSED)) {
      if (tf.getKernel(name, BACKEND)) tf.unregisterKernel(name, BACKEND);  // another copy's
      tf.registerKernel({kernelName: name, backendName: BACKEND, kernelFunc: make(webnetsKernelStats[name]),
        setupFunc: (backend) => { instantiate(tf, backend); },
        webnetsCall: call(tf, webnetsKernelStats[name])});
    }
  }
  await tf.ready();
  if (tf.getBackend() !== BACKEND) return false;
  return instantiate(tf, tf.backend());
}

/** Puts the stock kernels back and removes the fused ones (the module instance is kept). */
export function unregisterWebnetsKernels(tf) {
  const stock = stockKernels.get(tf);
  if (!stock) return false;
  for (const [name, config] of Object.entries(stock)) {
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel(config);
  }
  for (const name of Object.keys(FUSED)) if (tf.getKernel(name, BACKEND)) tf.unregisterKernel(name, BACKEND);
  stockKernels.delete(tf);
  return true;
}

/** Which binary runs on `backend` ('plain' or 'threaded'), or null while the stock kernels run. */
export function webnetsKernelVariant(backend) {
  const entry = liveEntry(backend);
  return entry ? entry.variant : null;
}
