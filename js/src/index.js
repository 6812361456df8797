// The webnets package: webnets' TF.js layer classes, its tokenizers, the runner and the loader, bound to
// one TensorFlow.js module. createWebnets(tf) registers every webnets class on that tf at once, so a
// model that names one always finds it (no script tag to forget), and returns the API:
//   load(source, options)   a model by name@version from a CDN, by model.json URL, or from files
//   cache.list() / clear()  the models kept in the Cache API
//   predict(model, inputs)  any layers model, string inputs included
//   tokenizer(spec)         keras-hub's tokenizers in JavaScript
//   selectBackend(order)    WebGPU -> WebGL -> WASM -> CPU, proven
//   compileRunner(model)    the fast inference path for a layers model
//   kernels                 webnets' WebAssembly kernels for TF.js's wasm backend (js/wasm/)
import * as layers from './layers/index.js';
import * as tokenizers from './tokenizers/index.js';
import {compileRunner} from './runner.js';
import {registerWebnetsKernels, unregisterWebnetsKernels, webnetsKernelStats} from './kernels/index.js';
import * as cache from './loader/cache.js';
import {DEFAULT_ORDER, selectBackend, tryBackend} from './backends/select.js';
import {repairWebGPU} from './backends/webgpu-repairs.js';
import {WebnetsLoadError} from './loader/errors.js';
import {createLoader, relativeError} from './loader/load.js';

// The package's version (js/package.json), set by js/build.mjs.
export const VERSION = typeof __WEBNETS_VERSION__ !== 'undefined' ? __WEBNETS_VERSION__ : '0.0.0-dev';

export function createWebnets(tf) {
  if (!tf || !tf.layers || !tf.serialization) {
    throw new Error('webnets needs the TensorFlow.js module (@tensorflow/tfjs 4.22): in a page, load tf.min.js '
      + 'before webnets.js; in a bundle, import webnets (it imports @tensorflow/tfjs itself).');
  }
  const classes = [...layers.register(tf), ...tokenizers.register(tf)];
  // Options every load() starts from; a page sets defaults.base once for its CDN.
  const defaults = {base: null};
  const predict = (model, inputs) => layers.predict(model, inputs);
  const runner = (model) => compileRunner(tf, model);
  // On the wasm backend webnets' own kernels replace TF.js's where they are faster (BatchMatMul: a SIMD
  // GEMM instead of a scalar loop for transposed and batched products). They are registered once the
  // backend runs, not at import: registering waits for tf.ready(), which would start a backend early.
  const select = async (order) => {
    const chosen = await selectBackend(tf, order);
    if (chosen.name === 'wasm') chosen.kernels = await registerWebnetsKernels(tf) ? 'webnets' : 'stock';
    return chosen;
  };
  return {
    VERSION, tf, classes, defaults,
    load: createLoader(tf, {predict, selectBackend: select, compileRunner: runner, defaults, packageVersion: VERSION}),
    cache: {list: cache.list, clear: cache.clear},
    predict,
    tokenizer: tokenizers.tokenizer,
    selectBackend: select,
    tryBackend: (name) => tryBackend(tf, name),
    kernels: {register: () => registerWebnetsKernels(tf), unregister: () => unregisterWebnetsKernels(tf),
              stats: webnetsKernelStats},
    backendOrder: DEFAULT_ORDER,
    repairWebGPU: (backend) => repairWebGPU(tf, backend),
    relativeError,
    compileRunner: runner,
    WebnetsLoadError,
  };
}
