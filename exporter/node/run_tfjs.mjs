// Runs exported models in the real TF.js runtime (pure-JS CPU backend) for the
// Python parity checks. One process serves many jobs, because starting Node and
// importing TF.js dominates the cost of a small model.
//
//   node run_tfjs.mjs jobs.json results.json
//
// jobs.json: {"jobs": [{"id", "dir" (a directory or an http(s) URL), "format": "layers"|"graph",
//              "inputs": [{"path", "shape", "dtype"}], "out"}]}
// Each job writes out/output_<i>.bin (float32, row-major); results.json gets
// {id: {ok, error?, outputs: [{path, shape}], load_ms, predict_ms}}.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

// Keep stdout clean of TF.js's "install tfjs-node" banner and backend chatter.
tf.env().set('IS_NODE', true);

function fileHandler(dir) {
  return {
    load: async () => {
      const modelJSON = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
      return tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
        const specs = [];
        const buffers = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
        }
        const all = Buffer.concat(buffers);
        return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
      });
    },
  };
}

function readInput(spec) {
  const bytes = fs.readFileSync(spec.path);
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const data = spec.dtype === 'int32' ? new Int32Array(ab) : new Float32Array(ab);
  return tf.tensor(data, spec.shape, spec.dtype);
}

async function runJob(job) {
  const t0 = performance.now();
  // A published model is loaded over HTTP exactly as a page would (tf.io.http, fetch).
  const source = /^https?:\/\//.test(job.dir) ? `${job.dir.replace(/\/+$/, '')}/model.json` : fileHandler(job.dir);
  const model = job.format === 'graph'
    ? await tf.loadGraphModel(source)
    : await tf.loadLayersModel(source, {strict: true});
  const t1 = performance.now();
  const inputs = job.inputs.map(readInput);
  let result;
  if (job.format === 'graph') {
    // Feed and fetch by the SavedModel signature, whose output keys (output_0,
    // output_1, ...) follow the Keras output order; the graph's own node order need not.
    const signature = model.signature || {};
    const feed = {};
    job.inputs.forEach((spec, i) => {
      const key = spec.name in (signature.inputs || {}) ? signature.inputs[spec.name].name : model.inputs[i].name;
      feed[key.replace(/:0$/, '')] = inputs[i];
    });
    const keys = Object.keys(signature.outputs || {}).sort((a, b) => a.localeCompare(b, 'en', {numeric: true}));
    const names = keys.length ? keys.map((k) => signature.outputs[k].name) : model.outputs.map((o) => o.name);
    result = await model.executeAsync(feed, names);
  } else {
    result = model.predict(inputs.length === 1 ? inputs[0] : inputs);
  }
  const outputs = Array.isArray(result) ? result : [result];
  const written = [];
  fs.mkdirSync(job.out, {recursive: true});
  for (let i = 0; i < outputs.length; i++) {
    const values = await outputs[i].cast('float32').data();
    const file = path.join(job.out, `output_${i}.bin`);
    fs.writeFileSync(file, Buffer.from(values.buffer, values.byteOffset, values.byteLength));
    written.push({path: file, shape: outputs[i].shape});
  }
  const t2 = performance.now();
  tf.dispose([...inputs, ...outputs]);
  model.dispose?.();
  return {ok: true, outputs: written, load_ms: t1 - t0, predict_ms: t2 - t1};
}

const [jobsFile, resultsFile] = process.argv.slice(2);
const {jobs} = JSON.parse(fs.readFileSync(jobsFile, 'utf8'));
await tf.setBackend('cpu');
const results = {};
for (const job of jobs) {
  try {
    results[job.id] = await runJob(job);
  } catch (error) {
    results[job.id] = {ok: false, error: String(error && error.message || error)};
  }
}
fs.writeFileSync(resultsFile, JSON.stringify(results));
