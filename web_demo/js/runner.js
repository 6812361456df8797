// WN.compileRunner(model): the webnets package's runner (js/src/runner.js): inference for a TF.js layers
// model without tfjs-layers' per-layer bookkeeping (the common classes as the one TF.js op they amount
// to, every other class through its own apply()), or null for a model whose tensors carry masks.
(function (WN) {
  'use strict';
  WN.provide('runner', ['core']);
  WN.compileRunner = (model) => WN.package.compileRunner(model);
})(window.WN = window.WN || {});
