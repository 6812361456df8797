// ---- Resizing: Keras 3's half-pixel bilinear / nearest, crop or pad to the aspect ratio ----
export function defineResizing(tf, H) {
  // The [outSize, inSize] matrix M with resize(x) = M x along one axis, for TF's half-pixel
  // sampling (tf.image.resize, which Keras 3 uses): bilinear reads in = (i + 0.5) * s - 0.5,
  // nearest reads floor((i + 0.5) * s), with s = inSize / outSize, clamped to the image.
  function samplingMatrix(outSize, inSize, interpolation) {
    const m = new Float32Array(outSize * inSize);
    const s = inSize / outSize;
    for (let i = 0; i < outSize; i++) {
      if (interpolation === 'nearest') {
        m[i * inSize + Math.min(Math.floor((i + 0.5) * s), inSize - 1)] = 1;
        continue;
      }
      const at = (i + 0.5) * s - 0.5;
      const low = Math.floor(at);
      const lerp = at - low;
      const lower = Math.max(low, 0);
      const upper = Math.min(Math.ceil(at), inSize - 1);
      m[i * inSize + lower] += 1 - lerp;
      m[i * inSize + upper] += lerp;
    }
    return tf.tensor2d(m, [outSize, inSize]);
  }

  // NHWC resize whose forward pass is tfjs' own kernel (fast on every backend) and whose
  // gradient is the transposed sampling matrices: tfjs' ResizeBilinearGrad /
  // ResizeNearestNeighborGrad are missing on WASM, so training there would fail.
  function resize(x, height, width, interpolation) {
    const [, inH, inW] = x.shape;
    if (inH === height && inW === width) return x;  // half-pixel sampling at scale 1 is the identity
    const run = tf.customGrad((images, save) => {
      const value = interpolation === 'nearest'
        ? tf.image.resizeNearestNeighbor(images, [height, width], false, true)
        : tf.image.resizeBilinear(images, [height, width], false, true);
      return {
        value,
        gradFunc: (dy) => tf.tidy(() => {
          const [b, , , c] = dy.shape;
          const rows = samplingMatrix(height, inH, interpolation);  // [height, inH]
          const cols = samplingMatrix(width, inW, interpolation);  // [width, inW]
          // dx[b, p, q, c] = sum_ij rows[i, p] cols[j, q] dy[b, i, j, c]
          const alongRows = tf.matMul(rows, tf.reshape(tf.transpose(dy, [1, 0, 2, 3]), [height, b * width * c]), true);
          const r = tf.transpose(tf.reshape(alongRows, [inH, b, width, c]), [2, 1, 0, 3]);  // [width, b, inH, c]
          const alongCols = tf.matMul(cols, tf.reshape(r, [width, b * inH * c]), true);  // [inW, b*inH*c]
          return tf.transpose(tf.reshape(alongCols, [inW, b, inH, c]), [1, 2, 0, 3]);
        }),
      };
    });
    return run(x);
  }

  // Keras' integer arithmetic for the crop / pad box, from backend/tensorflow/image.py resize().
  const truncate = (v) => Math.trunc(Math.fround(v));

  function cropToAspect(x, height, width) {
    const [, h, w] = x.shape;
    const cropH = Math.max(Math.min(h, truncate((w * height) / width)), 1);
    const cropW = Math.max(Math.min(w, truncate((h * width) / height)), 1);
    const top = truncate((h - cropH) / 2);
    const left = truncate((w - cropW) / 2);
    return tf.slice(x, [0, top, left, 0], [-1, cropH, cropW, -1]);
  }

  function padToAspect(x, height, width, fillValue) {
    const [, h, w] = x.shape;
    const padH = Math.max(h, truncate((w * height) / width));
    const padW = Math.max(w, truncate((h * width) / height));
    // Keras pads both sides by the rounded-down half, so an odd difference loses a row.
    const top = truncate((padH - h) / 2);
    const left = truncate((padW - w) / 2);
    if (top <= 0 && left <= 0) return x;
    return tf.pad(x, [[0, 0], [top, top], [left, left], [0, 0]], fillValue);
  }

  const toChannelsLast = (x, format) => (format === 'channelsFirst' ? tf.transpose(x, [0, 2, 3, 1]) : x);
  const fromChannelsLast = (x, format) => (format === 'channelsFirst' ? tf.transpose(x, [0, 3, 1, 2]) : x);

  function checkInterpolation(layer, interpolation) {
    if (interpolation !== 'bilinear' && interpolation !== 'nearest') {
      throw new Error(`${layer.name}: interpolation '${interpolation}' is not implemented (bilinear, nearest)`);
    }
  }

  // Keras 3 Resizing (and the resize behind CenterCrop of a too-small image): optional crop or
  // pad to the target aspect ratio, then a half-pixel resize to (height, width).
  class WebnetsResizing extends tf.layers.Layer {
    static className = 'WebnetsResizing';

    constructor(config) {
      super(config);
      this.height = config.height;
      this.width = config.width;
      this.interpolation = config.interpolation || 'bilinear';
      this.cropToAspectRatio = Boolean(config.cropToAspectRatio);
      this.padToAspectRatio = Boolean(config.padToAspectRatio);
      this.fillValue = config.fillValue || 0;
      this.dataFormat = config.dataFormat || 'channelsLast';
      checkInterpolation(this, this.interpolation);
    }

    call(inputs) {
      return tf.tidy(() => {
        let x = toChannelsLast(H.one(inputs), this.dataFormat);
        if (this.cropToAspectRatio) x = cropToAspect(x, this.height, this.width);
        else if (this.padToAspectRatio) x = padToAspect(x, this.height, this.width, this.fillValue);
        return fromChannelsLast(resize(x, this.height, this.width, this.interpolation), this.dataFormat);
      });
    }

    computeOutputShape(inputShape) {
      const [b, a1, a2, a3] = H.oneShape(inputShape);
      return this.dataFormat === 'channelsFirst' ? [b, a1, this.height, this.width] : [b, this.height, this.width, a3];
    }

    getConfig() {
      return {...super.getConfig(), height: this.height, width: this.width, interpolation: this.interpolation,
        cropToAspectRatio: this.cropToAspectRatio, padToAspectRatio: this.padToAspectRatio,
        fillValue: this.fillValue, dataFormat: this.dataFormat};
    }
  }

  // Keras 3 UpSampling2D(interpolation='bilinear'): a half-pixel resize by integer factors
  // (tfjs' UpSampling2D samples bilinearly without half-pixel centres).
  class WebnetsUpSampling2D extends tf.layers.Layer {
    static className = 'WebnetsUpSampling2D';

    constructor(config) {
      super(config);
      this.size = config.size || [2, 2];
      this.interpolation = config.interpolation || 'bilinear';
      this.dataFormat = config.dataFormat || 'channelsLast';
      checkInterpolation(this, this.interpolation);
    }

    call(inputs) {
      return tf.tidy(() => {
        const x = toChannelsLast(H.one(inputs), this.dataFormat);
        const [, h, w] = x.shape;
        return fromChannelsLast(resize(x, h * this.size[0], w * this.size[1], this.interpolation), this.dataFormat);
      });
    }

    computeOutputShape(inputShape) {
      const shape = H.oneShape(inputShape).slice();
      const [hAxis, wAxis] = this.dataFormat === 'channelsFirst' ? [2, 3] : [1, 2];
      shape[hAxis] = shape[hAxis] == null ? null : shape[hAxis] * this.size[0];
      shape[wAxis] = shape[wAxis] == null ? null : shape[wAxis] * this.size[1];
      return shape;
    }

    getConfig() {
      return {...super.getConfig(), size: this.size, interpolation: this.interpolation, dataFormat: this.dataFormat};
    }
  }

  // Keras 3 CenterCrop where the input size is not known at export (a known, large enough
  // input becomes a tfjs Cropping2D): crop from (size - target) // 2, or, when the image is
  // smaller than the target, Keras' smart_resize (crop to the aspect ratio, bilinear resize).
  class WebnetsCenterCrop extends tf.layers.Layer {
    static className = 'WebnetsCenterCrop';

    constructor(config) {
      super(config);
      this.height = config.height;
      this.width = config.width;
      this.dataFormat = config.dataFormat || 'channelsLast';
    }

    call(inputs) {
      return tf.tidy(() => {
        const x = toChannelsLast(H.one(inputs), this.dataFormat);
        const [, h, w] = x.shape;
        const y = h >= this.height && w >= this.width
          ? tf.slice(x, [0, Math.floor((h - this.height) / 2), Math.floor((w - this.width) / 2), 0],
            [-1, this.height, this.width, -1])
          : resize(cropToAspect(x, this.height, this.width), this.height, this.width, 'bilinear');
        return fromChannelsLast(y, this.dataFormat);
      });
    }

    computeOutputShape(inputShape) {
      return WebnetsResizing.prototype.computeOutputShape.call(this, inputShape);
    }

    getConfig() {
      return {...super.getConfig(), height: this.height, width: this.width, dataFormat: this.dataFormat};
    }
  }

  // x with each element repeated `times` times along `axis`: copies joined on a new axis after it,
  // folded back in. Exact, and its gradient (the sum over the copies) is plain slices on every backend.
  function repeatAxis(x, axis, times) {
    if (times === 1) return x;
    const shape = x.shape.slice();
    shape[axis] *= times;
    return tf.reshape(tf.concat(Array(times).fill(tf.expandDims(x, axis + 1)), axis + 1), shape);
  }

  // Keras 3 UpSampling3D: each voxel repeated size[i] times along spatial axis i (ops.repeat,
  // up_sampling3d.py). tfjs has no 3D layer, and a lowering through its nearest UpSampling2D would
  // train wrongly on the CPU backend: its ResizeNearestNeighborGrad is wrong for batches above one.
  class WebnetsUpSampling3D extends tf.layers.Layer {
    static className = 'WebnetsUpSampling3D';

    constructor(config) {
      super(config);
      this.size = Array.isArray(config.size) ? config.size : Array(3).fill(config.size == null ? 2 : config.size);
      this.dataFormat = config.dataFormat || 'channelsLast';
    }

    call(inputs) {
      return tf.tidy(() => {
        const firstAxis = this.dataFormat === 'channelsFirst' ? 2 : 1;
        return this.size.reduce((x, times, i) => repeatAxis(x, firstAxis + i, times), H.one(inputs));
      });
    }

    computeOutputShape(inputShape) {
      const shape = H.oneShape(inputShape).slice();
      const firstAxis = this.dataFormat === 'channelsFirst' ? 2 : 1;
      this.size.forEach((times, i) => {
        if (shape[firstAxis + i] != null) shape[firstAxis + i] *= times;
      });
      return shape;
    }

    getConfig() {
      return {...super.getConfig(), size: this.size, dataFormat: this.dataFormat};
    }
  }

  return [WebnetsResizing, WebnetsUpSampling2D, WebnetsCenterCrop, WebnetsUpSampling3D];
}
