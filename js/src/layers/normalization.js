// ---- Normalization: GroupNormalization, UnitNormalization, LayerNormalization(rms_scaling), RMSNormalization ----
import {webnetsKernel} from '../kernels/registry.js';

export function defineNormalization(tf, H) {
  // Axis of `rank` counted from the front (Keras allows negative axes).
  const positive = (axis, rank) => (axis < 0 ? axis + rank : axis);
  const axesOf = (axis, rank) => (Array.isArray(axis) ? axis : [axis]).map((a) => positive(a, rank)).sort();
  // The options the Keras normalization layers share, with Keras' defaults.
  const normalizationOptions = (layer, config) => Object.assign(layer, {
    axis: config.axis == null ? -1 : config.axis,
    epsilon: config.epsilon == null ? 1e-3 : config.epsilon,
    center: config.center !== false,
    scale: config.scale !== false,
    supportsMasking: true,
  });

  // Keras 3 GroupNormalization: the channel axis is split into `groups`, each group is
  // normalized over every axis but the batch (mean and biased variance), then scaled and
  // shifted per channel: x * inv + (beta - mean * inv) with inv = gamma / sqrt(var + eps).
  class WebnetsGroupNormalization extends tf.layers.Layer {
    static className = 'WebnetsGroupNormalization';

    constructor(config) {
      super(config);
      normalizationOptions(this, config);
      this.groups = config.groups;
    }

    build(inputShape) {
      const shape = H.oneShape(inputShape);
      const axis = positive(this.axis, shape.length);
      const channels = shape[axis];
      if (channels == null || channels % this.groups !== 0) {
        throw new Error(`${this.name}: ${channels} channels cannot be split into ${this.groups} groups`);
      }
      if (this.scale) this.gamma = this.addWeight('gamma', [channels], 'float32', tf.initializers.ones());
      if (this.center) this.beta = this.addWeight('beta', [channels], 'float32', tf.initializers.zeros());
      this.built = true;
    }

    call(inputs) {
      return tf.tidy(() => {
        const x = H.one(inputs);
        const shape = x.shape;
        const rank = shape.length;
        const axis = positive(this.axis, rank);
        const groups = this.groups;
        const perGroup = shape[axis] / groups;
        // [batch, ..., groups, perGroup, ...]: the group axis sits where the channels were.
        const grouped = [...shape.slice(0, axis), groups, perGroup, ...shape.slice(axis + 1)];
        const xg = tf.reshape(x, grouped);
        const reduce = [];
        for (let a = 1; a < grouped.length; a++) if (a !== axis) reduce.push(a);
        const {mean, variance} = tf.moments(xg, reduce, true);
        const broadcast = grouped.map((d, a) => (a === axis || a === axis + 1 ? d : 1));
        let inv = tf.rsqrt(tf.add(variance, this.epsilon));
        if (this.scale) inv = tf.mul(inv, tf.reshape(this.gamma.read(), broadcast));
        let shift = tf.neg(tf.mul(mean, inv));
        if (this.center) shift = tf.add(shift, tf.reshape(this.beta.read(), broadcast));
        return tf.reshape(tf.add(tf.mul(xg, inv), shift), shape);
      });
    }

    computeOutputShape(inputShape) {
      return H.oneShape(inputShape);
    }

    getConfig() {
      return {...super.getConfig(), groups: this.groups, axis: this.axis, epsilon: this.epsilon,
        center: this.center, scale: this.scale};
    }
  }

  // Keras 3 UnitNormalization: x * min(1 / sqrt(sum(x^2)), 1e12) over `axis`.
  class WebnetsUnitNormalization extends tf.layers.Layer {
    static className = 'WebnetsUnitNormalization';

    constructor(config) {
      super(config);
      this.axis = config.axis == null ? -1 : config.axis;
      this.supportsMasking = true;
    }

    call(inputs) {
      return tf.tidy(() => {
        const x = H.one(inputs);
        const squares = tf.sum(tf.square(x), axesOf(this.axis, x.rank), true);
        return tf.mul(x, tf.minimum(tf.rsqrt(squares), 1e12));
      });
    }

    computeOutputShape(inputShape) {
      return H.oneShape(inputShape);
    }

    getConfig() {
      return {...super.getConfig(), axis: this.axis};
    }
  }

  // Keras 3 LayerNormalization over `axis`: (x - mean) / sqrt(var + eps) * gamma + beta, and with
  // rms_scaling=True x / sqrt(var + eps) * gamma (Keras 3.15 divides by the variance about the
  // mean, not the mean square; no beta). tfjs' own LayerNormalization computes the first, but
  // tiles its statistics and parameters to the input's shape on every call (4 Tile kernels,
  // most of a transformer block's time on WASM); here they broadcast.
  class WebnetsLayerNormalization extends tf.layers.Layer {
    static className = 'WebnetsLayerNormalization';

    constructor(config) {
      super(config);
      normalizationOptions(this, config);
      this.rmsScaling = config.rmsScaling === true;
    }

    build(inputShape) {
      const shape = H.oneShape(inputShape);
      const axes = axesOf(this.axis, shape.length);
      const size = axes.map((a) => shape[a]);
      if (this.scale) this.gamma = this.addWeight('gamma', size, 'float32', tf.initializers.ones());
      if (this.center && !this.rmsScaling) this.beta = this.addWeight('beta', size, 'float32', tf.initializers.zeros());
      this.built = true;
    }

    call(inputs) {
      return tf.tidy(() => {
        const x = H.one(inputs);
        const axes = axesOf(this.axis, x.rank);
        // webnets' fused kernel (js/src/kernels/layer-norm.js) where registered (wasm, after
        // registerWebnetsKernels), for the last axis at inference; null otherwise, and the ops below run.
        const fused = axes.length === 1 && axes[0] === x.rank - 1 && !H.recording() ? webnetsKernel(tf, 'WebnetsLayerNorm') : null;
        if (fused) {
          const y = fused({x, gamma: this.scale ? this.gamma.read() : undefined, beta: this.beta ? this.beta.read() : undefined},
            {epsilon: this.epsilon, rms: this.rmsScaling});
          if (y) return y;
        }
        const broadcast = x.shape.map((d, a) => (axes.includes(a) ? d : 1));
        const {mean, variance} = tf.moments(x, axes, true);
        let y = tf.mul(this.rmsScaling ? x : tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.epsilon)));
        if (this.scale) y = tf.mul(y, tf.reshape(this.gamma.read(), broadcast));
        if (this.beta) y = tf.add(y, tf.reshape(this.beta.read(), broadcast));
        return y;
      });
    }

    computeOutputShape(inputShape) {
      return H.oneShape(inputShape);
    }

    getConfig() {
      return {...super.getConfig(), axis: this.axis, epsilon: this.epsilon, center: this.center, scale: this.scale,
        rmsScaling: this.rmsScaling};
    }
  }

  // Keras 3 RMSNormalization (keras.ops.rms_normalization): x * rsqrt(mean(x^2 over axis) + epsilon) * scale.
  // `scale` has the sizes of the normalized axes and multiplies with numpy broadcasting, as in Keras
  // (against the trailing axes: per feature for the last axis). Keras computes in float32 and scales
  // there, before casting to the layer's dtype; TF.js computes in float32 throughout.
  // Keras' layer does not support masking: an incoming mask goes no further (computeMask: null).
  class WebnetsRMSNormalization extends tf.layers.Layer {
    static className = 'WebnetsRMSNormalization';

    constructor(config) {
      super(config);
      this.axis = config.axis == null ? -1 : config.axis;
      this.epsilon = config.epsilon == null ? 1e-6 : config.epsilon;
      this.supportsMasking = true;
    }

    build(inputShape) {
      const shape = H.oneShape(inputShape);
      const size = axesOf(this.axis, shape.length).map((a) => shape[a]);
      this.scaleWeight = this.addWeight('scale', size, 'float32', tf.initializers.ones());
      this.built = true;
    }

    call(inputs) {
      return tf.tidy(() => {
        const x = H.one(inputs);
        const meanSquare = tf.mean(tf.square(x), axesOf(this.axis, x.rank), true);
        return tf.mul(tf.mul(x, tf.rsqrt(tf.add(meanSquare, this.epsilon))), this.scaleWeight.read());
      });
    }

    computeOutputShape(inputShape) {
      return H.oneShape(inputShape);
    }

    computeMask() {
      return null;
    }

    getConfig() {
      return {...super.getConfig(), axis: this.axis, epsilon: this.epsilon};
    }
  }

  return [WebnetsGroupNormalization, WebnetsUnitNormalization, WebnetsLayerNormalization, WebnetsRMSNormalization];
}
