// The page's one namespace, WN, and the order its classic scripts load in.
// From file:// Chromium refuses ES modules, so the demo is classic scripts sharing `window.WN`.
// Each file declares what it provides and what it needs (WN.provide): loading them out of
// order, or forgetting one, fails at once with a message naming the files, instead of an
// undefined property later. Load order (index.html): core, backend, runner, models, cards,
// images, text, agents, teach, main.
(function (WN) {
  'use strict';
  WN.params = new URLSearchParams(location.search);
  // The webnets package (vendor/webnets.js, loaded before this file): its classes are registered on tf,
  // and the demo uses its runner, WebGPU repairs and parity measure. main.js later puts the page's test
  // hook on window.webnets (with the package's API behind it), so the package is kept here.
  WN.package = window.webnets;
  if (!WN.package || typeof WN.package.load !== 'function') {
    throw new Error('web_demo/js/core.js needs vendor/webnets.js (the webnets package) loaded before it: run `make vendor`');
  }
  const provided = new Set(['core']);

  WN.provide = function (name, needs) {
    const missing = (needs || []).filter((need) => !provided.has(need));
    if (missing.length) {
      throw new Error(`web_demo/js/${name}.js needs ${missing.map((m) => `js/${m}.js`).join(', ')} ` +
        'loaded before it (see the script order in index.html)');
    }
    provided.add(name);
  };
  WN.provided = (name) => provided.has(name);

  // A seeded uniform [0, 1) source (mulberry32): the text panel's reproducible draws (?seed=N) and
  // the Teach panel's validation split use it, so the same seed gives the same sequence.
  WN.seededRandom = function (seed) {
    let a = (seed >>> 0) || 1;
    return () => {
      a = (a + 0x6D2B79F5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  };
})(window.WN = window.WN || {});
