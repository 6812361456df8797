// window.bench: load a model in one of three runtimes and time its predictions.
//   TF.js layers model (ours), TF.js graph model (official converter), ONNX Runtime Web (peer).
// Every timed prediction includes making the input tensor and reading the output back to
// JavaScript, as an application does per call; WebGL work is only finished once data() resolves.
'use strict';

(() => {
  const runners = {};
  let ort = null;

  // tfjs-backend-wasm 4.22 caps its thread pool at navigator.hardwareConcurrency / 2 (it assumes
  // two hyperthreads per core: init_with_threads_count in src/cc/backend.cc), so on a 2-core
  // machine it runs one thread whatever setThreadsCount asks. `shim` reports twice the requested
  // count while the module initializes (it reads the value once, then) and restores it after.
  async function setBackend(name, threads, shim) {
    let shimmed = false;
    if (name === 'wasm') {
      tf.wasm.setWasmPaths('/vendor/');
      // Must precede backend initialization; the threaded SIMD binary is only picked when the
      // page is cross-origin isolated (SharedArrayBuffer), so report what really happened.
      if (threads) tf.wasm.setThreadsCount(threads);
      if (threads && shim && Math.floor(navigator.hardwareConcurrency / 2) < threads) {
        Object.defineProperty(navigator, 'hardwareConcurrency', {configurable: true, get: () => threads * 2});
        shimmed = true;
      }
    }
    try {
      if (!(await tf.setBackend(name))) throw new Error(`TF.js backend ${name} could not be initialized`);
      await tf.ready();
    } finally {
      if (shimmed) delete navigator.hardwareConcurrency;
    }
    const info = {backend: tf.getBackend(), crossOriginIsolated: self.crossOriginIsolated,
                  hardwareConcurrency: navigator.hardwareConcurrency};
    if (name === 'wasm') {
      info.threads_requested = threads || null;
      info.hardware_concurrency_shim = shimmed;
      info.threads = tf.wasm.getThreadsCount();
      info.multithread_support = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
      info.simd_support = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    }
    if (name === 'webgl') {
      info.webgl_version = tf.env().getNumber('WEBGL_VERSION');
      const gl = document.createElement('canvas').getContext('webgl2');
      const ext = gl && gl.getExtension('WEBGL_debug_renderer_info');
      info.renderer = ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : null;
    }
    return info;
  }

  async function loadOrt(threads) {
    if (!ort) {
      ort = await import('/ort/ort.wasm.min.mjs');
      ort.env.wasm.wasmPaths = '/ort/';
      ort.env.wasm.numThreads = threads;
      ort.env.wasm.simd = true;
    }
    return ort;
  }

  function first(output) {
    return Array.isArray(output) ? output[0] : (output instanceof tf.Tensor ? output : Object.values(output)[0]);
  }

  // Typed once at load, so no runtime pays for turning a JSON array into numbers per call.
  function typed(input) {
    return (input.dtype === 'int32' ? Int32Array : Float32Array).from(input.data);
  }

  async function tfjsRunner(model, input, graph) {
    // A graph model with control flow (the RNNs' while loops) refuses synchronous execute().
    let useAsync = false;
    const data = typed(input);
    const run = async () => {
      const x = tf.tensor(data, input.shape, input.dtype);
      let y;
      if (graph && useAsync) {
        y = first(await model.executeAsync(x));
      } else {
        try {
          y = first(model.predict(x));
        } catch (error) {
          if (!graph || !/executeAsync/.test(String(error))) throw error;
          useAsync = true;
          y = first(await model.executeAsync(x));
        }
      }
      const values = await y.data();
      tf.dispose([x, y]);
      return values;
    };
    return {run, info: () => ({execute: graph && useAsync ? 'executeAsync' : 'predict'})};
  }

  // format: layers | graph | onnx, optionally ":label" to time two models of a kind side by side.
  async function load(format, url, input, threads) {
    format = format.split(':')[0];
    if (format === 'layers') return tfjsRunner(await tf.loadLayersModel(url), input, false);
    if (format === 'graph') return tfjsRunner(await tf.loadGraphModel(url), input, true);
    if (format === 'onnx') {
      const o = await loadOrt(threads);
      const session = await o.InferenceSession.create(url, {executionProviders: ['wasm'],
                                                            graphOptimizationLevel: 'all'});
      const data = typed(input);
      const run = async () => {
        const feeds = {[session.inputNames[0]]: new o.Tensor(input.dtype, data, input.shape)};
        const results = await session.run(feeds);
        const values = results[session.outputNames[0]].data;
        for (const t of Object.values(results)) if (t.dispose) t.dispose();
        return values;
      };
      // ORT falls back to 1 thread without cross-origin isolation; numThreads then reads 1.
      return {run, info: () => ({threads: o.env.wasm.numThreads, ort_version: o.env.versions && o.env.versions.web})};
    }
    throw new Error(`unknown format ${format}`);
  }

  // Load + first prediction in a fresh page: what a visitor waits for.
  async function cold(format, url, input, threads) {
    const t0 = performance.now();
    const runner = await load(format, url, input, threads);
    const t1 = performance.now();
    const output = await runner.run();
    const t2 = performance.now();
    runners[format] = runner;
    return {load_ms: t1 - t0, first_ms: t2 - t1, cold_ms: t2 - t0, output: Array.from(output), ...runner.info()};
  }

  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // Loaded models, warmed up, then timed in turns (a, b, c, b, c, a, ...) so drifting machine
  // load hits every format alike; the pause lets spinning worker threads of one runtime park
  // before the next one runs. Warm-up lasts at least `warmup` runs and warmupMs (V8 must have
  // optimized the runtime's JavaScript too); a fast model gets more than `runs` timed rounds,
  // as many as fit in budgetMs (at most maxRuns), because its median is the noisiest.
  async function warm(formats, warmup, runs, pauseMs, budgetMs, maxRuns, warmupMs) {
    const perRun = {};
    const warmups = {};
    for (const f of formats) {
      const t0 = performance.now();
      let n = 0;
      while (n < warmup || (performance.now() - t0 < warmupMs && n < 100)) {
        await runners[f].run();
        n++;
      }
      perRun[f] = (performance.now() - t0) / n;
      warmups[f] = n;
    }
    const round = formats.reduce((sum, f) => sum + perRun[f] + pauseMs, 0);
    const rounds = Math.max(runs, Math.min(maxRuns, Math.floor(budgetMs / round)));
    const times = Object.fromEntries(formats.map((f) => [f, []]));
    for (let i = 0; i < rounds; i++) {
      for (let j = 0; j < formats.length; j++) {
        const f = formats[(i + j) % formats.length];
        await pause(pauseMs);
        const t0 = performance.now();
        await runners[f].run();
        times[f].push(performance.now() - t0);
      }
    }
    return {times, warmups};
  }

  async function loadOnly(format, url, input, threads) {
    runners[format] = await load(format, url, input, threads);
    const output = await runners[format].run();
    return {output: Array.from(output), ...runners[format].info()};
  }

  window.bench = {setBackend, cold, loadOnly, warm};
})();
