"""Reshaping layers. The 1D padding/cropping/upsampling layers TF.js lacks are
lowered through their 2D twins: (steps, ch) -> (steps, 1, ch) -> 2D op -> back."""

from .common import ConfigReader, input_shape
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


@register("ZeroPadding2D")
def zero_padding(layer, config):
    return ConfigReader(layer, config).copy("padding", "data_format").finish()


@register("Cropping2D")
def cropping(layer, config):
    return ConfigReader(layer, config).copy("cropping", "data_format").finish()


@register("UpSampling2D", note="bilinear: WebnetsUpSampling2D (Keras 3's half-pixel sampling)")
def up_sampling(layer, config):
    reader = ConfigReader(layer, config).copy("size", "data_format")
    interpolation = reader.get("interpolation", "nearest")
    if interpolation == "nearest":  # pixel repetition: tfjs' own layer is exact
        reader.out["interpolation"] = "nearest"
        return reader.finish()
    if interpolation != "bilinear":
        reader.refuse(f"interpolation='{interpolation}' is not implemented in TF.js.",
                      "use 'nearest' or 'bilinear', or a Conv2DTranspose with strides=size.")
    # tfjs' UpSampling2D resizes without half-pixel centres (results differ by ~50%).
    reader.out["interpolation"] = "bilinear"
    return reader.finish("WebnetsUpSampling2D")


def _triple(value):
    if isinstance(value, int):
        return [[value, value]] * 3
    return [[v, v] if isinstance(v, int) else list(v) for v in value]


def _3d_through_2d(layer, config, key, class_name):
    """(d, h, w, c) as (d, h, w*c) for the d/h amounts, then as (d'*h', w, c) for the w amounts.

    Each 2D padding/cropping then only touches whole rows of the folded
    tensor, so the result is exactly the 3D operation (tfjs has no 3D one).
    """
    reader = ConfigReader(layer, config).ignore(key)
    reader.require("data_format", ["channels_last", None], "use data_format='channels_last'.")
    reader.finish()
    _, depth, height, width, channels = input_shape(reader)
    _, out_depth, out_height, out_width, _ = layer.output.shape
    if None in (depth, height, width, channels):
        reader.refuse("TF.js has no 3D version; the 2D lowering needs static input sizes.", "give the input fixed sizes.")
    (d0, d1), (h0, h1), (w0, w1) = _triple(config[key])
    name = config["name"]
    return [
        TfjsLayer("Reshape", {"name": f"{name}__fold_w", "target_shape": [depth, height, width * channels]}),
        TfjsLayer(class_name, {"name": f"{name}__dh", key: [[d0, d1], [h0, h1]]}),
        TfjsLayer("Reshape", {"name": f"{name}__fold_dh", "target_shape": [out_depth * out_height, width, channels]}),
        TfjsLayer(class_name, {"name": f"{name}__w", key: [[0, 0], [w0, w1]]}),
        TfjsLayer("Reshape", {"name": name, "target_shape": [out_depth, out_height, out_width, channels]}),
    ]


@register("ZeroPadding3D", becomes="Reshape + ZeroPadding2D (x2) + Reshape", note="exact; channels_last")
def zero_padding_3d(layer, config):
    return _3d_through_2d(layer, config, "padding", "ZeroPadding2D")


@register("Cropping3D", becomes="Reshape + Cropping2D (x2) + Reshape", note="exact; channels_last")
def cropping_3d(layer, config):
    return _3d_through_2d(layer, config, "cropping", "Cropping2D")


def steps_through_2d(name, steps, channels, out_steps, class_name, config_2d):
    """(batch, steps, ch) -> Reshape (steps, 1, ch) -> 2D layer -> Reshape (steps', ch), the last named `name`.

    Static lengths where Keras knows them: tfjs loses the length through a -1
    Reshape, and a later Flatten or Dense needs it.
    """
    return [
        TfjsLayer("Reshape", {"name": f"{name}__to2d", "target_shape": [steps or -1, 1, channels]}),
        TfjsLayer(class_name, {"name": f"{name}__2d", **config_2d}),
        TfjsLayer("Reshape", {"name": name, "target_shape": [out_steps or -1, channels]}),
    ]


def _through_2d(layer, config, class_name, config_2d):
    reader = ConfigReader(layer, config).ignore("padding", "cropping", "size")
    reader.require("data_format", ["channels_last", None], "use data_format='channels_last'.")
    reader.finish()
    _, steps, channels = input_shape(reader)
    if channels is None:
        reader.refuse("the channel dimension is not known.", "give the input a fixed last dimension.")
    return steps_through_2d(config["name"], steps, channels, layer.output.shape[1], class_name, config_2d)


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


@register("UpSampling3D", becomes="WebnetsUpSampling3D", note="exact: every voxel copied size[i] times per axis")
def up_sampling_3d(layer, config):
    # tfjs has no 3D layer; a lowering through its nearest UpSampling2D would infer exactly but train
    # wrongly on the CPU backend (see WebnetsUpSampling3D in webnets-layers.js).
    return ConfigReader(layer, config).copy("size", "data_format").finish("WebnetsUpSampling3D")
