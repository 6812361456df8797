// Chooses the TF.js backend: WebGL first, then WASM, then the plain CPU backend,
// each proven with a tiny computation before it is trusted. `?backend=NAME` forces one,
// `?threads=N` sets the WASM thread count.
(function (WN) {
  'use strict';
  WN.provide('backend', ['core']);
  WN.backend = {name: null, failures: [], wasm: null};

  // WebGL reads results back asynchronously (data()), polling a fence with setTimeout(0), which
  // browsers clamp to 4 ms once timeouts nest: every await of a small result took >= 4 ms. TF.js's
  // own flag (USE_SETTIMEOUTCUSTOM, read at every poll) interleaves postMessage to avoid the clamp,
  // and so polls without pause. That pays for a short GPU job: a language-model step (dispatch +
  // read back) went from 9.4 to 6.7 ms (LSTM) and 9.3 to 6.0 ms (GRU) on WebGL here. It costs a
  // long one where the GPU is software on the same cores (SwiftShader): the spinning page takes
  // CPU from the renderer, SqueezeNet demo 18.1 -> 22.5 ms a prediction, the paper-size one 863 ->
  // 1,387 ms. So it is on only while something awaits short steps (the text panel generating,
  // bench/text.py timing a step), through this; calls may overlap.
  let quickReadbacks = 0;
  WN.withQuickReadback = async function (work) {
    if (quickReadbacks++ === 0) tf.env().set('USE_SETTIMEOUTCUSTOM', true);
    try {
      return await work();
    } finally {
      if (--quickReadbacks === 0) tf.env().set('USE_SETTIMEOUTCUSTOM', false);
    }
  };

  // Threads for TF.js WASM. They exist only on a cross-origin isolated page (`make demo`
  // sends COOP/COEP; a page opened from disk runs one thread). All logical cores, at most 4:
  // beyond that a small model gains nothing; TF.js's own default is half the cores.
  WN.wasmThreads = function () {
    const asked = parseInt(WN.params.get('threads') || '', 10);
    return asked > 0 ? asked : Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1));
  };

  // Initializes TF.js WASM with `threads` threads. tfjs-backend-wasm 4.22 sizes its pool as
  // min(setThreadsCount, navigator.hardwareConcurrency / 2) (src/cc/backend.cc assumes two
  // hyperthreads per core), so a 2-core machine would get 1 thread whatever is asked; while
  // the module initializes (it reads the value once, then), the page reports twice the count.
  // Returns what really happened. Shared with the bench page (bench/page/bench.js).
  WN.initWasm = async function (threads) {
    if (!tf.wasm) throw new Error('the WASM backend script did not load');
    // data: URLs from vendor/wasm-binaries.js work from file://, where fetch() of files is refused.
    tf.wasm.setWasmPaths(window.WEBNETS_WASM || 'vendor/');
    tf.wasm.setThreadsCount(threads);
    let shim = false;
    if (Math.floor((navigator.hardwareConcurrency || 1) / 2) < threads) {
      try {
        Object.defineProperty(navigator, 'hardwareConcurrency', {configurable: true, get: () => threads * 2});
        shim = true;
      } catch (error) {
        // A browser that forbids it gets TF.js's own count (half the cores), which still works.
      }
    }
    try {
      if (!(await tf.setBackend('wasm'))) throw new Error('it could not be initialized');
      await tf.ready();
    } finally {
      if (shim) delete navigator.hardwareConcurrency;
    }
    // webnets' own WebAssembly kernels (the package's js/wasm/: BatchMatMul as a SIMD GEMM where TF.js
    // runs a scalar loop), as webnets.load uses them on WASM.
    const kernels = (await WN.package.kernels.register()) ? 'webnets' : 'stock';
    return {
      kernels,
      threads_requested: threads, threads: tf.wasm.getThreadsCount(), hardware_concurrency_shim: shim,
      crossOriginIsolated: self.crossOriginIsolated === true,
      multithread_support: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
      simd_support: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    };
  };

  // tfjs-backend-webgpu 4.22's silently wrong kernels, repaired by the webnets package
  // (js/src/backends/webgpu-repairs.js) on the backend the demo selects.
  WN.repairWebGPU = (backend) => WN.package.repairWebGPU(backend);

  // null when `name` runs (the package's check: there, computing right, WebGPU repaired), else why not.
  // WASM is set up here first, with the demo's thread count.
  async function tryBackend(name) {
    if (name === 'wasm') {
      try {
        WN.backend.wasm = await WN.initWasm(WN.wasmThreads());
      } catch (error) {
        return String((error && error.message) || error);
      }
    }
    return WN.package.tryBackend(name);
  }

  WN.selectBackend = async function () {
    const forced = WN.params.get('backend');
    const order = forced ? [forced] : ['webgl', 'wasm', 'cpu'];
    for (const name of order) {
      const error = await tryBackend(name);
      if (error === null) {
        WN.backend.name = name;
        return name;
      }
      WN.backend.failures.push({backend: name, error});
    }
    throw new Error('no TF.js backend works here (' +
      WN.backend.failures.map((f) => `${f.backend}: ${f.error}`).join('; ') + ')');
  };

  WN.describeBackend = function () {
    const labels = {webgpu: 'WebGPU (GPU)', webgl: 'WebGL (GPU)', wasm: 'WebAssembly (CPU)', cpu: 'plain JavaScript (CPU, slow)'};
    let text = `TF.js ${tf.version.tfjs} on ${labels[WN.backend.name] || WN.backend.name}`;
    const wasm = WN.backend.wasm;
    if (WN.backend.name === 'wasm' && wasm) {
      const threads = wasm.multithread_support ? wasm.threads : 1;
      text += ` (${threads} thread${threads === 1 ? '' : 's'}${wasm.simd_support ? ', SIMD' : ''}` +
        (wasm.multithread_support ? '' : '; one thread: the page is not cross-origin isolated, serve it with `make demo`') + ')';
    }
    text += '.';
    if (WN.backend.failures.length) {
      const names = {webgpu: 'WebGPU', webgl: 'WebGL'};
      text += ' ' + WN.backend.failures.map((f) => `${names[f.backend] || f.backend} is unavailable (${f.error}),`).join(' ') +
        ` so the models run on ${WN.backend.name}.`;
    }
    return text;
  };
})(window.WN = window.WN || {});
