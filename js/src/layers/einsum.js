// ---- EinsumDense: Keras 3's einsum with a kernel, as transpose + one matMul ----
export function defineEinsum(tf, H) {
  const product = (dims) => dims.reduce((a, b) => a * b, 1);

  // No Transpose kernel for the identity permutation: a transposed kernel is a new tensor on
  // every call, and WASM's matMul then packs its weights again each time (its cache keys on the
  // weight tensor's data).
  const transposed = (x, perm) => (perm.every((p, i) => p === i) ? x : tf.transpose(x, perm));

  // Rewrites x (letters `inSpec`) . kernel (`kernelSpec`) -> `outSpec` as one 2D matMul: x's
  // free axes then the contracted ones, the kernel's contracted axes then its free ones.
  // (WASM has no Einsum kernel; matMul, transpose and reshape exist on every backend.)
  function contract(x, kernel, inSpec, kernelSpec, outSpec) {
    const contracted = [...inSpec].filter((c) => kernelSpec.includes(c) && !outSpec.includes(c));
    const freeIn = [...inSpec].filter((c) => !contracted.includes(c));
    const freeKernel = [...kernelSpec].filter((c) => !contracted.includes(c));
    const size = {};
    [...inSpec].forEach((c, i) => { size[c] = x.shape[i]; });
    [...kernelSpec].forEach((c, i) => { size[c] = kernel.shape[i]; });
    const xT = transposed(x, [...freeIn, ...contracted].map((c) => inSpec.indexOf(c)));
    const kT = transposed(kernel, [...contracted, ...freeKernel].map((c) => kernelSpec.indexOf(c)));
    const inner = product(contracted.map((c) => size[c]));
    const y = tf.matMul(tf.reshape(xT, [-1, inner]), tf.reshape(kT, [inner, -1]));
    const produced = [...freeIn, ...freeKernel];
    const shaped = tf.reshape(y, produced.map((c) => size[c]));
    return transposed(shaped, [...outSpec].map((c) => produced.indexOf(c)));
  }

  // Replaces "..." by letters for the axes it stands for in an input of `rank`.
  function expand(equation, rank) {
    const [left, outSpec] = equation.split('->');
    const [inSpec, kernelSpec] = left.split(',');
    if (!inSpec.includes('...')) return [inSpec, kernelSpec, outSpec];
    const spare = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'].filter((c) => !equation.includes(c));
    const fill = spare.slice(0, rank - (inSpec.length - 3)).join('');
    return [inSpec.replace('...', fill), kernelSpec, outSpec.replace('...', fill)];
  }

  class WebnetsEinsumDense extends tf.layers.Layer {
    static className = 'WebnetsEinsumDense';

    constructor(config) {
      super(config);
      this.equation = config.equation;
      this.kernelShape = config.kernelShape;
      this.biasShape = config.biasShape || null;
      this.fullOutputShape = config.fullOutputShape;
      this.activation = config.activation || 'linear';
      this.activationLayer = tf.layers.activation({activation: this.activation});
    }

    build() {
      this.kernel = this.addWeight('kernel', this.kernelShape, 'float32', tf.initializers.glorotUniform({}));
      if (this.biasShape) this.bias = this.addWeight('bias', this.biasShape, 'float32', tf.initializers.zeros());
      this.built = true;
    }

    call(inputs) {
      return tf.tidy(() => {
        const x = H.one(inputs);
        const [inSpec, kernelSpec, outSpec] = expand(this.equation, x.rank);
        let y = contract(x, this.kernel.read(), inSpec, kernelSpec, outSpec);
        if (this.bias) y = tf.add(y, this.bias.read());  // aligned to the trailing output axes
        return this.activationLayer.apply(y);
      });
    }

    computeOutputShape(inputShape) {
      return [H.oneShape(inputShape)[0], ...this.fullOutputShape.slice(1)];
    }

    getConfig() {
      return {...super.getConfig(), equation: this.equation, kernelShape: this.kernelShape,
        biasShape: this.biasShape, fullOutputShape: this.fullOutputShape, activation: this.activation};
    }
  }

  // Keras Dense on an input of rank > 2 ([batch, time, features]: every Dense of a transformer,
  // the output layer of a language model). tfjs' Dense computes it through K.dot, which
  // transposes the kernel on every call, even by the identity permutation, so WASM packs the
  // weights again each time (0.2 ms for a 384 x 50 kernel, against 0.02 ms). Here: reshape to
  // 2D, one fused matMul with the kernel as stored, reshape back. Weights and config as tfjs'
  // Dense (kernel [in, units], bias [units]).
  class WebnetsDense extends tf.layers.Layer {
    static className = 'WebnetsDense';

    constructor(config) {
      super(config);
      this.units = config.units;
      this.activation = config.activation || 'linear';
      this.useBias = config.useBias == null ? true : !!config.useBias;
      this.activationLayer = this.activation === 'linear' ? null : tf.layers.activation({activation: this.activation});
      this.kernelInitializer = H.fromSpec(config.kernelInitializer, 'glorotUniform');
      this.biasInitializer = H.fromSpec(config.biasInitializer, 'zeros');
      this.kernelRegularizer = H.fromSpec(config.kernelRegularizer);
      this.biasRegularizer = H.fromSpec(config.biasRegularizer);
      this.kernelConstraint = H.fromSpec(config.kernelConstraint);
      this.biasConstraint = H.fromSpec(config.biasConstraint);
      this.supportsMasking = true;
    }

    build(inputShape) {
      const shape = H.oneShape(inputShape);
      const inputDim = shape[shape.length - 1];
      this.kernel = this.addWeight('kernel', [inputDim, this.units], 'float32', this.kernelInitializer,
        this.kernelRegularizer, true, this.kernelConstraint);
      this.bias = this.useBias ? this.addWeight('bias', [this.units], 'float32', this.biasInitializer,
        this.biasRegularizer, true, this.biasConstraint) : null;
      this.built = true;
    }

    call(inputs) {
      return tf.tidy(() => {
        const x = H.one(inputs);
        const lead = x.shape.slice(0, -1);
        const flat = tf.reshape(x, [-1, x.shape[x.shape.length - 1]]);
        const y = H.matMul2d(flat, this.kernel.read(), this.bias ? this.bias.read() : null);
        const out = tf.reshape(y, [...lead, this.units]);
        return this.activationLayer ? this.activationLayer.apply(out) : out;
      });
    }

    computeMask(inputs, mask) {
      return mask == null ? null : H.one(mask);  // Keras' Dense passes the mask on
    }

    computeOutputShape(inputShape) {
      return [...H.oneShape(inputShape).slice(0, -1), this.units];
    }

    getConfig() {
      return {...super.getConfig(), units: this.units, activation: this.activation, useBias: this.useBias,
        kernelInitializer: H.toSpec(this.kernelInitializer), biasInitializer: H.toSpec(this.biasInitializer),
        kernelRegularizer: H.toSpec(this.kernelRegularizer), biasRegularizer: H.toSpec(this.biasRegularizer),
        kernelConstraint: H.toSpec(this.kernelConstraint), biasConstraint: H.toSpec(this.biasConstraint)};
    }
  }

  return [WebnetsEinsumDense, WebnetsDense];
}
