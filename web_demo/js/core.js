// The page's one namespace, WN, and the order its classic scripts load in.
// From file:// Chromium refuses ES modules, so the demo is classic scripts sharing `window.WN`.
// Each file declares what it provides and what it needs (WN.provide): loading them out of
// order, or forgetting one, fails at once with a message naming the files, instead of an
// undefined property later. Load order (index.html): core, backend, models, cards, images,
// text, agents, main.
(function (WN) {
  'use strict';
  WN.params = new URLSearchParams(location.search);
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
})(window.WN = window.WN || {});
