"""Recurrent layers. Activations inside a cell cannot be split off, so they must
have an equal tfjs function; GRU must use reset_after=False (TF.js has no other)."""

from .common import ACTIVATIONS, ConfigReader, activation_key
from .registry import register

_RNN_KEYS = ("units", "use_bias", "dropout", "recurrent_dropout", "return_sequences",
             "return_state", "go_backwards", "unroll")


def _recurrent_reader(layer, config, activations):
    reader = ConfigReader(layer, config).copy(*_RNN_KEYS)
    reader.initializers("kernel_initializer", "recurrent_initializer", "bias_initializer")
    reader.regularizers("kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer")
    reader.constraints("kernel_constraint", "recurrent_constraint", "bias_constraint")
    reader.require("stateful", [False], "export with stateful=False and carry state in the app if needed.")
    # Only changes what masked time steps output; webnets does not support masks
    # reaching RNNs through a Bidirectional anyway (documented limit).
    reader.ignore("zero_output_for_mask", "seed", "implementation", "use_cudnn", "time_major")
    for key in activations:
        name = activation_key(reader.get(key))
        if name not in ACTIVATIONS:
            reader.refuse(f"{key}='{name}' inside a recurrent cell has no equal TF.js function"
                          + (" (TF.js hard_sigmoid is 0.2x+0.5, Keras 3's is x/6+0.5)." if name == "hard_sigmoid" else "."),
                          f"rebuild with {key} one of {', '.join(sorted(ACTIVATIONS))}.")
        reader.out[key] = ACTIVATIONS[name]
    return reader


@register("SimpleRNN")
def simple_rnn(layer, config):
    return _recurrent_reader(layer, config, ("activation",)).finish()


@register("LSTM")
def lstm(layer, config):
    return _recurrent_reader(layer, config, ("activation", "recurrent_activation")).copy("unit_forget_bias").finish()


@register("GRU", note="reset_after=False only")
def gru(layer, config):
    reader = _recurrent_reader(layer, config, ("activation", "recurrent_activation"))
    reader.require("reset_after", [False],
                   "rebuild the GRU with reset_after=False and retrain (TF.js only implements that form; "
                   "Keras 3 defaults to reset_after=True).")
    return reader.finish()
