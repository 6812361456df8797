// Loading models (from disk via model.js scripts, or over http via model.json +
// shards), checking them against their golden vectors, and timing predictions.
(function (WN) {
  'use strict';
  WN.provide('models', ['core', 'backend', 'runner']);
  // ?cdn=BASE_URL loads published models (see `exporter publish`) from a CDN,
  // even when the page itself was opened from disk; ?version=X.Y.Z pins one.
  WN.cdn = WN.params.get('cdn');
  WN.fromDisk = location.protocol === 'file:' && !WN.cdn;
  WN.base = (WN.cdn || 'models').replace(/\/+$/, '');

  WN.loadIndex = async function () {
    if (WN.fromDisk) {
      if (!window.webnetsIndex) throw new Error('models/index.js is missing: export the models first (make export-all)');
      return window.webnetsIndex;
    }
    const response = await fetch(`${WN.base}/index.json`, {cache: 'no-cache'});
    if (!response.ok) throw new Error(`${WN.base}/index.json: HTTP ${response.status}`);
    return response.json();
  };

  function loadScript(src, integrity) {
    return new Promise((resolve, reject) => {
      const script = document.createElement('script');
      if (integrity) {
        script.integrity = integrity;  // the browser refuses other bytes than were published
        script.crossOrigin = 'anonymous';
      }
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error(`${src} could not be loaded (missing file?)`));
      document.head.appendChild(script);
    });
  }

  function base64ToBuffer(text) {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  // max |actual - expected| / max |expected|: the measure of exporter/parity/tolerances.py.
  WN.relativeError = (actual, expected) => WN.package.relativeError(actual, expected);

  // Where an index row's files are: the exporter's index.json names
  // "<name>/model.json"; a CDN index (exporter publish) names the latest
  // version's files and lists every version with the SRI hash of each file.
  function publishedSource(entry) {
    const pinned = WN.params.get('version');
    const version = entry.versions ? (pinned || entry.latest) : null;
    if (entry.versions && !entry.versions[version]) {
      throw new Error(`version ${version} of ${entry.name} is not published (have: ${Object.keys(entry.versions).join(', ')})`);
    }
    const dir = version ? `${WN.base}/${entry.name}/${version}` : `${WN.base}/${entry.name}`;
    const integrity = {};
    if (version) {
      for (const [file, record] of Object.entries(entry.versions[version].files)) integrity[`${dir}/${file}`] = record.integrity;
    }
    return {dir, model: `${dir}/model.json`, meta: `${dir}/meta.json`, integrity, version};
  }

  // webnets-layers.js (webnets' own layer classes) and a plugin's JS file (a user's classes) must be
  // registered before tf.loadLayersModel reads a model.json that names them; meta.json `requires`
  // says so. Each copy is loaded once, in the listed order (dynamic scripts otherwise run in
  // whatever order they arrive); as a classic script it registers on the global tf.
  const runtimes = new Map();
  async function loadRequired(meta, source) {
    for (const {file} of meta.requires || []) {
      const url = `${source.dir}/${file}`;
      if (!runtimes.has(url)) runtimes.set(url, loadScript(url, source.integrity[url]));
      await runtimes.get(url);
    }
  }

  // fetch() with the file's SRI hash. The browser reports an integrity failure
  // as a bare network error, so on failure fetch once more without the hash:
  // if that works, the CDN is serving bytes other than the published ones.
  async function fetchChecked(url, init, source) {
    const integrity = source.integrity[url];
    let response;
    try {
      response = await fetch(url, {...init, integrity: integrity || ''});
    } catch (error) {
      if (!integrity) throw error;
      const plain = await fetch(url, {cache: 'no-store'}).catch(() => null);
      const file = url.split('/').pop();
      if (plain && plain.ok) {
        throw new Error(`${file} of version ${source.version} does not match its published integrity hash: the CDN is serving other bytes than were published`);
      }
      throw new Error(`${file} could not be fetched from ${WN.base} (network or CORS error)`);
    }
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response;
  }

  // {model, meta} of the export called `name`: from disk its model.js (which carries
  // webnets-layers.js and plugins' files where needed); over http meta.json, the scripts it requires, then model.json
  // and shards from `source` ({dir, model, meta, integrity, version}, as publishedSource gives).
  // Also the text panel's loader for step models (web_demo/js/text.js).
  WN.loadLayers = async function (name, source) {
    if (WN.fromDisk) {
      await loadScript(`models/${name}/model.js`);
      const payload = (window.webnetsModels || {})[name];
      if (!payload) throw new Error(`models/${name}/model.js did not register the model`);
      const model = await tf.loadLayersModel(tf.io.fromMemory({
        modelTopology: payload.modelTopology, weightSpecs: payload.weightSpecs,
        weightData: base64ToBuffer(payload.weightData)}));
      return {model, meta: payload.meta};
    }
    const meta = await (await fetchChecked(source.meta, {}, source)).json();
    await loadRequired(meta, source);
    // Every fetch TF.js makes carries the file's SRI hash from the CDN index,
    // so the browser itself refuses bytes that are not the published ones.
    const model = await tf.loadLayersModel(source.model, {fetchFunc: (url, init) => fetchChecked(url, init, source)});
    return {model, meta};
  };

  // entry: a row of index.json. Resolves to a loaded-model record.
  WN.loadModel = async function (entry) {
    const started = performance.now();
    const source = WN.fromDisk ? null : publishedSource(entry);
    const version = source ? source.version : null;
    const {model, meta} = await WN.loadLayers(entry.name, source);
    const runner = WN.compileRunner(model);
    const record = {name: entry.name, entry, meta, model, version, latencies: [], backend: WN.backend.name,
                    runner, executor: runner ? 'runner' : 'execute'};
    // First prediction (compiles WebGL shaders) doubles as an integrity check, to the bound the
    // exporter wrote beside the golden vectors (loose enough for GPUs that render in float16).
    if (meta.golden) {
      const outputs = await WN.predict(record, meta.golden.inputs[0], {timed: false});
      const error = WN.relativeError(outputs[0].data, meta.golden.outputs[0].data);
      if (!(error <= meta.golden.bound)) {
        model.dispose();
        throw new Error(`the downloaded model does not reproduce its golden outputs (relative error ${error.toExponential(2)}): a corrupt or mismatched file`);
      }
    }
    record.loadMs = performance.now() - started;
    return record;
  };

  // input: {shape, data, dtype?} -> [{shape, data}] (dtype: the input's, else meta.json's, so a text model
  // takes {shape: [1, 1], data: ['some text']}). Options: `timed` (default true) records the
  // latency; `select(output) -> tensor` picks part of each output in TF.js before it is read back
  // (the text panel reads the last time step only, not the whole [1, T, vocab] tensor).
  // Every tensor is disposed, also when the prediction throws.
  // The runner (js/runner.js) where the model allows it: tfjs-layers' own executor costs a sixth of
  // SqueezeNet's prediction on WASM. Otherwise execute() with the output names: predict() would
  // slice the batch and concatenate the outputs, two extra kernels on every call (a tenth of
  // SqueezeNet's 0.4 ms on WASM). tfjs-layers cannot look up output names in a model with a shared
  // layer ("multiple inbound nodes"), which throws before anything runs; such a model keeps using
  // predict(). `record.executor` says which one runs.
  function run(record, x) {
    if (!record.runner) return runLayers(record, x);
    try {
      return record.runner.run(x);
    } catch (error) {
      // An input that fails here fails in tfjs-layers too, which throws its own message. Where
      // tfjs-layers runs it (not expected: the runner runs other classes through their own
      // apply()), the model stays with tfjs-layers.
      const y = runLayers(record, x);
      console.warn(`${record.name}: the runner failed (${error.message}) where tfjs-layers did not; using tfjs-layers`);
      record.runner = null;
      return y;
    }
  }

  function runLayers(record, x) {
    record.executor = record.outputNames === null ? 'predict' : 'execute';
    if (record.outputNames !== null) {
      try {
        record.outputNames = record.outputNames || record.model.outputs.map((o) => o.name);
        return record.model.execute(x, record.outputNames);
      } catch (error) {
        if (!/multiple inbound nodes/.test(String(error && error.message))) throw error;
        record.outputNames = null;
        record.executor = 'predict';
      }
    }
    // tfjs' predict() slices the batch with numeric ops and refuses string tensors; webnets-layers.js'
    // predict runs the model's own apply() on them (a text model with a shared layer).
    if (x.dtype === 'string' && window.webnetsLayers) return window.webnetsLayers.predict(record.model, x);
    return record.model.predict(x);
  }

  // {shape, data, dtype} (a golden vector, a page's input) -> tf.Tensor. Models that take raw text
  // (meta.json inputs[0].dtype "string": TextVectorization and the other string layers of
  // webnets-layers.js) get a string tensor of the texts; every other input is int32 or float32.
  WN.inputTensor = function ({shape, data, dtype}) {
    const kind = dtype === 'string' || dtype === 'int32' ? dtype : 'float32';
    return tf.tensor(data, shape, kind);
  };

  WN.predict = async function (record, input, {timed = true, select = null} = {}) {
    const dtype = input.dtype || (record.meta.inputs && record.meta.inputs[0].dtype) || 'float32';
    const started = performance.now();
    const created = [];
    const result = [];
    try {
      const x = WN.inputTensor({shape: input.shape, data: input.data, dtype});
      created.push(x);
      const y = run(record, x);
      const outputs = Array.isArray(y) ? y : [y];
      created.push(...outputs);
      for (const output of outputs) {
        const t = select ? select(output) : output;
        if (t !== output) created.push(t);
        result.push({shape: t.shape, data: Array.from(await t.data())});
      }
    } finally {
      tf.dispose(created);
    }
    if (timed) {
      record.latencies.push(performance.now() - started);
      if (record.latencies.length > 30) record.latencies.shift();
      if (record.onTimed) record.onTimed(record);
    }
    return result;
  };

  WN.median = function (values) {
    if (!values.length) return null;
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
})(window.WN = window.WN || {});
