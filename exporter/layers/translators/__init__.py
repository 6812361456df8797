"""Keras 3 layer -> tfjs-layers translators, one per layer class, in one registry.

Importing this package fills `TRANSLATORS`; `translate_layer` looks a layer up.
"""

from ...errors import UnsupportedLayerError
from . import (activations, convolutional, core, merging, normalization, pooling, preprocessing,  # noqa: F401
               recurrent, reshaping, wrappers, applications, attention, audio)  # importing a module registers its translators
from .registry import TRANSLATORS, Call, Input, TfjsLayer

__all__ = ["TRANSLATORS", "Call", "Input", "TfjsLayer", "translate_layer", "translator_for", "supported_layers"]

_REFUSED = {
    "Lambda": "it runs arbitrary Python, which cannot be translated to TF.js. "
    "Replace it with built-in layers (or a custom tfjs layer registered on the JS side).",
    "TFSMLayer": "it wraps a TensorFlow SavedModel; export that model with --format graph instead.",
    "TorchModuleWrapper": "it wraps PyTorch code; rebuild with Keras layers.",
}


def translator_for(layer):
    """The TranslatorInfo of a Keras layer, or a refusal naming why there is none."""
    class_name = type(layer).__name__
    if class_name in _REFUSED:
        raise UnsupportedLayerError(layer.name, class_name, "TF.js has no such layer:", _REFUSED[class_name])
    info = TRANSLATORS.get(class_name)
    if info is None or type(layer).__module__.split(".")[0] != "keras":
        raise UnsupportedLayerError(
            layer.name, class_name,
            "this layer class has no TF.js translator (custom layers need JavaScript code on the TF.js side).",
            "use the built-in layers listed in the README (`python -m exporter layers`), or "
            "register a matching tfjs class in your app and ask webnets for a translator.",
        )
    return info


def translate_layer(layer, call=None):
    """Translate one (non-model) Keras layer into a list of TfjsLayer pieces.

    `call`: how the graph calls it (a `Call`), for translators that take one; a layer
    outside a graph (in a Sequential or a wrapper) is called on its one input.
    """
    info = translator_for(layer)
    if info.call_tensors is None:
        pieces = info.function(layer, layer.get_config())
    else:
        pieces = info.function(layer, layer.get_config(), call or Call())
    return pieces if isinstance(pieces, list) else [pieces]


def supported_layers():
    """[(keras class, tfjs class, note)] for the README table."""
    return sorted((name, info.tfjs_class, info.note) for name, info in TRANSLATORS.items())
