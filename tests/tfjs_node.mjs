// What the Node test helpers (fit_step.mjs, fit_and_save.mjs, step_run.mjs) share: TF.js on the
// backend a request names, the export's scripts registered (webnets-layers.js, plugins'), a layers
// model loaded from a directory, and input tensors read from raw files.
import fs from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export {tf};

// The request JSON named on the command line, with TF.js set up for it.
export async function startRequest(defaultBackend) {
  tf.env().set('IS_NODE', true);
  const request = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const backend = request.backend || defaultBackend;
  if (!(await tf.setBackend(backend))) throw new Error(`the TF.js ${backend} backend failed to initialize`);
  // The scripts the export needs (webnets-layers.js, plugins' files), in the order meta.json `requires`
  // lists them; without a list, the export's webnets-layers.js where it has one.
  const runtime = path.join(request.dir, 'webnets-layers.js');
  const scripts = request.scripts || (fs.existsSync(runtime) ? [runtime] : []);
  for (const script of scripts) createRequire(import.meta.url)(script).register(tf);
  return request;
}

export function loadModel(dir) {
  return tf.loadLayersModel({
    load: async () => {
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = manifest.flatMap((g) => g.weights);
        const all = Buffer.concat(manifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p)))));
        return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
      });
    },
  }, {strict: true});
}

// {path, shape, dtype} of a raw little-endian file (a JSON list of strings for dtype 'string') -> a tensor.
export function readTensor(spec) {
  if (spec.dtype === 'string') return tf.tensor(JSON.parse(fs.readFileSync(spec.path, 'utf8')), spec.shape, 'string');
  const bytes = fs.readFileSync(spec.path);
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return tf.tensor(spec.dtype === 'int32' ? new Int32Array(ab) : new Float32Array(ab), spec.shape, spec.dtype);
}

// `epochs` full-batch SGD steps of model.fit on the request's inputs and targets, as Keras'
// fit(batch_size=len(x), shuffle=False) would take them.
export async function fitFromRequest(model, request, epochs) {
  const one = (list) => (list.length === 1 ? list[0] : list);
  const x = one(request.inputs.map(readTensor));
  const y = one(request.targets.map(readTensor));
  model.compile({optimizer: tf.train.sgd(request.lr), loss: request.loss});
  await model.fit(x, y, {batchSize: request.inputs[0].shape[0], epochs, shuffle: false, verbose: 0});
  tf.dispose([x, y]);
}
