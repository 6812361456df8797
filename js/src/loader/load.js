// webnets.load(source, options): a TF.js layers model by name and version, cached, checked, on the best
// backend there is. The steps, each in a module of its own:
//   resolve  sources.js   'squeezenet@1' -> the highest 1.x.y in <base>/index.json, with its files' hashes
//   fetch    download.js  every file not already cached, with byte progress, shared by parallel loads
//   check    integrity.js each file against its SRI hash; one mismatch and nothing is used or cached
//   cache    cache.js     the version's files in the Cache API; older versions of the model evicted
//   backend  ../backends  WebGPU -> WebGL -> WASM -> CPU (or as asked), proven before trusted
//   build    here         tf.loadLayersModel from memory, webnets' classes already registered,
//                         then the golden vectors meta.json carries, to the exporter's bound.
import * as store from './cache.js';
import {download} from './download.js';
import {fail, WebnetsLoadError} from './errors.js';
import {matches} from './integrity.js';
import {BUILT_IN_SCRIPTS, describeSource, fetchIndex, planFromIndex, planFromRecord, readGivenFiles,
  shardNames, urlPlan} from './sources.js';

const text = (bytes) => new TextDecoder().decode(bytes);
const sum = (values) => values.reduce((a, b) => a + b, 0);

function parseJson(bytes, file, where) {
  try {
    return JSON.parse(text(bytes));
  } catch (error) {
    return fail('bad-model', `${where}/${file} is not valid JSON (${error.message}).`);
  }
}

// Reports per-file and total bytes, in order: `loaded` never goes down and ends at `total`.
function progressOf(onProgress, expected) {
  const got = {};
  const sizes = {...expected};
  let last = 0;
  return (file, loaded, total, extra = {}) => {
    got[file] = loaded;
    if (total != null) sizes[file] = total;
    const all = sum(Object.values(got));
    if (!onProgress || all < last) return;
    last = all;
    const known = Object.values(sizes).every((v) => v != null);
    onProgress({file, fileLoaded: loaded, fileTotal: total, loaded: all,
                total: known ? Math.max(all, sum(Object.values(sizes))) : null, ...extra});
  };
}

const TAMPERED = 'the server sent other bytes than were published (a tampered or corrupted copy). Nothing was '
  + 'cached and the model was not loaded. Fix: republish the version, or purge the CDN\'s copy.';

async function verified(plan, file, bytes, options) {
  const record = plan.files && plan.files[file];
  if (!record || options.integrity === false) return;
  const where = `${plan.name} ${plan.version}`;
  if (record.bytes != null && record.bytes !== bytes.length) {
    fail('integrity', `${where}: ${file} has ${bytes.length} bytes where ${plan.base}/index.json published `
      + `${record.bytes}: ${TAMPERED}`);
  }
  if (record.integrity && !(await matches(bytes, record.integrity, `${where}: ${file}`))) {
    fail('integrity', `${where}: ${file} does not match its published integrity hash (${record.integrity}): `
      + TAMPERED);
  }
}

// The files of a plan, from the cache when every one is there and still matches its hash, else fetched.
async function gather(plan, options, report) {
  const names = Object.keys(plan.files);
  let cached = null;
  if (options.cache) {
    cached = await store.readFiles(plan.dir, names);
    if (cached) {
      try {
        for (const name of names) await verified(plan, name, cached[name], options);
      } catch (error) {
        cached = null;  // a damaged cache entry: fetched again below, and overwritten
      }
    }
  }
  if (cached) {
    for (const name of names) report(name, cached[name].length, cached[name].length, {cached: true});
    return {bytes: cached, hit: true};
  }
  if (plan.fromCache) {
    fail('offline', `${plan.name} ${plan.version} is only partly cached and ${plan.base} cannot be reached.`);
  }
  const bytes = {};
  await Promise.all(names.map(async (name) => {
    const data = await download(`${plan.dir}/${name}`, {
      fetch: options.fetch, bytes: plan.files[name].bytes,
      onBytes: (loaded, total) => report(name, loaded, total),
    });
    await verified(plan, name, data, options);
    bytes[name] = data;
  }));
  return {bytes, hit: false};
}

// A published version or a cached one: index.json when it can be reached, the cache when not.
async function planForName(source, described, options) {
  const base = String(options.base || '').replace(/\/+$/, '');
  if (!base) {
    fail('no-base', `webnets.load('${source}'): a model name needs the CDN it is published on. Fix: pass `
      + "{base: 'https://cdn.example.com/models'} (the URL `webnets publish` published to), or set "
      + 'webnets.defaults.base.');
  }
  let index;
  try {
    index = await fetchIndex(base, options.fetch);
  } catch (error) {
    if (error instanceof WebnetsLoadError && error.code === 'bad-index') throw error;
    const record = options.cache ? await store.readRecord(base, described.name) : null;
    const plan = planFromRecord(record, base, described.name, described.range);
    if (plan) return plan;
    fail('offline', `webnets.load('${source}'): ${base}/index.json cannot be read (${error.message}) and no `
      + `cached version of ${described.name} matches '${described.range}'. Fix: load it once while online.`);
  }
  return planFromIndex(index, base, described.name, described.range, source);
}

// A model.json URL: model.json first (its manifest names the shards), then the shards and meta.json.
async function gatherUrl(plan, options, report) {
  const fetchOne = (name, optional = false) => download(`${plan.dir}/${name}`, {
    fetch: options.fetch, onBytes: (loaded, total) => report(name, loaded, total),
  }).catch((error) => {
    if (optional && error.code === 'http') return null;
    throw error;
  });
  const record = options.cache ? await store.readRecord(plan.base, plan.name) : null;
  let modelBytes;
  try {
    modelBytes = await fetchOne(plan.modelFile);
  } catch (error) {
    const cached = record && record.versions[plan.version];
    const files = cached ? await store.readFiles(plan.dir, Object.keys(cached.files)) : null;
    if (!files) throw error;
    for (const [name, data] of Object.entries(files)) report(name, data.length, data.length, {cached: true});
    return {bytes: files, hit: true, modelFile: plan.modelFile};
  }
  const names = shardNames(parseJson(modelBytes, plan.modelFile, plan.dir));
  const bytes = {[plan.modelFile]: modelBytes};
  const [meta, ...shards] = await Promise.all([fetchOne('meta.json', true), ...names.map((n) => fetchOne(n))]);
  names.forEach((name, i) => { bytes[name] = shards[i]; });
  if (meta) bytes['meta.json'] = meta;
  return {bytes, hit: false};
}

function concat(parts) {
  const out = new Uint8Array(sum(parts.map((p) => p.length)));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out.buffer;
}

// The layer classes model.json names that nobody registered.
function unknownClasses(tf, topology) {
  const known = tf.serialization.SerializationMap.getMap().classNameMap;
  const missing = new Set();
  const walk = (value) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      if (typeof value.class_name === 'string' && value.config && !(value.class_name in known)
          && !['Functional', 'Model', 'Sequential'].includes(value.class_name)) missing.add(value.class_name);
      Object.values(value).forEach(walk);
    }
  };
  walk(topology);
  return [...missing];
}

// A plugin's script (meta.json `requires`: a user's own TF.js classes): fetched, checked like every file,
// and run with a CommonJS-style `module` so its register(tf) gets this tf. Scripts webnets itself provides
// are not fetched: the package registered them when it was created.
async function runPluginScripts(tf, meta, plan, options, report) {
  for (const {file} of (meta && meta.requires) || []) {
    if (BUILT_IN_SCRIPTS.has(file)) continue;
    const data = await download(`${plan.dir}/${file}`, {fetch: options.fetch, onBytes: (l, t) => report(file, l, t)});
    await verified(plan, file, data, options);
    const module = {exports: {}};
    new Function('module', 'exports', 'tf', text(data))(module, module.exports, tf);
    if (typeof module.exports.register === 'function') module.exports.register(tf);
  }
}

// max |actual - expected| / max |expected|: the measure of the exporter's parity checks
// (exporter/parity/tolerances.py), which the golden bound is in.
export function relativeError(actual, expected) {
  let worst = 0;
  let scale = 1e-12;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return actual.length === expected.length ? worst / scale : Infinity;
}

// The golden vectors meta.json carries (Keras' outputs for a fixed input): the first prediction doubles as
// the check that what loaded computes what the exporter verified, on this backend.
async function checkGolden(tf, model, meta, predict, where) {
  const golden = meta && meta.golden;
  if (!golden || !golden.inputs || !golden.outputs) return null;
  const input = golden.inputs[0];
  const dtype = input.dtype || (meta.inputs && meta.inputs[0] && meta.inputs[0].dtype) || 'float32';
  const x = tf.tensor(input.data, input.shape, dtype === 'string' || dtype === 'int32' ? dtype : 'float32');
  let y;
  try {
    y = predict(x);
    const first = Array.isArray(y) ? y[0] : y;
    const error = relativeError(await first.data(), golden.outputs[0].data);
    if (!(error <= golden.bound)) {
      fail('golden', `${where} does not reproduce its golden outputs on ${tf.getBackend()} (relative error `
        + `${error.toExponential(2)}, bound ${golden.bound}): a corrupt or mismatched file, or a backend that `
        + `computes this model wrongly. Fix: try another backend ({backend: 'wasm'}).`);
    }
    return error;
  } finally {
    tf.dispose([x, y]);
  }
}

// The files of a version, fetched and checked once however many loads ask for it at the same time: a
// load arriving while another fetches the same version joins it (and hears its progress from then on)
// until that one has stored the files in the cache, where a later load finds them. Sharing by file
// alone left a gap: a small file finished before the second load asked for it was fetched again.
const fetching = new Map();  // dir + options that change what is fetched -> {promise, reporters}

function shared(plan, options, report, gatherWith) {
  const key = `${plan.dir}|${options.cache}|${options.integrity !== false}`;
  let entry = fetching.get(key);
  if (!entry) {
    const reporters = new Set();
    entry = {reporters, promise: fetchChecked(plan, options, (...event) => reporters.forEach((r) => r(...event)),
      gatherWith)};
    fetching.set(key, entry);
    const forget = () => fetching.delete(key);
    entry.promise.then(forget, forget);
  }
  entry.reporters.add(report);
  return entry.promise;
}

// gather/gatherUrl, then model.json read and its weight files checked to be there; only then is the
// version stored in the cache (before the model runs: a backend failing later is no reason to fetch again).
async function fetchChecked(plan, options, report, gatherWith) {
  const fetched = await gatherWith(plan, options, report);
  const modelFile = fetched.modelFile || plan.modelFile || 'model.json';
  const where = plan.kind === 'cdn' ? `${plan.name} ${plan.version}` : `${plan.dir}/${modelFile}`;
  const gathered = {...fetched, modelFile, where};
  const modelJson = parseJson(gathered.bytes[modelFile], modelFile, plan.dir);
  if (!modelJson.modelTopology) {
    fail('bad-model', `${where}: model.json has no modelTopology: it is not a TF.js layers model (a graph model `
      + 'loads with tf.loadGraphModel).');
  }
  for (const name of shardNames(modelJson)) {
    if (!gathered.bytes[name]) fail('bad-model', `${where}: the weight file ${name} that model.json names is missing.`);
  }
  if (options.cache && !gathered.hit) {
    const records = plan.files || Object.fromEntries(Object.entries(gathered.bytes)
      .map(([name, data]) => [name, {bytes: data.length}]));
    await store.store(plan.base, plan.name, plan.version, plan.dir, records, gathered.bytes);
    return {...gathered, stored: true};
  }
  return gathered;
}

export function createLoader(tf, {predict: predictWith, selectBackend, compileRunner = null, defaults, packageVersion}) {
  return async function load(source, options = {}) {
    const started = (typeof performance !== 'undefined' ? performance : Date).now();
    options = {cache: true, verify: true, fetch: globalThis.fetch && globalThis.fetch.bind(globalThis),
               ...defaults, ...options};
    const noCache = store.cacheAvailable();
    if (noCache) options.cache = false;
    const described = describeSource(source);
    let plan;
    let gathered;
    let report;
    if (described.kind === 'files') {
      plan = {kind: 'files', name: 'files', version: null, dir: '(files)', files: null};
      const bytes = await readGivenFiles(source);
      report = progressOf(options.onProgress, {});
      for (const [name, data] of Object.entries(bytes)) report(name, data.length, data.length);
      gathered = await fetchChecked(plan, {...options, cache: false}, report, async () => ({bytes, hit: false}));
    } else if (described.kind === 'name') {
      plan = await planForName(source, described, options);
      report = progressOf(options.onProgress, Object.fromEntries(
        Object.entries(plan.files).map(([name, record]) => [name, record.bytes == null ? null : record.bytes])));
      gathered = await shared(plan, options, report, gather);
    } else {
      plan = urlPlan(described.url);
      report = progressOf(options.onProgress, {});
      gathered = await shared(plan, options, report, gatherUrl);
    }
    // fetchChecked has read model.json and found its weight files. Each load parses its own copy: loads
    // at once share `gathered`, and TF.js may keep the topology object it is given.
    const {modelFile, where} = gathered;
    const modelJson = parseJson(gathered.bytes[modelFile], modelFile, plan.dir);
    const meta = gathered.bytes['meta.json'] ? parseJson(gathered.bytes['meta.json'], 'meta.json', plan.dir) : null;
    const shards = shardNames(modelJson).map((name) => gathered.bytes[name]);

    const stored = !!gathered.stored;

    const backend = await selectBackend(options.backend == null ? null : options.backend);
    if (unknownClasses(tf, modelJson.modelTopology).length) await runPluginScripts(tf, meta, plan, options, report);
    const missing = unknownClasses(tf, modelJson.modelTopology);
    if (missing.length) {
      fail('unknown-class', `${where} uses the layer class(es) ${missing.join(', ')}, which this webnets package `
        + `${packageVersion} does not have${missing.some((c) => c.startsWith('Webnets'))
          ? ': the model was exported by a newer webnets. Fix: update the webnets package.'
          : '. Fix: register them before loading (tf.serialization.registerClass), or list their script in meta.json requires.'}`);
    }
    const weightSpecs = (modelJson.weightsManifest || []).flatMap((group) => group.weights);
    const model = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: modelJson.modelTopology, weightSpecs, weightData: concat(shards),
      trainingConfig: modelJson.trainingConfig, format: modelJson.format, generatedBy: modelJson.generatedBy,
      convertedBy: modelJson.convertedBy, userDefinedMetadata: modelJson.userDefinedMetadata,
    }));
    const runner = compileRunner ? compileRunner(model) : null;
    const predict = (inputs) => (runner && inputs instanceof tf.Tensor && inputs.dtype !== 'string'
      ? tf.tidy(() => runner.run(inputs)) : predictWith(model, inputs));
    let goldenError = null;
    if (options.verify) {
      try {
        goldenError = await checkGolden(tf, model, meta, predict, where);
      } catch (error) {
        model.dispose();
        throw error;
      }
    }
    const labels = (meta && meta.labels) || null;
    const now = (typeof performance !== 'undefined' ? performance : Date).now();
    return {
      model, meta, labels, name: plan.name, version: plan.version, url: `${plan.dir}/${modelFile}`,
      backend: {name: backend.name, skipped: backend.skipped, kernels: backend.kernels || null},
      cache: {hit: gathered.hit, stored, reason: noCache || (options.cache ? null : 'turned off ({cache: false})')},
      golden: {relativeError: goldenError, bound: meta && meta.golden ? meta.golden.bound : null},
      bytes: sum(Object.values(gathered.bytes).map((b) => b.length)),
      loadMs: now - started,
      predict,
      // The topK labels and scores of each sample's first output (a classifier's probabilities).
      async classify(inputs, {topK = 5} = {}) {
        const y = predict(inputs);
        const first = Array.isArray(y) ? y[0] : y;
        try {
          const rows = await first.array();
          return (first.rank === 1 ? [rows] : rows).map((scores) => scores
            .map((score, index) => ({index, label: labels ? labels[index] : String(index), score}))
            .sort((a, b) => b.score - a.score).slice(0, topK));
        } finally {
          tf.dispose(y);
        }
      },
      dispose: () => model.dispose(),
    };
  };
}
