// The webnets module (js/wasm/kernels.c) instantiated against a TF.js wasm backend's own memory.
//
// The module imports the backend's WebAssembly.Memory and reads and writes tensors in place: inputs at
// `backend.dataIdMap.get(dataId).memoryOffset`, outputs allocated by `backend.makeOutput` like any TF.js
// kernel's, scratch from the backend's `_malloc`. TF.js's single-threaded builds export their memory
// (`Module.asm.memory`, unshared); the threaded-SIMD build creates a shared one (`Module.wasmMemory`),
// which a module can import only if it declares shared memory, hence the second binary
// (kernels-threaded.wasm, built with atomics). Both run on the calling thread.
import {bytesFromBase64} from '../base64.js';
import {kernelsThreadedWasm, kernelsWasm} from './wasm-binary.js';

// The module compiled once per binary; instantiated once per backend instance (per memory).
const compiled = {};
const instances = new WeakMap();

// The backend's WebAssembly.Memory: exported by the single-threaded builds, created in JavaScript
// (and kept on the Emscripten module) by the threaded one.
export function backendMemory(backend) {
  const module = backend && backend.wasm;
  if (!module) return null;
  const memory = module.wasmMemory || (module.asm && module.asm.memory);
  return memory instanceof WebAssembly.Memory ? memory : null;
}

function isShared(memory) {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

// Instantiates the module against the backend's memory, asynchronously: Chrome refuses synchronous
// compilation and instantiation of modules over 4 KiB on the main thread. Until it resolves, kernels
// fall back to TF.js's own. Resolves to whether the module runs.
export function instantiate(tf, backend) {
  let entry = instances.get(backend);
  if (entry) return entry.ready;
  entry = {exports: null, scratch: 0, scratchBytes: 0, ready: null};
  instances.set(backend, entry);
  entry.ready = (async () => {
    if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) return false;
    const memory = backendMemory(backend);
    if (!memory) return false;
    const name = isShared(memory) ? 'threaded' : 'plain';
    if (!compiled[name]) compiled[name] = WebAssembly.compile(bytesFromBase64(name === 'threaded' ? kernelsThreadedWasm : kernelsWasm));
    const instance = await WebAssembly.instantiate(await compiled[name], {env: {memory}});
    entry.exports = instance.exports;
    entry.variant = name;
    return true;
  })().catch((error) => {
    entry.error = error;
    return false;
  });
  return entry.ready;
}

/** The instance entry ({exports, variant, ...}) running on `backend`, or null (not yet, or never). */
export function liveEntry(backend) {
  const entry = instances.get(backend);
  return entry && entry.exports ? entry : null;
}

/** Whether instantiation was started for `backend`. */
export function started(backend) {
  return instances.has(backend);
}

// Scratch from the backend's heap, kept between calls (every kernel runs synchronously on one thread,
// so they share it) and grown when a call needs more.
export function scratch(entry, backend, bytes) {
  if (entry.scratchBytes < bytes) {
    if (entry.scratch) backend.wasm._free(entry.scratch);
    entry.scratch = backend.wasm._malloc(bytes) >>> 0;
    entry.scratchBytes = bytes;
  }
  return entry.scratch;
}

/** Byte address of a tensor's data in the backend's memory. */
export const addressOf = (backend, t) => backend.dataIdMap.get(t.dataId).memoryOffset >>> 0;

export function product(shape) {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
