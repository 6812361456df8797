"""Convolution layers."""

import numpy as np

from .common import ConfigReader, default_weights, input_shape, with_fused_activation
from .registry import TfjsLayer, register
from .reshaping import steps_through_2d

_CONV_KEYS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "use_bias")


_GROUPS_FIX = ("TF.js has no grouped convolution: split the channels into `groups` separate Conv layers "
               "joined by a Concatenate (groups equal to the input channels is exported as a DepthwiseConv2D).")


def _conv_reader(layer, config, initializers, regularizers, constraints, allow_groups=False):
    reader = ConfigReader(layer, config)
    reader.copy(*_CONV_KEYS).initializers(*initializers)
    reader.regularizers(*regularizers, "activity_regularizer").constraints(*constraints)
    if not allow_groups:
        reader.require("groups", [1], _GROUPS_FIX)
    return reader


def _standard(layer, config):
    return _conv_reader(
        layer, config,
        ("kernel_initializer", "bias_initializer"),
        ("kernel_regularizer", "bias_regularizer"),
        ("kernel_constraint", "bias_constraint"),
    )


@register("Conv3D")
def conv(layer, config):
    return with_fused_activation(_standard(layer, config))


@register("Conv2D", note="groups == input channels exported as DepthwiseConv2D (exact)")
def conv_2d(layer, config):
    groups = config.get("groups", 1)
    if groups == 1:
        return conv(layer, config)
    reader = _conv_reader(layer, config, ("kernel_initializer", "bias_initializer"),
                          ("kernel_regularizer", "bias_regularizer"), ("kernel_constraint", "bias_constraint"),
                          allow_groups=True)
    channels_axis = 1 if reader.out.get("data_format") == "channels_first" else -1
    channels = input_shape(reader)[channels_axis]
    filters = reader.out.pop("filters")
    reader.get("groups")
    if groups != channels or filters % groups:
        reader.refuse(f"option groups={groups} is not supported by TF.js.", _GROUPS_FIX)
    # groups == channels: each input channel gets its own filters/groups
    # kernels, output channel g*M + m from input channel g: exactly a depthwise
    # conv with depth_multiplier M. Keras' kernel (kh, kw, 1, C*M) reshapes
    # row-major into the depthwise kernel (kh, kw, C, M).
    reader.out["depth_multiplier"] = filters // groups
    reader.out["depthwise_initializer"] = reader.out.pop("kernel_initializer", None)
    reader.out["depthwise_regularizer"] = reader.out.pop("kernel_regularizer", None)
    reader.out["depthwise_constraint"] = reader.out.pop("kernel_constraint", None)
    kernel = np.asarray(layer.kernel)
    weights = [("depthwise_kernel", kernel.reshape(*kernel.shape[:2], channels, filters // groups))]
    if layer.use_bias:
        weights.append(("bias", layer.bias))
    return with_fused_activation(reader, weights=weights, class_name="DepthwiseConv2D")


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
