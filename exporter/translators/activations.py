"""Activation layers."""

from .common import ConfigReader
from .registry import register


@register("ReLU", note="negative_slope -> LeakyReLU; threshold refused")
def relu(layer, config):
    reader = ConfigReader(layer, config)
    max_value = reader.get("max_value")
    slope = float(reader.get("negative_slope", 0.0) or 0.0)
    reader.require("threshold", [0.0, 0], "use threshold=0 (TF.js ReLU has no threshold).")
    if slope and max_value is None:
        reader.out["alpha"] = slope
        return reader.finish("LeakyReLU")
    if slope:
        reader.refuse("a ReLU with both negative_slope and max_value has no TF.js layer.",
                      "use either negative_slope (LeakyReLU) or max_value.")
    reader.out["max_value"] = None if max_value is None else float(max_value)
    return reader.finish()


@register("LeakyReLU", note="negative_slope -> alpha")
def leaky_relu(layer, config):
    reader = ConfigReader(layer, config)
    reader.out["alpha"] = float(reader.get("negative_slope", reader.get("alpha", 0.3)))
    return reader.finish()


@register("PReLU")
def prelu(layer, config):
    reader = ConfigReader(layer, config).copy("shared_axes").initializers("alpha_initializer")
    reader.regularizers("alpha_regularizer").constraints("alpha_constraint")
    return reader.finish()


@register("ELU")
def elu(layer, config):
    return ConfigReader(layer, config).copy("alpha").finish()


@register("Softmax")
def softmax(layer, config):
    reader = ConfigReader(layer, config)
    axis = reader.get("axis", -1)
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            reader.refuse("softmax over several axes has no TF.js layer.", "reshape so one axis holds the classes.")
        axis = axis[0]
    reader.out["axis"] = axis
    return reader.finish()
