// webnets-layers.js' predict(model, inputs) on a raw-text model, for tests/test_builtin_text.py:
//   node tests/text_predict.mjs request.json   (request: {dir, texts, backend})
// Prints JSON: the outputs from a JS array of texts, from a rank-1 string tensor, and after a save and
// reload in TF.js (the config's hex-encoded strings survive tfjs' snake_case rewriting); and the errors
// of tfjs' own predict() on strings, of the helper on a number tensor, and of the layer itself.
import fs from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {loadModel, startRequest, tf} from './tfjs_node.mjs';

const request = await startRequest('wasm');
const webnets = createRequire(import.meta.url)(path.join(request.dir, 'webnets-layers.js'));
const model = await loadModel(request.dir);
const message = (run) => {
  try {
    run();
    return null;
  } catch (error) {
    return String(error.message || error);
  }
};
const result = {};
const y = webnets.predict(model, request.texts);
result.from_array = await y.array();
const t = tf.tensor(request.texts);
const z = webnets.predict(model, t);
result.from_tensor = await z.array();
result.tfjs_predict_error = message(() => model.predict(tf.tensor(request.texts.map((s) => [s]))));
result.helper_number_error = message(() => webnets.predict(model, tf.tensor([[1], [2]])));
result.layer_number_error = message(() => model.layers[1].apply(tf.tensor([[1], [2]])));
result.long_text_error = message(() => webnets.predict(model, ['x'.repeat((1 << 20) + 1)]));
let saved;
await model.save({save: async (artifacts) => { saved = artifacts; return {modelArtifactsInfo: {}}; }});
const reloaded = await tf.loadLayersModel({load: async () => saved});
const r = webnets.predict(reloaded, request.texts);
result.reloaded = await r.array();
fs.writeSync(1, JSON.stringify(result));
