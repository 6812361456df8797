// predict(model, inputs): runs any exported layers model with the tf that register(tf) (index.js) last got.
let registered = null;  // the tf of the last register(tf), which predict uses

// register(tf) (index.js) hands its tf here.
export function rememberTf(tf) {
  registered = tf;
}

// predict(model, inputs) -> tf.Tensor, or an array of them for a model with several outputs: one call
// for every exported layers model, string inputs included (tfjs' model.predict() refuses strings: it
// slices the batch with numeric ops). It runs model.apply at inference (training: false) under tf.tidy,
// so that only the outputs remain (dispose them when done).
//   inputs: for a model with one input, a tf.Tensor or a JavaScript array; for several, an array in
//   model.inputs order or an object keyed by model.inputNames. A JS array becomes a tensor of the
//   input's dtype; a string input takes one text per sample (['first text', 'second'] for an input of
//   shape [null, 1]), and a lone string is a batch of one.
// A tensor of the wrong kind (numbers for a string input, or strings for a number input) is refused
// with an error naming the input and the layer it feeds.
export function predict(model, inputs) {
  const tf = registered;
  if (tf == null) {
    throw new Error('webnets-layers.js: predict(model, inputs) needs register(tf) first (a page\'s <script> tag '
      + 'registers on the global tf when it is loaded after tf.min.js).');
  }
  const specs = model.inputs;
  let given;
  if (specs.length === 1 && (inputs instanceof tf.Tensor || typeof inputs === 'string'
    || (Array.isArray(inputs) && !(inputs[0] instanceof tf.Tensor)))) {
    given = [inputs];
  } else if (Array.isArray(inputs)) {
    given = inputs;
  } else {
    given = model.inputNames.map((name) => {
      if (!(name in inputs)) throw new Error(`webnets predict: no value for the model's input '${name}'.`);
      return inputs[name];
    });
  }
  if (given.length !== specs.length) {
    throw new Error(`webnets predict: the model takes ${specs.length} inputs (${model.inputNames.join(', ')}), `
      + `and ${given.length} were given.`);
  }
  const consumer = (i) => {
    const nodes = model.inputLayers[i] ? model.inputLayers[i].outboundNodes : [];
    const layer = nodes.length ? nodes[0].outboundLayer : null;
    return layer ? ` (it feeds ${layer.name}, a ${layer.getClassName()})` : '';
  };
  return tf.tidy(() => {
    const tensors = given.map((value, i) => {
      const spec = specs[i];
      const wantsString = spec.dtype === 'string';
      let t = value instanceof tf.Tensor ? value
        : tf.tensor(typeof value === 'string' ? [value] : value, undefined, wantsString ? 'string' : spec.dtype);
      if ((t.dtype === 'string') !== wantsString) {
        throw new Error(`webnets predict: the model's input '${model.inputNames[i]}'${consumer(i)} takes `
          + `${wantsString ? 'strings' : spec.dtype + ' numbers'}, and was given a ${t.dtype} tensor. `
          + (wantsString ? 'Pass texts: an array of strings, one per sample, or tf.tensor([...texts]).'
            : 'Pass numbers (a tf.Tensor or a JS array).'));
      }
      // One text per sample for an input of shape [null, 1]: add the trailing axis.
      if (t.rank === spec.shape.length - 1 && spec.shape[spec.shape.length - 1] === 1) t = tf.expandDims(t, -1);
      return t;
    });
    // apply, not execute(inputs, outputNames): tfjs cannot look output names up in a model with a shared
    // layer (one with several inbound nodes); apply runs the model's own output tensors.
    return model.apply(tensors.length === 1 ? tensors[0] : tensors, {training: false});
  });
}
