// Runs an exported step model (exporter/pipeline/step_form.py) one token at a time in TF.js
// (Node), feeding the new states back, for tests/test_step_form.py.
//   node step_run.mjs request.json
// request: {"dir", "backend": "wasm"|"cpu", "tokens": {path, shape: [B, T], dtype}, "out"};
// writes out/outputs.bin: float32 [T, ...output shape of one step] (the model's first output at
// every step) and out/result.json {backend, steps, step_shape, states}.
import fs from 'node:fs';
import path from 'node:path';
import {loadModel, startRequest, tf} from './tfjs_node.mjs';

const request = await startRequest('wasm');
const model = await loadModel(request.dir);
const bytes = fs.readFileSync(request.tokens.path);
const ids = new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
const [batch, steps] = request.tokens.shape;
// Zero states: the state inputs are all inputs after the first, [batch, units] each.
let states = model.inputs.slice(1).map((input) => tf.zeros([batch, input.shape[1]]));
const chunks = [];
let stepShape = null;
for (let t = 0; t < steps; t++) {
  const column = new Int32Array(batch);
  for (let b = 0; b < batch; b++) column[b] = ids[b * steps + t];
  const x = tf.tensor(column, [batch, 1], 'int32');
  const [y, ...next] = model.predict([x, ...states]);
  stepShape = y.shape;
  chunks.push(await y.data());
  tf.dispose([x, y, ...states]);
  states = next;
}
tf.dispose(states);
fs.mkdirSync(request.out, {recursive: true});
const total = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
let offset = 0;
for (const c of chunks) { total.set(c, offset); offset += c.length; }
fs.writeFileSync(path.join(request.out, 'outputs.bin'), Buffer.from(total.buffer));
fs.writeFileSync(path.join(request.out, 'result.json'),
  JSON.stringify({backend: tf.getBackend(), steps, step_shape: stepShape, states: model.inputs.length - 1}));
