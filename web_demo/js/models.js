// Loading models (from disk via model.js scripts, or over http via model.json +
// shards), checking them against their golden vectors, and timing predictions.
(function (WN) {
  'use strict';
  WN.fromDisk = location.protocol === 'file:';
  WN.base = (WN.params.get('cdn') || 'models').replace(/\/+$/, '');
  const GOLDEN_BOUND = 1e-2; // in-page integrity check; the browser tests use 1e-3

  WN.loadIndex = async function () {
    if (WN.fromDisk) {
      if (!window.webnetsIndex) throw new Error('models/index.js is missing: export the models first (make export-all)');
      return window.webnetsIndex;
    }
    const response = await fetch(`${WN.base}/index.json`, {cache: 'no-cache'});
    if (!response.ok) throw new Error(`${WN.base}/index.json: HTTP ${response.status}`);
    return response.json();
  };

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement('script');
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

  async function fetchJSON(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.json();
  }

  WN.relativeError = function (actual, expected) {
    let worst = 0;
    let scale = 1e-12;
    for (let i = 0; i < expected.length; i++) {
      worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
      scale = Math.max(scale, Math.abs(expected[i]));
    }
    return actual.length === expected.length ? worst / scale : Infinity;
  };

  // entry: a row of index.json. Resolves to a loaded-model record.
  WN.loadModel = async function (entry) {
    const started = performance.now();
    let model;
    let meta;
    if (WN.fromDisk) {
      await loadScript(`models/${entry.name}/model.js`);
      const payload = (window.webnetsModels || {})[entry.name];
      if (!payload) throw new Error(`models/${entry.name}/model.js did not register the model`);
      meta = payload.meta;
      model = await tf.loadLayersModel(tf.io.fromMemory({
        modelTopology: payload.modelTopology, weightSpecs: payload.weightSpecs,
        weightData: base64ToBuffer(payload.weightData)}));
    } else {
      const url = `${WN.base}/${entry.name}`;
      meta = await fetchJSON(`${url}/meta.json`);
      model = await tf.loadLayersModel(`${url}/model.json`);
    }
    const record = {name: entry.name, entry, meta, model, latencies: [], backend: WN.backend.name};
    // First prediction (compiles WebGL shaders) doubles as an integrity check.
    if (meta.golden) {
      const outputs = await WN.predict(record, meta.golden.inputs[0], false);
      const error = WN.relativeError(outputs[0].data, meta.golden.outputs[0].data);
      if (!(error <= GOLDEN_BOUND)) {
        model.dispose();
        throw new Error(`the downloaded model does not reproduce its golden outputs (relative error ${error.toExponential(2)}): a corrupt or mismatched file`);
      }
    }
    record.loadMs = performance.now() - started;
    return record;
  };

  // input: {shape, data, dtype?} -> [{shape, data}] ; records latency when `timed`.
  WN.predict = async function (record, input, timed = true) {
    const dtype = input.dtype || (record.meta.inputs && record.meta.inputs[0].dtype) || 'float32';
    const started = performance.now();
    const x = tf.tensor(input.data, input.shape, dtype === 'int32' ? 'int32' : 'float32');
    const y = record.model.predict(x);
    const outputs = Array.isArray(y) ? y : [y];
    const result = [];
    for (const t of outputs) result.push({shape: t.shape, data: Array.from(await t.data())});
    tf.dispose([x, ...outputs]);
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
