// webnets' own TF.js layer classes: register(tf) puts every class of the sections (one module each) on
// a tf, predict(model, inputs) runs an exported model. The classic script exporter/runtime/webnets-layers.js
// is built from these modules by js/build.mjs (entry js/src/entries/layers-script.js).
import {helpers} from './helpers.js';
import {defineActivations} from './activations.js';
import {defineAttention} from './attention.js';
import {defineConvolution} from './convolution.js';
import {defineEinsum} from './einsum.js';
import {defineEmbedding} from './embedding.js';
import {defineImagePreprocessing} from './image-preprocessing.js';
import {defineNormalization} from './normalization.js';
import {defineOperation} from './operation.js';
import {definePooling} from './pooling.js';
import {definePositions} from './positions.js';
import {defineRecurrent} from './recurrent.js';
import {defineResizing} from './resizing.js';
import {defineSignal} from './signal.js';
import {defineText} from './text.js';
import {predict, rememberTf} from './predict.js';

const VERSION = '1';

const SECTIONS = [defineAttention, defineConvolution, defineEinsum, defineEmbedding, defineImagePreprocessing,
  defineNormalization, defineOperation, definePooling, definePositions, defineRecurrent, defineResizing, defineSignal,
  defineText];

// Registers every class on `tf` and returns their class names. Registering again (another
// export's copy) replaces the classes, as tf.serialization.registerClass does for one name.
function register(tf) {
  if (!tf || !tf.layers || !tf.serialization) {
    throw new Error('webnets-layers.js: register(tf) needs the TensorFlow.js module (@tensorflow/tfjs); '
      + 'in a page, load tf.min.js before webnets-layers.js.');
  }
  const H = helpers(tf);
  const classes = [...SECTIONS.flatMap((define) => define(tf, H)), ...defineActivations(tf)];
  for (const cls of classes) tf.serialization.registerClass(cls);
  rememberTf(tf);
  return classes.map((cls) => cls.className);
}

export {register, predict, VERSION};
