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
class TranslatorInfo:
    function: object
    tfjs_class: str  # what it becomes in TF.js, for the README table
    note: str


def register(*class_names, becomes=None, note=""):
    """Register a translator for one or more Keras 3 layer class names."""

    def decorate(function):
        for class_name in class_names:
            if class_name in TRANSLATORS:
                raise RuntimeError(f"two translators registered for {class_name}")
            TRANSLATORS[class_name] = TranslatorInfo(function, becomes or class_name, note)
        return function

    return decorate
