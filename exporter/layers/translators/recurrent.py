"""Recurrent layers. Activations inside a cell cannot be split off, so they must
have an equal tfjs function.

SimpleRNN, LSTM and GRU (reset_after True, Keras 3's default, and False) become
webnets' own `WebnetsSimpleRNN`, `WebnetsLSTM` and `WebnetsGRU` (webnets-layers.js),
not tfjs-layers' classes: tfjs' GRU throws for reset_after=True and slices its
recurrent kernel on every step (the demo GRU: 18 ms per character on WASM, 2 ms
with WebnetsGRU), tfjs' LSTM runs 91 kernels for one step (WebnetsLSTM about 25 for
the whole step model), and tfjs' RNNs start a masked sequence's output from the
initial state where Keras starts it from zeros. The weights keep Keras' layout, so
the TF.js layers train and `import` back to Keras as they are.
Initial states passed as `initial_state=` become extra inputs of the TF.js layer
(after the sequence); `return_state=True` outputs are ordinary extra outputs."""

import keras

from .common import ACTIVATIONS, ConfigReader, activation_key, live_calls
from .registry import register

_RNN_KEYS = ("units", "use_bias", "dropout", "recurrent_dropout", "return_sequences",
             "return_state", "go_backwards", "unroll")


def _recurrent_reader(layer, config, activations, call=None):
    reader = ConfigReader(layer, config).copy(*_RNN_KEYS)
    reader.initializers("kernel_initializer", "recurrent_initializer", "bias_initializer")
    reader.regularizers("kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer")
    reader.constraints("kernel_constraint", "recurrent_constraint", "bias_constraint")
    reader.require("stateful", [False], "export with stateful=False and carry state in the app if needed.")
    reader.ignore("seed", "implementation", "use_cudnn", "time_major")
    for key in activations:
        name = activation_key(reader.get(key))
        if name not in ACTIVATIONS:
            reader.refuse(f"{key}='{name}' inside a recurrent cell has no equal TF.js function"
                          + (" (TF.js hard_sigmoid is 0.2x+0.5, Keras 3's is x/6+0.5)." if name == "hard_sigmoid" else "."),
                          f"rebuild with {key} one of {', '.join(sorted(ACTIVATIONS))}.")
        reader.out[key] = ACTIVATIONS[name]
    if call is not None:
        _check_call(reader, call)
    return reader


def _check_call(reader, call):
    """A recurrent layer's graph call: the sequence, optionally initial_state=; nothing else."""
    if call.options:
        names = ", ".join(f"{key}={value!r}" for key, value in sorted(call.options.items()))
        reader.refuse(f"it is called with {names}, which TF.js recurrent layers do not take.",
                      "call it as layer(sequence) or layer(sequence, initial_state=[...]) only.")


def _has_tensor(value):
    return any(isinstance(t, keras.KerasTensor) for t in keras.tree.flatten(value))


def _masked_state_calls(reader):
    """How Keras masks the calls of this layer that pass more than the sequence (initial_state):
    a set of "ignored" (the sequence carries a mask, but Keras 3 passes masks automatically only
    to a layer called on one tensor, so it runs unmasked) and "applied" (mask= given)."""
    found = set()
    for arguments in live_calls(reader.layer):
        kwargs = dict(arguments.kwargs)
        sequence = arguments.args[0] if arguments.args else kwargs.get("sequences")
        upstream = getattr(sequence, "_keras_mask", None) is not None
        explicit = kwargs.get("mask") is not None
        if explicit and not upstream:
            reader.refuse("it is called with a mask= that does not come from its sequence (an Embedding with "
                          "mask_zero=True or a Masking layer); TF.js recomputes masks from those layers only.",
                          "mask the sequence itself (Embedding(mask_zero=True) or Masking) and drop mask=.")
        tensors = [v for v in arguments.args if _has_tensor(v)]
        tensors += [v for k, v in kwargs.items() if k not in ("mask", "training") and _has_tensor(v)]
        if len(tensors) > 1 and (explicit or upstream):
            found.add("applied" if explicit else "ignored")
    if len(found) > 1:
        reader.refuse("it is called with initial_state= both with and without mask= on a masked sequence, "
                      "and a TF.js layer masks all its calls the same way.",
                      "use one layer per way of calling it, or call it the same way everywhere.")
    return found


def _webnets(reader, class_name):
    """Finish a layer as webnets' own recurrent class (webnets-layers.js), which runs Keras 3's
    masking exactly, with or without initial_state."""
    masking = _masked_state_calls(reader)
    reader.copy("zero_output_for_mask")
    if "ignored" in masking:
        # Keras 3 passes the upstream mask only to a layer called on one tensor.
        reader.out["ignore_mask"] = True
    return reader.finish(class_name=class_name)


@register("SimpleRNN", becomes="WebnetsSimpleRNN", note="initial_state, return_state, masks, go_backwards",
          call_tensors=("initial_state",))
def simple_rnn(layer, config, call):
    return _webnets(_recurrent_reader(layer, config, ("activation",), call), "WebnetsSimpleRNN")


@register("LSTM", becomes="WebnetsLSTM", note="initial_state, return_state, masks, go_backwards",
          call_tensors=("initial_state",))
def lstm(layer, config, call):
    reader = _recurrent_reader(layer, config, ("activation", "recurrent_activation"), call).copy("unit_forget_bias")
    return _webnets(reader, "WebnetsLSTM")


@register("GRU", becomes="WebnetsGRU", note="reset_after=True (Keras 3's default) and False; initial_state, "
          "return_state, masks, go_backwards", call_tensors=("initial_state",))
def gru(layer, config, call):
    reader = _recurrent_reader(layer, config, ("activation", "recurrent_activation"), call)
    reader.out["reset_after"] = bool(reader.get("reset_after", True))
    return _webnets(reader, "WebnetsGRU")
