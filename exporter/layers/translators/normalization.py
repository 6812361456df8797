"""Normalization layers. Keras 3 `Normalization` has no tfjs twin and is lowered
to a BatchNormalization (or a Rescaling) with the same numbers; LayerNormalization, RMSNormalization,
GroupNormalization and UnitNormalization become webnets classes (exporter/runtime/webnets-layers.js)."""

import keras
import numpy as np

from .common import ConfigReader, input_shape
from .registry import TfjsLayer, register


@register("BatchNormalization", note="folded into a linear Conv/Dense before it (unless --no-optimize); "
          "non-last axes lowered exactly")
def batch_normalization(layer, config):
    reader = ConfigReader(layer, config)
    reader.copy("axis", "momentum", "epsilon", "center", "scale")
    reader.initializers("beta_initializer", "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer")
    reader.regularizers("beta_regularizer", "gamma_regularizer").constraints("beta_constraint", "gamma_constraint")
    reader.ignore("synchronized")  # multi-device training only
    reader.require("renorm", [False], "export a model trained without batch renormalization.")
    reader.ignore("renorm_clipping", "renorm_momentum")  # only used when renorm=True
    axis = reader.get("axis", -1)
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            reader.refuse("batch normalization over several axes has no TF.js layer.",
                          "normalize over one axis (the channels).")
        axis = axis[0]
    bn = reader.finish()
    # Inside a wrapper there is no input shape; axis=-1 is right there anyway.
    shape = input_shape(reader, required=axis != -1)
    if shape is None or (axis % len(shape) == len(shape) - 1 and len(shape) <= 4):
        return bn
    return batch_norm_pieces(reader, bn.config, bn.weights, axis, shape)


def _scale_and_shift(reader):
    reader.initializers("beta_initializer", "gamma_initializer")
    return reader.regularizers("beta_regularizer", "gamma_regularizer").constraints("beta_constraint", "gamma_constraint")


@register("LayerNormalization", becomes="WebnetsLayerNormalization",
          note="tfjs' own tiles its statistics on every call; rms_scaling=True too")
def layer_normalization(layer, config):
    reader = _scale_and_shift(ConfigReader(layer, config).copy("axis", "epsilon", "center", "scale"))
    # Keras 3 scales by 1/sqrt(variance + epsilon) with rms_scaling and has no beta then.
    reader.out["rms_scaling"] = bool(reader.get("rms_scaling", False))
    return reader.finish("WebnetsLayerNormalization")


@register("RMSNormalization", becomes="WebnetsRMSNormalization",
          note="x * rsqrt(mean(x^2) + epsilon) * scale over axis (one or several), as keras.ops.rms_normalization")
def rms_normalization(layer, config):
    reader = ConfigReader(layer, config)
    epsilon = reader.get("epsilon")
    # keras.ops.rms_normalization takes epsilon=None as keras.config.epsilon() (read at export: it is global).
    reader.out["epsilon"] = float(keras.backend.epsilon() if epsilon is None else epsilon)
    axis = reader.get("axis", -1)
    reader.out["axis"] = sorted(axis) if isinstance(axis, (list, tuple)) else axis
    _same_rms_on_every_backend(reader, reader.out["axis"])
    return reader.finish("WebnetsRMSNormalization")


def _same_rms_on_every_backend(reader, axis):
    """keras.ops.rms_normalization multiplies by `scale` (the sizes of the normalized axes) with numpy
    broadcasting, against the *trailing* axes, and WebnetsRMSNormalization does the same. Keras' torch
    backend instead calls F.rms_norm for contiguous axes, which normalizes the trailing axes whichever were
    named: the same numbers only when the axes are the trailing ones."""
    if keras.backend.backend() != "torch":
        return
    axes = [axis] if isinstance(axis, int) else list(axis)
    shape = input_shape(reader, required=False)
    rank = len(shape) if shape is not None else None
    if rank is not None:
        axes = sorted(a % rank for a in axes)
        trailing = axes == list(range(rank - len(axes), rank))
    else:
        trailing = sorted(axes) == list(range(-len(axes), 0))
    if not trailing:
        reader.refuse(f"option axis={axis!r} is not the input's trailing axes, and Keras' torch backend "
                      "(F.rms_norm) then normalizes other axes than the TensorFlow and JAX backends do.",
                      "normalize over the last axis (or the trailing axes).")


@register("GroupNormalization", becomes="WebnetsGroupNormalization")
def group_normalization(layer, config):
    reader = _scale_and_shift(ConfigReader(layer, config).copy("groups", "axis", "epsilon", "center", "scale"))
    axis = reader.get("axis", -1)
    if isinstance(axis, (list, tuple)):
        reader.refuse("group normalization over several axes has no Keras meaning webnets can reproduce.",
                      "normalize over one (the channel) axis.")
    return reader.finish("WebnetsGroupNormalization")


@register("UnitNormalization", becomes="WebnetsUnitNormalization")
def unit_normalization(layer, config):
    return ConfigReader(layer, config).copy("axis").finish("WebnetsUnitNormalization")


def batch_norm_pieces(reader, config, weights, axis, shape):
    """tfjs BatchNormalization over `axis` of an input of `shape` (batch first), as exact pieces.

    The tfjs CPU kernel walks mean, variance, gamma and beta cyclically over the
    flattened input, so it is only right when the normalized axis is the last
    one, and tfjs refuses inputs of rank > 4. Other layouts are lowered: a
    Permute puts the axis last, a Reshape folds the middle axes, and both are
    undone afterwards (pure data movement, so the result is exact).
    """
    name = reader.out["name"]
    rank = len(shape)
    axis = axis % rank
    if axis == 0:
        reader.refuse("normalizing over the batch axis has no TF.js equivalent.", "normalize over a feature axis.")
    if axis == rank - 1 and rank <= 4:
        return [TfjsLayer("BatchNormalization", {**config, "name": name, "axis": axis}, weights)]
    if shape[axis] is None:
        reader.refuse(f"the normalized axis {axis} has no static size.", "give the input a fixed size on that axis.")
    pieces, undo = [], []
    dims = list(range(1, rank))
    if axis != rank - 1:
        # Swapping two axes is its own inverse, so the same Permute undoes it.
        dims[axis - 1], dims[-1] = dims[-1], dims[axis - 1]
        pieces.append(TfjsLayer("Permute", {"name": f"{name}__to_last", "dims": dims}))
        undo.insert(0, {"class_name": "Permute", "config": {"dims": dims}})
    moved = [shape[d] for d in dims]
    if rank > 4:
        if sum(d is None for d in moved) > 1:
            reader.refuse("a rank > 4 input needs a TF.js Reshape, and more than one of its axes has no static size.",
                          "give the input fixed sizes.")
        pieces.append(TfjsLayer("Reshape", {"name": f"{name}__fold", "target_shape": [-1, moved[-1]]}))
        undo.insert(0, {"class_name": "Reshape", "config": {"target_shape": [-1 if d is None else d for d in moved]}})
    pieces.append(TfjsLayer("BatchNormalization", {**config, "name": f"{name}__bn", "axis": -1}, weights))
    for position, step in enumerate(undo):
        last = position == len(undo) - 1
        pieces.append(TfjsLayer(step["class_name"], {"name": name if last else f"{name}__unfold", **step["config"]}))
    return pieces


def _varying_axis(reader, arrays, rank):
    """The one input axis along which broadcast `arrays` vary (None if they are scalars)."""
    shape = np.broadcast_shapes(*(np.shape(a) for a in arrays))
    if len(shape) > rank:
        reader.refuse(f"its parameters have shape {shape}, more axes than the input.", "use per-channel values.")
    varying = [rank - len(shape) + i for i, d in enumerate(shape) if d != 1]
    if len(varying) > 1:
        reader.refuse(f"its parameters (shape {shape}) vary along several axes; TF.js can only scale per channel.",
                      "use a scalar or per-channel scale and offset, or apply the transform before export.")
    return varying[0] if varying else None


def affine_per_channel(reader, scale, offset, shape):
    """tfjs pieces computing x * scale + offset (Keras broadcasting rules), exactly.

    A scalar map is a Rescaling. A per-channel one is a BatchNormalization with
    moving mean 0, variance 1 and epsilon 0, which computes
    (x - 0) / sqrt(1 + 0) * gamma + beta: precisely the affine map.
    """
    name = reader.out["name"]
    axis = _varying_axis(reader, (scale, offset), len(shape))
    if axis is None:
        return [TfjsLayer("Rescaling", {"name": name, "scale": float(np.reshape(scale, -1)[0]),
                                        "offset": float(np.reshape(offset, -1)[0])})]
    size = shape[axis]
    if axis == 0 or size is None:
        reader.refuse("its parameters vary along the batch axis or an axis of unknown size.",
                      "use per-channel values on a fixed-size axis.")
    scale = np.broadcast_to(np.asarray(scale, np.float32).reshape(-1), (size,)).copy()
    offset = np.broadcast_to(np.asarray(offset, np.float32).reshape(-1), (size,)).copy()
    config = {"epsilon": 0.0, "momentum": 0.99, "center": True, "scale": True}
    weights = [
        ("gamma", scale), ("beta", offset),
        ("moving_mean", np.zeros_like(scale)), ("moving_variance", np.ones_like(scale)),
    ]
    return batch_norm_pieces(reader, config, weights, axis, shape)


@register("Normalization", becomes="BatchNormalization", note="lowered exactly (mean/variance folded)")
def normalization(layer, config):
    reader = ConfigReader(layer, config).ignore("mean", "variance", "axis")
    invert = reader.get("invert", False)
    reader.finish()
    # mean and variance already have the input's rank, broadcast over the
    # reduced axes, so their shape says which axis is normalized.
    mean = np.asarray(layer.mean, np.float32)
    # Keras: (x - mean) / max(sqrt(variance), epsilon); invert: mean + x * max(...)
    std = np.maximum(np.sqrt(np.asarray(layer.variance, np.float32)), np.float32(keras.backend.epsilon()))
    if invert:
        scale, offset = std, mean
    else:
        scale, offset = 1.0 / std, -mean / std
    return affine_per_channel(reader, scale, offset, input_shape(reader))
