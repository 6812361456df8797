"""Preprocessing layers that belong in an exported model."""

import keras
import numpy as np

from .common import ConfigReader, input_shape, live_calls, plain_dtype
from .normalization import affine_per_channel
from .registry import Input, TfjsLayer, register

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


# Layers that pass plain images through unchanged at inference (checked on Keras 3.15 in
# tests/test_builtin_preprocessing.py): Equalization equalizes only when training=True;
# MaxNumBoundingBoxes only pads or truncates the bounding boxes of a dict input.
@register("Equalization", "MaxNumBoundingBoxes", becomes="(identity)",
          note="identity on images at inference, as in Keras; dropped at export")
def image_identity(layer, config):
    ConfigReader(layer, config).ignore(*config)  # every option acts in training or on bounding boxes only
    return identity(config["name"])


def _value_range(reader):
    low, high = sorted(float(v) for v in reader.get("value_range", (0, 255)))
    return [low, high]


@register("AutoContrast", becomes="WebnetsAutoContrast", note="value_range; constant channels kept, as in Keras")
def auto_contrast(layer, config):
    reader = ConfigReader(layer, config)
    # Keras' transform_images reduces over axes 1 and 2 whatever data_format says, and images come
    # as a plain tensor (bounding boxes only in dict inputs): neither option changes the result.
    reader.ignore("data_format", "bounding_box_format")
    reader.out["value_range"] = _value_range(reader)
    return reader.finish("WebnetsAutoContrast", weights=[])


@register("ContrastLimitedAdaptiveHistogramEqualization", becomes="WebnetsContrastLimitedAdaptiveHistogramEqualization",
          note="value_range, clip_limit, tile_grid_size, data_format; batched images")
def clahe(layer, config):
    reader = ConfigReader(layer, config).copy("clip_limit", "tile_grid_size").ignore("bounding_box_format")
    reader.out.update(value_range=[float(v) for v in reader.get("value_range")], data_format=_data_format(reader))
    shape = input_shape(reader, required=False)
    if shape is not None and len(shape) != 4:
        reader.refuse(f"its input has shape {shape}; webnets runs it on batches of images (rank 4), and Keras "
                      "takes a rank-3 input for one image, not a batch.",
                      "give it (batch, height, width, channels) images.")
    return reader.finish("WebnetsContrastLimitedAdaptiveHistogramEqualization", weights=[])


def _check_encoding_rank(reader, mode, shape, declared_shape=None):
    """Refuse inputs whose Keras encoding TF.js cannot hold: multi_hot / count of (batch,) ids count
    over the whole batch (output (depth,), no batch axis); of rank 3 and more they reduce axis 1."""
    if shape is None or mode not in ("multi_hot", "count"):
        return
    if len(shape) < 2:
        reader.refuse(f"output_mode='{mode}' on inputs of shape {shape} counts over the whole batch in Keras "
                      "(its output has no batch axis), which a TF.js layer cannot return.",
                      "give it inputs of shape (batch, values).")
    computed = (shape[0], *shape[2:])
    if declared_shape is not None and tuple(declared_shape[:-1]) != computed:
        reader.refuse(f"output_mode='{mode}' on inputs of shape {shape}: Keras reduces axis 1, giving "
                      f"{computed + (declared_shape[-1],)}, but declares the output shape {tuple(declared_shape)}.",
                      "give it inputs of shape (batch, values).")


@register("Discretization", becomes="WebnetsDiscretization",
          note="bin_boundaries (given or adapted); output_mode int, one_hot, multi_hot, count")
def discretization(layer, config):
    reader = ConfigReader(layer, config).ignore("num_bins", "epsilon")  # adapt() only: the boundaries are the result
    mode = reader.get("output_mode", "int")
    if reader.get("sparse", False):
        reader.refuse("sparse=True returns a sparse tensor, which TF.js does not have.",
                      "use sparse=False (the same values, dense).")
    boundaries = reader.get("bin_boundaries")
    if boundaries is None:
        reader.refuse("it has no bin_boundaries (it was never adapted).", "call adapt() or pass bin_boundaries.")
    # TensorFlow's Bucketize holds the boundaries as float32 and needs them sorted.
    boundaries = [float(b) for b in np.asarray(boundaries, np.float32).reshape(-1)]
    if any(later < earlier for earlier, later in zip(boundaries, boundaries[1:])):
        reader.refuse("its bin_boundaries are not sorted, and Keras' bucketize assumes they are.",
                      "sort the bin_boundaries.")
    _check_encoding_rank(reader, mode, input_shape(reader, required=False))
    reader.out.update(bin_boundaries=boundaries, output_mode=mode, output_dtype="int32" if mode == "int" else "float32")
    return reader.finish("WebnetsDiscretization", weights=[])


@register("CategoryEncoding", becomes="WebnetsCategoryEncoding", call_tensors=("count_weights",),
          note="one_hot, multi_hot, count (with count_weights); ids out of range count nowhere, as in Keras")
def category_encoding(layer, config, call):
    reader = ConfigReader(layer, config).copy("num_tokens", "output_mode")
    mode = reader.out["output_mode"]
    if getattr(layer, "sparse", False):  # not in the config (Keras 3.15 leaves it out), on the layer
        reader.refuse("sparse=True returns a sparse tensor, which TF.js does not have.",
                      "use sparse=False (the same values, dense).")
    if call.options:
        reader.refuse(f"it is called with {call.options}.", "call it on the ids, and count_weights for 'count'.")
    weighted = call.args + len(call.tensors) > 1
    calls = live_calls(layer)  # the ids are its first argument (count_weights may be a second input)
    shape = tuple(calls[0].args[0].shape) if calls else None
    _check_encoding_rank(reader, mode, shape, None if shape is None else layer.compute_output_shape(shape))
    # Keras encodes in the layer's dtype, or in the count weights' (its compute dtype) when given.
    reader.out["output_dtype"] = "float32" if weighted else plain_dtype(layer.dtype)
    return reader.finish("WebnetsCategoryEncoding", weights=[])


@register("Pipeline", becomes="(its layers)", note="its layers in sequence, each translated as on its own")
def pipeline(layer, config):
    """The pipeline's layers one after the other, their pieces named <pipeline>__<layer> and the last
    one named as the pipeline, so the model's references to it stay valid."""
    from . import translate_layer

    reader = ConfigReader(layer, config).ignore("layers")
    reader.finish(weights=[])  # accounts for the remaining keys (name)
    if not layer.layers:
        return identity(config["name"])
    pieces, previous = [], None
    for inner in layer.layers:
        if isinstance(inner, keras.Model):
            reader.refuse(f"it holds the model '{inner.name}'; webnets translates a nested model only as a node of "
                          "a Functional or Sequential model.",
                          "put the model's layers in the Pipeline, or use a Sequential model instead of the Pipeline.")
        own = translate_layer(inner)
        for piece in own:
            piece.config["name"] = f"{config['name']}__{piece.name}"
            if previous is not None and piece.inputs is not None:
                # The inner layer's own input is the previous layer's output, not the pipeline's input.
                piece.inputs = [previous if isinstance(ref, Input) else ref for ref in piece.inputs]
        if previous is not None and own[0].inputs is None:
            own[0].inputs = [previous]
        pieces += own
        previous = own[-1]
    pieces[-1].config["name"] = config["name"]
    return pieces
