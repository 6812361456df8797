"""Convolution layers."""

from .common import ConfigReader, with_fused_activation
from .registry import register

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


@register("Conv1D", "Conv2D", "Conv3D")
def conv(layer, config):
    return with_fused_activation(_standard(layer, config))


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


@register("DepthwiseConv2D")
def depthwise_conv(layer, config):
    reader = ConfigReader(layer, config)
    reader.copy("kernel_size", "strides", "padding", "data_format", "dilation_rate", "use_bias", "depth_multiplier")
    reader.initializers("depthwise_initializer", "bias_initializer")
    reader.regularizers("depthwise_regularizer", "bias_regularizer", "activity_regularizer")
    reader.constraints("depthwise_constraint", "bias_constraint")
    return with_fused_activation(reader)
