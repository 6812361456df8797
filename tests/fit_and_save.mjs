// Train a layers model a few SGD steps in TF.js (Node), then save it the way a page's
// model.save('downloads://...') would: model.json + weights.bin, for tests/test_import.py.
//   node fit_and_save.mjs request.json
// request: {"dir", "backend", "lr", "steps", "loss", "inputs": [{path, shape, dtype}],
//           "targets": [...], "out"}; writes out/model.json + out/weights.bin.
import fs from 'node:fs';
import path from 'node:path';
import {fitFromRequest, loadModel, startRequest, tf} from './tfjs_node.mjs';

const request = await startRequest('cpu');
const model = await loadModel(request.dir);
await fitFromRequest(model, request, request.steps || 3);

// What the browser's downloads:// handler writes, to a directory instead.
await model.save(tf.io.withSaveHandler(async (artifacts) => {
  fs.mkdirSync(request.out, {recursive: true});
  const data = tf.io.CompositeArrayBuffer.join(artifacts.weightData);
  fs.writeFileSync(path.join(request.out, 'weights.bin'), Buffer.from(data));
  const json = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: [{paths: ['weights.bin'], weights: artifacts.weightSpecs}],
  };
  if (artifacts.trainingConfig != null) json.trainingConfig = artifacts.trainingConfig;
  fs.writeFileSync(path.join(request.out, 'model.json'), JSON.stringify(json));
  return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
}));
