// Runs webnets-tokenizers.js in Node for tests/test_tokenizers.py: one process for every tokenizer.
//
//   node tests/tokenizers_node.js JOB.json OUT.json
//
// JOB: {script, specs: {name: spec}, texts: [...], decode: {name: [[ids], ...]},
//       pretokenize: {name: [text, ...]}, speed: {names: [...], texts: [...]},
//       reload: {dir, texts}}   (an exported model: load, apply, save, load again, apply)
// OUT: {name: {ids, pieces, decoded, pretokenized, speed: {tokens, ms, chars}}, reload: {before, after}}
'use strict';
const fs = require('fs');
const path = require('path');

const [jobFile, outFile] = process.argv.slice(2);
const job = JSON.parse(fs.readFileSync(jobFile, 'utf8'));
job.specs = job.specs || {};
const tokenizers = require(path.resolve(job.script));
const out = {};
for (const [name, spec] of Object.entries(job.specs)) {
  const result = out[name] = {};
  try {
    const tok = tokenizers.tokenizer(spec);
    result.vocabularySize = tok.vocabularySize;
    result.ids = tok.encodeBatch(job.texts);
    result.pieces = job.texts.map((t) => tok.tokenize(t));
    result.decoded = (job.decode[name] || []).map((ids) => tok.decode(ids));
    const words = job.pretokenize && job.pretokenize[name];
    if (words) result.pretokenized = words.map((t) => tok.pretokenize(t));
    if (job.speed && job.speed.names.includes(name)) {
      // A fresh tokenizer, so its word caches start empty; tokens/s over the whole text.
      const fresh = tokenizers.tokenizer(Object.assign({}, spec, {sequence_length: null}));
      const lines = job.speed.texts;
      let tokens = 0;
      const start = process.hrtime.bigint();
      for (const line of lines) tokens += fresh.encode(line).length;
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      result.speed = {tokens, ms, chars: lines.reduce((n, l) => n + l.length, 0)};
    }
  } catch (error) {
    result.error = String(error && error.stack || error);
  }
}

async function reload({dir, texts}) {
  const tf = require('@tensorflow/tfjs');
  tokenizers.register(tf);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const model = await tf.loadLayersModel(tf.io.fromMemory({modelTopology: json.modelTopology, weightSpecs: [],
    weightData: new ArrayBuffer(0)}));
  const x = tf.tensor(texts, [texts.length], 'string');
  const before = model.apply(x).arraySync();
  let saved;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  }));
  const again = await tf.loadLayersModel(tf.io.fromMemory(saved));
  return {before, after: again.apply(x).arraySync()};
}

(async () => {
  if (job.reload) out.reload = await reload(job.reload);
  fs.writeFileSync(outFile, JSON.stringify(out));
})();
