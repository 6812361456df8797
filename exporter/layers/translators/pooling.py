"""Pooling layers."""

from .common import ConfigReader, input_shape, receives_mask
from .registry import TfjsLayer, register


@register("MaxPooling1D", "AveragePooling1D")
def pooling_1d(layer, config):
    reader = ConfigReader(layer, config).copy("pool_size", "strides", "padding")
    reader.require("data_format", ["channels_last"], "use data_format='channels_last' (TF.js 1D pooling has no other).")
    return reader.finish()


@register("MaxPooling2D", "AveragePooling2D", "MaxPooling3D", "AveragePooling3D")
def pooling(layer, config):
    return ConfigReader(layer, config).copy("pool_size", "strides", "padding", "data_format").finish()


@register(
    "GlobalMaxPooling1D", "GlobalAveragePooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling2D",
    note="keepdims=True lowered to pooling + Reshape; 1D channels_first through a Permute; "
         "GlobalAveragePooling1D with a mask: WebnetsGlobalAveragePooling1D",
)
def global_pooling(layer, config):
    reader = ConfigReader(layer, config)
    data_format = reader.get("data_format", "channels_last")
    keepdims = reader.get("keepdims", False)
    name = reader.out["name"]
    pieces = []
    if reader.class_name == "GlobalAveragePooling1D" and receives_mask(layer):
        # Keras averages only the unmasked steps; tfjs' layer ignores masks (a silently wrong mean).
        if data_format == "channels_first":
            pieces.append(TfjsLayer("Permute", {"name": f"{name}__channels_last", "dims": [2, 1]}))
        reader.out["keepdims"] = bool(keepdims)
        return pieces + [reader.finish("WebnetsGlobalAveragePooling1D")]
    if reader.class_name.endswith("1D"):
        # tfjs 1D global pooling has no data_format and always pools axis 1.
        if data_format == "channels_first":
            pieces.append(TfjsLayer("Permute", {"name": f"{name}__channels_last", "dims": [2, 1]}))
    else:
        reader.out["data_format"] = data_format
    if keepdims:
        reader.out["name"] = f"{name}__pool"
    pieces.append(reader.finish())
    if keepdims:
        # tfjs global pooling always drops the pooled axes; a Reshape puts them back.
        out_shape = list(layer.compute_output_shape(input_shape(reader)))[1:]
        pieces.append(TfjsLayer("Reshape", {"name": name, "target_shape": out_shape}))
    return pieces if len(pieces) > 1 else pieces[0]
