// WebnetsLayerNorm: (x - mean) / sqrt(var + epsilon) [* gamma] [+ beta] over the last axis in one
// WebAssembly call (webnets_layer_norm in js/wasm/kernels.c), for WebnetsLayerNormalization at
// inference; TF.js has no such kernel and composes it from about 9 (Mean, Sub, Square, Mean, Add,
// Rsqrt, Mul, Mul, Add). rms: x / sqrt(var + epsilon) [* gamma] (Keras 3.15's rms_scaling; no beta).
// Inputs x (float32), optional gamma and beta (float32, as many elements as x's last axis).
// Attrs: epsilon, rms. No gradient is registered: webnetsCall refuses while a tape records.
import {addressOf, liveEntry, product} from './instance.js';

export const LAYER_NORM = 'WebnetsLayerNorm';

function covers({x, gamma, beta}) {
  if (!x || x.dtype !== 'float32' || x.shape.length < 1) return false;
  const cols = x.shape[x.shape.length - 1];
  if (cols === 0 || product(x.shape) === 0) return false;
  return [gamma, beta].every((p) => p == null || (p.dtype === 'float32' && product(p.shape) === cols));
}

export function makeLayerNorm(stats) {
  return function kernelFunc({inputs, backend, attrs}) {
    const entry = liveEntry(backend);
    if (!covers(inputs) || !entry) throw new Error(`${LAYER_NORM}: called on a case it does not cover; call it through webnetsCall`);
    const {x, gamma, beta} = inputs;
    const cols = x.shape[x.shape.length - 1];
    const out = backend.makeOutput(x.shape, 'float32');
    entry.exports.webnets_layer_norm(addressOf(backend, x), gamma ? addressOf(backend, gamma) : 0,
      beta ? addressOf(backend, beta) : 0, addressOf(backend, out), product(x.shape) / cols, cols, attrs.epsilon,
      gamma ? 1 : 0, beta ? 1 : 0, attrs.rms ? 1 : 0);
    stats.webnets++;
    return out;
  };
}

export function makeLayerNormCall(tf, stats) {
  return function webnetsLayerNorm(inputs, attrs) {
    const engine = tf.engine();
    if (engine.isTapeOn() || !liveEntry(tf.backend()) || !covers(inputs)) {
      stats.refused++;
      return null;
    }
    const named = {x: inputs.x};
    if (inputs.gamma) named.gamma = inputs.gamma;
    if (inputs.beta) named.beta = inputs.beta;
    return engine.runKernel(LAYER_NORM, named, attrs);
  };
}
