"""Preprocessing layers that belong in an exported model."""

import keras
import numpy as np

from .common import ConfigReader, input_shape
from .normalization import affine_per_channel
from .registry import TfjsLayer, register

_RESIZE_INTERPOLATIONS = ("bilinear", "nearest")

# Augmentation layers compute the identity at inference (checked: Keras 3.15, every one of
# them, on images; RandomCrop too, despite its docstring's "centre crop"). In TF.js they
# become a linear Activation, which the optimizer drops; training in TF.js does not augment.
AUGMENTATION_LAYERS = (
    "RandomBrightness", "RandomColorDegeneration", "RandomColorJitter", "RandomContrast", "RandomCrop",
    "RandomElasticTransform", "RandomErasing", "RandomFlip", "RandomGaussianBlur", "RandomGrayscale", "RandomHue",
    "RandomInvert", "RandomPerspective", "RandomPosterization", "RandomRotation", "RandomSaturation",
    "RandomSharpness", "RandomShear", "RandomTranslation", "RandomZoom", "Solarization", "AugMix", "CutMix",
    "MixUp", "RandAugment",
)


@register("Rescaling", note="per-channel scale lowered to an exact BatchNormalization")
def rescaling(layer, config):
    reader = ConfigReader(layer, config).ignore("scale", "offset")
    pieces = reader.finish()
    # The live values, not the config: the config may hold serialized tensors.
    scale = np.asarray(keras.ops.convert_to_numpy(layer.scale), np.float32)
    offset = np.asarray(keras.ops.convert_to_numpy(layer.offset), np.float32)
    if scale.size == 1 and offset.size == 1:  # needs no input shape (works inside wrappers)
        pieces.config.update(scale=float(scale.reshape(-1)[0]), offset=float(offset.reshape(-1)[0]))
        return pieces
    if scale.ndim > 0 and keras.config.image_data_format() == "channels_first":
        # Keras' Rescaling.call does this too: a per-channel scale then applies to axis 1.
        scale = scale.reshape(scale.shape + (1,) * (3 - scale.ndim))
    return affine_per_channel(reader, scale, offset, input_shape(reader))


def identity(name):
    return TfjsLayer("Activation", {"name": name, "activation": "linear"})


@register(*AUGMENTATION_LAYERS, becomes="(identity)", note="identity at inference, as in Keras; dropped at export")
def augmentation(layer, config):
    ConfigReader(layer, config).ignore(*config)  # every option only acts in training
    return identity(config["name"])


@register("Identity", becomes="(identity)", note="dropped at export")
def identity_layer(layer, config):
    ConfigReader(layer, config).finish()
    return identity(config["name"])


def _data_format(reader):
    return "channels_first" if reader.get("data_format") == "channels_first" else "channels_last"


@register("Resizing", becomes="WebnetsResizing", note="bilinear, nearest; crop/pad to aspect ratio; half-pixel")
def resizing(layer, config):
    reader = ConfigReader(layer, config).copy("height", "width", "crop_to_aspect_ratio", "pad_to_aspect_ratio")
    interpolation = reader.get("interpolation", "bilinear")
    if interpolation not in _RESIZE_INTERPOLATIONS:
        reader.refuse(f"interpolation='{interpolation}' is not implemented in webnets' TF.js resizing.",
                      f"use one of {', '.join(_RESIZE_INTERPOLATIONS)}.")
    if reader.get("antialias", False) and interpolation != "nearest":
        reader.refuse("antialias=True resamples with a wider kernel when downsizing, which TF.js lacks.",
                      "use antialias=False (the default).")
    reader.require("fill_mode", ["constant"], "use fill_mode='constant' (the only mode Keras 3 implements).")
    reader.out.update(interpolation=interpolation, fill_value=float(reader.get("fill_value", 0.0)),
                      data_format=_data_format(reader))
    return reader.finish("WebnetsResizing", weights=[])


@register("CenterCrop", becomes="Cropping2D / WebnetsCenterCrop", note="a crop when the input is larger, "
          "else Keras' crop-to-aspect and bilinear resize")
def center_crop(layer, config):
    reader = ConfigReader(layer, config).copy("height", "width")
    data_format = _data_format(reader)
    shape = input_shape(reader, required=False)
    spatial = None if shape is None else (shape[2:4] if data_format == "channels_first" else shape[1:3])
    height, width = reader.out["height"], reader.out["width"]
    if spatial is not None and None not in spatial and spatial[0] >= height and spatial[1] >= width:
        # Keras slices from (size - target) // 2: a tfjs Cropping2D with those margins is exact.
        top, left = (spatial[0] - height) // 2, (spatial[1] - width) // 2
        bottom, right = spatial[0] - height - top, spatial[1] - width - left
        reader.out = {k: v for k, v in reader.out.items() if k not in ("height", "width")}
        reader.out.update(cropping=[[top, bottom], [left, right]], data_format=data_format)
        return reader.finish("Cropping2D", weights=[])
    reader.out["data_format"] = data_format
    return reader.finish("WebnetsCenterCrop", weights=[])
