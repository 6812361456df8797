"""Merge layers. TF.js has no Subtract: a - b is lowered to a + (-1 * b)."""

from .common import ConfigReader
from .registry import Input, TfjsLayer, register


@register("Add", "Multiply", "Average", "Maximum", "Minimum")
def elementwise(layer, config):
    return ConfigReader(layer, config).finish()


@register("Concatenate")
def concatenate(layer, config):
    return ConfigReader(layer, config).copy("axis").finish()


@register("Dot")
def dot(layer, config):
    return ConfigReader(layer, config).copy("axes", "normalize").finish()


@register("Subtract", becomes="Rescaling + Add", note="a - b = a + (-1 * b), exact")
def subtract(layer, config):
    reader = ConfigReader(layer, config)
    reader.finish()
    name = config["name"]
    negated = TfjsLayer("Rescaling", {"name": f"{name}__negate", "scale": -1.0, "offset": 0.0}, [], [Input(1)])
    return [negated, TfjsLayer("Add", {"name": name}, [], [Input(0), negated])]
