"""Preprocessing layers that belong in an exported model."""

import keras
import numpy as np

from .common import ConfigReader, input_shape
from .normalization import affine_per_channel
from .registry import register


@register("Rescaling", note="per-channel scale lowered to an exact BatchNormalization")
def rescaling(layer, config):
    reader = ConfigReader(layer, config).ignore("scale", "offset")
    pieces = reader.finish()
    # The live values, not the config: the config may hold serialized tensors.
    scale = np.asarray(keras.ops.convert_to_numpy(layer.scale), np.float32)
    offset = np.asarray(keras.ops.convert_to_numpy(layer.offset), np.float32)
    if scale.size == 1 and offset.size == 1:  # needs no input shape (works inside wrappers)
        pieces.config.update(scale=float(scale.reshape(-1)[0]), offset=float(offset.reshape(-1)[0]))
        return pieces
    if scale.ndim > 0 and keras.config.image_data_format() == "channels_first":
        # Keras' Rescaling.call does this too: a per-channel scale then applies to axis 1.
        scale = scale.reshape(scale.shape + (1,) * (3 - scale.ndim))
    return affine_per_channel(reader, scale, offset, input_shape(reader))
