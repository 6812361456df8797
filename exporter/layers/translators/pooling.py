"""Pooling layers."""

from .common import ConfigReader, input_shape, receives_mask
from .registry import TfjsLayer, register


@register("MaxPooling1D", "AveragePooling1D")
def pooling_1d(layer, config):
    reader = ConfigReader(layer, config).copy("pool_size", "strides", "padding")
    reader.require("data_format", ["channels_last"], "use data_format='channels_last' (TF.js 1D pooling has no other).")
    return reader.finish()


def _pooling_class(class_name, pool_size):
    """The TF.js class for a Keras pooling class: its tfjs twin, except a MaxPooling3D with a pool size of 1
    on some axis, which tfjs-backend-wasm 4.22's MaxPool3D gets wrong (off by up to 2.4 on N(0, 1) inputs)."""
    if class_name == "MaxPooling3D" and 1 in list(pool_size):
        return "WebnetsMaxPooling3D"
    return class_name


@register("MaxPooling2D", "AveragePooling2D", "MaxPooling3D", "AveragePooling3D",
          note="MaxPooling3D with a pool size of 1: WebnetsMaxPooling3D (tfjs-backend-wasm's MaxPool3D is wrong there)")
def pooling(layer, config):
    reader = ConfigReader(layer, config).copy("pool_size", "strides", "padding", "data_format")
    return reader.finish(_pooling_class(reader.class_name, reader.out["pool_size"]))


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


@register("GlobalAveragePooling3D", "GlobalMaxPooling3D",
          becomes="Reshape + GlobalAveragePooling2D / GlobalMaxPooling2D (+ Reshape)",
          note="exact: the three spatial axes folded into one; keepdims through a Reshape")
def global_pooling_3d(layer, config):
    reader = ConfigReader(layer, config)
    channels_first = reader.get("data_format", "channels_last") == "channels_first"
    keepdims = reader.get("keepdims", False)
    name = reader.out["name"]
    shape = input_shape(reader)
    channels = shape[1] if channels_first else shape[-1]
    if channels is None:
        reader.refuse("TF.js has no 3D global pooling; its lowering reshapes by the channel count, which is not known.",
                      "give the input a fixed channel dimension.")
    # tfjs has no 3D global pooling. Keras pools the three spatial axes at once (ops.mean / ops.max
    # over them), which is its 2D twin's pooling of the spatial axes folded into one (d*h*w, 1) grid.
    grid = [channels, -1, 1] if channels_first else [-1, 1, channels]
    reader.out["data_format"] = "channels_first" if channels_first else "channels_last"
    reader.out["name"] = f"{name}__pool" if keepdims else name
    pieces = [TfjsLayer("Reshape", {"name": f"{name}__fold", "target_shape": grid}),
              reader.finish(reader.class_name.replace("3D", "2D"), weights=[])]
    if keepdims:
        out_shape = list(layer.compute_output_shape(shape))[1:]
        pieces.append(TfjsLayer("Reshape", {"name": name, "target_shape": out_shape}))
    return pieces


_ADAPTIVE = {f"Adaptive{kind}Pooling{rank}D": (kind, rank) for kind in ("Average", "Max") for rank in (1, 2, 3)}


@register(*_ADAPTIVE, becomes="AveragePooling / MaxPooling (1D, 2D, 3D) or WebnetsAdaptivePooling",
          note="input sizes that the output sizes divide: tfjs pooling with pool = stride = size / out; "
               "others: WebnetsAdaptivePooling (Keras' uneven windows)")
def adaptive_pooling(layer, config):
    reader = ConfigReader(layer, config)
    kind, rank = _ADAPTIVE[reader.class_name]
    output_size = [int(n) for n in reader.get("output_size")]
    data_format = reader.get("data_format") or "channels_last"
    shape = input_shape(reader, required=False)
    spatial = None if shape is None else (shape[2:] if data_format == "channels_first" else shape[1:-1])
    evenly = spatial is not None and all(size is not None and size % out == 0 for size, out in zip(spatial, output_size))
    if evenly and (rank > 1 or data_format == "channels_last"):  # tfjs' 1D pooling runs channels_last only
        # Every window has size / out elements and windows do not overlap: a plain valid pooling.
        pool = [size // out for size, out in zip(spatial, output_size)]
        reader.out.update(pool_size=pool, strides=pool, padding="valid")
        if rank > 1:
            reader.out["data_format"] = data_format
        return reader.finish(_pooling_class(f"{kind}Pooling{rank}D", pool))
    reader.out.update(rank=rank, output_size=output_size, data_format=data_format,
                      reduction="average" if kind == "Average" else "max")
    return reader.finish("WebnetsAdaptivePooling")
