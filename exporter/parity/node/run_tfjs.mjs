// Runs exported models in the real TF.js runtime for the Python parity checks.
// One process serves many jobs, because starting Node and importing TF.js
// dominates the cost of a small model.
//
//   node run_tfjs.mjs jobs.json results.json
//   node run_tfjs.mjs --stdin BACKEND     (started early: imports TF.js and initializes the
//                                          backend, then reads {"jobs", "results"} paths from
//                                          stdin; empty stdin: nothing to do, exit)
//
// jobs.json: {"backend": "wasm"|"cpu", "jobs": [{"id", "dir" (a directory or an http(s) URL),
//              "format": "layers"|"graph", "runtime": the scripts to register first, in order
//              (webnets-layers.js, plugins' JS files: paths or URLs; one string, a list or null),
//              "inputs": [{"path", "shape", "dtype"}], "out"}]}
// An input's dtype is float32 or int32 (a raw little-endian file) or string (a JSON list of the strings,
// row-major). Each job writes out/output_<i>.bin (float32 or int32, row-major; .json for string outputs);
// results.json gets {id: {ok, error?, backend, outputs: [{path, shape, dtype}], load_ms, predict_ms}}.
// Models with a string input or output run through model.apply (as webnets-layers.js' `predict` does):
// tfjs' model.predict() slices the batch with numeric ops, which refuse strings.
//
// The backend is WASM (the one browsers fall back to without WebGL, and 13x
// faster than the pure-JS CPU backend on a 224x224 CNN, which dominated the
// export time). A job that needs a kernel the WASM backend lacks reruns on
// the CPU backend; results name the backend that produced them.
import fs from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

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

// webnets-layers.js registers webnets' own layer classes, a plugin's JS file a user's (the same
// contract); each must run before the model loads. A file is loaded with require(), as Node apps
// do; a published one is fetched like a page would.
async function registerRuntime(location) {
  let api;
  if (!/^https?:\/\//.test(location)) {
    const require = createRequire(import.meta.url);
    delete require.cache[require.resolve(location)];  // a re-export may carry a newer copy
    api = require(location);
  } else {
    const response = await fetch(location);
    if (!response.ok) throw new Error(`${location}: HTTP ${response.status} (the model requires this script)`);
    const module = {exports: {}};
    new Function('module', 'exports', await response.text())(module, module.exports);
    api = module.exports;
  }
  if (!api || typeof api.register !== 'function') {
    throw new Error(`${location} does not export register(tf) (module.exports = {register}), which registers `
      + 'its layer classes: follow the contract of webnets-layers.js (docs/own-layers.md)');
  }
  return api.register(tf);
}

function readInput(spec) {
  if (spec.dtype === 'string') return tf.tensor(JSON.parse(fs.readFileSync(spec.path, 'utf8')), spec.shape, 'string');
  const bytes = fs.readFileSync(spec.path);
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const data = spec.dtype === 'int32' ? new Int32Array(ab) : new Float32Array(ab);
  return tf.tensor(data, spec.shape, spec.dtype);
}

async function runJob(job) {
  const t0 = performance.now();
  for (const location of [].concat(job.runtime || [])) await registerRuntime(location);  // in load order
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
  } else if (inputs.some((t) => t.dtype === 'string') || model.outputs.some((o) => o.dtype === 'string')) {
    result = model.apply(inputs.length === 1 ? inputs[0] : inputs, {training: false});
  } else {
    result = model.predict(inputs.length === 1 ? inputs[0] : inputs);
  }
  const outputs = Array.isArray(result) ? result : [result];
  const written = [];
  fs.mkdirSync(job.out, {recursive: true});
  for (let i = 0; i < outputs.length; i++) {
    const {dtype} = outputs[i];
    if (dtype === 'string') {
      const file = path.join(job.out, `output_${i}.json`);
      fs.writeFileSync(file, JSON.stringify(Array.from(await outputs[i].data())));
      written.push({path: file, shape: outputs[i].shape, dtype});
      continue;
    }
    // Typed by the tensor's dtype, not its data: TF.js' CPU backend casts int32 to float32 by keeping the
    // Int32Array (a cast is a relabel there), whose bytes are not float32s. Integers stay int32, so ids
    // above 2^24 (hash buckets) come back exact.
    const integer = dtype === 'int32' || dtype === 'bool';
    const values = (integer ? Int32Array : Float32Array).from(await outputs[i].data());
    const file = path.join(job.out, `output_${i}.bin`);
    fs.writeFileSync(file, Buffer.from(values.buffer, values.byteOffset, values.byteLength));
    written.push({path: file, shape: outputs[i].shape, dtype: integer ? 'int32' : 'float32'});
  }
  const t2 = performance.now();
  tf.dispose([...inputs, ...outputs]);
  model.dispose?.();
  return {ok: true, outputs: written, load_ms: t1 - t0, predict_ms: t2 - t1};
}

// tfjs-core's words for an op the active backend does not implement.
const MISSING_KERNEL = /not registered for backend|not yet implemented|is not supported/i;

async function onBackend(name) {
  if (tf.getBackend() !== name && !(await tf.setBackend(name))) {
    throw new Error(`the TF.js ${name} backend failed to initialize`);
  }
}

async function runOn(backend, job) {
  await onBackend(backend);
  return {...(await runJob(job)), backend};
}

async function jobFiles() {
  if (process.argv[2] !== '--stdin') return process.argv.slice(2);
  await onBackend(process.argv[3]);  // while Python is still importing TensorFlow
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  if (!text.trim()) process.exit(0);
  const request = JSON.parse(text);
  return [request.jobs, request.results];
}

const [jobsFile, resultsFile] = await jobFiles();
const {jobs, backend = 'wasm'} = JSON.parse(fs.readFileSync(jobsFile, 'utf8'));
const results = {};
for (const job of jobs) {
  try {
    try {
      results[job.id] = await runOn(backend, job);
    } catch (error) {
      if (backend === 'cpu' || !MISSING_KERNEL.test(String(error && error.message || error))) throw error;
      results[job.id] = {...(await runOn('cpu', job)), fallback: String(error.message || error)};
    }
  } catch (error) {
    results[job.id] = {ok: false, error: String(error && error.message || error)};
  }
}
fs.writeFileSync(resultsFile, JSON.stringify(results));
