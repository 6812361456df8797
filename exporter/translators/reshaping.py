"""Reshaping layers. The 1D padding/cropping/upsampling layers TF.js lacks are
lowered through their 2D twins: (steps, ch) -> (steps, 1, ch) -> 2D op -> back."""

from .common import ConfigReader
from .registry import TfjsLayer, register


@register("Flatten")
def flatten(layer, config):
    return ConfigReader(layer, config).copy("data_format").finish()


@register("Reshape")
def reshape(layer, config):
    return ConfigReader(layer, config).copy("target_shape").finish()


@register("Permute")
def permute(layer, config):
    return ConfigReader(layer, config).copy("dims").finish()


@register("RepeatVector")
def repeat_vector(layer, config):
    return ConfigReader(layer, config).copy("n").finish()


@register("ZeroPadding2D", "ZeroPadding3D")
def zero_padding(layer, config):
    return ConfigReader(layer, config).copy("padding", "data_format").finish()


@register("Cropping2D", "Cropping3D")
def cropping(layer, config):
    return ConfigReader(layer, config).copy("cropping", "data_format").finish()


@register("UpSampling2D")
def up_sampling(layer, config):
    reader = ConfigReader(layer, config).copy("size", "data_format")
    reader.require("interpolation", ["nearest", "bilinear"], "use nearest or bilinear interpolation.")
    reader.out["interpolation"] = config.get("interpolation", "nearest")
    return reader.finish()


def _through_2d(layer, config, class_name, config_2d):
    """(batch, steps, ch) -> Reshape (steps, 1, ch) -> 2D layer -> Reshape (steps', ch)."""
    reader = ConfigReader(layer, config).ignore("padding", "cropping", "size")
    reader.require("data_format", ["channels_last", None], "use data_format='channels_last'.")
    reader.finish()
    name = config["name"]
    _, steps, channels = layer.input.shape
    out_steps = layer.output.shape[1]
    if channels is None:
        reader.refuse("the channel dimension is not known.", "give the input a fixed last dimension.")
    # Static lengths where Keras knows them: tfjs loses the length through a -1
    # Reshape, and a later Flatten or Dense needs it.
    return [
        TfjsLayer("Reshape", {"name": f"{name}__to2d", "target_shape": [steps or -1, 1, channels]}),
        TfjsLayer(class_name, {"name": f"{name}__2d", **config_2d}),
        TfjsLayer("Reshape", {"name": name, "target_shape": [out_steps or -1, channels]}),
    ]


def _pair(value):
    return [value, value] if isinstance(value, int) else list(value)


@register("ZeroPadding1D", becomes="Reshape + ZeroPadding2D + Reshape", note="exact")
def zero_padding_1d(layer, config):
    return _through_2d(layer, config, "ZeroPadding2D", {"padding": [_pair(config["padding"]), [0, 0]]})


@register("Cropping1D", becomes="Reshape + Cropping2D + Reshape", note="exact")
def cropping_1d(layer, config):
    return _through_2d(layer, config, "Cropping2D", {"cropping": [_pair(config["cropping"]), [0, 0]]})


@register("UpSampling1D", becomes="Reshape + UpSampling2D + Reshape", note="exact")
def up_sampling_1d(layer, config):
    return _through_2d(layer, config, "UpSampling2D", {"size": [int(config["size"]), 1]})
