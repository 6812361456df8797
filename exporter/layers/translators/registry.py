"""The table of layer translators: Keras 3 class name -> function.

A translator receives the live Keras layer and its Keras 3 config and returns
one or more `TfjsLayer`s. Most layers map to one tfjs layer with the same
name; a few have no tfjs twin and are *lowered* to a short exact sequence of
tfjs layers (the last one keeps the original name so downstream references
stay valid). Anything a translator cannot express exactly raises
`UnsupportedLayerError` at export time, never later in the browser.
"""

from dataclasses import dataclass, field

TRANSLATORS = {}


@dataclass(frozen=True)
class Input:
    """Reference to the i-th input tensor of the Keras layer call being lowered."""

    index: int


@dataclass
class TfjsLayer:
    """One layer of the tfjs-layers (Keras 2 style) topology.

    `weights` pairs the tfjs weight name suffix (joined to `name` with "/") with
    the value (a Keras variable or a numpy array). `inputs` is None for "all
    inputs of the original call" (first piece) or "the previous piece" (later
    pieces); otherwise a list of `Input(i)` or earlier `TfjsLayer`s.
    """

    class_name: str
    config: dict
    weights: list = field(default_factory=list)
    inputs: list = None

    @property
    def name(self):
        return self.config["name"]


@dataclass(frozen=True)
class Call:
    """How a layer is called in its graph, for translators registered with `call_tensors`.

    `args`: the number of tensors passed positionally; `tensors`: the names of the
    `call_tensors` keyword arguments given a tensor, in declared order (they follow the
    positional tensors as extra TF.js inputs); `options`: the other keyword arguments
    (use_causal_mask=True, ...), the same for every call of the layer.
    """

    args: int = 1
    tensors: tuple = ()
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TranslatorInfo:
    function: object
    tfjs_class: str  # what it becomes in TF.js, for the README table
    note: str
    call_tensors: tuple = ()  # keyword arguments whose tensors become extra TF.js inputs
    # Subclasses that override none of these methods compute what the class computes, and share its
    # translator (keras-hub's LlamaRotaryEmbedding changes only RotaryEmbedding's frequencies).
    subclasses_unless: tuple = ()
    # A plugin's translator (exporter/plugins.py): the JS file defining the TF.js classes it emits
    # (a PluginScript, exporter/layers/plugins.py), which travels with every export that names them.
    script: object = None


def register(*class_names, becomes=None, note="", call_tensors=None, subclasses_unless=()):
    """Register a translator for one or more Keras 3 layer class names.

    With `call_tensors` (a tuple of keyword argument names, possibly empty) the translator
    is called as `function(layer, config, call)` with a `Call`, and tensors passed in those
    keyword arguments become extra inputs of the TF.js layer, in that order.
    """

    def decorate(function):
        for class_name in class_names:
            if class_name in TRANSLATORS:
                raise RuntimeError(f"two translators registered for {class_name}")
            TRANSLATORS[class_name] = TranslatorInfo(function, becomes or class_name, note,
                                                     None if call_tensors is None else tuple(call_tensors),
                                                     tuple(subclasses_unless))
        return function

    return decorate
