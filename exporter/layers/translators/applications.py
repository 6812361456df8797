"""Layers that keras.applications define for their own architectures."""

import numpy as np

from .common import ConfigReader, input_shape
from .normalization import affine_per_channel
from .registry import Input, TfjsLayer, register


@register("LayerScale", becomes="BatchNormalization", note="ConvNeXt's x * gamma, lowered exactly")
def layer_scale(layer, config):
    reader = ConfigReader(layer, config).ignore("init_values", "projection_dim")
    shape = input_shape(reader)
    gamma = np.asarray(layer.gamma, np.float32).reshape([1] * (len(shape) - 1) + [-1])
    return affine_per_channel(reader, gamma, np.zeros_like(gamma), shape)


@register("CustomScaleLayer", becomes="Rescaling + Add", note="InceptionResNetV2's x + r * scale, lowered exactly")
def custom_scale(layer, config):
    reader = ConfigReader(layer, config).ignore("scale")
    reader.finish()
    name = config["name"]
    scaled = TfjsLayer("Rescaling", {"name": f"{name}__scale", "scale": float(layer.scale), "offset": 0.0}, [], [Input(1)])
    return [scaled, TfjsLayer("Add", {"name": name}, [], [Input(0), scaled])]
