// Concat of float32 / int32 tensors copied in WebAssembly (webnets_concat in js/wasm/kernels.c). The
// stock wasm kernel copies in JavaScript, a subarray and a set per row and input. The rest (bool,
// string, complex, a single non-empty input) goes to the stock kernel.
import {addressOf, backendMemory, instantiate, liveEntry, product, scratch, started} from './instance.js';

export function makeConcat(tf, stock, stats) {
  const fallback = (args) => {
    stats.stock++;
    return stock.kernelFunc(args);
  };
  return function concat(args) {
    const {inputs, backend, attrs} = args;
    const entry = liveEntry(backend);
    if (!entry) {
      if (!started(backend)) instantiate(tf, backend);
      return fallback(args);
    }
    const dtype = inputs[0].dtype;
    if ((dtype !== 'float32' && dtype !== 'int32') || inputs.some((t) => t.dtype !== dtype)) return fallback(args);
    const rank = inputs[0].shape.length;
    const axis = tf.util.parseAxisParam(attrs.axis, inputs[0].shape)[0];
    // Shapes must agree off the axis; the stock kernel raises TF.js's own message when they do not.
    if (inputs.some((t) => t.shape.length !== rank || t.shape.some((d, i) => i !== axis && d !== inputs[0].shape[i]))) {
      return fallback(args);
    }
    const present = inputs.filter((t) => product(t.shape) > 0);
    if (present.length < 2) return fallback(args);
    const outShape = inputs[0].shape.slice();
    outShape[axis] = inputs.reduce((n, t) => n + t.shape[axis], 0);
    const out = backend.makeOutput(outShape, dtype);
    const outer = product(outShape.slice(0, axis));
    const table = scratch(entry, backend, present.length * 8);
    // A view made after the malloc: the memory may have grown (a new buffer).
    const heap = new Int32Array(backendMemory(backend).buffer, table, present.length * 2);
    present.forEach((t, i) => {
      heap[2 * i] = addressOf(backend, t);
      heap[2 * i + 1] = product(t.shape.slice(axis));
    });
    entry.exports.webnets_concat(addressOf(backend, out), outer, present.length, table);
    stats.webnets++;
    return out;
  };
}
