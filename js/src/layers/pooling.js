// ---- Pooling: the masked mean of Keras 3's GlobalAveragePooling1D (tfjs' ignores masks), and
// adaptive pooling to sizes that do not divide the input ----
export function definePooling(tf, H) {
  // With a mask (from Embedding(mask_zero=True) or Masking upstream), Keras averages the
  // unmasked steps only: sum(where(mask, x, 0)) / sum(mask). Without one, the plain mean.
  class WebnetsGlobalAveragePooling1D extends tf.layers.Layer {
    static className = 'WebnetsGlobalAveragePooling1D';

    constructor(config) {
      super(config);
      this.keepdims = Boolean(config.keepdims);
      this.supportsMasking = true;
    }

    call(inputs, kwargs) {
      return tf.tidy(() => {
        const x = H.one(inputs);
        const mask = kwargs && kwargs.mask ? H.one(kwargs.mask) : null;
        if (!mask) return tf.mean(x, 1, this.keepdims);
        // [batch, steps]; tfjs' merge layers hand on their combined mask as [1, batch, steps].
        const keep = tf.reshape(tf.cast(mask, 'bool'), [x.shape[0], x.shape[1], 1]);
        const weights = tf.cast(keep, x.dtype);
        return tf.div(tf.sum(tf.where(keep, x, tf.zerosLike(x)), 1, this.keepdims), tf.sum(weights, 1, this.keepdims));
      });
    }

    computeMask() {
      return null;  // the steps are pooled away
    }

    computeOutputShape(inputShape) {
      const [b, steps, channels] = H.oneShape(inputShape);
      return this.keepdims ? [b, 1, channels] : [b, channels];
    }

    getConfig() {
      return {...super.getConfig(), keepdims: this.keepdims};
    }
  }

  // Keras 3's adaptive pooling windows along an axis of `size` pooled to `out`: output i reads
  // [floor(i * size / out), ceil((i + 1) * size / out)). Keras' TF backend (backend/tensorflow/nn.py
  // _compute_static_gather_indices) gathers, from stride-1 pools with windows ceil(size / out)
  // and ceil(size / out) + 1, the one whose window is exactly this one.
  const adaptiveWindows = (size, out) => Array.from({length: out},
    (_, i) => [Math.floor((i * size) / out), Math.ceil(((i + 1) * size) / out)]);

  // Keras 3 AdaptiveAveragePooling1D/2D/3D and AdaptiveMaxPooling1D/2D/3D: each spatial axis
  // pooled to its output size in turn, as Keras does (the mean of means of equal-sized windows
  // is the mean of the box). reduction: 'average' or 'max'. The translator sends sizes that
  // divide evenly to tfjs' own pooling layers; this runs the rest.
  class WebnetsAdaptivePooling extends tf.layers.Layer {
    static className = 'WebnetsAdaptivePooling';

    constructor(config) {
      super(config);
      this.rank = config.rank;
      this.outputSize = Array.isArray(config.outputSize) ? config.outputSize : Array(this.rank).fill(config.outputSize);
      this.dataFormat = config.dataFormat || 'channelsLast';
      this.reduction = config.reduction;
      if (this.reduction !== 'average' && this.reduction !== 'max') {
        throw new Error(`${this.name}: reduction '${this.reduction}' is not 'average' or 'max'`);
      }
    }

    reduce(x, axis, keepDims) {
      return this.reduction === 'max' ? tf.max(x, axis, keepDims) : tf.mean(x, axis, keepDims);
    }

    poolAxis(x, axis, out) {
      const size = x.shape[axis];
      if (size % out === 0) {  // equal windows: one reshape and one reduction
        const shape = x.shape.slice();
        shape.splice(axis, 1, out, size / out);
        return this.reduce(tf.reshape(x, shape), axis + 1, false);
      }
      const pieces = adaptiveWindows(size, out).map(([start, end]) => {
        const begin = x.shape.map(() => 0);
        const extent = x.shape.map(() => -1);
        begin[axis] = start;
        extent[axis] = end - start;
        return this.reduce(tf.slice(x, begin, extent), axis, true);
      });
      return tf.concat(pieces, axis);
    }

    call(inputs) {
      return tf.tidy(() => {
        const firstAxis = this.dataFormat === 'channelsFirst' ? 2 : 1;
        return this.outputSize.reduce((x, out, i) => this.poolAxis(x, firstAxis + i, out), H.one(inputs));
      });
    }

    computeOutputShape(inputShape) {
      const shape = H.oneShape(inputShape);
      return this.dataFormat === 'channelsFirst' ? [shape[0], shape[1], ...this.outputSize]
        : [shape[0], ...this.outputSize, shape[shape.length - 1]];
    }

    getConfig() {
      return {...super.getConfig(), rank: this.rank, outputSize: this.outputSize, dataFormat: this.dataFormat,
        reduction: this.reduction};
    }
  }

  // x max-pooled along one axis (window, stride, and 'valid' / 'same' padding as TF pads each axis)
  // by tf.maxPool on a [before, size, 1, after] view of it.
  function maxPoolAxis(x, axis, window, stride, padding) {
    if (window === 1 && stride === 1) return x;
    const product = (dims) => dims.reduce((a, b) => a * b, 1);
    const view = [product(x.shape.slice(0, axis)), x.shape[axis], 1, product(x.shape.slice(axis + 1))];
    const pooled = tf.maxPool(tf.reshape(x, view), [window, 1], [stride, 1], padding);
    const shape = x.shape.slice();
    shape[axis] = pooled.shape[1];
    return tf.reshape(pooled, shape);
  }

  // Keras 3 MaxPooling3D with a pool size of 1 on some axis (C3D's (1, 2, 2)): tfjs-backend-wasm
  // 4.22's MaxPool3D returns wrong maxima then (off by up to 2.4 on N(0, 1) inputs). The max over
  // a box is the max along each of its axes in turn, so this pools one axis after the other
  // with 2D max pooling, which is right on every backend.
  class WebnetsMaxPooling3D extends tf.layers.Layer {
    static className = 'WebnetsMaxPooling3D';

    constructor(config) {
      super(config);
      const triple = (v) => (Array.isArray(v) ? v : Array(3).fill(v));
      this.poolSize = triple(config.poolSize == null ? 2 : config.poolSize);
      this.strides = config.strides == null ? this.poolSize : triple(config.strides);
      this.padding = config.padding || 'valid';
      this.dataFormat = config.dataFormat || 'channelsLast';
    }

    call(inputs) {
      return tf.tidy(() => {
        const firstAxis = this.dataFormat === 'channelsFirst' ? 2 : 1;
        return this.poolSize.reduce((x, window, i) => maxPoolAxis(x, firstAxis + i, window, this.strides[i],
          this.padding), H.one(inputs));
      });
    }

    computeOutputShape(inputShape) {
      const shape = H.oneShape(inputShape).slice();
      const firstAxis = this.dataFormat === 'channelsFirst' ? 2 : 1;
      this.poolSize.forEach((window, i) => {
        const size = shape[firstAxis + i];
        if (size == null) return;
        shape[firstAxis + i] = this.padding === 'same' ? Math.ceil(size / this.strides[i])
          : Math.floor((size - window) / this.strides[i]) + 1;
      });
      return shape;
    }

    getConfig() {
      return {...super.getConfig(), poolSize: this.poolSize, strides: this.strides, padding: this.padding,
        dataFormat: this.dataFormat};
    }
  }

  return [WebnetsGlobalAveragePooling1D, WebnetsAdaptivePooling, WebnetsMaxPooling3D];
}
