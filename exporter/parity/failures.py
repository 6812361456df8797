"""Keras failing to run a model it loaded, explained: which layer, what Keras said, what to do.

A file can load and still fail to run: a mutated config whose shapes only clash when data flows,
weights of the wrong dtype, an op TensorFlow refuses for these values. The reference run of the
parity check is where that shows; it must end as one paragraph naming the layer, not as a page of
TensorFlow traceback.
"""

import re

from ..errors import ExportError

__all__ = ["KerasRunError", "explain_keras_failure"]

# Keras 3 wraps a layer's failure as "Exception encountered when calling <Class>.call()"; TensorFlow's
# op errors name the node, whose path starts with the layer: "{{node dense_1/MatMul}}".
_LAYER_CALL = re.compile(r"when calling (?:layer )?['\"]?([\w.]+?)['\"]? ?(?:\(type (\w+)\)|\.call\(\))")
_TF_NODE = re.compile(r"\{\{node ([\w./-]+)\}\}")


class KerasRunError(ExportError):
    """Keras itself could not run the model on sample inputs (so there is nothing to compare TF.js with)."""


def _first_line(text):
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(("Exception encountered", "Arguments received"))]
    return (lines[0] if lines else "")[:300]


def _layer_of(error, model):
    text = str(error)
    names = {layer.name for layer in getattr(model, "layers", [])}
    for match in _TF_NODE.finditer(text):
        for part in match.group(1).split("/"):
            if part in names:
                return f"layer '{part}'"
    match = _LAYER_CALL.search(text)
    if match:
        name, kind = match.group(1), match.group(2)
        return f"layer '{name}' ({kind})" if kind else f"a {name} layer"
    return None


def explain_keras_failure(error, model, where):
    """The KerasRunError for `error`, raised while Keras ran `model` (loaded from `where`)."""
    layer = _layer_of(error, model)
    at = f" at {layer}" if layer else ""
    return KerasRunError(
        f"{where}: Keras loaded the model but could not run it on sample inputs{at}: {type(error).__name__}: "
        f"{_first_line(error) or 'no message'}. Its configuration or weights disagree with each other (a damaged "
        "or hand-edited file), so there is nothing to convert faithfully and nothing was written. Fix: check that "
        "the model predicts in Keras (model.predict on one sample); re-save it from the code that built it.")
