"""Convolution layers."""

import numpy as np

from .common import ConfigReader, default_weights, input_shape, with_fused_activation
from .registry import TfjsLayer, register
from .reshaping import steps_through_2d

_CONV_KEYS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "use_bias")


def _conv_reader(layer, config, initializers, regularizers, constraints):
    reader = ConfigReader(layer, config)
    reader.copy(*_CONV_KEYS).initializers(*initializers)
    reader.regularizers(*regularizers, "activity_regularizer").constraints(*constraints)
    reader.require("groups", [1], "TF.js has no grouped convolution: split the channels into "
                   "`groups` separate Conv layers joined by a Concatenate.")
    return reader


def _standard(layer, config):
    return _conv_reader(
        layer, config,
        ("kernel_initializer", "bias_initializer"),
        ("kernel_regularizer", "bias_regularizer"),
        ("kernel_constraint", "bias_constraint"),
    )


@register("Conv2D", "Conv3D")
def conv(layer, config):
    return with_fused_activation(_standard(layer, config))


@register("Conv1D", note="causal padding and channels_first lowered exactly")
def conv_1d(layer, config):
    reader = _standard(layer, config)
    channels_first = reader.out.get("data_format") == "channels_first"
    causal = reader.out.get("padding") == "causal"
    if not (channels_first or causal):
        return with_fused_activation(reader)
    name = reader.out["name"]
    before, after = [], []
    _, steps, channels = input_shape(reader)
    if channels_first:
        # tfjs transposes a channels_first input to NWC but never transposes the
        # result back, so its output is silently channels_last. Run the conv
        # channels_last between two Permutes instead.
        steps, channels = channels, steps
        reader.out["data_format"] = "channels_last"
        reader.out["name"] = f"{name}__channels_last"
        before.append(TfjsLayer("Permute", {"name": f"{name}__to_channels_last", "dims": [2, 1]}))
        after.append(TfjsLayer("Permute", {"name": name, "dims": [2, 1]}))
    if causal:
        # tfjs accepts 'causal' in the config but throws when run ("CAUSAL padding
        # mode in conv1dWithBias is not implemented"). Keras itself computes it as
        # zeros on the left, dilation * (kernel - 1) steps, then a 'valid' conv.
        if channels is None:
            reader.refuse("padding='causal' is lowered with a Reshape, which needs a static channel count.",
                          "give the input a fixed channel dimension.")
        left = _single(reader.out.get("dilation_rate", 1)) * (_single(reader.out["kernel_size"]) - 1)
        before += steps_through_2d(f"{name}__causal", steps, channels, steps and steps + left, "ZeroPadding2D",
                                   {"padding": [[left, 0], [0, 0]]})
        reader.out["padding"] = "valid"
    convolved = with_fused_activation(reader)
    return before + (convolved if isinstance(convolved, list) else [convolved]) + after


def _single(value):
    return value[0] if isinstance(value, (list, tuple)) else value


@register("Conv2DTranspose")
def conv_transpose(layer, config):
    reader = _standard(layer, config)
    reader.require("output_padding", [None], "use output_padding=None (TF.js infers it).")
    reader.require("dilation_rate", [[1, 1], 1], "use dilation_rate=1 (TF.js conv2dTranspose has no dilation).")
    reader.out.pop("dilation_rate", None)
    return with_fused_activation(reader)


@register("SeparableConv2D")
def separable_conv(layer, config):
    reader = _conv_reader(
        layer, config,
        ("depthwise_initializer", "pointwise_initializer", "bias_initializer"),
        ("depthwise_regularizer", "pointwise_regularizer", "bias_regularizer"),
        ("depthwise_constraint", "pointwise_constraint", "bias_constraint"),
    )
    reader.copy("depth_multiplier")
    return with_fused_activation(reader)


@register("DepthwiseConv2D", note="dilation_rate > 1 becomes a SeparableConv2D with an identity pointwise kernel")
def depthwise_conv(layer, config):
    reader = ConfigReader(layer, config)
    reader.copy("kernel_size", "strides", "padding", "data_format", "dilation_rate", "use_bias", "depth_multiplier")
    reader.initializers("depthwise_initializer", "bias_initializer")
    reader.regularizers("depthwise_regularizer", "bias_regularizer", "activity_regularizer")
    reader.constraints("depthwise_constraint", "bias_constraint")
    # Keras 3 calls the depthwise kernel "kernel"; tfjs looks it up as "depthwise_kernel".
    weights = [("depthwise_kernel" if suffix == "kernel" else suffix, value) for suffix, value in default_weights(layer)]
    if reader.out.get("dilation_rate", [1, 1]) in ([1, 1], 1, [1]):
        return with_fused_activation(reader, weights=weights)
    # tfjs DepthwiseConv2D silently ignores dilation_rate ("TODO: Add support
    # for dilation"); its SeparableConv2D honours it. An identity pointwise
    # kernel makes the separable conv the depthwise one exactly (each output
    # adds one product and zeros), at the cost of a (C*M)^2 weight.
    depthwise = next(value for suffix, value in weights if suffix == "depthwise_kernel")
    channels = int(np.prod(depthwise.shape[2:]))
    reader.out["filters"] = channels
    reader.out["pointwise_initializer"] = {"class_name": "Zeros", "config": {}}
    pointwise = np.eye(channels, dtype=np.float32).reshape(1, 1, channels, channels)
    weights.insert(1, ("pointwise_kernel", pointwise))
    return with_fused_activation(reader, weights=weights, class_name="SeparableConv2D")
