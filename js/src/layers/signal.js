// ---- Signal: the audio front ends (STFTSpectrogram, MelSpectrogram) ----
export function defineSignal(tf, H) {
  // conv1d of every channel of `signals` [B, C, T] with `kernel` [frameLength, 1, bins]: the frames
  // of each channel times the kernel's columns (Keras' STFTSpectrogram._apply_conv, and the DFT of
  // tf.signal.stft as MelSpectrogram computes it). Returns [B, C, frames, bins]. TF.js' conv1d pads
  // 'same' as TensorFlow does (half of the total padding before, the rest after).
  function framesTimesKernel(signals, kernel, stride, padding) {
    const [b, c, t] = signals.shape;
    const y = tf.conv1d(tf.reshape(signals, [b * c, t, 1]), kernel, stride, padding);
    return tf.reshape(y, [b, c, y.shape[1], y.shape[2]]);
  }

  // Keras 3 STFTSpectrogram: convolutions with its real_kernel / imag_kernel weights (the windowed
  // DFT basis Keras' STFT initializer made; trainable, as in Keras), then the output mode.
  class WebnetsSTFTSpectrogram extends tf.layers.Layer {
    static className = 'WebnetsSTFTSpectrogram';

    constructor(config) {
      super(config);
      this.mode = config.mode || 'log';
      this.frameLength = config.frameLength;
      this.frameStep = config.frameStep;  // resolved by the exporter (Keras' frame_length // 2 default)
      this.fftLength = config.fftLength;  // resolved too; bins = fftLength // 2 + 1
      this.padding = config.padding || 'valid';
      this.expandDims = Boolean(config.expandDims);
      this.dataFormat = config.dataFormat || 'channelsLast';
      this.epsilon = config.epsilon == null ? 1e-7 : config.epsilon;  // keras.backend.epsilon() at export
    }

    build() {
      const shape = [this.frameLength, 1, Math.floor(this.fftLength / 2) + 1];
      const zeros = tf.initializers.zeros();
      if (this.mode !== 'imag') this.realKernel = this.addWeight('real_kernel', shape, 'float32', zeros);
      if (this.mode !== 'real') this.imagKernel = this.addWeight('imag_kernel', shape, 'float32', zeros);
      this.built = true;
    }

    call(inputs) {
      return tf.tidy(() => {
        const x = H.one(inputs);
        const signals = this.dataFormat === 'channelsFirst' ? x : tf.transpose(x, [0, 2, 1]);  // [B, C, T]
        const part = (kernel) => framesTimesKernel(signals, kernel.read(), this.frameStep, this.padding);
        const real = this.realKernel ? part(this.realKernel) : null;
        const imag = this.imagKernel ? part(this.imagKernel) : null;
        return this.arrange(this.modeOutput(real, imag));  // [B, C, frames, bins] -> Keras' layout
      });
    }

    // STFTSpectrogram.call's modes, on [B, C, frames, bins].
    modeOutput(real, imag) {
      if (this.mode === 'real') return real;
      if (this.mode === 'imag') return imag;
      if (this.mode === 'angle') return tf.atan2(imag, real);
      if (this.mode === 'stft') return tf.concat([real, imag], 3);
      const power = tf.add(tf.square(real), tf.square(imag));
      if (this.mode === 'psd') {
        // power + the inner bins again: every bin but the first and the last counts twice.
        const bins = power.shape[3];
        const inner = tf.slice(power, [0, 0, 0, 1], [-1, -1, -1, bins - 2]);
        return tf.add(power, tf.pad(inner, [[0, 0], [0, 0], [0, 0], [1, 1]]));
      }
      const magnitude = tf.sqrt(tf.maximum(power, this.epsilon));
      return this.mode === 'magnitude' ? magnitude : tf.log(tf.maximum(magnitude, this.epsilon));
    }

    // Keras' _adjust_shapes from [B, C, frames, bins]: channels_last [B, frames, C * bins] or, with
    // expand_dims, [B, frames, bins, C]; channels_first [B, C * bins, frames] or [B, C, frames, bins].
    arrange(y) {
      const [b, c, frames, bins] = y.shape;
      if (this.dataFormat === 'channelsFirst') {
        return this.expandDims ? y : tf.reshape(tf.transpose(y, [0, 1, 3, 2]), [b, c * bins, frames]);
      }
      return this.expandDims ? tf.transpose(y, [0, 2, 3, 1])
        : tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [b, frames, c * bins]);
    }

    computeOutputShape(inputShape) {
      const shape = H.oneShape(inputShape);
      const first = this.dataFormat === 'channelsFirst';
      const [channels, time] = first ? [shape[1], shape[2]] : [shape[2], shape[1]];
      const bins = (Math.floor(this.fftLength / 2) + 1) * (this.mode === 'stft' ? 2 : 1);
      const frames = time == null ? null : (this.padding === 'same' ? Math.ceil(time / this.frameStep)
        : Math.floor((time - this.frameLength) / this.frameStep) + 1);
      const flat = channels == null ? null : channels * bins;
      if (this.expandDims) return first ? [shape[0], channels, frames, bins] : [shape[0], frames, bins, channels];
      return first ? [shape[0], flat, frames] : [shape[0], frames, flat];
    }

    getConfig() {
      return {...super.getConfig(), mode: this.mode, frameLength: this.frameLength, frameStep: this.frameStep,
        fftLength: this.fftLength, padding: this.padding, expandDims: this.expandDims, dataFormat: this.dataFormat,
        epsilon: this.epsilon};
    }
  }

  // The analysis window of Keras' TensorFlow stft (backend/tensorflow/math.py): a periodic Hann or
  // Hamming window of sequenceLength (or the given values), zero-padded on both sides to fftLength
  // as Keras pads it ((fft - seq) // 2 before). With no window, tf.signal.stft takes the frames of
  // fftLength samples as they are: sequenceLength plays no part.
  function stftWindow(window, sequenceLength, fftLength) {
    if (window == null) return new Float64Array(fftLength).fill(1);
    const n = sequenceLength;
    // tf.signal's raised cosine a - b cos(2 pi i / d), periodic (as Keras asks): d = n for an even n, but
    // n - 1 for an odd one (TensorFlow's window_ops._raised_cosine_window), and [1] for n = 1.
    const d = n % 2 === 0 ? n : n - 1;
    const raised = (a, b) => Array.from({length: n},
      (_, i) => (n === 1 ? 1 : a - b * Math.cos((2 * Math.PI * i) / d)));
    let values;
    if (Array.isArray(window)) values = window;
    else if (window === 'hann') values = raised(0.5, 0.5);
    else if (window === 'hamming') values = raised(0.54, 0.46);
    else throw new Error(`webnets-layers.js: unknown stft window '${window}' (hann, hamming, values or null)`);
    const before = Math.floor((fftLength - n) / 2);
    const padded = new Float64Array(fftLength);
    values.forEach((v, i) => { padded[before + i] = v; });
    return padded;
  }

  // [fftLength, 1, 2 * bins]: the windowed DFT basis, cosines then sines, so that one conv1d over a
  // signal gives each frame's real and (negated) imaginary rfft parts. Angles from (k n mod N), in
  // float64, so the basis is exact to float32 rounding.
  function dftKernel(window, fftLength) {
    const bins = Math.floor(fftLength / 2) + 1;
    const data = new Float32Array(fftLength * 2 * bins);
    for (let n = 0; n < fftLength; n++) {
      for (let k = 0; k < bins; k++) {
        const angle = (2 * Math.PI * ((k * n) % fftLength)) / fftLength;
        data[n * 2 * bins + k] = window[n] * Math.cos(angle);
        data[n * 2 * bins + bins + k] = window[n] * Math.sin(angle);
      }
    }
    return tf.tensor3d(data, [fftLength, 1, 2 * bins]);
  }

  // Keras 3 MelSpectrogram: the magnitude of ops.stft (center=True: reflect-padded by fftLength // 2,
  // frames of fftLength every sequenceStride, the window above), raised to magExp, times Keras' own
  // mel matrix (a weight the exporter computed with MelSpectrogram.linear_to_mel_weight_matrix), then
  // optionally decibels, output [batch, melBins, frames]. TF.js' WASM backend has no FFT kernel, so
  // the DFT is a conv1d with the basis. As in Keras' _dbscale, the top_db floor is relative to the
  // maximum over the whole batch (ops.max with no axis), so a sample's output depends on its batch.
  class WebnetsMelSpectrogram extends tf.layers.Layer {
    static className = 'WebnetsMelSpectrogram';

    constructor(config) {
      super(config);
      this.fftLength = config.fftLength;
      this.sequenceStride = config.sequenceStride;
      this.sequenceLength = config.sequenceLength || config.fftLength;
      this.window = config.window === undefined ? 'hann' : config.window;
      this.numMelBins = config.numMelBins;
      this.powerToDb = config.powerToDb !== false;
      this.topDb = config.topDb;
      this.magExp = config.magExp;
      this.minPower = config.minPower;
      this.refPower = config.refPower;
    }

    build() {
      const bins = Math.floor(this.fftLength / 2) + 1;
      this.melWeights = this.addWeight('mel_weights', [bins, this.numMelBins], 'float32', tf.initializers.zeros(),
        undefined, false);
      this.basis = tf.keep(dftKernel(stftWindow(this.window, this.sequenceLength, this.fftLength), this.fftLength));
      this.built = true;
    }

    call(inputs) {
      return tf.tidy(() => {
        const x = H.one(inputs);  // [B, T]
        const half = Math.floor(this.fftLength / 2);
        const padded = tf.mirrorPad(x, [[0, 0], [half, half]], 'reflect');
        const parts = framesTimesKernel(tf.expandDims(padded, 1), this.basis, this.sequenceStride, 'valid');
        const [b, , frames, both] = parts.shape;
        const bins = both / 2;
        const real = tf.slice(parts, [0, 0, 0, 0], [-1, -1, -1, bins]);
        const imag = tf.slice(parts, [0, 0, 0, bins], [-1, -1, -1, bins]);
        // Keras: sqrt(real^2 + imag^2) ** mag_exp, then tensordot with the mel matrix.
        const spec = tf.pow(tf.sqrt(tf.add(tf.square(real), tf.square(imag))), this.magExp);
        let mel = tf.reshape(tf.matMul(tf.reshape(spec, [b * frames, bins]), this.melWeights.read()),
          [b, frames, this.numMelBins]);
        if (this.powerToDb) mel = this.decibels(mel);
        return tf.transpose(mel, [0, 2, 1]);
      });
    }

    // Keras' _dbscale: 10 log10(max(S, min_power)) - 10 log10(max(|ref_power|, min_power)), floored at
    // (its maximum over everything) - top_db. log10 as Keras' TF backend computes it: log(x) / log(10).
    decibels(mel) {
      const log10 = (t) => tf.div(tf.log(t), tf.log(tf.scalar(10)));
      const reference = tf.mul(10, log10(tf.maximum(tf.abs(tf.scalar(this.refPower)), this.minPower)));
      const logSpec = tf.sub(tf.mul(10, log10(tf.maximum(mel, this.minPower))), reference);
      return tf.maximum(logSpec, tf.sub(tf.max(logSpec), this.topDb));
    }

    computeOutputShape(inputShape) {
      const [batch, time] = H.oneShape(inputShape);
      const half = Math.floor(this.fftLength / 2);
      const frames = time == null ? null : Math.floor((time + 2 * half - this.fftLength) / this.sequenceStride) + 1;
      return [batch, this.numMelBins, frames];
    }

    getConfig() {
      return {...super.getConfig(), fftLength: this.fftLength, sequenceStride: this.sequenceStride,
        sequenceLength: this.sequenceLength, window: this.window, numMelBins: this.numMelBins,
        powerToDb: this.powerToDb, topDb: this.topDb, magExp: this.magExp, minPower: this.minPower,
        refPower: this.refPower};
    }

    dispose() {
      const result = super.dispose();
      if (result.refCountAfterDispose === 0 && this.basis) {  // the DFT basis is no weight: freed here
        tf.dispose(this.basis);
        this.basis = null;
      }
      return result;
    }
  }

  return [WebnetsSTFTSpectrogram, WebnetsMelSpectrogram];
}
