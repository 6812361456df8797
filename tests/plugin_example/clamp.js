// clamp.js: the TF.js half of tests/plugin_example/clamp.py's Clamp01Where, a webnets plugin.
// The contract of webnets-layers.js: in a page, a classic script after tf.min.js registers the
// class on the global tf; in Node, require('clamp.js').register(tf).
(function (root, factory) {
  const api = factory();
  if (typeof module === 'object' && module.exports) module.exports = api;
  if (root && root.tf && root.tf.layers) api.register(root.tf);
})(typeof globalThis !== 'undefined' ? globalThis : this, function () {
  'use strict';

  function register(tf) {
    class Clamp01Where extends tf.layers.Layer {
      static className = 'Clamp01Where';

      constructor(config) {
        super(config);
        this.upper = config.upper == null ? 1 : config.upper;
      }

      build(inputShape) {
        const shape = Array.isArray(inputShape[0]) ? inputShape[0] : inputShape;
        // Named as the translator's weight suffix: model.json's '<layer>/gain' loads into it.
        this.gain = this.addWeight('gain', [shape[shape.length - 1]], 'float32', tf.initializers.ones());
        this.built = true;
      }

      call(inputs) {
        return tf.tidy(() => {
          const x = Array.isArray(inputs) ? inputs[0] : inputs;
          // Keras: maximum(x * gain, 0), then minimum(., upper), each only where needed: a clip.
          return tf.clipByValue(tf.mul(x, this.gain.read()), 0, this.upper);
        });
      }

      computeOutputShape(inputShape) {
        return inputShape;
      }

      getConfig() {
        return {...super.getConfig(), upper: this.upper};
      }
    }

    tf.serialization.registerClass(Clamp01Where);
    return [Clamp01Where.className];
  }

  return {register};
});
