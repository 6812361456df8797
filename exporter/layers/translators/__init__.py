"""Keras 3 layer -> tfjs-layers translators, one per layer class, in one registry.

Importing this package fills `TRANSLATORS`; `translate_layer` looks a layer up.
"""

from ...errors import UnsupportedLayerError
from . import (activations, convolutional, core, merging, normalization, pooling, preprocessing,  # noqa: F401
               recurrent, reshaping, wrappers, applications, attention, audio, hub_layers, text,
               hub_tokenizers)  # importing registers them
from . import hub_packers  # noqa: F401,E402  keras-hub's packers (exporter/layers/hub_preprocessors.py)
from .registry import TRANSLATORS, Call, Input, TfjsLayer

__all__ = ["TRANSLATORS", "REFUSED", "Call", "Input", "TfjsLayer", "translate_layer", "translator_for", "has_translator",
           "is_builtin", "registered_name", "supported_layers"]

# Classes that wrap foreign code (another framework, arbitrary Python): no layers model can hold them.
REFUSED = {
    "Lambda": "it runs arbitrary Python, which cannot be translated to TF.js. "
    "Replace it with built-in layers (or a custom tfjs layer registered on the JS side).",
    "TFSMLayer": "it wraps a TensorFlow SavedModel; export that model with --format graph instead.",
    "TorchModuleWrapper": "it wraps PyTorch code; rebuild with Keras layers.",
    "JaxLayer": "it wraps a JAX function (Python code); rebuild it with Keras layers or keras.ops.",
    "FlaxLayer": "it wraps a Flax module (Python code); rebuild it with Keras layers or keras.ops.",
}


def is_builtin(layer):
    """A class of Keras itself (keras.layers, keras.applications' own layers), not a user's or a library's."""
    return _is_builtin_class(type(layer))


def _is_builtin_class(cls):
    return cls.__module__.split(".")[0] == "keras"


def registered_name(layer):
    """The translator key of a layer's class: Keras' class name, or a registered 'package>Name' (keras-hub, users)."""
    return _class_key(type(layer))


def _class_key(cls):
    if _is_builtin_class(cls):
        return cls.__name__
    import keras

    name = keras.saving.get_registered_name(cls)
    # An unregistered class (keras-hub's family blocks, a user's unregistered layer) is keyed by its
    # module, so that it never takes the translator of a Keras class of the same name (Gemma's own
    # RMSNormalization is not keras.layers.RMSNormalization).
    return name if ">" in name else f"{cls.__module__}.{name}"


def _lookup(layer):
    """The layer's own translator, or that of a base class the layer's class only parametrizes."""
    cls = type(layer)
    info = TRANSLATORS.get(_class_key(cls))
    if info is not None or _is_builtin_class(cls):
        return info
    overridden = set()
    for subclass, base in zip(cls.__mro__, cls.__mro__[1:]):
        overridden |= set(vars(subclass))
        if _is_builtin_class(base):
            return None
        inherited = TRANSLATORS.get(_class_key(base))
        if inherited is not None and inherited.subclasses_unless:
            return None if overridden & set(inherited.subclasses_unless) else inherited
    return None


def translator_for(layer):
    """The TranslatorInfo of a Keras layer, or a refusal naming why there is none."""
    class_name = type(layer).__name__
    if is_builtin(layer) and class_name in REFUSED:
        raise UnsupportedLayerError(layer.name, class_name, "TF.js has no such layer:", REFUSED[class_name])
    info = _lookup(layer)
    if info is not None:
        return info
    if is_builtin(layer):
        raise UnsupportedLayerError(
            layer.name, class_name,
            "this is a built-in Keras layer class that webnets does not translate yet.",
            "replace it with the built-in layers listed in the README (`python -m exporter layers`), or "
            "report it to webnets.")
    raise UnsupportedLayerError(
        layer.name, class_name,
        f"this layer class ({type(layer).__module__}) is not part of Keras, and here it cannot be traced into "
        "keras.ops (inside a wrapper such as TimeDistributed or Bidirectional, webnets needs a translator).",
        "apply the layer outside the wrapper so webnets traces it, or register a translator and a JavaScript "
        "class for it (docs/own-layers.md).")


def has_translator(layer):
    """Whether a translator is registered for the layer's class (built-in, keras-hub or a plugin)."""
    return _lookup(layer) is not None


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
