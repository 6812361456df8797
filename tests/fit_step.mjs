// One SGD step of model.fit in TF.js (Node), for tests/fit_helper.py.
//   node fit_step.mjs request.json
// request: {"dir", "backend", "lr", "loss", "inputs": [{path, shape, dtype}], "targets": [...],
//           "out"}; writes out/<i>.bin (float32) for every weight and out/weights.json
//           [{name, shape, file, trainable}].
import fs from 'node:fs';
import path from 'node:path';
import {fitFromRequest, loadModel, startRequest, tf} from './tfjs_node.mjs';

const request = await startRequest('cpu');
const model = await loadModel(request.dir);
await fitFromRequest(model, request, 1);
fs.mkdirSync(request.out, {recursive: true});
const trainable = new Set(model.trainableWeights.map((w) => w.originalName));
const records = [];
for (const [i, w] of model.weights.entries()) {
  const values = await w.read().data();
  const file = path.join(request.out, `${i}.bin`);
  fs.writeFileSync(file, Buffer.from(values.buffer, values.byteOffset, values.byteLength));
  records.push({name: w.originalName, shape: w.shape, file, trainable: trainable.has(w.originalName)});
}
fs.writeFileSync(path.join(request.out, 'weights.json'), JSON.stringify(records));
