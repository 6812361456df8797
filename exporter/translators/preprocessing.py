"""Preprocessing layers that belong in an exported model."""

from .common import ConfigReader
from .normalization import affine_per_channel
from .registry import register


@register("Rescaling", note="per-channel scale lowered to an exact BatchNormalization")
def rescaling(layer, config):
    reader = ConfigReader(layer, config)
    scale, offset = reader.get("scale", 1.0), reader.get("offset", 0.0)
    reader.finish()
    if isinstance(scale, dict) or isinstance(offset, dict):  # serialized tensors
        scale, offset = layer.scale, layer.offset
    return affine_per_channel(config["name"], -1, scale, offset, len(layer.input.shape))
