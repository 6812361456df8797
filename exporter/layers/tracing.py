"""A user's own layer, written in keras.ops and built-in sublayers, traced into a graph of layers and ops.

A layer class webnets has no translator for (an RMSNorm, a SwiGLU MLP, a patch embedding a user
wrote, a keras-hub block) is still exportable when its `call()` is made of keras.ops calls and
built-in sublayers: called directly on symbolic KerasTensors, `call()` records each op and each
sublayer call as a node (keras/src/ops/operation.py `symbolic_call`), which is a Functional graph.
webnets translates that graph as it translates any model, into a nested TF.js layers model: the
sublayers through their translators, the ops through exporter/layers/operations.py.

The layer's *own* variables (`add_weight`) cannot enter that graph as they are: an op on variables
alone runs eagerly and would be frozen into a constant, and `variable * KerasTensor` fails. So
while tracing, each attribute holding an own variable is swapped for a symbolic placeholder; in
the export the placeholder becomes a `WebnetsVariable` layer (webnets-layers.js) that holds the
variable as a TF.js weight, so it loads, quantizes and trains like any other.

What cannot be traced is refused, naming the construct and the line of the user's code: Python
control flow on tensor values, conversion to numpy, an op with no TF.js counterpart.
"""

import contextlib
import inspect
import sys
import traceback

import keras
from keras import ops, tree

from ..errors import UnsupportedLayerError
from .translators import is_builtin

__all__ = ["TracedLayer", "is_traceable", "trace_layer", "VARIABLE_CLASS"]

VARIABLE_CLASS = "WebnetsVariable"


class TracedLayer:
    """The traced graph of one layer: a Functional model over its call's tensors and its variables.

    `graph`: the keras.Model; `data_inputs`: how many of its inputs are the call's tensors (the
    rest are placeholders); `variables`: {placeholder name: the layer's variable}.
    """

    def __init__(self, graph, data_inputs, variables):
        self.graph, self.data_inputs, self.variables = graph, data_inputs, variables


def is_traceable(layer):
    """A layer that is neither a model nor one of Keras' own classes: a user's or a library's layer."""
    return isinstance(layer, keras.layers.Layer) and not isinstance(layer, keras.Model) and not is_builtin(layer)


def _own_variables(layer):
    """The variables the layer created itself (not those of its sublayers), with the attribute holding each.

    A variable kept elsewhere (in a list or a dict) would enter the trace as a constant, exported but
    never trained in TF.js, so it is refused."""
    own = {id(v): v for v in list(layer._trainable_variables) + list(layer._non_trainable_variables)
           if "seed_generator" not in v.path}
    held = {name: value for name, value in vars(layer).items() if id(value) in own}
    hidden = [v.name for key, v in own.items() if key not in {id(value) for value in held.values()}]
    if hidden:
        raise UnsupportedLayerError(
            layer.name, type(layer).__name__, f"it keeps the variable(s) {', '.join(hidden)} in a container "
            "(a list or a dict), where tracing cannot follow them into TF.js weights.",
            "hold each variable in an attribute of its own (self.w = self.add_weight(...)).")
    return held


@contextlib.contextmanager
def _variables_as_placeholders(layer):
    """Swap each own variable attribute for a symbolic input; yields {placeholder name: variable}."""
    swapped, placeholders = {}, {}
    for attribute, variable in _own_variables(layer).items():
        name = f"{layer.name}__{attribute.strip('_')}"
        placeholder = keras.Input(batch_shape=tuple(variable.shape), dtype=variable.dtype, name=name)
        swapped[attribute] = variable
        placeholders[name] = (placeholder, variable)
        object.__setattr__(layer, attribute, placeholder)  # past Layer.__setattr__: no tracking
    try:
        yield placeholders
    finally:
        for attribute, variable in swapped.items():
            object.__setattr__(layer, attribute, variable)


def _where_in_user_code(layer, error):
    """'file.py:12 (`code`)' of the innermost frame of the layer's own module in the traceback."""
    try:
        source = inspect.getsourcefile(type(layer))
    except TypeError:
        return ""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == source]
    if not frames:
        return ""
    frame = frames[-1]
    return f" at {frame.filename.rsplit('/', 1)[-1]}:{frame.lineno} (`{(frame.line or '').strip()}`)"


def _explain(error):
    """What in a layer's call() made tracing fail, in a user's terms."""
    text = str(error).replace("\n", " ")
    if isinstance(error, (TypeError, ValueError, NotImplementedError)) and any(
            s in text for s in ("__bool__", "as a Python `bool`", "truth value", "python bool", "as a boolean")):
        return "its call() branches in Python on a tensor's value (an `if` or `while` on a tensor)"
    if "numpy" in text.lower() or "__array__" in text:
        return "its call() converts a tensor to numpy, which needs real values"
    return f"tracing its call() on symbolic tensors failed ({type(error).__name__}: {text[:200]})"


class CausalMask(keras.Operation):
    """The causal mask of a (batch, steps, ...) sequence: (batch, steps, steps), True where key <= query.

    What keras-hub's `compute_causal_mask(batch, steps, steps)` computes for a full-sequence pass,
    as one op on the sequence itself, so the traced graph keeps its length free (keras-hub calls it
    with lengths from `ops.shape`, which are None when the model takes any length).
    """

    def call(self, x):
        steps = ops.shape(x)[1]
        rows = ops.expand_dims(ops.arange(steps), 1)
        mask = ops.expand_dims(rows >= ops.arange(steps), 0)
        return ops.broadcast_to(mask, (ops.shape(x)[0], steps, steps))

    def compute_output_spec(self, x):
        return keras.KerasTensor((x.shape[0], x.shape[1], x.shape[1]), dtype="bool")


class BandMask(keras.Operation):
    """(1, queries, keys) booleans, True where |query - key| <= band, for an attention mask (batch, queries,
    keys): keras-hub's sliding-window mask (`_mask_sliding_window`) for a full sequence of any length."""

    def __init__(self, band, name=None):
        super().__init__(name=name)
        self.band = int(band)

    def call(self, mask):
        queries, keys = ops.shape(mask)[1], ops.shape(mask)[2]
        distance = ops.abs(ops.expand_dims(ops.arange(queries), 1) - ops.expand_dims(ops.arange(keys), 0))
        return ops.expand_dims(distance <= self.band, 0)

    def compute_output_spec(self, mask):
        return keras.KerasTensor((1, mask.shape[1], mask.shape[2]), dtype="bool")


def _sliding_window_without_cache(self, attention_mask, cache_update_index=0):
    """keras-hub's `_mask_sliding_window` (Gemma, Gemma3, Qwen, ...) for a full-sequence pass: the band
    |query - key| < sliding_window_size, which keras-hub builds with tf.linalg.band_part on the
    TensorFlow backend (not a keras.op, so not traceable as it is)."""
    if getattr(self, "use_bidirectional_attention", False) or not (
            isinstance(cache_update_index, int) and cache_update_index == 0):
        raise ValueError("a bidirectional or cached sliding window has no length-free form in webnets")
    return ops.logical_and(attention_mask, BandMask(self.sliding_window_size - 1)(attention_mask))


@contextlib.contextmanager
def _keras_hub_while_tracing(sequence):
    """keras-hub's layers made traceable for a full-sequence pass of any length.

    Its compute_causal_mask (imported by name into each decoder module) gives CausalMask(sequence)
    where a length is unknown (known lengths keep keras-hub's own function), and its attention
    layer takes a symbolic call without a cache."""
    try:
        from keras_hub.src.layers.modeling import transformer_layer_utils
    except ImportError:  # keras-hub is not installed, so no layer of it is being traced
        yield
        return
    original = transformer_layer_utils.compute_causal_mask

    def compute_causal_mask(batch_size, input_length, output_length, cache_index=0):
        if None not in (batch_size, input_length, output_length) and isinstance(cache_index, int):
            return original(batch_size, input_length, output_length, cache_index)
        if not (isinstance(cache_index, int) and cache_index == 0) or sequence is None:
            raise ValueError("a causal mask with a cache index (step-by-step generation) has no length-free form")
        return CausalMask()(sequence)

    from keras_hub.src.layers.modeling.cached_multi_head_attention import CachedMultiHeadAttention

    # Called on KerasTensors inside a traced decoder, CachedMultiHeadAttention gets its output spec from
    # MultiHeadAttention's compute_output_spec, which takes no cache arguments; without a cache the
    # output is MultiHeadAttention's.
    def output_spec_without_cache(self, *args, cache=None, cache_update_index=None, **kwargs):
        if cache is not None:
            raise ValueError("a key/value cache (step-by-step generation) has no layers-format form")
        return keras.layers.MultiHeadAttention.compute_output_spec(self, *args, **kwargs)

    hub_modules = [m for name, m in list(sys.modules.items()) if name.startswith("keras_hub") and m is not None]
    modules = [m for m in hub_modules if getattr(m, "compute_causal_mask", None) is original]
    windowed = {cls: cls.__dict__["_mask_sliding_window"] for m in hub_modules for cls in vars(m).values()
                if isinstance(cls, type) and "_mask_sliding_window" in cls.__dict__}
    for module in modules:
        module.compute_causal_mask = compute_causal_mask
    for cls in windowed:
        cls._mask_sliding_window = _sliding_window_without_cache
    CachedMultiHeadAttention.compute_output_spec = output_spec_without_cache
    try:
        yield
    finally:
        for module in modules:
            module.compute_causal_mask = original
        for cls, method in windowed.items():
            cls._mask_sliding_window = method
        del CachedMultiHeadAttention.compute_output_spec  # back to the inherited method


def trace_layer(layer, arguments):
    """Trace `layer.call` on symbolic copies of one call's `arguments` (a node's SymbolicArguments)."""
    def fresh(value):
        if isinstance(value, keras.KerasTensor):
            return keras.Input(batch_shape=tuple(value.shape), dtype=value.dtype)
        return value

    args = tree.map_structure(fresh, arguments.args)
    kwargs = {k: tree.map_structure(fresh, v) for k, v in arguments.kwargs.items() if k != "mask"}
    if "training" in inspect.signature(layer.call).parameters:
        kwargs["training"] = False  # the inference graph: dropout and noise are identities
    data_inputs = [t for t in tree.flatten((args, kwargs)) if isinstance(t, keras.KerasTensor)]
    with _variables_as_placeholders(layer) as placeholders, \
            _keras_hub_while_tracing(data_inputs[0] if data_inputs else None):
        try:
            outputs = layer.call(*args, **kwargs)
        except Exception as error:
            raise UnsupportedLayerError(
                layer.name, type(layer).__name__,
                f"webnets traces a layer class it has no translator for into keras.ops, and {_explain(error)}"
                f"{_where_in_user_code(layer, error)}.",
                "write that part with keras.ops (ops.where instead of an `if` on a tensor), or "
                "register a translator and a JavaScript class for the layer (docs/own-layers.md).") from error
    flat_outputs = tree.flatten(outputs)
    if not flat_outputs or not all(isinstance(t, keras.KerasTensor) for t in flat_outputs):
        raise UnsupportedLayerError(
            layer.name, type(layer).__name__, "its call() does not return tensors computed from its inputs.",
            "return the layer's result as tensors (one, or a list).")
    inputs = data_inputs + [placeholder for placeholder, _ in placeholders.values()]
    try:
        graph = keras.Model(inputs, outputs, name=layer.name)
    except Exception as error:  # Keras could not make a graph of what call() recorded
        raise UnsupportedLayerError(
            layer.name, type(layer).__name__, f"the ops its call() recorded do not form a graph from its inputs "
            f"({type(error).__name__}: {str(error)[:200]}).",
            "compute the output from the call's inputs and the layer's weights with keras.ops.") from error
    return TracedLayer(graph, len(data_inputs), {name: variable for name, (_, variable) in placeholders.items()})
