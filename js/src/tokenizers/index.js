// keras-hub's tokenizers in JavaScript, and the TF.js layers that run them (WebnetsTokenizer, the packers).
// The classic script exporter/runtime/webnets-tokenizers.js is built from these modules by js/build.mjs
// (entry js/src/entries/tokenizers-script.js).
import {defineLayers} from './layers.js';
import {definePackers} from './packers.js';
import {fail} from './util.js';
import {SPEC_FORMAT, VERSION, tokenizer} from './tokenizer.js';

// Registers the layer classes on `tf` (as webnets-layers.js does) and returns their class names.
function register(tf) {
  if (!tf || !tf.layers || !tf.serialization) {
    fail('register(tf) needs the TensorFlow.js module (@tensorflow/tfjs); in a page, load tf.min.js first.');
  }
  const classes = defineLayers(tf).concat(definePackers(tf));
  for (const cls of classes) tf.serialization.registerClass(cls);
  return classes.map((cls) => cls.className);
}

export {tokenizer, register, VERSION, SPEC_FORMAT};
