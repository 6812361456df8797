// webnets-layers.js: webnets' own TF.js layer classes, for what tfjs-layers 4.22 lacks.
//
// One plain file for a page or Node. Every class subclasses tf.layers.Layer, has a
// static className, adds its weights with addWeight (so TF.js trains them), and is
// registered with tf.serialization.registerClass, which tf.loadLayersModel consults.
//
//   page:  <script src="tf.min.js"></script><script src="webnets-layers.js"></script>
//          (a classic script registers everything on the global `tf`)
//   Node:  require('<dir>/webnets-layers.js').register(tf)
//   then:  webnetsLayers.predict(model, inputs) (page) / require(...).predict(model, inputs) (Node) runs
//          any exported model, string inputs included (see `predict`, js/src/layers/predict.js)
//
// TF.js converts the snake_case keys *and* string values of a layer config to
// camelCase before a constructor sees them (names excepted), so constructors read
// camelCase keys and compare camelCase values. getConfig returns camelCase keys, as
// tfjs' own layers do; model.save() writes them back in snake_case.

// The entry of exporter/runtime/webnets-layers.js: js/build.mjs takes the comment above as the script's
// header and wraps this module's exports in the script's UMD contract (module.exports in Node, the global
// `webnetsLayers` in a page, registration on a global `tf` that is already there).
export {register, predict, VERSION} from '../layers/index.js';
