// compileRunner(tf, model): inference for a TF.js layers model without tfjs-layers' per-layer
// bookkeeping. tfjs-layers' execute() looks every tensor up by name in a FeedDict, counts
// recipients, and runs each layer through Layer.apply (name scope, input checks, a tidy scope per
// layer and another inside most call()s). On a small model on WASM that is a large part of a
// prediction (SqueezeNet demo: measured in bench/README.md). The runner walks the model's own
// node list once, at compile time, into a flat list of steps over numbered slots, then runs each
// step in one tidy scope: the common layer classes as the TF.js op they amount to at inference,
// every other class through its own apply() as execute() calls it, so any layers model runs,
// webnets' classes included.
// Weights are read from the layers' variables on every call, so training (the Teach panel) and
// the runner never disagree. Models whose tensors carry masks (Masking, Embedding mask_zero) are
// refused (null), and callers keep using execute()/predict(): tfjs-layers threads masks through
// call() arguments that only its executor knows how to fill.

// Activations tf.fused.conv2d / tf.fused.matMul apply inside the kernel (tfjs-core's
// FusedActivation), keyed by tfjs-layers' activation class name.
const FUSED = {linear: 'linear', relu: 'relu', relu6: 'relu6', elu: 'elu', sigmoid: 'sigmoid'};

const read = (variable) => (variable ? variable.read() : undefined);

// class name -> (layer, config) => (input(s)) => output, or null to use the layer's apply().
// `config` is the layer's getConfig(): tfjs-layers' camelCase names and values.
// Only the channels_last, inference-time behaviour of each class: anything else falls back.
function kernels(tf) {
  return {
    Conv2D(layer, c) {
      const activation = FUSED[layer.activation.getClassName()];
      if (!activation || c.dataFormat === 'channelsFirst' || (c.groups || 1) !== 1) return null;
      return (x) => tf.fused.conv2d({x, filter: layer.kernel.read(), bias: read(layer.bias), strides: c.strides,
                                     pad: c.padding, dilations: c.dilationRate, activation});
    },
    Dense(layer) {
      const activation = FUSED[layer.activation.getClassName()];
      // tfjs-layers' Dense takes any rank; the fused matMul is the rank-2 case.
      if (!activation) return null;
      return (x) => (x.rank === 2
        ? tf.fused.matMul({a: x, b: layer.kernel.read(), bias: read(layer.bias), activation})
        : layer.apply(x));
    },
    MaxPooling2D(layer, c) {
      if (c.dataFormat === 'channelsFirst') return null;
      return (x) => tf.maxPool(x, c.poolSize, c.strides, c.padding);
    },
    AveragePooling2D(layer, c) {
      if (c.dataFormat === 'channelsFirst') return null;
      return (x) => tf.avgPool(x, c.poolSize, c.strides, c.padding);
    },
    GlobalAveragePooling2D(layer, c) {
      if (c.dataFormat === 'channelsFirst') return null;
      return (x) => tf.mean(x, [1, 2]);
    },
    GlobalMaxPooling2D(layer, c) {
      if (c.dataFormat === 'channelsFirst') return null;
      return (x) => tf.max(x, [1, 2]);
    },
    Concatenate(layer, c) {
      return (xs) => tf.concat(xs, c.axis);
    },
    Add() {
      return (xs) => xs.reduce((sum, x) => tf.add(sum, x));
    },
    Flatten(layer, c) {
      if (c.dataFormat === 'channelsFirst') return null;
      return (x) => tf.reshape(x, [x.shape[0], -1]);
    },
    Activation(layer) {
      return (x) => layer.activation.apply(x);
    },
    ReLU(layer, c) {
      if (c.maxValue != null) return null;
      return (x) => tf.relu(x);
    },
    Softmax(layer, c) {
      const axis = Array.isArray(c.axis) ? (c.axis.length === 1 ? c.axis[0] : null) : (c.axis == null ? -1 : c.axis);
      if (axis === null) return null;
      // tf.softmax works on the last axis only.
      return (x) => (axis === -1 || axis === x.rank - 1 ? tf.softmax(x) : layer.apply(x));
    },
    // Identity at inference (no `training` argument reaches them here).
    Dropout() { return (x) => x; },
    SpatialDropout1D() { return (x) => x; },
    SpatialDropout2D() { return (x) => x; },
    GaussianNoise() { return (x) => x; },
    GaussianDropout() { return (x) => x; },
  };
}

const MASKING = (layer) => layer.getClassName() === 'Masking' ||
  (layer.getClassName() === 'Embedding' && layer.maskZero);

function compileStep(KERNELS, layer) {
  const make = KERNELS[layer.getClassName()];
  const direct = make ? make(layer, layer.getConfig()) : null;
  if (direct) return direct;
  // Through apply(), exactly as execute() calls it: some classes (the RNNs, wrappers) sort their
  // inputs there before call().
  return (inputs) => layer.apply(inputs);
}

// -> {run(inputs) -> Tensor | Tensor[], steps} or null when the model needs tfjs-layers' executor.
export function compileRunner(tf, model) {
  const KERNELS = kernels(tf);
  if (!model || !model.nodesByDepth || !Array.isArray(model.layers)) return null;
  if (model.layers.some(MASKING)) return null;
  const slots = new Map();
  model.inputs.forEach((t, i) => slots.set(t.id, i));
  let next = model.inputs.length;
  const steps = [];
  // Deepest nodes first, as tfjs-layers' own runInternalGraph orders them.
  const depths = Object.keys(model.nodesByDepth).map(Number).sort((a, b) => b - a);
  for (const depth of depths) {
    for (const node of model.nodesByDepth[depth]) {
      const layer = node.outboundLayer;
      if (layer.getClassName() === 'InputLayer') continue;
      const inputs = node.inputTensors.map((t) => slots.get(t.id));
      if (inputs.some((slot) => slot === undefined)) return null;
      const outputs = node.outputTensors.map((t) => {
        slots.set(t.id, next);
        return next++;
      });
      steps.push({run: compileStep(KERNELS, layer), inputs, outputs, single: inputs.length === 1, frees: []});
    }
  }
  const results = model.outputs.map((t) => slots.get(t.id));
  if (results.some((slot) => slot === undefined)) return null;
  // Each intermediate is disposed after the last step that reads it, as execute() does: on WebGL
  // a freed texture is reused by the next kernel, and a big model's activations never all live
  // at once. Model inputs and outputs are never freed.
  const lastUse = new Map();
  steps.forEach((step, i) => step.inputs.forEach((slot) => lastUse.set(slot, i)));
  for (const [slot, i] of lastUse) {
    if (slot >= model.inputs.length && !results.includes(slot)) steps[i].frees.push(slot);
  }
  const count = next;
  const run = (inputs) => tf.tidy(() => {
    const values = new Array(count);
    const given = Array.isArray(inputs) ? inputs : [inputs];
    for (let i = 0; i < given.length; i++) values[i] = given[i];
    // A layer may hand a tensor back unchanged (Dropout, a linear Activation): one tensor then
    // fills several slots, and is disposed when the last of them is freed; never a caller's input.
    const holders = new Map();
    for (const step of steps) {
      const x = step.single ? values[step.inputs[0]] : step.inputs.map((slot) => values[slot]);
      const y = step.run(x);
      const ys = Array.isArray(y) ? y : [y];
      for (let k = 0; k < step.outputs.length; k++) {
        values[step.outputs[k]] = ys[k];
        holders.set(ys[k], (holders.get(ys[k]) || 0) + 1);
      }
      for (const slot of step.frees) {
        const tensor = values[slot];
        values[slot] = undefined;
        const left = holders.get(tensor) - 1;
        holders.set(tensor, left);
        if (left === 0 && !given.includes(tensor)) tensor.dispose();
      }
    }
    return results.length === 1 ? values[results[0]] : results.map((slot) => values[slot]);
  });
  return {run, steps: steps.length};
}
