// The ES module build (dist/webnets.mjs): `import webnets from 'webnets'` or `import {load} from 'webnets'`.
// TensorFlow.js is the application's own copy (a peer dependency), so webnets' classes register on the
// very tf the application uses. Backends beyond WebGL and CPU come from their own packages: import
// '@tensorflow/tfjs-backend-webgpu' or '@tensorflow/tfjs-backend-wasm' to make them available.
import * as tf from '@tensorflow/tfjs';
import {createWebnets} from '../index.js';

const webnets = createWebnets(tf);
export default webnets;
export const {load, cache, predict, tokenizer, selectBackend, compileRunner, defaults, classes} = webnets;
export {VERSION, createWebnets} from '../index.js';
export {WebnetsLoadError} from '../loader/errors.js';
export {tf};
