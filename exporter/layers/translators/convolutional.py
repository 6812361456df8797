"""Convolution layers."""

import numpy as np

from .common import ConfigReader, default_weights, input_shape, with_fused_activation
from .registry import TfjsLayer, register
from .reshaping import steps_through_2d

_CONV_KEYS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "use_bias")


_GROUPS_FIX = ("use groups=1, or data_format='channels_last' (webnets' grouped convolution runs channels_last).")


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


def _grouped_reader(layer, config):
    return _conv_reader(layer, config, ("kernel_initializer", "bias_initializer"),
                        ("kernel_regularizer", "bias_regularizer"), ("kernel_constraint", "bias_constraint"),
                        allow_groups=True)


def _grouped(reader, rank):
    """Conv1D / Conv2D with 1 < groups < channels: WebnetsGroupedConv (tfjs' convs have no groups)."""
    if reader.out.get("data_format") == "channels_first":
        reader.refuse(f"option groups={reader.get('groups')} with data_format='channels_first' is not implemented.",
                      _GROUPS_FIX)
    if reader.out.get("padding") == "causal":
        reader.refuse("padding='causal' with groups > 1 is not lowered.",
                      "pad on the left with ZeroPadding1D and use padding='valid'.")
    reader.out["groups"] = reader.get("groups")
    reader.out["rank"] = rank
    reader.out.pop("data_format", None)
    return with_fused_activation(reader, class_name="WebnetsGroupedConv")


@register("Conv2D", note="groups == input channels exported as DepthwiseConv2D (exact); other groups: "
          "WebnetsGroupedConv")
def conv_2d(layer, config):
    groups = config.get("groups", 1)
    if groups == 1:
        return conv(layer, config)
    reader = _grouped_reader(layer, config)
    channels_axis = 1 if reader.out.get("data_format") == "channels_first" else -1
    channels = input_shape(reader)[channels_axis]
    if groups != channels:
        return _grouped(reader, 2)
    filters = reader.out.pop("filters")
    reader.get("groups")
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


@register("Conv1D", note="causal padding and channels_first lowered exactly; groups: WebnetsGroupedConv")
def conv_1d(layer, config):
    if config.get("groups", 1) != 1:
        return _grouped(_grouped_reader(layer, config), 1)
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


def _transpose_reader(layer, config):
    """A transposed conv's config: the conv keys and output_padding (Keras' transposed convs have no groups)."""
    return _standard(layer, config).copy("output_padding")


def _tfjs_computes(reader):
    """Whether tfjs' own transposed conv computes the layer: it has neither output_padding nor dilation
    (its output length is Keras' one without output_padding)."""
    return reader.out.get("output_padding") is None and all(d == 1 for d in np.ravel(reader.out.get("dilation_rate", 1)))


def _without_transpose_extras(reader):
    """The config for tfjs' transposed convs, which know neither key (both checked by `_tfjs_computes`)."""
    reader.out.pop("output_padding", None)
    reader.out.pop("dilation_rate", None)
    return reader


def _webnets_transpose(reader, rank):
    """WebnetsConvTranspose: Keras' output lengths with output_padding, dilation (a kernel with zeros between
    its taps), channels_first in any rank, and a gradient in 3D."""
    reader.out["rank"] = rank
    return with_fused_activation(reader, class_name="WebnetsConvTranspose")


@register("Conv2DTranspose", becomes="Conv2DTranspose or WebnetsConvTranspose",
          note="output_padding, dilation_rate: WebnetsConvTranspose")
def conv_transpose(layer, config):
    reader = _transpose_reader(layer, config)
    if not _tfjs_computes(reader):
        return _webnets_transpose(reader, 2)
    return with_fused_activation(_without_transpose_extras(reader))


@register("Conv3DTranspose", becomes="WebnetsConvTranspose",
          note="tfjs' Conv3DTranspose cannot train (no gradient for Conv3DBackpropInputV2)")
def conv_3d_transpose(layer, config):
    return _webnets_transpose(_transpose_reader(layer, config), 3)


def _separable_reader(layer, config):
    return _conv_reader(
        layer, config,
        ("depthwise_initializer", "pointwise_initializer", "bias_initializer"),
        ("depthwise_regularizer", "pointwise_regularizer", "bias_regularizer"),
        ("depthwise_constraint", "pointwise_constraint", "bias_constraint"),
    ).copy("depth_multiplier")


def _depthwise_reader(layer, config):
    reader = ConfigReader(layer, config)
    reader.copy("kernel_size", "strides", "padding", "data_format", "dilation_rate", "use_bias", "depth_multiplier")
    reader.initializers("depthwise_initializer", "bias_initializer")
    reader.regularizers("depthwise_regularizer", "bias_regularizer", "activity_regularizer")
    return reader.constraints("depthwise_constraint", "bias_constraint")


@register("SeparableConv2D")
def separable_conv(layer, config):
    return with_fused_activation(_separable_reader(layer, config))


@register("DepthwiseConv2D", note="dilation_rate > 1 becomes a SeparableConv2D with an identity pointwise kernel")
def depthwise_conv(layer, config):
    reader = _depthwise_reader(layer, config)
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


def _as_2d(value, fill=1):
    """A 1D kernel_size / strides / dilation_rate as its (steps, 1) 2D twin."""
    return [_single(value), fill]


def _through_2d_conv(reader, class_name, weights):
    """A channels_last 1D conv as Reshape (steps, 1, ch) -> its 2D twin with a (k, 1) kernel -> Reshape.

    Every output position of the 2D op reads exactly the rows the 1D op reads, so the
    result is exact; the activation stays with the 2D op (lowered after it where tfjs lacks it).
    """
    reader.require("data_format", ["channels_last", None], "use data_format='channels_last'.")
    if reader.out.get("padding") == "causal":
        reader.refuse("padding='causal' is not lowered for this layer.", "pad on the left with ZeroPadding1D "
                      "and use padding='valid'.")
    name = reader.out["name"]
    _, steps, channels = input_shape(reader)
    if channels is None:
        reader.refuse("the channel dimension is not known.", "give the input a fixed last dimension.")
    for key in ("kernel_size", "strides", "dilation_rate"):
        if key in reader.out:
            reader.out[key] = _as_2d(reader.out[key])
    reader.out["name"] = f"{name}__2d"
    middle = with_fused_activation(reader, weights=weights, class_name=class_name)
    middle = middle if isinstance(middle, list) else [middle]
    out_steps, out_channels = reader.layer.output.shape[1:]
    return [TfjsLayer("Reshape", {"name": f"{name}__to2d", "target_shape": [steps or -1, 1, channels]}),
            *middle,
            TfjsLayer("Reshape", {"name": name, "target_shape": [out_steps or -1, out_channels]})]


def _as_2d_weights(layer, rename=None):
    """The layer's weights with a unit width axis after the first (kernel) axis; biases unchanged."""
    weights = []
    for suffix, value in default_weights(layer):
        array = np.asarray(value)
        weights.append(((rename or {}).get(suffix, suffix),
                        array.reshape(array.shape[0], 1, *array.shape[1:]) if array.ndim >= 3 else value))
    return weights


@register("Conv1DTranspose", becomes="Reshape + Conv2DTranspose + Reshape, or WebnetsConvTranspose",
          note="exact; output_padding, dilation_rate, channels_first: WebnetsConvTranspose")
def conv_1d_transpose(layer, config):
    reader = _transpose_reader(layer, config)
    if not _tfjs_computes(reader) or reader.out.get("data_format") == "channels_first":
        return _webnets_transpose(reader, 1)
    return _through_2d_conv(_without_transpose_extras(reader), "Conv2DTranspose", _as_2d_weights(layer))


@register("SeparableConv1D", becomes="Reshape + SeparableConv2D + Reshape", note="exact")
def separable_conv_1d(layer, config):
    return _through_2d_conv(_separable_reader(layer, config), "SeparableConv2D", _as_2d_weights(layer))


@register("DepthwiseConv1D", becomes="Reshape + DepthwiseConv2D + Reshape", note="exact")
def depthwise_conv_1d(layer, config):
    reader = _depthwise_reader(layer, config)
    if reader.out.get("dilation_rate", 1) not in (1, [1]):
        reader.refuse("dilation_rate > 1 in a depthwise 1D conv is not lowered yet.", "use dilation_rate=1.")
    return _through_2d_conv(reader, "DepthwiseConv2D", _as_2d_weights(layer, {"kernel": "depthwise_kernel"}))
