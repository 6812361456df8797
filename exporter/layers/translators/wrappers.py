"""Wrapper layers (Bidirectional, TimeDistributed, SpectralNormalization): the wrapped layer is translated
by its own translator."""

import keras

from ...errors import UnsupportedLayerError
from .common import ConfigReader, live_calls
from .registry import register


def translate_single(layer):
    """Translate a wrapped layer, which must become exactly one tfjs layer."""
    from . import translate_layer

    pieces = translate_layer(layer)
    if len(pieces) != 1:
        raise UnsupportedLayerError(
            layer.name, type(layer).__name__,
            "inside a wrapper it would need several TF.js layers (it is lowered, not translated).",
            "apply it outside the wrapper.",
        )
    return pieces[0]


def _strip(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


@register("Bidirectional", note="backward layer must mirror the forward one")
def bidirectional(layer, config):
    reader = ConfigReader(layer, config).copy("merge_mode").ignore("layer", "backward_layer")
    forward = translate_single(layer.forward_layer)
    backward = translate_single(layer.backward_layer)
    mirrored = {**forward.config, "go_backwards": not forward.config.get("go_backwards", False)}
    if {k: v for k, v in mirrored.items() if k != "name"} != {k: v for k, v in backward.config.items() if k != "name"}:
        reader.refuse("the backward layer is not the mirror of the forward layer.",
                      "let Bidirectional create the backward layer itself.")
    # tfjs names the copies "forward_<inner>" / "backward_<inner>" itself.
    inner_name = _strip(forward.name, "forward_")
    if backward.name != f"backward_{inner_name}":
        reader.refuse(f"its backward layer is named '{backward.name}', TF.js will call it 'backward_{inner_name}'.",
                      "let Bidirectional name its inner layers.")
    inner = {"class_name": forward.class_name, "config": {**forward.config, "name": inner_name}}
    reader.out["layer"] = inner
    weights = [(f"forward_{inner_name}/{suffix}", value) for suffix, value in forward.weights]
    weights += [(f"backward_{inner_name}/{suffix}", value) for suffix, value in backward.weights]
    return reader.finish(weights=weights)


@register("TimeDistributed")
def time_distributed(layer, config):
    reader = ConfigReader(layer, config).ignore("layer")
    inner = translate_single(layer.layer)
    reader.out["layer"] = {"class_name": inner.class_name, "config": inner.config}
    # tfjs scopes the inner weights under the wrapper's name only.
    return reader.finish(weights=inner.weights)


@register("SpectralNormalization", becomes="the wrapped layer's TF.js layer",
          note="inference: the wrapped layer with its kernel as trained (Keras normalizes it only when training); "
          "vector_u and the power iteration are not exported, so training in TF.js does not re-normalize")
def spectral_normalization(layer, config):
    """Keras 3 SpectralNormalization at inference (training=False) only runs the wrapped layer: the power
    iteration that divides the kernel by its largest singular value, and updates vector_u (a non-trainable
    (1, units) weight), runs in training, writing the normalized kernel into the wrapped layer's own
    variable. So the wrapped layer, translated by its own translator and renamed to the wrapper (the name
    the graph uses), computes what Keras computes; vector_u is used by nothing TF.js runs, and is left out.
    """
    from . import translate_layer

    reader = ConfigReader(layer, config).ignore("layer", "power_iterations")
    # Keras casts the output to the input's dtype: token ids (an Embedding inside) would truncate the vectors.
    dtypes = {str(call.args[0].dtype) for call in live_calls(layer) if call.args}
    if any(not dtype.startswith(("float", "bfloat")) for dtype in dtypes) or (
            not dtypes and isinstance(layer.layer, keras.layers.Embedding)):
        reader.refuse(f"it is called on {', '.join(sorted(dtypes)) or 'integer'} inputs, and Keras casts the wrapped "
                      "layer's output to the input's dtype (the embedding vectors become integers).",
                      "apply SpectralNormalization to layers called on float inputs.")
    reader.finish(weights=[])  # accounts for every config key
    inner, outer = layer.layer.name, config["name"]
    pieces = translate_layer(layer.layer)
    for piece in pieces:
        piece.config["name"] = _renamed(piece.name, inner, outer)
    return pieces


def _renamed(name, inner, outer):
    """A piece of the wrapped layer's translation, named after the wrapper: the last piece (the inner layer's
    own name) takes the wrapper's name, helpers keep their suffix."""
    if name == inner:
        return outer
    return outer + name[len(inner):] if name.startswith(f"{inner}__") else f"{outer}__{name}"
