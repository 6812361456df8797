"""Recurrent layers. Activations inside a cell cannot be split off, so they must
have an equal tfjs function.

GRU(reset_after=True), Keras 3's default, becomes webnets' own `WebnetsGRU`
(tfjs-layers 4.22 throws for it); GRU(reset_after=False) stays tfjs' built-in GRU,
except where only WebnetsGRU follows Keras (initial_state on a masked sequence).
Initial states passed as `initial_state=` become extra inputs of the TF.js layer
(after the sequence), which is how tfjs' RNN layers and WebnetsGRU read them;
`return_state=True` outputs are ordinary extra outputs."""

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


def _builtin(reader):
    """Finish a layer as tfjs' own SimpleRNN / LSTM / GRU."""
    if _masked_state_calls(reader):
        # tfjs' RNNs apply any mask reaching them, and start a masked sequence's output from the
        # initial state where Keras starts it from zeros.
        reader.refuse("it is called with initial_state= on a masked sequence (Embedding(mask_zero=True) or "
                      "Masking upstream); Keras 3 then masks only if mask= is passed, and TF.js' built-in "
                      f"{reader.class_name} cannot follow either way exactly.",
                      "use a GRU there (webnets runs it exactly in both cases), or remove the masking "
                      "in front of this layer.")
    # Only changes what masked time steps output; webnets does not support masks
    # reaching tfjs' built-in RNNs through a Bidirectional (documented limit).
    reader.ignore("zero_output_for_mask")
    return reader.finish()


@register("SimpleRNN", note="initial_state (not on a masked sequence), return_state", call_tensors=("initial_state",))
def simple_rnn(layer, config, call):
    return _builtin(_recurrent_reader(layer, config, ("activation",), call))


@register("LSTM", note="initial_state (not on a masked sequence), return_state", call_tensors=("initial_state",))
def lstm(layer, config, call):
    return _builtin(_recurrent_reader(layer, config, ("activation", "recurrent_activation"), call)
                    .copy("unit_forget_bias"))


@register("GRU", becomes="WebnetsGRU / GRU",
          note="reset_after=True (Keras 3's default) becomes WebnetsGRU; initial_state, return_state",
          call_tensors=("initial_state",))
def gru(layer, config, call):
    reader = _recurrent_reader(layer, config, ("activation", "recurrent_activation"), call)
    reset_after = bool(reader.get("reset_after", True))
    masking = _masked_state_calls(reader)
    if not reset_after and not masking:
        # tfjs' own GRU implements exactly this form; it needs no webnets-layers.js.
        return _builtin(reader)
    reader.out["reset_after"] = reset_after
    # WebnetsGRU implements it (Bidirectional sets it to return_sequences, as Keras does).
    reader.copy("zero_output_for_mask")
    if "ignored" in masking:
        reader.out["ignore_mask"] = True
    return reader.finish(class_name="WebnetsGRU")
