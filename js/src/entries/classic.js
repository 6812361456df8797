// The classic-script build (dist/webnets.js): <script src="tf.min.js"></script><script src="webnets.js">
// gives a global `webnets` bound to the global `tf`. A page opened from disk (file://) can use it: Chromium
// refuses ES modules there.
import {createWebnets} from '../index.js';

const tf = globalThis.tf;
if (!tf || !tf.layers) {
  throw new Error('webnets.js needs TensorFlow.js first: load tf.min.js (and any backend scripts) before webnets.js.');
}
// The tokenizers' classic script may have left a `webnets.tokenizer` hook here: the package provides it too.
globalThis.webnets = createWebnets(tf);
