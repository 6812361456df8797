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
(after the sequence); `return_state=True` outputs are ordinary extra outputs.

`RNN` over one of Keras' built-in cells computes what the matching layer computes (LSTM(...)
is RNN(LSTMCell(...))), so it becomes the same webnets class. `RNN` over `StackedRNNCells`
becomes `WebnetsStackedRNN`, which steps all cells together as Keras does (masks, go_backwards,
initial states and returned states of every cell). ConvLSTM2D stays tfjs-layers' ConvLSTM2D where
that is exact (channels_last, no initial_state, no mask; see `_tfjs_conv_lstm_fits`); ConvLSTM1D,
ConvLSTM3D and the other ConvLSTM2D become `WebnetsConvLSTM`."""

import keras

from .common import ACTIVATIONS, ConfigReader, activation_key, default_weights, live_calls, receives_mask
from .registry import register

_SEQUENCE_KEYS = ("return_sequences", "return_state", "go_backwards", "unroll")
_CELL_KEYS = ("use_bias", "dropout", "recurrent_dropout")
_RNN_KEYS = ("units", *_CELL_KEYS, *_SEQUENCE_KEYS)

# Keras' built-in cells: (webnets class, the activations the cell applies).
_CELLS = {
    "SimpleRNNCell": ("WebnetsSimpleRNN", ("activation",)),
    "LSTMCell": ("WebnetsLSTM", ("activation", "recurrent_activation")),
    "GRUCell": ("WebnetsGRU", ("activation", "recurrent_activation")),
}


def _recurrent_reader(layer, config, activations, call=None):
    reader = ConfigReader(layer, config).copy("units")
    _read_cell(reader, activations)
    _read_sequence(reader, call)
    return reader


def _read_cell(reader, activations):
    """The options of one recurrent cell: weights, dropout (no-ops at inference), activations."""
    reader.copy(*_CELL_KEYS)
    reader.initializers("kernel_initializer", "recurrent_initializer", "bias_initializer")
    reader.regularizers("kernel_regularizer", "recurrent_regularizer", "bias_regularizer")
    reader.constraints("kernel_constraint", "recurrent_constraint", "bias_constraint")
    reader.ignore("seed", "implementation")
    for key in activations:
        name = activation_key(reader.get(key))
        if name not in ACTIVATIONS:
            reader.refuse(f"{key}='{name}' inside a recurrent cell has no equal TF.js function"
                          + (" (TF.js hard_sigmoid is 0.2x+0.5, Keras 3's is x/6+0.5)." if name == "hard_sigmoid" else "."),
                          f"rebuild with {key} one of {', '.join(sorted(ACTIVATIONS))}.")
        reader.out[key] = ACTIVATIONS[name]
    return reader


def _read_sequence(reader, call=None):
    """The options of the layer that runs a cell over a sequence (Keras' RNN base class)."""
    reader.copy(*_SEQUENCE_KEYS)
    reader.regularizers("activity_regularizer")
    reader.require("stateful", [False], "export with stateful=False and carry state in the app if needed.")
    reader.ignore("use_cudnn", "time_major")
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


def _webnets(reader, class_name, weights=None):
    """Finish a layer as webnets' own recurrent class (webnets-layers.js), which runs Keras 3's
    masking exactly, with or without initial_state."""
    masking = _masked_state_calls(reader)
    reader.copy("zero_output_for_mask")
    if "ignored" in masking:
        # Keras 3 passes the upstream mask only to a layer called on one tensor.
        reader.out["ignore_mask"] = True
    return reader.finish(class_name=class_name, weights=weights)


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


# --------------------------------------------------------------------------- RNN(cell)

def _cell_kind(reader, cell):
    """The `_CELLS` key of one of Keras' own cells; any other cell is refused."""
    name = type(cell).__name__
    if name not in _CELLS or type(cell) is not getattr(keras.layers, name):
        reader.refuse(f"its cell is {type(cell).__module__}.{name}, not one of Keras' built-in cells "
                      f"({', '.join(_CELLS)}, or a StackedRNNCells of them), so webnets cannot know what its "
                      "call() computes.",
                      "build the RNN on keras.layers.SimpleRNNCell, LSTMCell or GRUCell (or use the SimpleRNN, "
                      "LSTM and GRU layers); a cell of your own needs a TF.js class of your own.")
    return name


def _cell_options(reader, kind):
    """What distinguishes the cell classes beyond `_read_cell`."""
    if kind == "LSTMCell":
        reader.copy("unit_forget_bias")
    if kind == "GRUCell":
        reader.out["reset_after"] = bool(reader.get("reset_after", True))
    return reader


def _own_config(cell):
    """A cell's config without what the layer running it decides (its name, trainability, dtype)."""
    return {k: v for k, v in cell.get_config().items() if k not in ("name", "trainable", "dtype")}


def _stacked_cell(layer, index, cell):
    """(config, weights) of the index-th cell of a stack, for WebnetsStackedRNN."""
    # The cell reads its own options; a refusal names the layer and the cell.
    reader = ConfigReader(cell, {**cell.get_config(), "name": f"{layer.name}/{cell.name}"})
    kind = _cell_kind(reader, cell)
    class_name, activations = _CELLS[kind]
    _cell_options(_read_cell(reader.copy("units"), activations), kind)
    config = reader.finish(weights=[]).config
    config = {k: v for k, v in config.items() if k not in ("name", "dtype")}
    config["trainable"] = bool(layer.trainable and cell.trainable)
    weights = [(f"cell_{index}/{suffix}", value) for suffix, value in default_weights(cell)]
    return {"class_name": class_name, "config": config}, weights


def _stacked_rnn(layer, config, call):
    reader = _read_sequence(ConfigReader(layer, config).ignore("cell"), call)
    specs, weights = [], []
    for index, cell in enumerate(layer.cell.cells):  # (Keras 3 cannot build a stack inside a stack)
        spec, cell_weights = _stacked_cell(layer, index, cell)
        specs.append(spec)
        weights += cell_weights
    reader.out["cells"] = specs
    return _webnets(reader, "WebnetsStackedRNN", weights)


@register("RNN", becomes="WebnetsSimpleRNN, WebnetsLSTM, WebnetsGRU or WebnetsStackedRNN",
          note="cells: SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells of them; initial_state, return_state, "
          "masks, go_backwards", call_tensors=("initial_state",))
def rnn(layer, config, call):
    cell = layer.cell
    if type(cell) is keras.layers.StackedRNNCells:
        return _stacked_rnn(layer, config, call)
    probe = ConfigReader(layer, config)
    kind = _cell_kind(probe, cell)
    class_name, activations = _CELLS[kind]
    # RNN(LSTMCell(...)) is what LSTM(...) builds: the cell's options and the RNN's, as one layer.
    merged = {**_own_config(cell), **{k: v for k, v in config.items() if k != "cell"}}
    reader = _cell_options(_recurrent_reader(layer, merged, activations, call), kind)
    reader.out["trainable"] = bool(layer.trainable and cell.trainable)
    return _webnets(reader, class_name)


# --------------------------------------------------------------------------- ConvLSTM

_CONV_RANKS = {"ConvLSTM1D": 1, "ConvLSTM2D": 2, "ConvLSTM3D": 3}


def _tfjs_conv_lstm_fits(reader, call):
    """Whether tfjs-layers' own ConvLSTM2D computes this layer exactly.

    Checked against Keras (the same weights give equal outputs, valid/same padding, strides,
    dilation, go_backwards, return_sequences/state) where: rank 2; channels_last (tfjs-backend-wasm's
    conv2d refuses NCHW); no initial_state (tfjs' ConvRNN2D fails on the state inputs of a graph
    node); no mask reaching it (a Masking layer's mask fails in Keras itself; any other goes to
    webnets' class, which masks as the other webnets recurrent classes do, exactly as Keras).
    """
    return (_CONV_RANKS[reader.class_name] == 2 and reader.keras.get("data_format") == "channels_last"
            and not call.tensors and not receives_mask(reader.layer) and not _masked_state_calls(reader))


@register("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", becomes="ConvLSTM2D or WebnetsConvLSTM",
          note="padding valid/same, strides, dilation_rate, channels_first/last, initial_state, return_state, "
          "masks, go_backwards", call_tensors=("initial_state",))
def conv_lstm(layer, config, call):
    reader = _read_sequence(_read_cell(ConfigReader(layer, config), ("activation", "recurrent_activation")), call)
    reader.copy("filters", "kernel_size", "strides", "dilation_rate", "data_format", "unit_forget_bias")
    reader.require("padding", ["valid", "same"], "use padding='valid' or 'same' (Keras' convolutions take no other).")
    reader.copy("padding")
    if _tfjs_conv_lstm_fits(reader, call):
        # tfjs' ConvRNN2D throws on unroll=True; without a mask Keras' unrolled loop computes what
        # its while loop does, and zero_output_for_mask only acts on masked steps.
        reader.out.pop("unroll", None)
        reader.ignore("zero_output_for_mask")
        return reader.finish(class_name="ConvLSTM2D")
    reader.out["rank"] = _CONV_RANKS[reader.class_name]
    return _webnets(reader, "WebnetsConvLSTM")
