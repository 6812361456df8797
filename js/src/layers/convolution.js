// ---- Convolution: Conv1D / Conv2D with groups (tfjs' conv layers have no `groups`), and the
// transposed convolutions tfjs lacks (output_padding, dilation, a trainable 3D one) ----
export function defineConvolution(tf, H) {
  const list = (v, n) => (Array.isArray(v) ? v : Array(n).fill(v));

  // Keras 3 grouped convolution: the input channels split into `groups` equal blocks, block g
  // convolved with kernel[..., g * cout/groups : (g + 1) * cout/groups] gives output block g.
  // Rank 1 runs as rank 2 with a unit width axis. channels_last only (the translator transposes).
  class WebnetsGroupedConv extends tf.layers.Layer {
    static className = 'WebnetsGroupedConv';

    constructor(config) {
      super(config);
      this.rank = config.rank;
      this.filters = config.filters;
      this.groups = config.groups;
      this.kernelSize = list(config.kernelSize, this.rank);
      this.strides = list(config.strides || 1, this.rank);
      this.dilationRate = list(config.dilationRate || 1, this.rank);
      this.padding = config.padding || 'valid';
      this.useBias = config.useBias !== false;
      this.activation = config.activation || 'linear';
      this.activationLayer = tf.layers.activation({activation: this.activation});
    }

    build(inputShape) {
      const channels = H.oneShape(inputShape).slice(-1)[0];
      if (channels % this.groups !== 0 || this.filters % this.groups !== 0) {
        throw new Error(`${this.name}: ${channels} channels and ${this.filters} filters cannot form ${this.groups} groups`);
      }
      this.kernel = this.addWeight('kernel', [...this.kernelSize, channels / this.groups, this.filters], 'float32',
        tf.initializers.glorotUniform({}));
      if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', tf.initializers.zeros());
      this.built = true;
    }

    call(inputs) {
      return tf.tidy(() => {
        let x = H.one(inputs);
        let kernel = this.kernel.read();
        const as2d = (v) => (this.rank === 1 ? [v[0], 1] : v);
        if (this.rank === 1) {
          x = tf.expandDims(x, 2);
          kernel = tf.expandDims(kernel, 1);
        }
        const inBlock = x.shape[3] / this.groups;
        const outBlock = this.filters / this.groups;
        const blocks = [];
        for (let g = 0; g < this.groups; g++) {
          const xs = tf.slice(x, [0, 0, 0, g * inBlock], [-1, -1, -1, inBlock]);
          const ks = tf.slice(kernel, [0, 0, 0, g * outBlock], [-1, -1, -1, outBlock]);
          blocks.push(tf.conv2d(xs, ks, as2d(this.strides), this.padding, 'NHWC', as2d(this.dilationRate)));
        }
        let y = tf.concat(blocks, 3);
        if (this.useBias) y = tf.add(y, this.bias.read());
        if (this.rank === 1) y = tf.squeeze(y, [2]);
        return this.activationLayer.apply(y);
      });
    }

    computeOutputShape(inputShape) {
      const shape = H.oneShape(inputShape);
      const out = [shape[0]];
      for (let d = 0; d < this.rank; d++) {
        const size = shape[d + 1];
        const span = (this.kernelSize[d] - 1) * this.dilationRate[d] + 1;
        out.push(size == null ? null
          : this.padding === 'same' ? Math.ceil(size / this.strides[d])
            : Math.floor((size - span) / this.strides[d]) + 1);
      }
      return [...out, this.filters];
    }

    getConfig() {
      return {...super.getConfig(), rank: this.rank, filters: this.filters, groups: this.groups,
        kernelSize: this.kernelSize, strides: this.strides, dilationRate: this.dilationRate, padding: this.padding,
        useBias: this.useBias, activation: this.activation};
    }
  }

  // Keras 3 Conv1DTranspose / Conv2DTranspose / Conv3DTranspose where tfjs' layers fall short:
  // output_padding, dilation_rate, Conv1DTranspose channels_first, and every Conv3DTranspose
  // (tfjs' cannot train, and runs wrongly on WASM: see fullTransposed). Keras (backend/tensorflow/nn.py conv_transpose) calls
  // tf.nn.conv_transpose with the output shape of compute_conv_transpose_output_shape: the input
  // gradient of the forward conv that takes that shape to the input's. Here the full ('valid')
  // transposed conv is computed, its front cropped by the forward conv's leading pad and its end
  // zero-extended to Keras' length: the same sums for any padding and output_padding.
  const range = (from, to) => Array.from({length: to - from}, (_, i) => from + i);

  // Keras' output length along one axis (backend/common/backend_utils.py
  // _get_output_shape_given_tf_padding); span is the dilated kernel size.
  function transposedLength(size, kernel, stride, padding, outputPadding, dilation) {
    if (size == null) return null;
    const span = (kernel - 1) * dilation + 1;
    if (padding === 'valid') return (size - 1) * stride + (outputPadding == null ? Math.max(span, stride) : span + outputPadding);
    return outputPadding == null ? size * stride : (size - 1) * stride + (span % 2) + outputPadding;
  }

  // The forward conv's leading pad, which TF's transposed conv drops from the front of the full
  // result: 'same' pads max((size - 1) * stride + span - length, 0) in all, the smaller half first.
  function leadingPad(size, length, span, stride, padding) {
    return padding === 'same' ? Math.floor(Math.max((size - 1) * stride + span - length, 0) / 2) : 0;
  }

  // t with (rate - 1) zeros between its elements along axes first, first + 1, ... (one rate each).
  // Built by ops, so gradients reach the original elements only.
  function spread(t, rates, first) {
    return rates.reduce((x, rate, i) => {
      const axis = first + i;
      const shape = x.shape;
      if (rate === 1 || shape[axis] === 1) return x;
      const gaps = tf.zeros([...shape.slice(0, axis + 1), rate - 1, ...shape.slice(axis + 1)]);
      const spaced = tf.reshape(tf.concat([tf.expandDims(x, axis + 1), gaps], axis + 1),
        [...shape.slice(0, axis), shape[axis] * rate, ...shape.slice(axis + 1)]);
      const size = shape.slice();
      size[axis] = (shape[axis] - 1) * rate + 1;
      return tf.slice(spaced, shape.map(() => 0), size);
    }, t);
  }

  // The full transposed conv of a channels_last 4D / 5D x: (size - 1) * stride + kernel per axis.
  // 3D: tfjs-backend-wasm 4.22's Conv3DBackpropInputV2 (behind conv3dTranspose) returns wrong sums,
  // and tfjs has no gradient for it, so 3D runs as the forward conv3d of the stride-spread input,
  // padded by kernel - 1 on each side, with the kernel flipped and its channel axes swapped (the same
  // products, plus exact zeros), with TF's gradient: conv3d for the input, Conv3DBackpropFilterV2
  // for the kernel.
  function fullTransposed(x, kernel, strides) {
    if (x.rank === 4) {
      const shape = [x.shape[0], ...x.shape.slice(1, -1).map((n, i) => (n - 1) * strides[i] + kernel.shape[i]),
        kernel.shape[2]];
      return tf.conv2dTranspose(x, kernel, shape, strides, 'valid');
    }
    return tf.customGrad((input, filter, save) => {
      save([input, filter]);
      const edges = filter.shape.slice(0, 3).map((k) => [k - 1, k - 1]);
      const padded = tf.pad(spread(input, strides, 1), [[0, 0], ...edges, [0, 0]]);
      const flipped = tf.transpose(tf.reverse(filter, [0, 1, 2]), [0, 1, 2, 4, 3]);
      return {
        value: tf.conv3d(padded, flipped, 1, 'valid'),
        gradFunc: (dy, [savedInput, savedFilter]) => [
          tf.conv3d(dy, savedFilter, strides, 'valid'),
          tf.engine().runKernel('Conv3DBackpropFilterV2', {x: dy, dy: savedInput},
            {strides, pad: 'valid', filterShape: savedFilter.shape}),
        ],
      };
    })(x, kernel);
  }

  class WebnetsConvTranspose extends tf.layers.Layer {
    static className = 'WebnetsConvTranspose';

    constructor(config) {
      super(config);
      this.rank = config.rank;
      this.filters = config.filters;
      this.kernelSize = list(config.kernelSize, this.rank);
      this.strides = list(config.strides || 1, this.rank);
      this.padding = config.padding || 'valid';
      this.outputPadding = config.outputPadding == null ? null : list(config.outputPadding, this.rank);
      this.dilationRate = list(config.dilationRate || 1, this.rank);
      this.dataFormat = config.dataFormat || 'channelsLast';
      this.useBias = config.useBias !== false;
      this.activation = config.activation || 'linear';
      this.activationLayer = tf.layers.activation({activation: this.activation});
      this.kernelInitializer = H.fromSpec(config.kernelInitializer, 'glorotUniform');
      this.biasInitializer = H.fromSpec(config.biasInitializer, 'zeros');
      this.kernelRegularizer = H.fromSpec(config.kernelRegularizer);
      this.biasRegularizer = H.fromSpec(config.biasRegularizer);
      this.kernelConstraint = H.fromSpec(config.kernelConstraint);
      this.biasConstraint = H.fromSpec(config.biasConstraint);
      if (this.padding !== 'valid' && this.padding !== 'same') {
        throw new Error(`${this.name}: padding '${this.padding}' is not one of 'valid', 'same'`);
      }
    }

    build(inputShape) {
      const shape = H.oneShape(inputShape);
      const channels = shape[this.dataFormat === 'channelsFirst' ? 1 : shape.length - 1];
      // Keras' layout: kernel_size + (filters, input channels).
      this.kernel = this.addWeight('kernel', [...this.kernelSize, this.filters, channels], 'float32',
        this.kernelInitializer, this.kernelRegularizer, true, this.kernelConstraint);
      this.bias = this.useBias ? this.addWeight('bias', [this.filters], 'float32', this.biasInitializer,
        this.biasRegularizer, true, this.biasConstraint) : null;
      this.built = true;
    }

    outputLengths(sizes) {
      return sizes.map((n, i) => transposedLength(n, this.kernelSize[i], this.strides[i], this.padding,
        this.outputPadding && this.outputPadding[i], this.dilationRate[i]));
    }

    call(inputs) {
      return tf.tidy(() => {
        const rank = this.rank;
        const first = this.dataFormat === 'channelsFirst';
        let x = H.one(inputs);
        if (first) x = tf.transpose(x, [0, ...range(2, rank + 2), 1]);
        const sizes = x.shape.slice(1, -1);
        // Dilation: the kernel with (rate - 1) zeros between its taps (what TF's oneDNN kernels and
        // JAX compute; tfjs' transposed convs have no dilation).
        const kernel = spread(this.kernel.read(), this.dilationRate, 0);
        let y;
        if (rank === 1) {  // as rank 2 with a unit width axis
          y = tf.squeeze(fullTransposed(tf.expandDims(x, 2), tf.expandDims(kernel, 1), [this.strides[0], 1]), [2]);
        } else {
          y = fullTransposed(x, kernel, this.strides);
        }
        const lengths = this.outputLengths(sizes);
        const begin = sizes.map((n, i) => leadingPad(n, lengths[i], kernel.shape[i], this.strides[i], this.padding));
        const kept = lengths.map((n, i) => Math.min(n, y.shape[i + 1] - begin[i]));
        if (kept.some((n, i) => begin[i] > 0 || n < y.shape[i + 1])) y = tf.slice(y, [0, ...begin, 0], [-1, ...kept, -1]);
        // Keras' output rows past the full result (valid padding with output_padding or a stride
        // above the kernel) have no input in them: zeros, then the bias.
        if (kept.some((n, i) => n < lengths[i])) {
          y = tf.pad(y, [[0, 0], ...kept.map((n, i) => [0, lengths[i] - n]), [0, 0]]);
        }
        if (this.bias) y = tf.add(y, this.bias.read());
        if (first) y = tf.transpose(y, [0, rank + 1, ...range(1, rank + 1)]);
        return this.activationLayer.apply(y);
      });
    }

    computeOutputShape(inputShape) {
      const shape = H.oneShape(inputShape);
      const first = this.dataFormat === 'channelsFirst';
      const lengths = this.outputLengths(first ? shape.slice(2) : shape.slice(1, -1));
      return first ? [shape[0], this.filters, ...lengths] : [shape[0], ...lengths, this.filters];
    }

    getConfig() {
      return {...super.getConfig(), rank: this.rank, filters: this.filters, kernelSize: this.kernelSize,
        strides: this.strides, padding: this.padding, outputPadding: this.outputPadding,
        dilationRate: this.dilationRate, dataFormat: this.dataFormat, useBias: this.useBias,
        activation: this.activation,
        kernelInitializer: H.toSpec(this.kernelInitializer), biasInitializer: H.toSpec(this.biasInitializer),
        kernelRegularizer: H.toSpec(this.kernelRegularizer), biasRegularizer: H.toSpec(this.biasRegularizer),
        kernelConstraint: H.toSpec(this.kernelConstraint), biasConstraint: H.toSpec(this.biasConstraint)};
    }
  }

  return [WebnetsGroupedConv, WebnetsConvTranspose];
}
