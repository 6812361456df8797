// Picks the TF.js backend a model runs on: WebGPU, then WebGL, then WASM, then the plain CPU backend,
// or the order asked for. Each is proven with a tiny computation before it is trusted (a WebGL context
// can be created and still compute garbage on a blocklisted driver). The result says which one runs
// and why each one before it did not.

import {repairWebGPU} from './webgpu-repairs.js';

export const DEFAULT_ORDER = ['webgpu', 'webgl', 'wasm', 'cpu'];

const SCRIPT = {
  webgpu: "load tf-backend-webgpu.min.js after tf.min.js, or import '@tensorflow/tfjs-backend-webgpu'",
  wasm: "load tf-backend-wasm.min.js after tf.min.js, or import '@tensorflow/tfjs-backend-wasm'",
};

function unavailable(tf, name) {
  // Checked first: tfjs-backend-webgpu registers itself only where navigator.gpu exists, so without it the
  // backend is missing even with its script loaded.
  if (name === 'webgpu' && !(typeof navigator !== 'undefined' && navigator.gpu)) {
    return 'this browser exposes no WebGPU (navigator.gpu is missing: it needs a browser with WebGPU and a '
      + 'secure context, https:// or http://localhost)';
  }
  if (!tf.findBackendFactory(name) && !tf.findBackend(name)) {
    return `not included in this page (${SCRIPT[name] || `no backend called '${name}' is registered`})`;
  }
  return null;
}

async function works(tf, name) {
  if (!(await tf.setBackend(name))) return 'it could not be initialized';
  await tf.ready();
  if (name === 'webgpu') repairWebGPU(tf, tf.backend());
  const probe = tf.tidy(() => tf.tensor([1, 2, 3]).square().sum());
  const value = (await probe.data())[0];
  probe.dispose();
  return value === 14 ? null : `a test computation gave ${value} instead of 14`;
}

// Makes `name` tf's backend if it is there and computes right: null, or why not (WebGPU repaired on the way).
export async function tryBackend(tf, name) {
  const reason = unavailable(tf, name);
  if (reason != null) return reason;
  try {
    return await works(tf, name);
  } catch (error) {
    return String((error && error.message) || error);
  }
}

// order: a backend name, an array of them, or null for DEFAULT_ORDER. Resolves to
// {name, skipped: [{backend, reason}]}; throws when none works.
export async function selectBackend(tf, order = null) {
  const names = order == null ? DEFAULT_ORDER : (Array.isArray(order) ? order : [order]);
  const skipped = [];
  for (const name of names) {
    const reason = await tryBackend(tf, name);
    if (reason == null) return {name, skipped};
    skipped.push({backend: name, reason});
  }
  throw new Error('webnets.load: no TF.js backend works here ('
    + skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ') + '). Fix: include a backend that this browser '
    + "supports, or ask for one with {backend: 'cpu'}.");
}
