"""The step form of a recurrent model (`convert --step`): the state carried explicitly.

A sequence model, Embedding -> SimpleRNN/LSTM/GRU (stacked, with per-step layers such as
Dropout or Dense between them) -> Dense, is stateless: to continue a text a page must feed the
whole context again for every new token. Its step model shares the trained weights and takes
the state of every recurrent layer as an input and gives the new state as an output:

    inputs:  tokens [batch, T] (T = 1 for one step; a longer call runs T steps, e.g. a prompt),
             then per recurrent layer its states [batch, units] (LSTM: h, c)
    outputs: the model's output for the T steps, then per recurrent layer its new states

Zero states start a sequence, as in Keras. Explicit inputs and outputs rather than `stateful=True`
layers: no fixed batch size, no hidden mutable state in the model (two pages or two texts
can share one model), it works with predict() and execute(), and TF.js runs it with the same
layer classes as the sequence model (initial_state extra inputs, return_state extra outputs).
"""

from ..errors import ExportError

__all__ = ["build_step_model", "step_state_names", "RECURRENT"]

RECURRENT = ("SimpleRNN", "LSTM", "GRU")
# Layers that act on each time step by itself: they carry over to the step model unchanged.
PER_STEP = ("Dense", "EinsumDense", "Dropout", "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
            "LayerNormalization", "BatchNormalization", "GaussianNoise", "GaussianDropout", "AlphaDropout",
            "ActivityRegularization", "Identity", "TimeDistributed")
_FIX = ("Fix: export the sequence model (leave --step out), or build the step model yourself with explicit "
        "initial_state inputs and return_state outputs and convert that.")


def _refuse(model, layer, why):
    raise ExportError(f"--step: '{model.name}' cannot be turned into a step model: layer '{layer.name}' "
                      f"({type(layer).__name__}) {why}. The step form takes Embedding -> SimpleRNN/LSTM/GRU "
                      f"(stacked, with per-step layers such as Dropout or Dense between) -> Dense. {_FIX}")


def _layers(model):
    import keras

    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ExportError(f"--step: '{model.name}' has {len(model.inputs)} inputs and {len(model.outputs)} outputs; "
                          f"the step form takes a model with one input and one output. {_FIX}")
    return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


def _check_chain(model, layers):
    """The layers, first to last, form one chain (each feeds the next)."""
    import keras

    if not isinstance(model, keras.Sequential):
        previous = model.inputs[0]
        for layer in layers:
            try:
                source = layer.input
            except (AttributeError, ValueError):
                _refuse(model, layer, "is called more than once (shared)")
            if isinstance(source, (list, tuple, dict)) or source is not previous:
                _refuse(model, layer, "is not fed by the layer before it alone (the step form takes a plain chain)")
            previous = layer.output
        if previous is not model.outputs[0]:
            raise ExportError(f"--step: the output of '{model.name}' is not its last layer's. {_FIX}")


def _check(model, layers):
    recurrent = [layer for layer in layers if type(layer).__name__ in RECURRENT]
    for index, layer in enumerate(layers):
        kind = type(layer).__name__
        config = layer.get_config()
        if kind == "Embedding":
            if index:
                _refuse(model, layer, "is not the first layer")
            if config.get("mask_zero"):
                _refuse(model, layer, "has mask_zero=True (a masked step keeps the old state, which the exported "
                                      "state inputs cannot express)")
        elif kind in RECURRENT:
            if config.get("stateful"):
                _refuse(model, layer, "is stateful=True (its state is already carried inside the layer)")
            if config.get("go_backwards"):
                _refuse(model, layer, "has go_backwards=True (it reads the sequence from its end, which one step "
                                      "at a time cannot)")
            if not config.get("return_sequences") and layer is not recurrent[-1]:
                _refuse(model, layer, "returns its last output only but another recurrent layer follows")
        elif kind == "Bidirectional":
            _refuse(model, layer, "reads the sequence in both directions: its backward half needs the whole "
                                  "sequence before the first output")
        elif kind not in PER_STEP:
            _refuse(model, layer, "is not a recurrent layer and not one that acts on each time step alone "
                                  "(convolutions, attention, pooling, reshapes mix time steps)")
    if not recurrent:
        raise ExportError(f"--step: '{model.name}' has no SimpleRNN, LSTM or GRU layer, so it has no state to "
                          f"carry. {_FIX}")
    _check_chain(model, layers)


def step_state_names(layer):
    """The step model's state input names of one recurrent layer: NAME_h (and NAME_c for an LSTM)."""
    return [f"{layer.name}_h"] + ([f"{layer.name}_c"] if type(layer).__name__ == "LSTM" else [])


def build_step_model(model, name=None):
    """The step model of `model` (see the module docstring), holding copies of its weights.

    Each layer is rebuilt from its config (the recurrent ones with return_state=True and the
    states as initial_state=), called on the step inputs, and given the trained weights.
    Raises ExportError, naming a fix, for what the step form cannot express.
    """
    import keras

    layers = _layers(model)
    _check(model, layers)
    source = model.inputs[0]
    tokens = keras.Input((None, *source.shape[2:]), dtype=source.dtype, name=source.name or "tokens")
    state_inputs, state_outputs = [], []
    x = tokens
    for layer in layers:
        kind = type(layer).__name__
        config = layer.get_config()
        if kind in RECURRENT:
            config.update(return_state=True)
            clone = type(layer).from_config(config)
            states = [keras.Input((layer.units,), dtype="float32", name=n) for n in step_state_names(layer)]
            x, *new_states = clone(x, initial_state=states if len(states) > 1 else states[0])
            state_inputs += states
            state_outputs += new_states
        else:
            clone = layer.__class__.from_config(config)
            x = clone(x)
        clone.set_weights(layer.get_weights())
    return keras.Model([tokens, *state_inputs], [x, *state_outputs], name=name or f"{model.name}_step")
