"""Keras 3's RNN (over SimpleRNNCell, LSTMCell, GRUCell and StackedRNNCells of them) and
ConvLSTM1D / ConvLSTM2D / ConvLSTM3D, exported to webnets' recurrent classes (webnets-layers.js).

RNN(LSTMCell(...)) computes what LSTM(...) computes, so it becomes the same class (WebnetsLSTM,
WebnetsGRU, WebnetsSimpleRNN); a stack of cells becomes WebnetsStackedRNN, which steps every cell
as Keras does (masks, go_backwards, initial states and the states of every cell returned);
ConvLSTM becomes WebnetsConvLSTM. Parity runs every case on WASM and on CPU (one Node process per
backend); one SGD step in TF.js must move the weights as Keras' does; a cell Keras does not ship
is refused.
"""

import json
import subprocess

import keras
import numpy as np
import pytest

from exporter.errors import UnsupportedLayerError
from exporter.layers import translate_model
from exporter.parity.runtime import REPO_ROOT
from exporter.parity.tolerances import FLOAT32_BOUND
from exporter.runtime import RUNTIME_FILE

from . import parity_helper
from .fit_helper import fit_step
from .parity_helper import Case, parity_on_backends
from .test_webnets_recurrent import PADDED_IDS, _inputs_for, _layers  # the same padded ids and inputs

L = keras.layers
SEQ = (7, 5)

def flat(outputs):
    """A layer's outputs as the flat list Keras' graph numbers them (a stack returns nested states)."""
    return keras.tree.flatten(outputs) if isinstance(outputs, (list, tuple)) else outputs


def single(case_id, make, shape=SEQ):
    def build():
        inputs = keras.Input(shape)
        return keras.Model(inputs, flat(make()(inputs)), name=case_id.replace("-", "_"))

    return Case(case_id, build)


def embedded(case_id, make, vocab=10):
    """Embedding(mask_zero) -> make() -> Dense, run on PADDED_IDS (the model's name says so)."""

    def build():
        inputs = keras.Input((PADDED_IDS.shape[1],), dtype="int32")
        y = flat(make()(L.Embedding(vocab, 6, mask_zero=True)(inputs)))
        y = [L.Dense(4)(t) for t in y] if isinstance(y, list) else L.Dense(4)(y)
        return keras.Model(inputs, y, name=f"padded_{case_id}".replace("-", "_"))

    return Case(case_id, build)


def lstm_gru_rnn():
    return [L.LSTMCell(6), L.GRUCell(5), L.SimpleRNNCell(4)]


def encoder_decoder(make_rnn, masked=None):
    """An encoder returns its states; a decoder of the same kind starts from them (initial_state=).

    make_rnn(**options) -> an RNN layer. masked: None, "implicit" (the decoder's Embedding masks;
    Keras 3 then runs the decoder unmasked, as it passes masks automatically only to a layer called
    on one tensor) or "explicit" (mask= passed too, so Keras masks)."""

    def build():
        enc_in = keras.Input((6,), dtype="int32", name="encoder_ids")
        dec_in = keras.Input((PADDED_IDS.shape[1],), dtype="int32", name="decoder_ids")
        enc = L.Embedding(10, 5)(enc_in)
        dec = L.Embedding(10, 4, mask_zero=masked is not None)(dec_in)
        _, *states = make_rnn(return_state=True)(enc)
        mask = {"mask": keras.ops.not_equal(dec_in, 0)} if masked == "explicit" else {}
        y, *final = make_rnn(return_sequences=True, return_state=True)(dec, initial_state=states, **mask)
        return keras.Model([enc_in, dec_in], [L.Dense(5)(y), *flat(final)],
                           name="padded_seq2seq" if masked else "seq2seq")

    return build


def conv_encoder_decoder(data_format="channels_last"):
    """ConvLSTM2D states start a second ConvLSTM2D (initial_state=), both returning their states."""

    def build():
        shape = (4, 6, 6, 2) if data_format == "channels_last" else (4, 2, 6, 6)
        enc_in, dec_in = keras.Input(shape), keras.Input(shape)
        options = {"padding": "same", "data_format": data_format}
        _, *states = L.ConvLSTM2D(3, 3, return_state=True, **options)(enc_in)
        y, *final = L.ConvLSTM2D(3, 3, return_sequences=True, return_state=True, **options)(dec_in,
                                                                                          initial_state=states)
        return keras.Model([enc_in, dec_in], [y, *final])

    return build


def rnn_cell_cases():
    """RNN over each built-in cell: the options of the matching layer."""
    cells = {"lstm": L.LSTMCell, "gru": L.GRUCell, "simple": L.SimpleRNNCell}
    cases = []
    for kind, cell in cells.items():
        cases += [
            single(f"rnn-{kind}-cell", lambda cell=cell: L.RNN(cell(8))),
            single(f"rnn-{kind}-cell-sequences-state",
                   lambda cell=cell: L.RNN(cell(6), return_sequences=True, return_state=True)),
            single(f"rnn-{kind}-cell-backwards-state",
                   lambda cell=cell: L.RNN(cell(6), go_backwards=True, return_state=True)),
            single(f"rnn-{kind}-cell-backwards-sequences-unroll",
                   lambda cell=cell: L.RNN(cell(6), go_backwards=True, return_sequences=True, unroll=True)),
            single(f"rnn-{kind}-cell-dropout-stateless",
                   lambda cell=cell: L.RNN(cell(6, dropout=0.3, recurrent_dropout=0.2, seed=1), stateful=False)),
            single(f"rnn-{kind}-cell-no-bias-relu",
                   lambda cell=cell: L.RNN(cell(6, use_bias=False, activation="relu"), return_sequences=True)),
            embedded(f"embedding-mask-rnn-{kind}-cell", lambda cell=cell: L.RNN(cell(8))),
            embedded(f"embedding-mask-rnn-{kind}-cell-backwards-state",
                     lambda cell=cell: L.RNN(cell(8), go_backwards=True, return_sequences=True, return_state=True)),
            embedded(f"embedding-mask-rnn-{kind}-cell-zero-output",
                     lambda cell=cell: L.RNN(cell(8), return_sequences=True, zero_output_for_mask=True)),
            embedded(f"embedding-mask-rnn-{kind}-cell-unroll",
                     lambda cell=cell: L.RNN(cell(8), return_sequences=True, unroll=True)),
            single(f"bidirectional-rnn-{kind}-cell", lambda cell=cell: L.Bidirectional(L.RNN(cell(5)))),
            Case(f"seq2seq-rnn-{kind}-cell", encoder_decoder(lambda cell=cell, **kw: L.RNN(cell(6), **kw))),
            Case(f"seq2seq-rnn-{kind}-cell-explicit-mask",
                 encoder_decoder(lambda cell=cell, **kw: L.RNN(cell(6), **kw), masked="explicit")),
        ]
    return cases + [
        single("rnn-lstm-cell-no-forget-bias-tanh-gates",
               lambda: L.RNN(L.LSTMCell(6, unit_forget_bias=False, recurrent_activation="tanh"),
                             return_sequences=True)),
        single("rnn-gru-cell-reset-before", lambda: L.RNN(L.GRUCell(8, reset_after=False), return_sequences=True)),
        single("rnn-gru-cell-reset-before-no-bias",
               lambda: L.RNN(L.GRUCell(6, reset_after=False, use_bias=False), go_backwards=True, return_state=True)),
        embedded("embedding-mask-rnn-gru-cell-reset-before",
                 lambda: L.RNN(L.GRUCell(8, reset_after=False), return_sequences=True, go_backwards=True)),
        Case("seq2seq-rnn-gru-cell-reset-before-masked",
             encoder_decoder(lambda **kw: L.RNN(L.GRUCell(6, reset_after=False), **kw), masked="implicit")),
        single("rnn-lstm-cell-wide", lambda: L.RNN(L.LSTMCell(64), return_sequences=True), shape=(12, 16)),
        Case("sequential-rnn-cells", lambda: keras.Sequential([
            keras.Input(SEQ), L.RNN(L.GRUCell(6), return_sequences=True), L.RNN(L.LSTMCell(4)), L.Dense(2)])),
        # Keras' unrolled loop zeroes masked outputs by the mask in input order even with go_backwards
        # (keras/src/backend/tensorflow/rnn.py); the layer classes reproduce it.
        *[embedded(f"embedding-mask-{kind}-unroll-backwards-zero-output",
                   lambda make=make: make(return_sequences=True, go_backwards=True, zero_output_for_mask=True,
                                          unroll=True))
          for kind, make in (("rnn-lstm-cell", lambda **kw: L.RNN(L.LSTMCell(6), **kw)),
                             ("lstm", lambda **kw: L.LSTM(6, **kw)),
                             ("stacked", lambda **kw: L.RNN([L.GRUCell(5), L.LSTMCell(4)], **kw)))],
        embedded("embedding-mask-gru-unroll-backwards-zero-output-last",
                 lambda: L.GRU(6, go_backwards=True, zero_output_for_mask=True, unroll=True)),
    ]


def stacked_cases():
    return [
        single("stacked-lstm", lambda: L.RNN([L.LSTMCell(6), L.LSTMCell(4)])),
        single("stacked-mixed-sequences-state",
               lambda: L.RNN(L.StackedRNNCells(lstm_gru_rnn()), return_sequences=True, return_state=True)),
        single("stacked-mixed-backwards-state",
               lambda: L.RNN(lstm_gru_rnn(), go_backwards=True, return_state=True)),
        single("stacked-backwards-sequences-unroll-dropout",
               lambda: L.RNN([L.GRUCell(5, dropout=0.2), L.SimpleRNNCell(4, recurrent_dropout=0.3)],
                             go_backwards=True, return_sequences=True, unroll=True)),
        single("stacked-gru-reset-before-no-bias",
               lambda: L.RNN([L.GRUCell(5, reset_after=False), L.GRUCell(4, use_bias=False)], return_sequences=True)),
        single("stacked-options", lambda: L.RNN([
            L.LSTMCell(5, activation="relu", recurrent_activation="tanh", unit_forget_bias=False, use_bias=False),
            L.SimpleRNNCell(4, activation="tanh")], return_state=True)),
        single("stacked-one-cell-state", lambda: L.RNN(L.StackedRNNCells([L.LSTMCell(5)]), return_state=True)),
        single("stacked-wide", lambda: L.RNN([L.LSTMCell(48), L.GRUCell(32)], return_sequences=True), shape=(12, 16)),
        embedded("embedding-mask-stacked", lambda: L.RNN(lstm_gru_rnn())),
        embedded("embedding-mask-stacked-backwards-state",
                 lambda: L.RNN(lstm_gru_rnn(), go_backwards=True, return_sequences=True, return_state=True)),
        embedded("embedding-mask-stacked-zero-output",
                 lambda: L.RNN(lstm_gru_rnn(), return_sequences=True, zero_output_for_mask=True)),
        single("bidirectional-stacked", lambda: L.Bidirectional(L.RNN([L.LSTMCell(4), L.GRUCell(3)],
                                                                       return_sequences=True))),
        single("bidirectional-stacked-state",
               lambda: L.Bidirectional(L.RNN([L.LSTMCell(4), L.GRUCell(3)], return_state=True), merge_mode="sum")),
        embedded("embedding-mask-bidirectional-stacked",
                 lambda: L.Bidirectional(L.RNN([L.GRUCell(4), L.LSTMCell(3)], return_sequences=True))),
        Case("seq2seq-stacked", encoder_decoder(lambda **kw: L.RNN([L.LSTMCell(6), L.GRUCell(4)], **kw))),
        Case("seq2seq-stacked-masked",
             encoder_decoder(lambda **kw: L.RNN([L.LSTMCell(6), L.GRUCell(4)], **kw), masked="implicit")),
        Case("seq2seq-stacked-explicit-mask",
             encoder_decoder(lambda **kw: L.RNN([L.SimpleRNNCell(5), L.LSTMCell(4)], **kw), masked="explicit")),
    ]


def conv_lstm_cases():
    return [
        single("conv-lstm-2d", lambda: L.ConvLSTM2D(4, 3), shape=(4, 6, 6, 2)),
        single("conv-lstm-2d-same-sequences-state",
               lambda: L.ConvLSTM2D(3, (3, 2), padding="same", return_sequences=True, return_state=True),
               shape=(4, 6, 5, 2)),
        single("conv-lstm-2d-strides", lambda: L.ConvLSTM2D(3, 3, strides=2, return_sequences=True),
               shape=(3, 7, 8, 2)),
        single("conv-lstm-2d-same-strides-backwards",
               lambda: L.ConvLSTM2D(3, 3, strides=(2, 1), padding="same", go_backwards=True, return_state=True),
               shape=(3, 7, 6, 2)),
        single("conv-lstm-2d-dilation", lambda: L.ConvLSTM2D(3, 3, dilation_rate=2, padding="same",
                                                            return_sequences=True), shape=(3, 7, 7, 2)),
        single("conv-lstm-2d-channels-first",
               lambda: L.ConvLSTM2D(3, 3, data_format="channels_first", return_sequences=True, return_state=True),
               shape=(3, 2, 6, 5)),
        single("conv-lstm-2d-channels-first-same-strides",
               lambda: L.ConvLSTM2D(3, 3, strides=2, padding="same", data_format="channels_first"), shape=(3, 2, 7, 6)),
        single("conv-lstm-2d-options", lambda: L.ConvLSTM2D(
            3, 2, activation="relu", recurrent_activation="tanh", use_bias=False, unit_forget_bias=False,
            dropout=0.3, recurrent_dropout=0.2, stateful=False, return_sequences=True), shape=(3, 5, 5, 2)),
        single("conv-lstm-2d-backwards-unroll", lambda: L.ConvLSTM2D(3, 3, go_backwards=True, unroll=True,
                                                                    return_sequences=True), shape=(3, 5, 5, 2)),
        single("conv-lstm-1d", lambda: L.ConvLSTM1D(4, 3), shape=(5, 9, 3)),
        single("conv-lstm-1d-same-sequences-state",
               lambda: L.ConvLSTM1D(4, 3, padding="same", return_sequences=True, return_state=True), shape=(5, 9, 3)),
        single("conv-lstm-1d-strides-backwards", lambda: L.ConvLSTM1D(3, 3, strides=2, go_backwards=True,
                                                                     return_sequences=True), shape=(4, 10, 2)),
        single("conv-lstm-1d-dilation", lambda: L.ConvLSTM1D(3, 3, dilation_rate=2), shape=(4, 10, 2)),
        single("conv-lstm-1d-channels-first", lambda: L.ConvLSTM1D(3, 3, padding="same", data_format="channels_first",
                                                                  return_sequences=True), shape=(4, 2, 9)),
        single("conv-lstm-3d", lambda: L.ConvLSTM3D(3, (2, 3, 3)), shape=(3, 4, 5, 6, 2)),
        single("conv-lstm-3d-same-sequences-state",
               lambda: L.ConvLSTM3D(2, 3, padding="same", return_sequences=True, return_state=True),
               shape=(3, 4, 4, 4, 2)),
        single("conv-lstm-3d-strides-dilation", lambda: L.ConvLSTM3D(2, 2, strides=(1, 2, 2), return_sequences=True),
               shape=(3, 4, 6, 6, 2)),
        single("conv-lstm-3d-channels-first",
               lambda: L.ConvLSTM3D(2, 3, padding="same", dilation_rate=(1, 2, 1), data_format="channels_first",
                                    go_backwards=True, return_state=True), shape=(3, 2, 4, 5, 4)),
        single("bidirectional-conv-lstm-2d", lambda: L.Bidirectional(L.ConvLSTM2D(3, 3, padding="same",
                                                                                  return_sequences=True)),
               shape=(3, 5, 5, 2)),
        Case("conv-lstm-2d-encoder-decoder", conv_encoder_decoder()),
        Case("conv-lstm-2d-encoder-decoder-channels-first", conv_encoder_decoder("channels_first")),
    ]


CASES = rnn_cell_cases() + stacked_cases() + conv_lstm_cases()


wasm_results, cpu_results, test_parity_on_wasm, test_parity_on_cpu = parity_on_backends(
    CASES, "builtin-recurrent",
    prepare=lambda patch: patch.setattr(parity_helper, "sample_inputs", _inputs_for(parity_helper.sample_inputs)))


@pytest.mark.parametrize("case_id, expected", [
    ("rnn-lstm-cell", "WebnetsLSTM"), ("rnn-gru-cell", "WebnetsGRU"), ("rnn-simple-cell", "WebnetsSimpleRNN"),
    ("bidirectional-rnn-lstm-cell", "WebnetsLSTM"), ("stacked-lstm", "WebnetsStackedRNN"),
    ("bidirectional-stacked", "WebnetsStackedRNN"), ("conv-lstm-1d", "WebnetsConvLSTM"),
    ("conv-lstm-3d", "WebnetsConvLSTM"),
    # ConvLSTM2D: tfjs' own class where it is exact, webnets' where it is not.
    *[(case_id, "ConvLSTM2D") for case_id in ("conv-lstm-2d", "conv-lstm-2d-same-sequences-state",
                                              "conv-lstm-2d-same-strides-backwards", "conv-lstm-2d-dilation",
                                              "conv-lstm-2d-options", "conv-lstm-2d-backwards-unroll",
                                              "bidirectional-conv-lstm-2d")],
    ("conv-lstm-2d-channels-first", "WebnetsConvLSTM"),
    ("conv-lstm-2d-encoder-decoder-channels-first", "WebnetsConvLSTM"),
    # The encoder has no initial state (tfjs' class), the decoder starts from its states (webnets').
    ("conv-lstm-2d-encoder-decoder", "ConvLSTM2D+WebnetsConvLSTM"),
])
def test_each_layer_becomes_its_tfjs_class(wasm_results, case_id, expected):
    classes = {layer["class_name"] for layer in _layers(wasm_results[case_id].model_json)}
    recurrent = classes & {"RNN", "LSTM", "GRU", "SimpleRNN", "ConvLSTM2D", "WebnetsConvLSTM", "WebnetsLSTM",
                           "WebnetsGRU", "WebnetsSimpleRNN", "WebnetsStackedRNN"}
    assert recurrent == set(expected.split("+")), classes


def test_cells_count_as_covered(wasm_results):
    """The cells are what these cases exercise (parity_helper collects a layer's cells)."""
    classes = set().union(*(r.classes for r in wasm_results.values()))
    assert {"RNN", "StackedRNNCells", "SimpleRNNCell", "LSTMCell", "GRUCell",
            "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"} <= classes


def test_padded_inputs_really_mask():
    assert (PADDED_IDS == 0).any(axis=1).sum() >= 3


def test_stacked_weight_names_and_states():
    inputs = keras.Input(SEQ)
    layer = L.RNN([L.LSTMCell(4), L.GRUCell(3, reset_after=False)], return_state=True, name="stack")
    model = keras.Model(inputs, flat(layer(inputs)))
    config, weights = translate_model(model)
    names = {name: tuple(value.shape) for name, value in weights}
    assert names == {
        "stack/cell_0/kernel": (5, 16), "stack/cell_0/recurrent_kernel": (4, 16), "stack/cell_0/bias": (16,),
        "stack/cell_1/kernel": (4, 9), "stack/cell_1/recurrent_kernel": (3, 9), "stack/cell_1/bias": (9,),
    }
    stack = [l for l in config["config"]["layers"] if l["class_name"] == "WebnetsStackedRNN"][0]["config"]
    assert [c["class_name"] for c in stack["cells"]] == ["WebnetsLSTM", "WebnetsGRU"]
    assert stack["cells"][1]["config"]["reset_after"] is False
    assert len(model.outputs) == 4  # the output, then h, c of the LSTM cell and h of the GRU cell


def test_rnn_cell_config_matches_the_layer():
    """RNN(LSTMCell(...)) and LSTM(...) with the same options translate to the same config."""
    def translated(layer):
        inputs = keras.Input(SEQ)
        config, _ = translate_model(keras.Model(inputs, layer(inputs)))
        found = config["config"]["layers"][-1]
        # (LSTM's config has an activity_regularizer, RNN's none: both None in TF.js.)
        return found["class_name"], {k: v for k, v in found["config"].items() if k != "name" and v is not None}

    options = {"return_sequences": True, "go_backwards": True}
    assert translated(L.RNN(L.LSTMCell(5, unit_forget_bias=False), **options)) == \
        translated(L.LSTM(5, unit_forget_bias=False, **options))
    assert translated(L.RNN(L.GRUCell(5, reset_after=False), **options)) == \
        translated(L.GRU(5, reset_after=False, **options))


# --------------------------------------------------------------------------- refusals

class MinimalCell(L.Layer):
    """Keras' documented example of a cell of one's own."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")

    def call(self, inputs, states):
        output = keras.ops.matmul(inputs, self.kernel) + states[0]
        return output, [output]


class TweakedLSTMCell(L.LSTMCell):
    """A subclass of a built-in cell may compute anything: it is not Keras' cell."""

    def call(self, inputs, states, training=False):
        h, new_states = super().call(inputs, states, training)
        return 2 * h, new_states


@pytest.mark.parametrize("make, expected", [
    (lambda: L.RNN(MinimalCell(4)), "MinimalCell"),
    (lambda: L.RNN(TweakedLSTMCell(4)), "TweakedLSTMCell"),
    (lambda: L.RNN([L.LSTMCell(4), MinimalCell(3)]), "MinimalCell"),
    (lambda: L.RNN(L.LSTMCell(3, recurrent_activation="hard_sigmoid")), "hard_sigmoid"),
    (lambda: L.RNN([L.GRUCell(3), L.LSTMCell(3, activation="exponential")]), "exponential"),
    (lambda: L.RNN(L.GRUCell(3), stateful=True), "stateful"),
    (lambda: L.RNN([L.GRUCell(3), L.GRUCell(2)], stateful=True), "stateful"),
], ids=["custom-cell", "subclassed-cell", "custom-cell-in-stack", "hard-sigmoid", "stacked-exponential",
        "stateful", "stacked-stateful"])
def test_rnn_refusals(make, expected):
    inputs = keras.Input(SEQ, batch_size=2)
    model = keras.Model(inputs, flat(make()(inputs)))
    with pytest.raises(UnsupportedLayerError, match=f"(?s){expected}.*Fix:"):
        translate_model(model)


@pytest.mark.parametrize("make, expected", [
    (lambda: L.ConvLSTM2D(3, 3, stateful=True), "stateful"),
    (lambda: L.ConvLSTM2D(3, 3, recurrent_activation="hard_sigmoid"), "hard_sigmoid"),
    (lambda: L.ConvLSTM2D(3, 3, activation="exponential"), "exponential"),
], ids=["stateful", "hard-sigmoid", "exponential"])
def test_conv_lstm_refusals(make, expected):
    inputs = keras.Input((3, 6, 6, 2), batch_size=2)
    model = keras.Model(inputs, make()(inputs))
    with pytest.raises(UnsupportedLayerError, match=f"(?s){expected}.*Fix:"):
        translate_model(model)


def test_conv_lstm_2d_is_not_called_a_custom_layer():
    inputs = keras.Input((3, 6, 6, 2))
    config, _ = translate_model(keras.Model(inputs, L.ConvLSTM2D(3, 3)(inputs)))
    layer = config["config"]["layers"][-1]
    # tfjs' ConvLSTM2D defaults to hard_sigmoid gates: the sigmoid must be explicit.
    assert layer["class_name"] == "ConvLSTM2D" and layer["config"]["recurrent_activation"] == "sigmoid"


# --------------------------------------------------------------------------- training in TF.js

def _fit_model(kind):
    keras.utils.set_random_seed(0)
    if kind.startswith("conv-lstm"):
        rank = int(kind[len("conv-lstm-")])
        shape = {1: (4, 7, 2), 2: (3, 5, 5, 2), 3: (3, 4, 4, 3, 2)}[rank]
        data_format = "channels_first" if kind.endswith("channels-first") else "channels_last"
        if data_format == "channels_first":
            shape = (shape[0], shape[-1], *shape[1:-1])
        conv = getattr(L, f"ConvLSTM{rank}D")
        inputs = keras.Input(shape)
        y = conv(3, 3, padding="same", return_sequences=True, data_format=data_format)(inputs)
        y = conv(2, 2, strides=2 if rank == 2 else 1, data_format=data_format)(y)
        return keras.Model(inputs, L.Dense(2)(L.Flatten()(y)))
    cells = {"rnn-lstm-cell": lambda: L.LSTMCell(4),
             "stacked": lambda: [L.LSTMCell(4), L.GRUCell(3), L.SimpleRNNCell(3)],
             "stacked-gru-reset-before": lambda: [L.GRUCell(4, reset_after=False), L.LSTMCell(3)]}
    cell = cells[kind.replace("masked-", "").replace("-bidirectional", "").replace("seq2seq-", "")]
    if kind.startswith("seq2seq"):
        # Encoder states start a masked decoder (mask= given): the gradients reach the encoder through them.
        enc_in = keras.Input((6,), dtype="int32")
        dec_in = keras.Input((PADDED_IDS.shape[1],), dtype="int32")
        _, *state = L.RNN(cell(), return_state=True)(L.Embedding(10, 3)(enc_in))
        y = L.RNN(cell())(L.Embedding(10, 3, mask_zero=True)(dec_in), initial_state=state,
                          mask=keras.ops.not_equal(dec_in, 0))
        return keras.Model([enc_in, dec_in], L.Dense(2)(y))
    if kind.startswith("masked"):
        inputs = keras.Input((PADDED_IDS.shape[1],), dtype="int32")
        x = L.Embedding(10, 4, mask_zero=True)(inputs)
    else:
        inputs = keras.Input(SEQ)
        x = inputs
    layer = L.RNN(cell(), return_sequences=True)
    y = L.Bidirectional(layer)(x) if kind.endswith("bidirectional") else layer(x)
    # Keras leaves masked steps out of the loss (TF.js does not), so a masked sequence ends in a
    # last-step layer: the mask acts inside the layers only.
    y = L.RNN(L.GRUCell(3))(y)
    return keras.Model(inputs, L.Dense(2)(y))


@pytest.mark.parametrize("kind", ["rnn-lstm-cell", "masked-rnn-lstm-cell", "stacked", "masked-stacked",
                                  "stacked-gru-reset-before", "stacked-bidirectional", "seq2seq-stacked",
                                  "conv-lstm-1", "conv-lstm-2", "conv-lstm-2-channels-first", "conv-lstm-3"])
def test_one_sgd_step_matches_keras(kind, tmp_path):
    model = _fit_model(kind)
    rng = np.random.default_rng(3)
    if kind.startswith("seq2seq"):
        x = [rng.integers(0, 10, (4, 6)).astype(np.int32), PADDED_IDS]
    elif kind.startswith("masked"):
        x = [PADDED_IDS]
    else:
        x = [rng.standard_normal((4, *model.input_shape[1:])).astype(np.float32)]
    y = rng.standard_normal((4, *model.output_shape[1:])).astype(np.float32)
    step = fit_step(model, x, [y], tmp_path)
    classes = {l["class_name"] for l in _layers(json.loads((tmp_path / "export" / "model.json").read_text()))}
    print(f"fit {kind}: error {step.error:.2e}, change {step.change:.2e}, weights {step.weights}, {sorted(classes)}")
    assert step.error <= FLOAT32_BOUND, f"{step.worst}: {step.error:.3e}"
    assert step.change > 0


def test_configs_round_trip_in_tfjs():
    """getConfig -> constructor gives the same config (Bidirectional builds its backward layer so), and a
    saved model (snake_case keys) loads again, for the two classes this file adds."""
    script = f"""
const tf = require('@tensorflow/tfjs');
require({json.dumps(str(RUNTIME_FILE))}).register(tf);
const classes = tf.serialization.SerializationMap.getMap().classNameMap;
const stacked = new classes['WebnetsStackedRNN'][0]({{name: 's', return_state: true, go_backwards: true, cells: [
  {{class_name: 'WebnetsLSTM', config: {{units: 4, unit_forget_bias: false, recurrent_activation: 'tanh'}}}},
  {{class_name: 'WebnetsGRU', config: {{units: 3, reset_after: false}}}}]}});
const conv = new classes['WebnetsConvLSTM'][0]({{name: 'c', rank: 2, filters: 3, kernel_size: [3, 2], strides: 1,
  padding: 'same', data_format: 'channels_first', return_sequences: true}});
const out = {{}};
for (const [layer, shape] of [[stacked, [5, 2]], [conv, [4, 2, 6, 5]]]) {{
  const again = new layer.constructor(layer.getConfig());
  const input = tf.input({{shape}});
  const model = tf.model({{inputs: input, outputs: again.apply(input)}});
  const saved = JSON.parse(JSON.stringify(model.toJSON(null, false)));
  out[layer.name] = {{a: layer.getConfig(), b: again.getConfig(), weights: model.weights.map((w) => w.originalName)}};
  tf.models.modelFromJSON({{modelTopology: saved}});
}}
console.log(JSON.stringify(out));
"""
    proc = subprocess.run(["node", "-e", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    for name in ("s", "c"):
        assert {**out[name]["a"], "name": None} == {**out[name]["b"], "name": None}
    stacked = out["s"]["a"]
    assert stacked["goBackwards"] is True and stacked["returnState"] is True
    assert [c["config"]["units"] for c in stacked["cells"]] == [4, 3]
    assert stacked["cells"][1]["config"]["resetAfter"] is False
    assert [w.split("/", 1)[1] for w in out["s"]["weights"]] == [
        "cell_0/kernel", "cell_0/recurrent_kernel", "cell_0/bias", "cell_1/kernel", "cell_1/recurrent_kernel",
        "cell_1/bias"]
    assert out["c"]["a"]["dataFormat"] == "channelsFirst" and out["c"]["a"]["kernelSize"] == [3, 2]
