// window.bench: load a model in one of three runtimes and time its predictions.
//   TF.js layers model (ours), TF.js graph model (official converter), ONNX Runtime Web (peer:
//   its WASM execution provider on the wasm pages, its WebGPU execution provider on the webgpu pages).
// Every timed prediction includes making the input tensor and reading the output back to
// JavaScript, as an application does per call; WebGL work is only finished once data() resolves.
'use strict';

(() => {
  const runners = {};
  let ort = null;
  let pageBackend = null;

  // WASM is set up by the demo's own code (web_demo/js/backend.js WN.initWasm), so the bench
  // times the thread pool the demo gets; the threaded SIMD binary is only picked when the page
  // is cross-origin isolated (SharedArrayBuffer), so report what really happened.
  async function setBackend(name, threads) {
    let info = {};
    pageBackend = name;
    if (name === 'wasm') {
      info = await WN.initWasm(threads || WN.wasmThreads());
    } else {
      // tfjs-backend-webgpu registers itself only where navigator.gpu exists (a secure context).
      if (name === 'webgpu' && !tf.findBackendFactory('webgpu')) {
        throw new Error(navigator.gpu ? 'tf-backend-webgpu.min.js did not load'
          : 'this browser has no WebGPU (navigator.gpu is missing: Chromium needs WEBGPU_FLAGS and a secure context)');
      }
      if (!(await tf.setBackend(name))) throw new Error(`TF.js backend ${name} could not be initialized`);
      await tf.ready();
    }
    if (name === 'webgpu') {
      // TF.js 4.22's WebGPU backend computes some kernels wrongly without a word (docs/webgpu.md); the
      // demo and webnets.load repair them whenever they pick WebGPU, so the bench times what they run.
      info.webgpu_repairs = WN.repairWebGPU(tf.backend()) ? 'applied' : 'already applied';
      // The adapter TF.js holds (a second navigator.gpu.requestAdapter() here cost TF.js its device:
      // "A valid external Instance reference no longer exists" at the next read-back).
      const adapter = tf.backend().adapterInfo || {};
      info.adapter = {vendor: adapter.vendor || null, architecture: adapter.architecture || null};
    }
    info = {...info, backend: tf.getBackend(), crossOriginIsolated: self.crossOriginIsolated,
            hardwareConcurrency: navigator.hardwareConcurrency};
    if (name === 'webgl') {
      info.webgl_version = tf.env().getNumber('WEBGL_VERSION');
      const gl = document.createElement('canvas').getContext('webgl2');
      const ext = gl && gl.getExtension('WEBGL_debug_renderer_info');
      info.renderer = ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : null;
    }
    return info;
  }

  // One ONNX Runtime Web bundle per page: ort.wasm.min.mjs has only the WASM execution provider;
  // ort.webgpu.min.mjs adds the WebGPU one (its WASM part runs what WebGPU does not: the
  // threaded SIMD binary with asyncify, for the GPU's asynchronous calls).
  async function loadOrt(threads) {
    if (!ort) {
      ort = await import(pageBackend === 'webgpu' ? '/ort/ort.webgpu.min.mjs' : '/ort/ort.wasm.min.mjs');
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

  // Both TF.js formats run as the demo calls them for one input. A layers model: the demo's runner
  // (web_demo/js/runner.js, WN.compileRunner) where it compiles, else execute() with the output
  // names. A layers model's predict() slices its input into batches and concatenates the outputs
  // (two extra kernels a call, 0.02-0.3 ms); a graph model's predict() is execute() already.
  // useRunner false: tfjs-layers' own execute(), for bench/runner.py's side-by-side.
  async function tfjsRunner(model, input, graph, useRunner = !graph) {
    // A graph model with control flow (the RNNs' while loops) refuses synchronous execute().
    let useAsync = false;
    const data = typed(input);
    const names = graph ? model.outputNodes : model.outputs.map((o) => o.name);
    const compiled = useRunner ? WN.compileRunner(model) : null;
    const run = async () => {
      const x = tf.tensor(data, input.shape, input.dtype);
      let y;
      if (compiled) {
        y = first(compiled.run(x));
      } else if (graph && useAsync) {
        y = first(await model.executeAsync(x, names));
      } else {
        try {
          y = first(model.execute(x, names));
        } catch (error) {
          // A layers model with a shared layer cannot look up output names: predict() then, as
          // the demo does (web_demo/js/models.js).
          if (!graph && /multiple inbound nodes/.test(String(error))) {
            y = first(model.predict(x));
          } else {
            if (!graph || !/executeAsync/.test(String(error))) throw error;
            useAsync = true;
            y = first(await model.executeAsync(x, names));
          }
        }
      }
      const values = await y.data();
      tf.dispose([x, y]);
      return values;
    };
    return {run, info: () => ({execute: compiled ? 'runner' : graph && useAsync ? 'executeAsync' : 'execute'})};
  }

  // A layers export that names webnets' own classes requires webnets-layers.js (meta.json
  // `requires`), loaded before the model as the demo and the README do; once per file.
  const runtimes = new Map();
  async function loadRequired(url) {
    const dir = url.replace(/\/[^/]*$/, '');
    const response = await fetch(`${dir}/meta.json`);
    const meta = response.ok ? await response.json() : {};
    await Promise.all((meta.requires || []).map(({file}) => {
      const src = `${dir}/${file}`;
      if (!runtimes.has(src)) {
        runtimes.set(src, new Promise((resolve, reject) => document.head.append(Object.assign(
          document.createElement('script'), {src, onload: resolve, onerror: () => reject(new Error(`${src} failed`))}))));
      }
      return runtimes.get(src);
    }));
  }

  // format: layers | execute (a layers model on tfjs-layers' execute()) | graph | onnx, optionally
  // ":label" to time two models of a kind side by side.
  async function load(format, url, input, threads) {
    format = format.split(':')[0];
    if (format === 'layers' || format === 'execute') {
      await loadRequired(url);
      return tfjsRunner(await tf.loadLayersModel(url), input, false, format === 'layers');
    }
    if (format === 'graph') return tfjsRunner(await tf.loadGraphModel(url), input, true);
    if (format === 'onnx') {
      const o = await loadOrt(threads);
      // WebGPU alone, no 'wasm' after it: where the WebGPU provider cannot start, the session fails
      // (and the bench records why) rather than timing the WASM provider under the WebGPU label.
      const provider = pageBackend === 'webgpu' ? 'webgpu' : 'wasm';
      const session = await o.InferenceSession.create(url, {executionProviders: [provider],
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
      return {run, info: () => ({threads: o.env.wasm.numThreads, ort_version: o.env.versions && o.env.versions.web,
                                 execution_provider: provider})};
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

  // Orders of the formats within a round, cycled so that every format follows every other one
  // equally often: a runtime whose threads still spin after its run slows whoever comes next.
  // (Plain rotation a b c, b c a, c a b puts c before a twice as often as b before a.) Two
  // formats alternate by themselves; for three, these six rounds give each ordered pair 3 times.
  const BALANCED = {3: [[0, 1, 2], [0, 2, 1], [2, 1, 0], [1, 0, 2], [1, 2, 0], [2, 0, 1]]};

  function roundOrders(n) {
    return BALANCED[n] || Array.from({length: n}, (_, i) => Array.from({length: n}, (_, j) => (i + j) % n));
  }

  // Loaded models, warmed up, then timed in blocks of back-to-back predictions, as an app's
  // prediction loop (video frames, a game) makes them: a WASM thread pool left idle parks its
  // threads, and the next prediction pays for waking them (TF.js at 2 threads, SqueezeNet demo:
  // 0.7 ms back to back, 7.7 ms with 20 ms between calls). The first prediction of each block
  // is not timed (it pays for whatever the previous runtime left behind), blocks of the formats
  // come in balanced turns (above) so drifting machine load hits every format alike, and a
  // pause between blocks lets the previous runtime's spinning workers park. Warm-up lasts at
  // least `warmup` runs and warmupMs (V8 must have optimized the runtime's JavaScript too); a
  // fast model gets more than `runs` timed predictions, as many as fit in budgetMs (at most
  // maxRuns), because its median is the noisiest.
  const BLOCK = 10;

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
    const orders = roundOrders(formats.length);
    const timed = BLOCK - 1;
    const round = formats.reduce((sum, f) => sum + perRun[f] * BLOCK + pauseMs, 0);
    const wanted = Math.max(runs, Math.min(maxRuns, Math.floor(budgetMs / round) * timed));
    const rounds = Math.ceil(wanted / timed / orders.length) * orders.length;
    // blocks[f][i]: the timed predictions of format f in round i. The formats' blocks of one round
    // ran within milliseconds of each other, so the ratio intervals (bench/stats.py) resample
    // whole rounds: drifting machine load stays paired.
    const blocks = Object.fromEntries(formats.map((f) => [f, []]));
    for (let i = 0; i < rounds; i++) {
      for (const j of orders[i % orders.length]) {
        const f = formats[j];
        await pause(pauseMs);
        await runners[f].run();
        const block = [];
        for (let k = 0; k < timed; k++) {
          const t0 = performance.now();
          await runners[f].run();
          block.push(performance.now() - t0);
        }
        blocks[f].push(block);
      }
    }
    return {blocks, warmups};
  }

  async function loadOnly(format, url, input, threads) {
    runners[format] = await load(format, url, input, threads);
    const output = await runners[format].run();
    return {output: Array.from(output), ...runners[format].info()};
  }

  window.bench = {setBackend, cold, loadOnly, warm};
})();
