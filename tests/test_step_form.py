"""The step form (`convert --step`, exporter/pipeline/step_form.py): a recurrent model with its
state carried as explicit inputs and outputs. Run in TF.js one token at a time (tests/step_run.mjs,
the states fed back), it gives at every step what Keras gives for the whole sequence."""

import json
import subprocess
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers as L

from exporter.errors import ExportError
from exporter.parity.runtime import REPO_ROOT
from exporter.pipeline import convert, write_layers_model
from exporter.pipeline.step_form import build_step_model

STEP_RUN = Path(__file__).with_name("step_run.mjs")
BOUND = 1e-4
VOCAB, STEPS, BATCH = 23, 30, 2

CELLS = {
    "simple_rnn": lambda units, **kw: L.SimpleRNN(units, **kw),
    "lstm": lambda units, **kw: L.LSTM(units, **kw),
    "gru": lambda units, **kw: L.GRU(units, **kw),  # reset_after=True: webnets' WebnetsGRU in TF.js
    "gru_reset_before": lambda units, **kw: L.GRU(units, reset_after=False, **kw),
}


def language_model(cell, layers=2, seed=0):
    """Embedding -> `layers` x (cell, Dropout) -> Dense softmax, with weights large enough that the
    state matters (the default initializers give near-uniform outputs)."""
    keras.utils.set_random_seed(seed)
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    x = L.Embedding(VOCAB, 8, name="embedding")(tokens)
    for i in range(layers):
        x = CELLS[cell](12 - 2 * i, return_sequences=True, name=f"rnn_{i + 1}")(x)
        x = L.Dropout(0.3, name=f"dropout_{i + 1}")(x)
    x = L.Dense(VOCAB, activation="softmax", name="next")(x)
    model = keras.Model(tokens, x, name=f"{cell}_lm")
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.6, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def run_steps(model_dir, ids, backend, work):
    """The step model in `model_dir` run one token at a time in TF.js: (steps, batch, ...) outputs."""
    work = Path(work)
    ids = np.ascontiguousarray(ids, np.int32)
    ids.tofile(work / "tokens.bin")
    request = {"dir": str(Path(model_dir).absolute()), "backend": backend, "out": str(work / f"out_{backend}"),
               "tokens": {"path": str(work / "tokens.bin"), "shape": list(ids.shape), "dtype": "int32"}}
    (work / "request.json").write_text(json.dumps(request))
    proc = subprocess.run(["node", str(STEP_RUN), str(work / "request.json")], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((work / f"out_{backend}" / "result.json").read_text())
    assert result["backend"] == backend
    outputs = np.fromfile(work / f"out_{backend}" / "outputs.bin", np.float32)
    return outputs.reshape([result["steps"], *result["step_shape"]])


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_step_model_one_token_at_a_time_matches_keras_on_the_whole_sequence(cell, tmp_path):
    model = language_model(cell)
    ids = np.random.default_rng(1).integers(0, VOCAB, (BATCH, STEPS)).astype(np.int32)
    expected = np.asarray(model(ids, training=False))  # (batch, steps, vocab)
    step = build_step_model(model)
    assert [t.name for t in step.inputs] == ["tokens", "rnn_1_h", *(["rnn_1_c"] if cell == "lstm" else []),
                                             "rnn_2_h", *(["rnn_2_c"] if cell == "lstm" else [])]
    (tmp_path / "export").mkdir()
    written = write_layers_model(step, tmp_path / "export", log=lambda *_: None)
    # Every recurrent layer is a webnets class (webnets-layers.js), whatever the cell.
    assert [r["file"] for r in written.requires] == ["webnets-layers.js"]
    # Keras' own step model, fed its states, first: the rebuild shares the weights exactly.
    states = [np.zeros((BATCH, t.shape[1]), np.float32) for t in step.inputs[1:]]
    keras_steps = []
    for t in range(STEPS):
        out, *states = [np.asarray(o) for o in step([ids[:, t:t + 1], *states], training=False)]
        keras_steps.append(out[:, 0])
    assert np.max(np.abs(np.stack(keras_steps, 1) - expected)) <= 1e-6
    for backend in ("wasm", "cpu"):
        tfjs = run_steps(tmp_path / "export", ids, backend, tmp_path)  # (steps, batch, 1, vocab)
        per_step = np.abs(tfjs[:, :, 0] - expected.transpose(1, 0, 2)).max(axis=(1, 2))
        print(f"{cell} {backend}: max |step - sequence| {per_step.max():.2e} over {STEPS} steps")
        assert per_step.max() <= BOUND, (backend, per_step)
        # The state carries: the outputs differ from step to step for the same token.
        assert np.ptp(expected, axis=1).max() > 0.05


def test_convert_step_writes_a_verified_step_model(tmp_path):
    model = language_model("lstm", layers=1)
    model.save(tmp_path / "lm.keras")
    meta = convert(tmp_path / "lm.keras", tmp_path / "out", step=True, log=lambda *_: None)
    assert meta["form"] == "step" and meta["parity"]["passed"]
    assert [i["name"] for i in meta["inputs"]] == ["tokens", "rnn_1_h", "rnn_1_c"]
    assert len(meta["outputs"]) == 3
    ids = np.random.default_rng(2).integers(0, VOCAB, (1, 12)).astype(np.int32)
    tfjs = run_steps(tmp_path / "out", ids, "wasm", tmp_path)
    assert np.abs(tfjs[:, 0, 0] - np.asarray(model(ids))[0]).max() <= BOUND


def test_the_cli_has_a_step_option():
    from exporter.cli import build_parser

    args = build_parser().parse_args(["convert", "a.keras", "out", "--step"])
    assert args.step is True
    assert build_parser().parse_args(["convert", "a.keras", "out"]).step is False


def _sequence(*middle, embedding=None):
    tokens = keras.Input((None,), dtype="int32")
    x = (embedding or L.Embedding(VOCAB, 4))(tokens)
    for layer in middle:
        x = layer(x)
    return keras.Model(tokens, L.Dense(3)(x))


@pytest.mark.parametrize("model, words", [
    (lambda: _sequence(L.Bidirectional(L.LSTM(4, return_sequences=True))), "both directions"),
    (lambda: _sequence(L.Conv1D(4, 3, padding="causal"), L.GRU(4, return_sequences=True)), "Conv1D"),
    (lambda: _sequence(L.LSTM(4, return_sequences=True), embedding=L.Embedding(VOCAB, 4, mask_zero=True)),
     "mask_zero"),
    (lambda: _sequence(L.SimpleRNN(4, return_sequences=True, go_backwards=True)), "go_backwards"),
    (lambda: _sequence(L.Dense(4)), "no SimpleRNN, LSTM or GRU"),
    (lambda: _sequence(L.LSTM(4), L.RepeatVector(3), L.LSTM(4, return_sequences=True)), "last output only"),
])
def test_what_the_step_form_cannot_express_is_refused(model, words):
    with pytest.raises(ExportError) as error:
        build_step_model(model())
    message = str(error.value)
    assert words in message and "Fix:" in message, message


@pytest.mark.parametrize("name", ["simple_rnn", "lstm", "gru"])
def test_the_committed_demo_step_models_match_their_sequence_models(name, tmp_path):
    """web_demo/models/NAME_step/ (written by `python -m exporter.zoo.export --step-from-export`):
    its parent names it, and one character at a time in TF.js it gives what Keras, holding the
    committed export's weights, gives for the whole text."""
    from exporter.browser.chromium import WEB_DEMO
    from exporter.zoo.export import keras_from_export
    from models.data import moby_dick

    root = WEB_DEMO / "models"
    parent = json.loads((root / name / "meta.json").read_text())
    assert parent["step"] == {"name": f"{name}_step", "model": f"{name}_step/model.json",
                              "meta": f"{name}_step/meta.json"}
    step_meta = json.loads((root / f"{name}_step" / "meta.json").read_text())
    assert step_meta["form"] == "step" and step_meta["parity"]["passed"] and step_meta["parent"] == name
    assert (root / f"{name}_step" / "model.js").is_file()
    model, _ = keras_from_export(name, root)
    ids = np.asarray([moby_dick.VOCABULARY.index(c) for c in "call me ishmael. some years ago--never mind how"],
                     np.int32)[None]
    expected = np.asarray(model(ids))[0]
    for backend in ("wasm", "cpu"):
        tfjs = run_steps(root / f"{name}_step", ids, backend, tmp_path)[:, 0, 0]
        error = float(np.abs(tfjs - expected).max())
        print(f"demo {name}_step {backend}: max |step - sequence| {error:.2e} over {ids.shape[1]} steps")
        assert error <= BOUND


def test_export_step_model_writes_the_zoo_form(tmp_path):
    """What `export simple_rnn|lstm|gru` adds: OUT/NAME_step/ with model.js, golden vectors whose
    states are not zeros, and the state names in meta.json."""
    from models import zoo

    from exporter.zoo.export import export_step_model

    spec = zoo.get("lstm")
    model = spec.build("demo")
    meta = export_step_model(spec, model, tmp_path, log=lambda *_: None)
    assert meta["name"] == "lstm_step" and meta["states"] == ["lstm_1_h", "lstm_1_c"]
    assert (tmp_path / "lstm_step" / "model.js").is_file() and meta["parity"]["passed"]
    golden_states = meta["golden"]["inputs"][1]["data"]
    assert max(abs(v) for v in golden_states) > 0


def test_export_of_a_language_model_writes_its_step_model_beside_it(tmp_path):
    """`export simple_rnn --weights FILE`: OUT/simple_rnn/ names OUT/simple_rnn_step/, which has no
    index.json row (it is no card of its own)."""
    from exporter.browser.chromium import WEB_DEMO
    from exporter.zoo import export_model
    from exporter.zoo.export import keras_from_export

    model, _ = keras_from_export("simple_rnn", WEB_DEMO / "models")
    model.save(tmp_path / "w.keras")
    meta = export_model("simple_rnn", out_root=tmp_path / "models", weights=str(tmp_path / "w.keras"), quick=True,
                        log=lambda *_: None)
    assert meta["step"]["model"] == "simple_rnn_step/model.json"
    step = json.loads((tmp_path / "models" / "simple_rnn_step" / "meta.json").read_text())
    assert step["parity"]["passed"] and step["quantization"] == meta["quantization"]
    index = json.loads((tmp_path / "models" / "index.json").read_text())
    assert [m["name"] for m in index["models"]] == ["simple_rnn"]
