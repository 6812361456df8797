"""Wrapper layers: the wrapped layer is translated by its own translator."""

from ...errors import UnsupportedLayerError
from .common import ConfigReader
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
