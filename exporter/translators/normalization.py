"""Normalization layers. Keras 3 `Normalization` has no tfjs twin and is lowered
to a BatchNormalization (or a Rescaling) with the same numbers."""

import numpy as np

from .common import ConfigReader
from .registry import TfjsLayer, register


@register("BatchNormalization")
def batch_normalization(layer, config):
    reader = ConfigReader(layer, config)
    reader.copy("axis", "momentum", "epsilon", "center", "scale")
    reader.initializers("beta_initializer", "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer")
    reader.regularizers("beta_regularizer", "gamma_regularizer").constraints("beta_constraint", "gamma_constraint")
    reader.ignore("synchronized")  # multi-device training only
    reader.require("renorm", [False], "export a model trained without batch renormalization.")
    return reader.finish()


@register("LayerNormalization")
def layer_normalization(layer, config):
    reader = ConfigReader(layer, config)
    reader.copy("axis", "epsilon", "center", "scale")
    reader.initializers("beta_initializer", "gamma_initializer")
    reader.regularizers("beta_regularizer", "gamma_regularizer").constraints("beta_constraint", "gamma_constraint")
    reader.require("rms_scaling", [False], "use rms_scaling=False (TF.js LayerNormalization centres the input).")
    return reader.finish()


def affine_per_channel(name, axis, scale, offset, input_rank):
    """A tfjs layer computing x * scale + offset along one axis, exactly.

    BatchNormalization with moving mean 0, variance 1 and epsilon 0 computes
    (x - 0) / sqrt(1 + 0) * gamma + beta: precisely the affine map.
    """
    scale = np.asarray(scale, np.float32).reshape(-1)
    offset = np.broadcast_to(np.asarray(offset, np.float32).reshape(-1), scale.shape).copy()
    if scale.size == 1:
        return TfjsLayer("Rescaling", {"name": name, "scale": float(scale[0]), "offset": float(offset[0])})
    config = {
        "name": name, "axis": axis if axis >= 0 else input_rank + axis, "epsilon": 0.0,
        "momentum": 0.99, "center": True, "scale": True,
    }
    weights = [
        ("gamma", scale), ("beta", offset),
        ("moving_mean", np.zeros_like(scale)), ("moving_variance", np.ones_like(scale)),
    ]
    return TfjsLayer("BatchNormalization", config, weights)


@register("Normalization", becomes="BatchNormalization", note="lowered exactly (mean/variance folded)")
def normalization(layer, config):
    reader = ConfigReader(layer, config).ignore("mean", "variance")
    invert = reader.get("invert", False)
    axis = reader.get("axis", -1)
    axes = [axis] if isinstance(axis, int) else list(axis or [])
    reader.finish()
    mean = np.asarray(layer.mean, np.float32)
    # Keras: (x - mean) / max(sqrt(variance), epsilon)
    std = np.maximum(np.sqrt(np.asarray(layer.variance, np.float32)), np.float32(1e-7))
    rank = len(layer.input.shape)
    if len([d for d in mean.shape if d != 1]) > 1 or len(axes) > 1:
        reader.refuse("normalization over several axes has no single-axis tfjs equivalent.",
                      "normalize over one axis (the channels) or apply the normalization before export.")
    axis = axes[0] if axes else -1
    if invert:
        scale, offset = std, mean
    else:
        scale, offset = 1.0 / std, -mean / std
    return affine_per_channel(config["name"], axis, scale, offset, rank)
