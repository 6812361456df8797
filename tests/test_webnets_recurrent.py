"""WebnetsSimpleRNN, WebnetsLSTM and WebnetsGRU (webnets-layers.js) and RNN initial_state /
return_state in Functional graphs.

webnets exports Keras 3's SimpleRNN, LSTM and GRU (reset_after True, Keras 3's default, which
tfjs-layers 4.22 cannot run, and False) as its own classes, which follow Keras' masking with
initial states and take far fewer TF.js kernels per step. Parity runs every case on WASM and on
CPU (one Node process per backend), and one SGD step in TF.js must match Keras' (the layers train).
"""

import json
import subprocess

import keras
import numpy as np
import pytest

from exporter.layers import translate_model
from exporter.parity.runtime import REPO_ROOT
from exporter.runtime import RUNTIME_FILE

from . import parity_helper
from .fit_helper import fit_step
from .parity_helper import Case, assert_parity, run_cases

L = keras.layers
SEQ = (7, 5)
RNNS = {"simple-rnn": L.SimpleRNN, "lstm": L.LSTM, "gru": L.GRU}

# Token ids with padding: right-padded, left-padded, none, and one sequence that is all padding.
PADDED_IDS = np.array([[5, 3, 7, 2, 0, 0, 0, 0],
                       [0, 0, 4, 1, 6, 2, 0, 0],
                       [1, 4, 8, 2, 9, 3, 6, 7],
                       [0, 0, 0, 0, 0, 0, 0, 0]], dtype=np.int32)


def single(case_id, make, shape=SEQ):
    def build():
        inputs = keras.Input(shape)
        return keras.Model(inputs, make()(inputs), name=case_id.replace("-", "_"))

    return Case(case_id, build)


def embedded(case_id, make, vocab=10, mask_zero=True, padded=True, dense=True):
    """Embedding (mask_zero) -> make() -> Dense: the usual text model. padded: run on PADDED_IDS."""

    def build():
        inputs = keras.Input((PADDED_IDS.shape[1],), dtype="int32")
        x = L.Embedding(vocab, 6, mask_zero=mask_zero)(inputs)
        y = make()(x)
        if dense:
            y = [L.Dense(4)(t) for t in y] if isinstance(y, (list, tuple)) else L.Dense(4)(y)
        return keras.Model(inputs, y, name=f"padded_{case_id}".replace("-", "_") if padded else None)

    return Case(case_id, build)


def stacked():
    inputs = keras.Input(SEQ)
    x = L.GRU(8, return_sequences=True)(inputs)
    x = L.GRU(6, return_sequences=True, go_backwards=True)(x)
    x = L.GRU(5)(x)
    return keras.Model(inputs, L.Dense(3)(x))


def sequential():
    return keras.Sequential([keras.Input(SEQ), L.GRU(6, return_sequences=True), L.GRU(4), L.Dense(2)])


def encoder_decoder(kind, reset_after=True, masked=None, embed=True):
    """Encoder returns its states; the decoder starts from them (initial_state=).

    masked: None, "implicit" (the decoder's Embedding masks; Keras 3 then runs the decoder
    unmasked, as it passes masks automatically only to a layer called on one tensor) or
    "explicit" (mask= passed too, so Keras masks)."""

    def build():
        make = RNNS[kind]
        options = {"reset_after": reset_after} if kind == "gru" else {}
        if embed:
            enc_in = keras.Input((6,), dtype="int32", name="encoder_ids")
            dec_in = keras.Input((PADDED_IDS.shape[1],), dtype="int32", name="decoder_ids")
            enc = L.Embedding(10, 5)(enc_in)
            dec = L.Embedding(10, 4, mask_zero=masked is not None)(dec_in)
        else:
            enc_in, dec_in = keras.Input((6, 5)), keras.Input((4, 3))
            enc, dec = enc_in, dec_in
        _, *states = make(8, return_state=True, **options)(enc)
        mask = {"mask": keras.ops.not_equal(dec_in, 0)} if masked == "explicit" else {}
        y, *final = make(8, return_sequences=True, return_state=True, **options)(dec, initial_state=states, **mask)
        return keras.Model([enc_in, dec_in], [L.Dense(5)(y), *final],
                           name=f"padded_seq2seq_{kind}" if masked else f"seq2seq_{kind}")

    return build


CASES = [
    single("gru", lambda: L.GRU(8)),
    single("gru-reset-before", lambda: L.GRU(8, reset_after=False)),
    single("gru-sequences", lambda: L.GRU(8, return_sequences=True)),
    single("gru-reset-before-sequences", lambda: L.GRU(8, reset_after=False, return_sequences=True)),
    single("gru-no-bias", lambda: L.GRU(6, use_bias=False, return_sequences=True)),
    single("gru-backwards", lambda: L.GRU(6, go_backwards=True)),
    single("gru-backwards-sequences", lambda: L.GRU(6, go_backwards=True, return_sequences=True)),
    single("gru-state", lambda: L.GRU(6, return_state=True)),
    single("gru-sequences-state", lambda: L.GRU(6, return_sequences=True, return_state=True)),
    single("gru-relu-tanh", lambda: L.GRU(6, activation="relu", recurrent_activation="tanh", return_sequences=True)),
    single("gru-dropout-unroll", lambda: L.GRU(6, dropout=0.3, recurrent_dropout=0.2, unroll=True)),
    single("gru-wide", lambda: L.GRU(64, return_sequences=True), shape=(12, 16)),
    embedded("embedding-mask-gru", lambda: L.GRU(8)),
    embedded("embedding-mask-gru-sequences", lambda: L.GRU(8, return_sequences=True)),
    embedded("embedding-mask-gru-backwards-state", lambda: L.GRU(8, go_backwards=True, return_sequences=True,
                                                                return_state=True)),
    embedded("embedding-mask-gru-reset-before", lambda: L.GRU(8, reset_after=False, return_sequences=True)),
    embedded("embedding-mask-gru-random-zeros", lambda: L.GRU(8, return_sequences=True), vocab=3, padded=False),
    embedded("embedding-mask-gru-zero-output", lambda: L.GRU(8, return_sequences=True, zero_output_for_mask=True)),
    embedded("embedding-mask-gru-zero-output-last", lambda: L.GRU(8, zero_output_for_mask=True)),
    embedded("embedding-gru-dense", lambda: L.GRU(8), mask_zero=False),
    *[single(f"bidirectional-gru-{m}", lambda m=m: L.Bidirectional(L.GRU(5), merge_mode=m))
      for m in ("concat", "sum", "mul", "ave")],
    single("bidirectional-gru-none", lambda: L.Bidirectional(L.GRU(5, return_sequences=True), merge_mode=None)),
    single("bidirectional-gru-sequences", lambda: L.Bidirectional(L.GRU(5, return_sequences=True))),
    single("bidirectional-gru-state", lambda: L.Bidirectional(L.GRU(5, return_state=True))),
    single("bidirectional-gru-reset-before", lambda: L.Bidirectional(L.GRU(5, reset_after=False))),
    embedded("embedding-mask-bidirectional-gru", lambda: L.Bidirectional(L.GRU(5))),
    embedded("embedding-mask-bidirectional-gru-sequences",
             lambda: L.Bidirectional(L.GRU(5, return_sequences=True), merge_mode="sum")),
    Case("stacked-gru", stacked),
    Case("sequential-gru", sequential),
    *[Case(f"seq2seq-{kind}", encoder_decoder(kind)) for kind in RNNS],
    *[Case(f"seq2seq-{kind}-floats", encoder_decoder(kind, embed=False)) for kind in RNNS],
    Case("seq2seq-gru-reset-before", encoder_decoder("gru", reset_after=False)),
    Case("seq2seq-gru-masked", encoder_decoder("gru", masked="implicit")),
    Case("seq2seq-gru-explicit-mask", encoder_decoder("gru", masked="explicit")),
    Case("seq2seq-gru-reset-before-masked", encoder_decoder("gru", reset_after=False, masked="implicit")),
    Case("seq2seq-gru-reset-before-explicit-mask", encoder_decoder("gru", reset_after=False, masked="explicit")),
    # The same options for WebnetsLSTM and WebnetsSimpleRNN.
    *[case for kind, make in (("lstm", L.LSTM), ("simple-rnn", L.SimpleRNN)) for case in (
        single(kind, lambda make=make: make(8)),
        single(f"{kind}-sequences", lambda make=make: make(8, return_sequences=True)),
        single(f"{kind}-no-bias", lambda make=make: make(6, use_bias=False, return_sequences=True)),
        single(f"{kind}-backwards-sequences", lambda make=make: make(6, go_backwards=True, return_sequences=True)),
        single(f"{kind}-sequences-state", lambda make=make: make(6, return_sequences=True, return_state=True)),
        single(f"{kind}-relu", lambda make=make: make(6, activation="relu", return_sequences=True)),
        single(f"{kind}-wide", lambda make=make: make(64, return_sequences=True), shape=(12, 16)),
        embedded(f"embedding-mask-{kind}", lambda make=make: make(8)),
        embedded(f"embedding-mask-{kind}-backwards-state",
                 lambda make=make: make(8, go_backwards=True, return_sequences=True, return_state=True)),
        embedded(f"embedding-mask-{kind}-zero-output",
                 lambda make=make: make(8, return_sequences=True, zero_output_for_mask=True)),
        single(f"bidirectional-{kind}-concat", lambda make=make: L.Bidirectional(make(5))),
        single(f"bidirectional-{kind}-state", lambda make=make: L.Bidirectional(make(5, return_state=True))),
        embedded(f"embedding-mask-bidirectional-{kind}",
                 lambda make=make: L.Bidirectional(make(5, return_sequences=True), merge_mode="sum")),
        Case(f"seq2seq-{kind}-masked", encoder_decoder(kind, masked="implicit")),
        Case(f"seq2seq-{kind}-explicit-mask", encoder_decoder(kind, masked="explicit")),
    )],
    single("lstm-no-forget-bias-hard-tanh", lambda: L.LSTM(6, unit_forget_bias=False, recurrent_activation="tanh",
                                                           return_sequences=True)),
]


def _inputs_for(original):
    """sample_inputs, except that models named padded_* get PADDED_IDS for their id inputs."""

    def sample_inputs(model, *args, **kwargs):
        arrays = original(model, *args, **kwargs)
        if not model.name.startswith("padded_"):
            return arrays
        out = []
        for tensor, array in zip(model.inputs, arrays):
            if tensor.shape[1] == PADDED_IDS.shape[1] and "int" in str(tensor.dtype):
                array = PADDED_IDS
            out.append(np.resize(array, (PADDED_IDS.shape[0], *array.shape[1:])).astype(array.dtype))
        return out

    return sample_inputs


@pytest.fixture(scope="module", params=["wasm", "cpu"])
def results(request, tmp_path_factory):
    """All cases on one backend, in one Node process."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WEBNETS_TFJS_BACKEND", request.param)
        patch.setattr(parity_helper, "sample_inputs", _inputs_for(parity_helper.sample_inputs))
        return request.param, run_cases(CASES, tmp_path_factory.mktemp(f"recurrent-{request.param}"))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_parity(results, case):
    backend, by_id = results
    result = by_id[case.id]
    assert_parity(result)
    assert result.backend == backend
    print(f"{case.id} [{backend}]: {result.rel_error:.2e}")


def _layers(model_json):
    def walk(layers):
        for layer in layers:
            yield layer
            inner = layer["config"].get("layer")
            if isinstance(inner, dict):
                yield inner

    return list(walk(model_json["modelTopology"]["model_config"]["config"]["layers"]))


def test_every_recurrent_layer_becomes_a_webnets_class(results):
    _, by_id = results
    classes = lambda case_id: {l["class_name"] for l in _layers(by_id[case_id].model_json)}  # noqa: E731
    for case_id, expected in [("gru", "WebnetsGRU"), ("gru-reset-before", "WebnetsGRU"),
                              ("bidirectional-gru-concat", "WebnetsGRU"), ("lstm", "WebnetsLSTM"),
                              ("bidirectional-lstm-concat", "WebnetsLSTM"), ("simple-rnn", "WebnetsSimpleRNN"),
                              ("seq2seq-simple-rnn-masked", "WebnetsSimpleRNN")]:
        found = classes(case_id)
        assert expected in found and not found & {"GRU", "LSTM", "SimpleRNN"}, (case_id, found)


def test_padded_inputs_really_mask():
    assert (PADDED_IDS == 0).any(axis=1).sum() >= 3
    model = embedded("x", lambda: L.GRU(8, return_sequences=True), vocab=3, padded=False).build()
    (ids,) = parity_helper.sample_inputs(model)
    assert (ids == 0).sum() >= 3 and (ids != 0).sum() >= 3


def test_weight_names_follow_tfjs():
    inputs = keras.Input(SEQ)
    x = L.GRU(4, return_sequences=True, name="g")(inputs)
    model = keras.Model(inputs, L.Bidirectional(L.GRU(3, name="h"), name="bi")(x))
    _, weights = translate_model(model)
    names = {name: tuple(value.shape) for name, value in weights}
    assert names == {
        "g/kernel": (5, 12), "g/recurrent_kernel": (4, 12), "g/bias": (2, 12),
        "bi/forward_h/kernel": (4, 9), "bi/forward_h/recurrent_kernel": (3, 9), "bi/forward_h/bias": (2, 9),
        "bi/backward_h/kernel": (4, 9), "bi/backward_h/recurrent_kernel": (3, 9), "bi/backward_h/bias": (2, 9),
    }


@pytest.mark.parametrize("make, expected", [
    (lambda: L.GRU(3, recurrent_activation="hard_sigmoid"), "hard_sigmoid"),
    (lambda: L.GRU(3, activation="exponential"), "exponential"),
    (lambda: L.GRU(3, stateful=True), "stateful"),
], ids=["hard-sigmoid", "exponential", "stateful"])
def test_refusals(make, expected):
    from exporter.errors import UnsupportedLayerError

    inputs = keras.Input(SEQ, batch_size=2)
    model = keras.Model(inputs, make()(inputs))
    with pytest.raises(UnsupportedLayerError) as error:
        translate_model(model)
    message = str(error.value)
    assert expected in message and "Fix:" in message, message


@pytest.mark.parametrize("kind", list(RNNS))
def test_masked_decoder_follows_keras(kind):
    """A recurrent layer with initial_state on a masked sequence: ignore_mask unless mask= is passed."""
    def decoder(masked):
        config, _ = translate_model(encoder_decoder(kind, masked=masked)())
        recurrent = ("WebnetsSimpleRNN", "WebnetsLSTM", "WebnetsGRU")
        return [l for l in config["config"]["layers"] if l["class_name"] in recurrent][-1]

    assert decoder("implicit")["config"]["ignore_mask"] is True
    assert "ignore_mask" not in decoder("explicit")["config"]
    assert "ignore_mask" not in decoder(None)["config"]


def test_register_returns_the_recurrent_classes():
    script = ("const tf = require('@tensorflow/tfjs');"
              f"console.log(JSON.stringify(require({json.dumps(str(RUNTIME_FILE))}).register(tf)));")
    proc = subprocess.run(["node", "-e", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert {"WebnetsSimpleRNN", "WebnetsLSTM", "WebnetsGRU"} <= set(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_config_round_trips_in_tfjs():
    """getConfig -> constructor gives the same config (Bidirectional relies on it), and toJSON
    writes snake_case keys that load again."""
    script = f"""
const tf = require('@tensorflow/tfjs');
require({json.dumps(str(RUNTIME_FILE))}).register(tf);
const cls = tf.serialization.SerializationMap.getMap().classNameMap['WebnetsGRU'][0];
const layer = new cls({{units: 3, name: 'g', reset_after: true, go_backwards: true, return_sequences: true,
                       kernel_initializer: {{className: 'GlorotUniform', config: {{seed: 1}}}}}});
const again = new cls(layer.getConfig());
const model = tf.sequential({{layers: [tf.layers.inputLayer({{inputShape: [4, 2]}}), again]}});
const saved = JSON.parse(JSON.stringify(model.toJSON(null, false)));
console.log(JSON.stringify({{a: layer.getConfig(), b: again.getConfig(), saved: saved.config.layers[saved.config.layers.length - 1]}}));
"""
    proc = subprocess.run(["node", "-e", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["a"] == out["b"]
    assert out["a"]["goBackwards"] is True and out["a"]["resetAfter"] is True
    saved = out["saved"]
    assert saved["class_name"] == "WebnetsGRU"
    assert saved["config"]["go_backwards"] is True and saved["config"]["return_sequences"] is True


# --------------------------------------------------------------------------- training in TF.js

def _fit_model(kind):
    keras.utils.set_random_seed(0)
    cell = L.LSTM if "lstm" in kind else (L.SimpleRNN if "simple-rnn" in kind else L.GRU)
    options = {"reset_after": "reset-before" not in kind} if cell is L.GRU else {}
    make = lambda units, **kw: cell(units, **options, **kw)  # noqa: E731
    if kind.startswith("seq2seq"):
        # Encoder states start a masked decoder (mask= given).
        enc_in = keras.Input((6,), dtype="int32")
        dec_in = keras.Input((PADDED_IDS.shape[1],), dtype="int32")
        _, *state = make(4, return_state=True)(L.Embedding(10, 3)(enc_in))
        y = make(4)(L.Embedding(10, 3, mask_zero=True)(dec_in), initial_state=state,
                    mask=keras.ops.not_equal(dec_in, 0))
        return keras.Model([enc_in, dec_in], L.Dense(2)(y))
    if kind.startswith("one-step"):
        # One time step from given states, as a step model runs: the cells' single-step path ([h, x]
        # in one matMul). Nonzero states, so that the recurrent kernels get gradients too.
        inputs = keras.Input((1, SEQ[1]))
        states = [keras.Input((4,)) for _ in range(2 if cell is L.LSTM else 1)]
        y = make(4)(inputs, initial_state=states)
        return keras.Model([inputs, *states], L.Dense(2)(y))
    if kind.startswith("masked"):
        inputs = keras.Input((PADDED_IDS.shape[1],), dtype="int32")
        x = L.Embedding(10, 4, mask_zero=True)(inputs)
    else:
        inputs = keras.Input(SEQ)
        x = inputs
    if kind.endswith("bidirectional"):
        y = L.Bidirectional(make(4, return_sequences=True))(x)
    else:
        y = make(4, return_sequences=True)(x)
    if kind.startswith("masked"):
        # Keras leaves masked steps out of the loss (TF.js does not), so the masked sequence
        # ends in a last-step layer here: the mask acts inside the layers only.
        y = make(3)(y)
    return keras.Model(inputs, L.Dense(2)(y))


@pytest.mark.parametrize("kind", ["reset-after", "reset-before", "masked", "masked-reset-before", "bidirectional",
                                  "masked-bidirectional", "seq2seq", "seq2seq-reset-before",
                                  "lstm", "masked-lstm", "lstm-bidirectional", "seq2seq-lstm",
                                  "simple-rnn", "masked-simple-rnn", "seq2seq-simple-rnn",
                                  "one-step", "one-step-reset-before", "one-step-lstm", "one-step-simple-rnn"])
def test_one_sgd_step_matches_keras(kind, tmp_path):
    model = _fit_model(kind)
    rng = np.random.default_rng(3)
    if kind.startswith("seq2seq"):
        x = [rng.integers(0, 10, (4, 6)).astype(np.int32), PADDED_IDS]
    else:
        x = [PADDED_IDS if kind.startswith("masked") else rng.standard_normal((4, *SEQ)).astype(np.float32)]
    if kind.startswith("one-step"):
        x = [rng.standard_normal((4, *i.shape[1:])).astype(np.float32) for i in model.inputs]
    y = rng.standard_normal((4, *model.output_shape[1:])).astype(np.float32)
    step = fit_step(model, x, [y], tmp_path)
    classes = {l["class_name"] for l in _layers(json.loads((tmp_path / "export" / "model.json").read_text()))}
    print(f"fit {kind}: error {step.error:.2e}, change {step.change:.2e}, weights {step.weights}, {sorted(classes)}")
    assert step.error <= 1e-4, f"{step.worst}: {step.error:.3e}"
    assert step.change > 0
