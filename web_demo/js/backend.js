// Chooses the TF.js backend: WebGL first, then WASM, then the plain CPU backend,
// each proven with a tiny computation before it is trusted. `?backend=NAME` forces one.
(function (WN) {
  'use strict';
  WN.params = new URLSearchParams(location.search);
  WN.backend = {name: null, failures: []};

  async function tryBackend(name) {
    try {
      if (name === 'wasm') {
        if (!tf.wasm) throw new Error('the WASM backend script did not load');
        // data: URLs from vendor/wasm-binaries.js work from file://, where fetch() of files is refused.
        tf.wasm.setWasmPaths(window.WEBNETS_WASM || 'vendor/');
      }
      if (!(await tf.setBackend(name))) throw new Error(`it could not be initialized`);
      await tf.ready();
      const probe = tf.tidy(() => tf.tensor([1, 2, 3]).square().sum());
      const value = (await probe.data())[0];
      probe.dispose();
      if (value !== 14) throw new Error(`a test computation gave ${value} instead of 14`);
      return null;
    } catch (error) {
      return String((error && error.message) || error);
    }
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
    const labels = {webgl: 'WebGL (GPU)', wasm: 'WebAssembly (CPU)', cpu: 'plain JavaScript (CPU, slow)'};
    let text = `TF.js ${tf.version.tfjs} on ${labels[WN.backend.name] || WN.backend.name}.`;
    if (WN.backend.failures.length) {
      text += ' ' + WN.backend.failures.map((f) => `${f.backend === 'webgl' ? 'WebGL' : f.backend} is unavailable (${f.error}),`).join(' ') +
        ` so the models run on ${WN.backend.name}.`;
    }
    return text;
  };
})(window.WN = window.WN || {});
