"""Audio front ends: STFTSpectrogram and MelSpectrogram, as webnets classes (webnets-layers.js)."""

import keras
import numpy as np

from .common import ConfigReader, input_shape
from .registry import register


@register("STFTSpectrogram", becomes="WebnetsSTFTSpectrogram",
          note="every mode, padding, window, scaling, expand_dims, data_format; its DFT kernels train")
def stft_spectrogram(layer, config):
    # Keras computes the spectrogram as convolutions with its real_kernel / imag_kernel weights; the
    # window, its periodicity and the scaling only shaped their initial values (initializers.STFT),
    # so the exported weights carry them.
    reader = ConfigReader(layer, config).copy("mode", "frame_length", "padding", "expand_dims")
    reader.ignore("window", "periodic", "scaling", "frame_step", "fft_length")
    reader.out.update(
        # The defaults Keras resolves in __init__: frame_length // 2, the next power of two.
        frame_step=int(layer._frame_step), fft_length=int(layer._fft_length),
        data_format="channels_first" if reader.get("data_format") == "channels_first" else "channels_last",
        # Keras reads backend.epsilon() when it runs (magnitude and log floors); the value at export.
        epsilon=float(keras.backend.epsilon()),
    )
    return reader.finish("WebnetsSTFTSpectrogram")


@register("MelSpectrogram", becomes="WebnetsMelSpectrogram",
          note="(batch, samples) input; hann, hamming, custom or no window; dB floor over the whole batch, as Keras")
def mel_spectrogram(layer, config):
    reader = ConfigReader(layer, config).copy(
        "fft_length", "sequence_stride", "sequence_length", "num_mel_bins", "power_to_db", "mag_exp", "min_power")
    reader.out.update(top_db=float(reader.get("top_db")), ref_power=float(reader.get("ref_power")),
                      window=_window(reader.get("window")))
    shape = input_shape(reader)
    if len(shape) != 2:
        reader.refuse(f"its input has shape {shape}; Keras declares a wrong output shape for inputs other than "
                      "(batch, samples), so TF.js cannot be given the shape Keras computes.",
                      "apply it to (batch, samples) signals, e.g. reshape the channels into the batch first.")
    # The mel filter bank, as Keras builds it in _melscale (sampling_rate, min_freq and max_freq only
    # enter there): a fixed, non-trainable weight of the TF.js layer.
    reader.ignore("sampling_rate", "min_freq", "max_freq")
    matrix = layer.linear_to_mel_weight_matrix(
        num_mel_bins=layer.num_mel_bins, num_spectrogram_bins=layer.fft_length // 2 + 1,
        sampling_rate=layer.sampling_rate, lower_edge_hertz=layer.min_freq, upper_edge_hertz=layer.max_freq)
    return reader.finish("WebnetsMelSpectrogram",
                         weights=[("mel_weights", np.asarray(keras.ops.convert_to_numpy(matrix), np.float32))])


def _window(window):
    """The window as the JS class takes it: "hann" or "hamming" (the only names Keras' stft accepts, it
    raises on others), None, or the values (float32, as Keras casts them)."""
    if window is None or isinstance(window, str):
        return window
    values = np.asarray(keras.ops.convert_to_numpy(window), np.float32).reshape(-1)
    return [float(v) for v in values]
