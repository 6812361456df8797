// ---- Image preprocessing that computes from the image: AutoContrast, Equalization, CLAHE ----
export function defineImagePreprocessing(tf, H) {
  // Keras' BaseImagePreprocessingLayer._transform_value_range, in float32 as Keras computes it:
  // (x - from_low) / (from_high - from_low) * (to_high - to_low) + to_low; nothing when equal.
  const f32 = Math.fround;
  function changeRange(x, [fromLow, fromHigh], [toLow, toHigh]) {
    if (fromLow === toLow && fromHigh === toHigh) return x;
    const unit = tf.div(tf.sub(x, f32(fromLow)), f32(f32(fromHigh) - f32(fromLow)));
    return tf.add(tf.mul(unit, f32(f32(toHigh) - f32(toLow))), f32(toLow));
  }
  const PIXELS = [0, 255];

  // Keras 3 AutoContrast: each image's values, per channel, stretched to [0, 255] (of the value range)
  // over axes 1 and 2, as Keras reduces whatever the data format; a channel whose stretch is NaN in
  // Keras (a constant channel: 255 / 0 times 0) keeps its original values. Keras' clip lets NaN
  // through, so the NaN test is made before the clip here (TF.js' WASM clip need not keep NaN).
  class WebnetsAutoContrast extends tf.layers.Layer {
    static className = 'WebnetsAutoContrast';

    constructor(config) {
      super(config);
      this.valueRange = config.valueRange || PIXELS;
    }

    call(inputs) {
      return tf.tidy(() => {
        const original = tf.cast(H.one(inputs), 'float32');
        const images = changeRange(original, this.valueRange, PIXELS);
        const low = tf.min(images, [1, 2], true);
        const high = tf.max(images, [1, 2], true);
        const scale = tf.div(255, tf.sub(high, low));
        const offset = tf.mul(tf.neg(low), scale);
        const stretched = tf.add(tf.mul(images, scale), offset);
        const results = changeRange(tf.clipByValue(stretched, 0, 255), PIXELS, this.valueRange);
        return tf.where(tf.isNaN(stretched), original, results);
      });
    }

    computeOutputShape(inputShape) {
      return H.oneShape(inputShape);
    }

    getConfig() {
      return {...super.getConfig(), valueRange: this.valueRange};
    }
  }

  // Keras 3 ContrastLimitedAdaptiveHistogramEqualization (image_preprocessing/clahe.py), step by step:
  // images padded (symmetric) to whole tiles, a 256-bin histogram of int(clip(v)) per tile and channel,
  // clipped at clip_limit * tile_pixels / 256 with the excess spread over all bins, its CDF scaled to
  // [0, 255], and each pixel's value looked up in the four nearest tiles' CDFs (edge tiles repeated)
  // and blended bilinearly by the pixel's position between the tile centres.
  class WebnetsContrastLimitedAdaptiveHistogramEqualization extends tf.layers.Layer {
    static className = 'WebnetsContrastLimitedAdaptiveHistogramEqualization';

    constructor(config) {
      super(config);
      this.valueRange = config.valueRange || PIXELS;
      this.clipLimit = config.clipLimit == null ? 4 : config.clipLimit;
      this.tileGridSize = config.tileGridSize || [8, 8];
      this.dataFormat = config.dataFormat || 'channelsLast';
    }

    call(inputs) {
      return tf.tidy(() => {
        const x = H.one(inputs);
        const first = this.dataFormat === 'channelsFirst';
        const nhwc = first ? tf.transpose(x, [0, 2, 3, 1]) : x;
        const images = changeRange(tf.cast(nhwc, 'float32'), this.valueRange, PIXELS);
        const equalized = changeRange(this.clahe(images), PIXELS, this.valueRange);
        const y = tf.cast(equalized, x.dtype);  // Keras casts back to the input's dtype
        return first ? tf.transpose(y, [0, 3, 1, 2]) : y;
      });
    }

    clahe(images) {
      const [b, h, w, c] = images.shape;
      const [gridH, gridW] = this.tileGridSize;
      const tileH = Math.ceil(h / gridH);
      const tileW = Math.ceil(w / gridW);
      const padded = tileH * gridH === h && tileW * gridW === w ? images
        : tf.mirrorPad(images, [[0, 0], [0, tileH * gridH - h], [0, tileW * gridW - w], [0, 0]], 'symmetric');
      const cdf = this.tileCdfs(padded, b, gridH, gridW, tileH, tileW, c);  // [B, gridH + 2, gridW + 2, C, 256]
      const rows = tileAxis(tileH * gridH, tileH, gridH);
      const cols = tileAxis(tileW * gridW, tileW, gridW);
      // Flat indices into the CDFs, as Keras' strides: b, tile row, tile column, channel, value.
      const strideX = 256 * c;
      const strideY = strideX * (gridW + 2);
      const strideB = strideY * (gridH + 2);
      // (int32 tensors throughout: TF.js would make a plain number a float32 operand.)
      const along = (values, shape) => tf.reshape(tf.tensor1d(values, 'int32'), shape);
      const steps = (n, stride) => Array.from({length: n}, (_, i) => i * stride);
      const pixels = tf.cast(tf.clipByValue(padded, 0, 255), 'int32');
      const base = tf.add(tf.add(pixels, along(steps(b, strideB), [b, 1, 1, 1])), along(steps(c, 256), [1, 1, 1, c]));
      const flat = tf.reshape(cdf, [-1]);
      const look = (ys, xs) => tf.gather(flat, tf.add(base, tf.add(along(ys.map((v) => v * strideY), [1, -1, 1, 1]),
        along(xs.map((v) => v * strideX), [1, 1, -1, 1]))));
      const wy = tf.reshape(tf.tensor1d(rows.weight), [1, -1, 1, 1]);
      const wx = tf.reshape(tf.tensor1d(cols.weight), [1, 1, -1, 1]);
      const blend = (a, z, weight) => tf.add(tf.mul(a, tf.sub(1, weight)), tf.mul(z, weight));
      const top = blend(look(rows.low, cols.low), look(rows.low, cols.high), wx);
      const bottom = blend(look(rows.high, cols.low), look(rows.high, cols.high), wx);
      return tf.slice(blend(top, bottom, wy), [0, 0, 0, 0], [-1, h, w, -1]);
    }

    // The clipped, normalized CDF of every tile, with the first and last tile rows and columns repeated.
    tileCdfs(padded, b, gridH, gridW, tileH, tileW, c) {
      const tiles = tf.transpose(tf.reshape(padded, [b, gridH, tileH, gridW, tileW, c]), [0, 1, 3, 5, 2, 4]);
      // Keras: int32 cast (truncation towards zero), then clip to [0, 255]; the clip in float32, as
      // TF.js' WASM clip reads int32 data as floats.
      const truncated = tf.cast(tf.cast(tf.reshape(tiles, [-1, tileH * tileW]), 'int32'), 'float32');
      const values = tf.cast(tf.clipByValue(truncated, 0, 255), 'int32');
      let hists = tf.cast(tf.denseBincount(values, tf.tensor1d([], 'float32'), 256), 'float32');
      if (this.clipLimit > 0) {
        const limit = f32((this.clipLimit * (tileH * tileW)) / 256);
        const clipped = tf.clipByValue(hists, 0, limit);
        const excess = tf.sum(tf.sub(hists, clipped), 1, true);
        hists = tf.add(clipped, tf.div(excess, 256));
      }
      const cdf = tf.cumsum(hists, 1);  // a positive axis: TF.js' cumsum breaks on -1
      const cdfMin = tf.min(cdf, 1, true);
      const numerator = tf.mul(tf.sub(cdf, cdfMin), 255);
      const denominator = tf.sub(tileH * tileW, cdfMin);
      const safe = tf.where(tf.equal(denominator, 0), tf.onesLike(denominator), denominator);
      const norm = tf.reshape(tf.clipByValue(tf.div(numerator, safe), 0, 255), [b, gridH, gridW, c, 256]);
      const edges = (t, axis, n) => tf.concat([tf.slice(t, axisStart(axis, 0, 5), axisSize(axis, 1, 5)), t,
        tf.slice(t, axisStart(axis, n - 1, 5), axisSize(axis, 1, 5))], axis);
      return edges(edges(norm, 1, gridH), 2, gridW);
    }

    computeOutputShape(inputShape) {
      return H.oneShape(inputShape);
    }

    getConfig() {
      return {...super.getConfig(), valueRange: this.valueRange, clipLimit: this.clipLimit,
        tileGridSize: this.tileGridSize, dataFormat: this.dataFormat};
    }
  }

  const axisStart = (axis, at, rank) => Array.from({length: rank}, (_, i) => (i === axis ? at : 0));
  const axisSize = (axis, size, rank) => Array.from({length: rank}, (_, i) => (i === axis ? size : -1));

  // For each padded row (or column) of a CLAHE image: the two tile centres around it, as indices into
  // the edge-padded tile grid, and the weight of the second, in float32 as Keras computes them:
  // g = (i - tile / 2) / tile + 1, low = floor(g), weight = g - low, indices clipped to [0, grid + 1].
  function tileAxis(size, tile, grid) {
    const low = [];
    const high = [];
    const weight = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      const g = f32(f32(f32(i - tile / 2) / tile) + 1);
      const floor = Math.floor(g);
      weight[i] = f32(g - floor);
      low.push(Math.min(Math.max(floor, 0), grid + 1));
      high.push(Math.min(Math.max(floor + 1, 0), grid + 1));
    }
    return {low, high, weight};
  }

  // ---- numeric preprocessing: Discretization, CategoryEncoding (H.encode: Keras' encode_categorical_inputs) ----

  // Keras 3 Discretization: the bin of each value is the number of boundaries <= it (TensorFlow's
  // Bucketize, with the boundaries in float32 as its attribute holds them), then encoded.
  // TensorFlow's CPU kernels flush subnormal floats to zero, so a value just below a boundary of 0
  // (-1e-45) falls in the bin of 0 there: the same flush here.
  const SMALLEST_NORMAL = 1.1754943508222875e-38;
  class WebnetsDiscretization extends tf.layers.Layer {
    static className = 'WebnetsDiscretization';

    constructor(config) {
      super(config);
      this.binBoundaries = config.binBoundaries;
      this.outputMode = config.outputMode || 'int';
      this.outputDtype = config.outputDtype || (this.outputMode === 'int' ? 'int32' : 'float32');
    }

    call(inputs) {
      return tf.tidy(() => {
        const raw = tf.cast(H.one(inputs), 'float32');
        const x = tf.where(tf.less(tf.abs(raw), SMALLEST_NORMAL), tf.zerosLike(raw), raw);
        const boundaries = this.binBoundaries;
        const count = boundaries.length;
        const indices = count === 0 ? tf.zeros(x.shape, 'int32')
          : tf.reshape(tf.searchSorted(tf.tensor2d(boundaries, [1, count]), tf.reshape(x, [1, -1]), 'right'), x.shape);
        return H.encode(indices, this.outputMode, boundaries.length + 1, this.outputDtype);
      });
    }

    computeOutputShape(inputShape) {
      return H.encodedShape(H.oneShape(inputShape), this.outputMode, this.binBoundaries.length + 1);
    }

    getConfig() {
      return {...super.getConfig(), binBoundaries: this.binBoundaries, outputMode: this.outputMode,
        outputDtype: this.outputDtype};
    }
  }

  // Keras 3 CategoryEncoding (tfjs-layers' own throws on an out-of-range id, which Keras ignores, and
  // takes no rank-3 input): called on [ids] or, with count weights, [ids, countWeights].
  class WebnetsCategoryEncoding extends tf.layers.Layer {
    static className = 'WebnetsCategoryEncoding';

    constructor(config) {
      super(config);
      this.numTokens = config.numTokens;
      this.outputMode = config.outputMode || 'multiHot';
      this.outputDtype = config.outputDtype || 'float32';
    }

    call(inputs) {
      return tf.tidy(() => {
        const [ids, weights] = Array.isArray(inputs) ? inputs : [inputs];
        return H.encode(tf.cast(ids, 'int32'), this.outputMode, this.numTokens, this.outputDtype, weights);
      });
    }

    computeOutputShape(inputShape) {
      return H.encodedShape(H.oneShape(inputShape), this.outputMode, this.numTokens);
    }

    getConfig() {
      return {...super.getConfig(), numTokens: this.numTokens, outputMode: this.outputMode,
        outputDtype: this.outputDtype};
    }
  }

  return [WebnetsAutoContrast, WebnetsContrastLimitedAdaptiveHistogramEqualization, WebnetsDiscretization,
    WebnetsCategoryEncoding];
}
