"""Pooling layers."""

from .common import ConfigReader
from .registry import TfjsLayer, register


@register("MaxPooling1D", "AveragePooling1D")
def pooling_1d(layer, config):
    reader = ConfigReader(layer, config).copy("pool_size", "strides", "padding")
    reader.require("data_format", ["channels_last"], "use data_format='channels_last' (TF.js 1D pooling has no other).")
    return reader.finish()


@register("MaxPooling2D", "AveragePooling2D", "MaxPooling3D", "AveragePooling3D")
def pooling(layer, config):
    return ConfigReader(layer, config).copy("pool_size", "strides", "padding", "data_format").finish()


@register(
    "GlobalMaxPooling1D", "GlobalAveragePooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling2D",
    note="keepdims=True lowered to pooling + Reshape",
)
def global_pooling(layer, config):
    reader = ConfigReader(layer, config).copy("data_format")
    keepdims = reader.get("keepdims", False)
    if not keepdims:
        return reader.finish()
    # tfjs global pooling always drops the pooled axes; a Reshape puts them back.
    name = reader.out["name"]
    reader.out["name"] = f"{name}__pool"
    pooled = reader.finish()
    out_shape = list(layer.compute_output_shape(tuple(layer.input.shape)))[1:]
    return [pooled, TfjsLayer("Reshape", {"name": name, "target_shape": out_shape})]
