// --- recurrent: WebnetsSimpleRNN, WebnetsLSTM, WebnetsGRU (Keras 3's cells, fewer kernels) ----
//
// tfjs-layers' RNNs run their cell through a generic loop (for a one-step call the LSTM ran
// its cell three times: 91 kernels on WASM), and its GRU slices the recurrent kernel on every
// step. These classes do what Keras 3 computes with as few TF.js kernels as the maths allows:
// the input projection of all time steps (with the bias) is one matMul; a step is one matMul
// with the recurrent kernel (split once per call where the cell needs it split) and the gates
// on whole [batch, gates * units] tensors. SimpleRNN: 3 kernels per step, GRU: 12, LSTM: 15.
export function defineRecurrent(tf, H) {
  const {camel, normalize, fromSpec, toSpec} = H;

  // Activations are called on every time step, so the common ones are plain tf ops; the rest
  // go through a tfjs Activation layer (the same functions tfjs' own RNNs use).
  const FAST = {sigmoid: tf.sigmoid, tanh: tf.tanh, relu: tf.relu, linear: (x) => x};
  function activationFn(name) {
    const key = camel(String(name || 'linear'));
    if (FAST[key]) return FAST[key];
    const layer = tf.layers.activation({activation: key});
    return (x) => layer.apply(x);
  }

  // Keras 3's LSTM gates (keras/src/layers/rnn/lstm.py, and conv_lstm.py with convolutions for the
  // products), order i, f, c, o on the last axis of z = x W + b + h U:
  //   i, f, o = ra(z_i, z_f, z_o);  c' = f * c + i * a(z_c);  h' = o * a(c')   -> [h', c']
  function lstmGates(z, c, a, ra) {
    const [zi, zf, zc, zo] = tf.split(z, 4, z.rank - 1);
    const c2 = tf.add(tf.mul(ra(zf), c), tf.mul(ra(zi), a(zc)));
    return [tf.mul(ra(zo), a(c2)), c2];
  }

  // unit_forget_bias: the LSTM bias starts at [init(u), ones(u), init(2u)] (an initializer only).
  // Duck-typed tfjs Initializer: addWeight only calls apply(shape, dtype).
  function forgetBiasInitializer(base, u) {
    return {
      apply: (shape, dtype) => tf.tidy(() => tf.concat([base.apply([u], dtype), tf.ones([u], dtype),
        base.apply([2 * u], dtype)], 0)),
      getClassName: () => base.getClassName(),
      getConfig: () => base.getConfig(),
    };
  }


  // The rows of the input projection [steps * batch, width], one [batch, width] tensor a step.
  // tfjs-backend-wasm's Slice (and Unpack, made of it) copies its whole source out of the WASM
  // heap for every slice it takes, so unstacking a 96-step projection of the demo LSTM cost 26 ms
  // of its 40 ms predict. On WASM at inference the rows are read out once and uploaded one by one
  // (microseconds each). While gradients are recorded (fit) the rows must come from ops on the
  // projection, so that training reaches the kernel through them.
  function timeSteps(proj, steps, batch, width) {
    if (steps <= 1) return steps === 1 ? [proj] : [];
    if (tf.getBackend() !== 'wasm' || H.recording()) return tf.unstack(tf.reshape(proj, [steps, batch, width]));
    const data = proj.dataSync();
    const size = batch * width;
    return Array.from({length: steps}, (_, t) => tf.tensor2d(data.subarray(t * size, (t + 1) * size), [batch, width]));
  }

  // x + h k. On WebGL and CPU one fused matMul with x as its bias (a shader program fewer on every
  // step). Not on WASM: its fused matMul takes only a rank-1 bias, and it packs the kernel again for
  // every new bias tensor (the demo LSTM's 96 steps went from 20 to 250 ms).
  function plusMatMul(x, h, kernel) {
    if (tf.getBackend() !== 'wasm') return H.matMul2d(h, kernel, x);
    return tf.add(x, tf.matMul(h, kernel));
  }

  // Activations TF.js can fuse into a matMul (tanh is not among them).
  const FUSABLE = new Set(['linear', 'relu', 'relu6', 'elu', 'sigmoid']);
  const fusable = (name) => (FUSABLE.has(camel(String(name))) ? camel(String(name)) : null);

  // [recurrent; input] kernel columns [from, from + size): the weights of one matMul of [h, x].
  const stacked = (recurrent, input, from, size) => tf.concat(
    [tf.slice(recurrent, [0, from], [-1, size]), tf.slice(input, [0, from], [-1, size])], 0);

  // What SimpleRNN, LSTM and GRU share: config, weights [input, gates * units] and
  // [units, gates * units], Keras 3's masking, go_backwards, initial and returned states.
  // A subclass gives `gates`, `stateCount`, biasShape(), inputBias(), prepare() (per call)
  // and cell(x, states, prepared) -> new states, the first of which is the output; and for one
  // time step alone prepareSingleStep() and singleStep(x, states, prepared), x unprojected.
  class WebnetsRecurrent extends tf.layers.Layer {
    constructor(args, gates, stateCount) {
      const a = normalize(args);
      super(a);
      const kind = this.constructor.className;
      if (a.stateful) {
        throw new Error(`${kind} '${this.name}': stateful=true is not supported; pass the state in and out ` +
          '(initial_state= / return_state=True), as webnets\' step form does.');
      }
      this.units = a.units;
      if (!(Number.isInteger(this.units) && this.units > 0)) {
        throw new Error(`${kind} '${this.name}': units must be a positive integer, got ${this.units}.`);
      }
      this.gates = gates;
      this.stateCount = stateCount;
      this.args = a;
      this.activationName = a.activation == null ? 'tanh' : a.activation;
      this.activationFn = activationFn(this.activationName);
      if (gates > 1) {  // LSTM's and GRU's gates
        this.recurrentActivationName = a.recurrentActivation == null ? 'sigmoid' : a.recurrentActivation;
        this.recurrentActivationFn = activationFn(this.recurrentActivationName);
      }
      this.useBias = a.useBias == null ? true : !!a.useBias;
      this.returnSequences = !!a.returnSequences;
      this.returnState = !!a.returnState;
      this.goBackwards = !!a.goBackwards;
      this.zeroOutputForMask = !!a.zeroOutputForMask;
      // Keras 3 passes the upstream mask only to a layer called on one tensor: called with an
      // initial state (and no mask=), it runs unmasked. The exporter sets this then.
      this.ignoreMask = !!a.ignoreMask;
      // TF.js loops in JavaScript anyway; kept only for Keras' unrolled masking quirk (see run()).
      this.unroll = !!a.unroll;
      // Inference no-ops; training in TF.js does not drop either (Keras does).
      this.dropout = a.dropout || 0;
      this.recurrentDropout = a.recurrentDropout || 0;
      this.kernelInitializer = fromSpec(a.kernelInitializer, 'glorotUniform');
      this.recurrentInitializer = fromSpec(a.recurrentInitializer, 'orthogonal');
      this.biasInitializer = fromSpec(a.biasInitializer, 'zeros');
      this.kernelRegularizer = fromSpec(a.kernelRegularizer);
      this.recurrentRegularizer = fromSpec(a.recurrentRegularizer);
      this.biasRegularizer = fromSpec(a.biasRegularizer);
      this.kernelConstraint = fromSpec(a.kernelConstraint);
      this.recurrentConstraint = fromSpec(a.recurrentConstraint);
      this.biasConstraint = fromSpec(a.biasConstraint);
      this.supportsMasking = true;
      this.stateSize = stateCount === 1 ? this.units : new Array(stateCount).fill(this.units);
      // Inside a WebnetsStackedRNN a cell's weights are named cell_<i>/kernel, ...
      this.weightPrefix = '';
    }

    // Bidirectional counts the states (h; LSTM: h, c) to split initial states and outputs.
    get states() {
      return new Array(this.stateCount).fill(null);
    }

    biasInitializerFor() {
      return this.biasInitializer;
    }

    build(inputShape) {
      const shape = H.oneShape(inputShape);
      const name = (weight) => `${this.weightPrefix}${weight}`;
      this.kernel = this.addWeight(name('kernel'), this.kernelShape(shape), 'float32', this.kernelInitializer,
        this.kernelRegularizer, true, this.kernelConstraint);
      this.recurrentKernel = this.addWeight(name('recurrent_kernel'), this.recurrentKernelShape(), 'float32',
        this.recurrentInitializer, this.recurrentRegularizer, true, this.recurrentConstraint);
      this.bias = this.useBias
        ? this.addWeight(name('bias'), this.biasShape(), 'float32', this.biasInitializerFor(), this.biasRegularizer,
          true, this.biasConstraint)
        : null;
      this.built = true;
    }

    // Keras' kernel [input features, gates * units] for a sequence of shape `inputShape`.
    kernelShape(inputShape) {
      return [inputShape[inputShape.length - 1], this.gates * this.units];
    }

    recurrentKernelShape() {
      return [this.units, this.gates * this.units];
    }

    biasShape() {
      return [this.gates * this.units];
    }

    // The bias added to the input projection of every step, [gates * units], or null.
    inputBias() {
      return this.useBias ? this.bias.read() : null;
    }

    // The sizes of the states (h; LSTM: h, c), the shapes of the states and of one step's output,
    // and their rank: what a stack of cells (several sizes) and ConvLSTM (spatial states) change.
    stateSizes() {
      return new Array(this.stateCount).fill(this.units);
    }

    stateShapes(batch) {
      return this.stateSizes().map((size) => [batch, size]);
    }

    outputShape(batch) {
      return [batch, this.units];
    }

    stateRank() {
      return 2;
    }

    // One step's output among the new states a cell returns (every cell here outputs its h).
    outputOf(states) {
      return states[0];
    }

    computeOutputShape(inputShape) {
      const shape = H.oneShape(inputShape);
      const step = this.outputShape(shape[0]);
      const output = this.returnSequences ? [shape[0], shape[1], ...step.slice(1)] : step;
      if (!this.returnState) return output;
      return [output, ...this.stateShapes(shape[0])];
    }

    computeMask(inputs, mask) {
      const m = Array.isArray(mask) ? mask[0] : mask;  // Keras 3 passes it on even when ignoreMask
      const output = this.returnSequences && m != null ? m : null;
      return this.returnState ? [output, ...new Array(this.stateCount).fill(null)] : output;
    }

    // inputs: the sequence [batch, time, features], optionally followed by the initial states
    // (a Functional graph passes them as extra inputs; Bidirectional as kwargs.initialState).
    call(inputs, kwargs) {
      kwargs = kwargs || {};
      return this.returnState ? H.onceForSameInputs(this, inputs, kwargs, () => this.run(inputs, kwargs))
        : this.run(inputs, kwargs);
    }

    run(inputs, kwargs) {
      return tf.tidy(() => {
        const list = Array.isArray(inputs) ? inputs : [inputs];
        const x = list[0];
        let initial = list.length > 1 ? list.slice(1) : kwargs.initialState;
        if (initial != null && !Array.isArray(initial)) initial = [initial];
        if (initial != null && initial.length !== this.stateCount) {
          throw new Error(`${this.constructor.className} '${this.name}': expected ${this.stateCount} initial ` +
            `state(s), got ${initial.length}.`);
        }
        let mask = Array.isArray(kwargs.mask) ? kwargs.mask[0] : kwargs.mask;
        if (this.ignoreMask) mask = null;
        const [batch, steps] = x.shape;
        if (steps === 1 && mask == null && typeof this.singleStep === 'function') {
          // One time step (a step model's call): one matMul of [h, x] with the recurrent and input
          // kernels stacked, instead of projecting x first (SimpleRNN 3 -> 2 kernels, LSTM 14 -> 13,
          // GRU 13 -> 10 a step, on WASM).
          const u = this.units;
          const states = initial != null ? initial
            : new Array(this.stateCount).fill(null).map(() => tf.zeros([batch, u]));
          const prepared = H.derived(this, 'singleStep', () => this.prepareSingleStep());
          const fresh = this.singleStep(tf.reshape(x, [batch, x.shape[2]]), states, prepared);
          const output = this.returnSequences ? tf.reshape(fresh[0], [batch, 1, u]) : fresh[0];
          return this.returnState ? [output, ...fresh] : output;
        }

        const xs = this.stepInputs(x);
        let masks = null;
        let keeps = null;
        if (mask != null) {
          // [time, batch, 1, ...]: a sample's 0/1 at step t, broadcast over a state of any rank.
          const m = tf.reshape(tf.transpose(tf.cast(mask, 'float32'), [1, 0]),
            [steps, batch, ...new Array(this.stateRank() - 1).fill(1)]);
          masks = tf.unstack(m);
          keeps = tf.unstack(tf.sub(1, m));
        }
        const prepared = this.prepared();

        // As Keras: a masked step keeps the state; its output is the previous output (zeros
        // before the first unmasked step), or zeros with zero_output_for_mask.
        // Keras' unrolled loop (keras/src/backend/tensorflow/rnn.py, unroll=True) instead zeroes a
        // returned sequence once the loop is over, by the mask in *input* order, also when go_backwards
        // puts the outputs in reverse order; in the loop a masked step repeats the previous output.
        const unrolledZeros = masks != null && this.unroll && this.goBackwards && this.zeroOutputForMask
          && this.returnSequences;
        const zeroOutput = this.zeroOutputForMask && !unrolledZeros;
        const select = (t, a, b) => tf.add(tf.mul(a, masks[t]), tf.mul(b, keeps[t]));
        const trackOutput = masks != null && initial != null && !zeroOutput;
        let states = initial != null ? initial : this.stateShapes(batch).map((shape) => tf.zeros(shape));
        let out = trackOutput ? tf.zeros(this.outputShape(batch)) : null;
        const outputs = [];
        for (let n = 0; n < steps; ++n) {
          const t = this.goBackwards ? steps - 1 - n : n;
          const next = tf.tidy(() => {
            const fresh = this.cell(xs[t], states, prepared);
            const output = this.outputOf(fresh);
            if (masks == null) return [output, ...fresh];
            const kept = fresh.map((s, i) => select(t, s, states[i]));
            if (zeroOutput) return [tf.mul(output, masks[t]), ...kept];
            return [trackOutput ? select(t, output, out) : this.outputOf(kept), ...kept];
          });
          out = next[0];
          states = next.slice(1);
          if (this.returnSequences) outputs.push(out);
        }
        if (steps === 0) out = tf.zeros(this.outputShape(batch));
        let output = out;
        if (this.returnSequences) {
          output = steps === 0 ? tf.zeros([batch, 0, ...this.outputShape(batch).slice(1)])
            : (steps === 1 ? tf.expandDims(outputs[0], 1) : tf.stack(outputs, 1));
          if (unrolledZeros) {
            output = tf.mul(output, tf.reshape(tf.cast(mask, 'float32'),
              [batch, steps, ...new Array(this.stateRank() - 1).fill(1)]));
          }
        }
        return this.returnState ? [output, ...states] : output;
      });
    }

    // The cell's input at every step, x W + b: one projection for all steps, time-major so that
    // step t is one row block.
    stepInputs(x) {
      const [batch, steps, features] = x.shape;
      const flat = steps === 1 ? tf.reshape(x, [batch, features])
        : tf.reshape(tf.transpose(x, [1, 0, 2]), [steps * batch, features]);
      const bias = H.derived(this, 'inputBias', () => this.inputBias());
      const proj = H.matMul2d(flat, this.kernel.read(), bias);
      return timeSteps(proj, steps, batch, this.gates * this.units);
    }

    // What prepare() derives from the weights, kept while they keep their data.
    prepared() {
      return H.derived(this, 'prepare', () => this.prepare());
    }

    getConfig() {
      // camelCase keys, as tfjs' own layers: Bidirectional copies this config and flips
      // `goBackwards`, and saving (model.toJSON) writes the keys back in snake_case.
      const config = {
        units: this.units,
        activation: this.activationName,
        useBias: this.useBias,
        kernelInitializer: toSpec(this.kernelInitializer),
        recurrentInitializer: toSpec(this.recurrentInitializer),
        biasInitializer: toSpec(this.biasInitializer),
        kernelRegularizer: toSpec(this.kernelRegularizer),
        recurrentRegularizer: toSpec(this.recurrentRegularizer),
        biasRegularizer: toSpec(this.biasRegularizer),
        kernelConstraint: toSpec(this.kernelConstraint),
        recurrentConstraint: toSpec(this.recurrentConstraint),
        biasConstraint: toSpec(this.biasConstraint),
        dropout: this.dropout,
        recurrentDropout: this.recurrentDropout,
        returnSequences: this.returnSequences,
        returnState: this.returnState,
        goBackwards: this.goBackwards,
        stateful: false,
        unroll: this.unroll,
        zeroOutputForMask: this.zeroOutputForMask,
        ignoreMask: this.ignoreMask,
        ...(this.gates > 1 ? {recurrentActivation: this.recurrentActivationName} : {}),
      };
      return Object.assign({}, super.getConfig(), config);
    }
  }

  // Keras 3 SimpleRNN: h' = a(x W + b + h U).
  class WebnetsSimpleRNN extends WebnetsRecurrent {
    static className = 'WebnetsSimpleRNN';

    constructor(args) {
      super(args, 1, 1);
    }

    prepare() {
      return this.recurrentKernel.read();
    }

    cell(x, [h], recurrent) {
      return [this.activationFn(plusMatMul(x, h, recurrent))];
    }

    prepareSingleStep() {
      return {kernel: tf.concat([this.recurrentKernel.read(), this.kernel.read()], 0),
        bias: this.useBias ? this.bias.read() : null};
    }

    singleStep(x, [h], p) {
      const fused = fusable(this.activationName);
      const z = H.matMul2d(tf.concat([h, x], 1), p.kernel, p.bias, fused || 'linear');
      return [fused ? z : this.activationFn(z)];
    }
  }

  // Keras 3 LSTM, gate order i, f, c, o:
  //   z = x W + b + h U;  i, f, o = ra(z_i, z_f, z_o);  c' = f * c + i * a(z_c);  h' = o * a(c')
  // unit_forget_bias: the bias starts at ones for the forget gate (an initializer only).
  class WebnetsLSTM extends WebnetsRecurrent {
    static className = 'WebnetsLSTM';

    constructor(args) {
      super(args, 4, 2);
      this.unitForgetBias = this.args.unitForgetBias == null ? true : !!this.args.unitForgetBias;
    }

    biasInitializerFor() {
      return this.unitForgetBias ? forgetBiasInitializer(this.biasInitializer, this.units) : this.biasInitializer;
    }

    prepare() {
      return this.recurrentKernel.read();
    }

    cell(x, [h, c], recurrent) {
      return this.fromGates(plusMatMul(x, h, recurrent), c);
    }

    prepareSingleStep() {
      return {kernel: tf.concat([this.recurrentKernel.read(), this.kernel.read()], 0),
        bias: this.useBias ? this.bias.read() : null};
    }

    singleStep(x, [h, c], p) {
      return this.fromGates(H.matMul2d(tf.concat([h, x], 1), p.kernel, p.bias), c);
    }

    // z = x W + b + h U, [batch, 4u] -> [h', c']
    fromGates(z, c) {
      return lstmGates(z, c, this.activationFn, this.recurrentActivationFn);
    }

    getConfig() {
      return {...super.getConfig(), unitForgetBias: this.unitForgetBias};
    }
  }

  // Keras 3 GRU (keras/src/layers/rnn/gru.py), gate order z, r, h:
  //   z = ra(x Wz + bz + h Uz + b'z),  r = ra(x Wr + br + h Ur + b'r)
  //   reset_after:  hh = a(x Wh + bh + r * (h Uh + b'h))     bias [2, 3u] = [input; recurrent]
  //   otherwise:    hh = a(x Wh + bh + (r * h) Uh)           bias [3u]
  //   h' = z * h + (1 - z) * hh
  class WebnetsGRU extends WebnetsRecurrent {
    static className = 'WebnetsGRU';

    constructor(args) {
      super(args, 3, 1);
      this.resetAfter = this.args.resetAfter == null ? true : !!this.args.resetAfter;
    }

    biasShape() {
      return this.resetAfter ? [2, 3 * this.units] : [3 * this.units];
    }

    // reset_after: the recurrent biases of z and r join the input bias (they are added as they
    // are); the h one stays inside r * (h Uh + b'h), so prepare() adds it to that matMul.
    inputBias() {
      if (!this.useBias) return null;
      const bias = this.bias.read();
      if (!this.resetAfter) return bias;
      const u = this.units;
      const [input, recurrent] = tf.split(bias, 2, 0);
      return tf.add(tf.reshape(input, [3 * u]),
        tf.concat([tf.slice(tf.reshape(recurrent, [3 * u]), [0], [2 * u]), tf.zeros([u])], 0));
    }

    prepare() {
      const u = this.units;
      const recurrent = this.recurrentKernel.read();
      if (this.resetAfter) {
        // h U + [0, 0, b'h] in one fused matMul per step.
        const bias = this.useBias
          ? tf.concat([tf.zeros([2 * u]), tf.slice(tf.reshape(this.bias.read(), [2, 3 * u]), [1, 2 * u], [1, u]).reshape([u])], 0)
          : null;
        return {recurrent, bias};
      }
      // Split once per call, not once per step as tfjs' GRU cell does.
      const [zr, hh] = tf.split(recurrent, [2 * u, u], 1);
      return {zr, hh};
    }

    cell(x, [h], p) {
      const u = this.units;
      const ra = this.recurrentActivationFn;
      if (this.resetAfter) {
        const inner = H.matMul2d(h, p.recurrent, p.bias);
        // The gates of z and r on the whole row (the h third of it is not used).
        const gates = ra(tf.add(x, inner));
        const [z, r] = tf.split(gates, [u, u, u], 1);
        const hh = this.activationFn(tf.add(tf.slice(x, [0, 2 * u], [-1, u]), tf.mul(r, tf.slice(inner, [0, 2 * u], [-1, u]))));
        return [tf.add(hh, tf.mul(z, tf.sub(h, hh)))];  // z * h + (1 - z) * hh
      }
      const [xZR, xH] = tf.split(x, [2 * u, u], 1);
      const [z, r] = tf.split(ra(plusMatMul(xZR, h, p.zr)), 2, 1);
      const hh = this.activationFn(plusMatMul(xH, tf.mul(r, h), p.hh));
      return [tf.add(hh, tf.mul(z, tf.sub(h, hh)))];
    }

    // One step: the z/r gates as one matMul of [h, x] with their activation fused; then
    // reset_after=False: a matMul of [r * h, x]; reset_after=True: h Uh and x Wh as two small
    // matMuls. (One matMul of [h, x] with [[Uzr, Uh, 0], [Wzr, 0, Wh]] has fewer kernels but
    // multiplies a third more weights, a quarter of them zeros: as slow as the LSTM's step.)
    prepareSingleStep() {
      const u = this.units;
      const U = this.recurrentKernel.read();
      const W = this.kernel.read();
      const bias = this.useBias ? this.bias.read() : null;
      if (!this.resetAfter) {
        return {zr: stacked(U, W, 0, 2 * u), h: stacked(U, W, 2 * u, u),
          zrBias: bias && tf.slice(bias, [0], [2 * u]), hBias: bias && tf.slice(bias, [2 * u], [u])};
      }
      // Rank-1 bias pieces (what WASM's fused matMul takes): sliced from the flattened bias, since
      // on WASM a reshape shares its source's data, whose recorded shape the kernel checks.
      const part = (row, from, size) => tf.slice(tf.reshape(bias, [-1]), [row * 3 * u + from], [size]);
      return {zr: stacked(U, W, 0, 2 * u), uh: tf.slice(U, [0, 2 * u], [-1, u]), wh: tf.slice(W, [0, 2 * u], [-1, u]),
        zrBias: bias && tf.add(part(0, 0, 2 * u), part(1, 0, 2 * u)), uhBias: bias && part(1, 2 * u, u),
        whBias: bias && part(0, 2 * u, u)};
    }

    singleStep(x, [h], p) {
      const ra = this.recurrentActivationFn;
      const fused = fusable(this.recurrentActivationName);
      const zr = H.matMul2d(tf.concat([h, x], 1), p.zr, p.zrBias, fused || 'linear');
      const [z, r] = tf.split(fused ? zr : ra(zr), 2, 1);
      const hh = this.resetAfter
        ? this.activationFn(tf.add(H.matMul2d(x, p.wh, p.whBias), tf.mul(r, H.matMul2d(h, p.uh, p.uhBias))))
        : this.activationFn(H.matMul2d(tf.concat([tf.mul(r, h), x], 1), p.h, p.hBias));
      return [tf.add(hh, tf.mul(z, tf.sub(h, hh)))];
    }

    getConfig() {
      return {...super.getConfig(), resetAfter: this.resetAfter};
    }
  }

  // Keras 3 RNN(StackedRNNCells([...])) (keras/src/layers/rnn/stacked_rnn_cells.py): every step runs the
  // cells in order, each on the previous cell's output of that step; the layer outputs the last cell's
  // output and returns every cell's states, flattened in cell order (an LSTM cell's h, c), as Keras'
  // functional graph numbers them. Keras masks all cells' states together at a masked step, which a chain
  // of separate layers would not reproduce with go_backwards (the next layer would get the mask in input
  // order, its input in reverse order) nor split initial states for. The cells are WebnetsSimpleRNN /
  // WebnetsLSTM / WebnetsGRU objects used for their weights and step math only (never applied), their
  // weights named cell_<i>/kernel, cell_<i>/recurrent_kernel, cell_<i>/bias inside this layer.
  const RNN_KEYS = ['returnSequences', 'returnState', 'goBackwards', 'stateful', 'unroll', 'zeroOutputForMask',
    'ignoreMask'];

  class WebnetsStackedRNN extends WebnetsRecurrent {
    static className = 'WebnetsStackedRNN';

    constructor(args) {
      const a = normalize(args);
      const cells = (a.cells || []).map((spec) => {
        const className = spec && (spec.className || spec.class_name);
        const Cell = STACKABLE[className];
        if (!Cell) {
          throw new Error(`WebnetsStackedRNN '${a.name}': a cell of class ${className} cannot be stacked; ` +
            `expected one of ${Object.keys(STACKABLE).join(', ')}.`);
        }
        return new Cell({...normalize(spec.config), returnSequences: false, returnState: false});
      });
      if (!cells.length) throw new Error(`WebnetsStackedRNN '${a.name}': no cells.`);
      super({...a, units: cells[cells.length - 1].units}, 1, cells.reduce((n, cell) => n + cell.stateCount, 0));
      this.cells = cells;
      this.stateSize = this.stateSizes();
    }

    // The cells' weights, as tfjs' own StackedRNNCells lists them (training and loading go through these).
    get trainableWeights() {
      return this.trainable ? this.cells.flatMap((cell) => cell.trainableWeights) : [];
    }

    get nonTrainableWeights() {
      return this.cells.flatMap((cell) => (this.trainable ? cell.nonTrainableWeights : cell.weights));
    }

    build(inputShape) {
      const shape = H.oneShape(inputShape);
      let features = shape[shape.length - 1];
      this.cells.forEach((cell, i) => {
        cell.weightPrefix = `cell_${i}/`;
        cell.build([shape[0], shape[1], features]);
        features = cell.units;
      });
      this.built = true;
    }

    stateSizes() {
      return this.cells.flatMap((cell) => cell.stateSizes());
    }

    // The first cell's inputs are projected for all steps at once; the others' inside each step.
    stepInputs(x) {
      return this.cells[0].stepInputs(x);
    }

    prepared() {
      return this.cells.map((cell) => ({recurrent: cell.prepared(),
        bias: H.derived(cell, 'inputBias', () => cell.inputBias())}));
    }

    cell(x, states, prepared) {
      const fresh = [];
      let input = null;
      this.cells.forEach((cell, k) => {
        const own = states.slice(fresh.length, fresh.length + cell.stateCount);
        const projected = k === 0 ? x : H.matMul2d(input, cell.kernel.read(), prepared[k].bias);
        const next = cell.cell(projected, own, prepared[k].recurrent);
        input = cell.outputOf(next);
        fresh.push(...next);
      });
      return fresh;
    }

    // The last cell's output: the first of its states.
    outputOf(states) {
      return states[states.length - this.cells[this.cells.length - 1].stateCount];
    }

    getConfig() {
      const own = super.getConfig();
      const config = tf.layers.Layer.prototype.getConfig.call(this);
      RNN_KEYS.forEach((key) => { config[key] = own[key]; });
      config.cells = this.cells.map((cell) => {
        const cellConfig = cell.getConfig();
        ['name', ...RNN_KEYS].forEach((key) => delete cellConfig[key]);
        return {className: cell.constructor.className, config: cellConfig};
      });
      return config;
    }
  }

  const STACKABLE = {WebnetsSimpleRNN, WebnetsLSTM, WebnetsGRU};

  // Keras 3 ConvLSTM1D / 2D / 3D (keras/src/layers/rnn/conv_lstm.py): an LSTM whose products are
  // convolutions,  z = conv(x, W; strides, padding, dilation_rate) + b + conv(h, U; stride 1, 'same', no
  // dilation),  gates i, f, c, o on the channel axis (lstmGates); h and c have the shape of the input
  // convolution's output. Keras convolves each gate apart; one convolution with all 4 * filters output
  // channels computes the same sums. The input convolution runs once for all steps (time folded into the
  // batch), leaving one recurrent convolution a step (tfjs' ConvLSTM2D splits its kernels and runs eight).
  // The exporter keeps tfjs' ConvLSTM2D where it is exact; this class runs ConvLSTM1D, ConvLSTM3D, and
  // ConvLSTM2D with channels_first, an initial_state or a mask.
  // channels_first runs as channels_last: the sequence and initial states are transposed in, the
  // outputs and states back (tfjs-backend-wasm's convolutions take channels_last only).
  class WebnetsConvLSTM extends WebnetsRecurrent {
    static className = 'WebnetsConvLSTM';

    constructor(args) {
      const a = normalize(args);
      super({...a, units: a.filters}, 4, 2);
      this.rank = a.rank;
      if (![1, 2, 3].includes(this.rank)) {
        throw new Error(`WebnetsConvLSTM '${this.name}': rank must be 1, 2 or 3, got ${this.rank}.`);
      }
      const perAxis = (value) => (Array.isArray(value) ? value.slice() : new Array(this.rank).fill(value));
      this.filters = a.filters;
      this.kernelSize = perAxis(a.kernelSize);
      this.strides = perAxis(a.strides == null ? 1 : a.strides);
      this.dilationRate = perAxis(a.dilationRate == null ? 1 : a.dilationRate);
      this.padding = camel(String(a.padding || 'valid')).toLowerCase();
      this.dataFormat = camel(String(a.dataFormat || 'channels_last'));  // 'channelsLast' / 'channelsFirst'
      this.channelsFirst = this.dataFormat === 'channelsFirst';
      this.unitForgetBias = a.unitForgetBias == null ? true : !!a.unitForgetBias;
      this.outSpatial = null;
    }

    biasInitializerFor() {
      return this.unitForgetBias ? forgetBiasInitializer(this.biasInitializer, this.filters) : this.biasInitializer;
    }

    // One step's input shape, channels last: [...spatial, channels].
    stepShape(inputShape) {
      const step = inputShape.slice(2);
      return this.channelsFirst ? [...step.slice(1), step[0]] : step;
    }

    // The input convolution's output size on each spatial axis (Keras' compute_conv_output_shape).
    spatialOut(spatial) {
      return spatial.map((size, d) => {
        if (size == null) return null;
        const span = (this.kernelSize[d] - 1) * this.dilationRate[d] + 1;
        return this.padding === 'same' ? Math.ceil(size / this.strides[d])
          : Math.floor((size - span) / this.strides[d]) + 1;
      });
    }

    build(inputShape) {
      const step = this.stepShape(H.oneShape(inputShape));
      this.outSpatial = this.spatialOut(step.slice(0, -1));
      super.build(inputShape);
    }

    kernelShape(inputShape) {
      const step = this.stepShape(inputShape);
      return [...this.kernelSize, step[step.length - 1], 4 * this.filters];
    }

    recurrentKernelShape() {
      return [...this.kernelSize, this.filters, 4 * this.filters];
    }

    stateShapes(batch) {
      return [this.outputShape(batch), this.outputShape(batch)];
    }

    outputShape(batch) {
      return [batch, ...this.outSpatial, this.filters];
    }

    stateRank() {
      return this.rank + 2;
    }

    convolve(x, kernel, strides, padding, dilations) {
      if (this.rank === 1) return tf.conv1d(x, kernel, strides[0], padding, 'NWC', dilations[0]);
      if (this.rank === 2) return tf.conv2d(x, kernel, strides, padding, 'NHWC', dilations);
      return tf.conv3d(x, kernel, strides, padding, 'NDHWC', dilations);
    }

    // The input convolution of all steps at once, time-major, then one [batch, ...spatial, 4 * filters]
    // tensor a step (through timeSteps, which spares WASM's slices).
    stepInputs(x) {
      const [batch, steps, ...step] = x.shape;
      const flat = tf.reshape(tf.transpose(x, [1, 0, ...step.map((_, i) => i + 2)]), [steps * batch, ...step]);
      let proj = this.convolve(flat, this.kernel.read(), this.strides, this.padding, this.dilationRate);
      if (this.useBias) proj = tf.add(proj, this.bias.read());
      const shape = proj.shape.slice(1);
      const size = shape.reduce((n, d) => n * d, 1);
      return timeSteps(tf.reshape(proj, [steps * batch, size]), steps, batch, size)
        .map((z) => tf.reshape(z, [batch, ...shape]));
    }

    prepare() {
      return this.recurrentKernel.read();
    }

    cell(x, [h, c], recurrent) {
      const ones = new Array(this.rank).fill(1);
      return lstmGates(tf.add(x, this.convolve(h, recurrent, ones, 'same', ones)), c, this.activationFn,
        this.recurrentActivationFn);
    }

    run(inputs, kwargs) {
      if (!this.channelsFirst) return super.run(inputs, kwargs);
      return tf.tidy(() => {
        const axes = (n) => Array.from({length: n}, (_, i) => i);
        const spatial = axes(this.rank);
        // [lead..., C, s...] <-> [lead..., s..., C], `lead` axes (batch, time) left in place.
        const toLast = (t, lead) => tf.transpose(t, [...axes(lead), ...spatial.map((i) => lead + 1 + i), lead]);
        const toFirst = (t, lead) => tf.transpose(t, [...axes(lead), lead + this.rank, ...spatial.map((i) => lead + i)]);
        const list = Array.isArray(inputs) ? inputs : [inputs];
        let initial = list.length > 1 ? list.slice(1) : kwargs.initialState;
        if (initial != null && !Array.isArray(initial)) initial = [initial];
        const result = super.run(toLast(list[0], 2),
          {...kwargs, initialState: initial == null ? null : initial.map((s) => toLast(s, 1))});
        const outputs = (Array.isArray(result) ? result : [result])
          .map((t, i) => toFirst(t, i === 0 && this.returnSequences ? 2 : 1));
        return Array.isArray(result) ? outputs : outputs[0];
      });
    }

    computeOutputShape(inputShape) {
      const shape = H.oneShape(inputShape);
      const spatial = this.spatialOut(this.stepShape(shape).slice(0, -1));
      const state = this.channelsFirst ? [shape[0], this.filters, ...spatial] : [shape[0], ...spatial, this.filters];
      const output = this.returnSequences ? [shape[0], shape[1], ...state.slice(1)] : state;
      return this.returnState ? [output, state, state.slice()] : output;
    }

    getConfig() {
      const config = {...super.getConfig(), rank: this.rank, filters: this.filters, kernelSize: this.kernelSize,
        strides: this.strides, padding: this.padding, dataFormat: this.dataFormat, dilationRate: this.dilationRate,
        unitForgetBias: this.unitForgetBias};
      delete config.units;
      return config;
    }
  }

  return [WebnetsSimpleRNN, WebnetsLSTM, WebnetsGRU, WebnetsStackedRNN, WebnetsConvLSTM];
}
