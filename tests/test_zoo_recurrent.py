"""The recurrent family: SimpleRNN, LSTM and GRU character language models on Moby-Dick.
Exact parameter counts, the 1/4 : 3/4 : 1 recurrent-layer ratios of the demo models,
quick training that lowers the loss, and TF.js parity of each quick-trained demo model."""

import numpy as np
import pytest

from exporter.parity.tolerances import FLOAT32_BOUND
from models import zoo
from models.data import moby_dick
from models.recurrent import PRESETS, VOCAB_SIZE, copy_from_twin, recurrent_layers, training_twin

NAMES = ("simple_rnn", "lstm", "gru")


@pytest.fixture(scope="module")
def quick_trained():
    """name -> (model, TrainResult) after quick training; shared so each model trains once."""
    cache = {}

    def get(name):
        if name not in cache:
            spec = zoo.get(name)
            model = spec.build("demo")
            cache[name] = model, spec.train(model, quick=True, log=lambda *_: None)
        return cache[name]

    return get


def test_registered():
    assert set(NAMES) <= set(zoo.names())
    for name in NAMES:
        spec = zoo.get(name)
        assert spec.name == name and spec.family == "recurrent" and spec.task == "text-generation"
        assert spec.dataset == "moby-dick" and spec.metric_keys == ("bits_per_char",)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("preset", ["paper", "demo"])
def test_parameter_counts(name, preset):
    spec = zoo.get(name)
    model = zoo.build(name, preset=preset)
    assert model.count_params() == getattr(spec, f"params_{preset}")
    config = PRESETS[preset]
    assert len(recurrent_layers(model)) == config.num_layers
    assert model.output_shape == (None, None, VOCAB_SIZE)


def test_paper_preset_is_char_rnn_2x512():
    assert (PRESETS["paper"].num_layers, PRESETS["paper"].units) == (2, 512)
    # char-rnn's blog: "2-layer LSTM with 512 hidden nodes (approx. 3.5 million parameters)"
    assert 3.0e6 < zoo.get("lstm").params_paper < 3.5e6


@pytest.mark.parametrize("preset", ["paper", "demo"])
def test_recurrent_layer_ratios(preset):
    counts = {name: [layer.count_params() for layer in recurrent_layers(zoo.build(name, preset=preset))]
              for name in NAMES}
    for lstm, gru, rnn in zip(counts["lstm"], counts["gru"], counts["simple_rnn"]):
        assert 4 * gru == 3 * lstm
        assert 4 * rnn == lstm


def test_gru_is_the_tfjs_kind():
    (layer,) = recurrent_layers(zoo.build("gru"))
    assert layer.reset_after is False


@pytest.mark.parametrize("name", NAMES)
def test_training_twin_computes_the_same_function(name):
    """Training runs on the hoisted twin; the stock model gets its weights back unchanged."""
    model = zoo.build(name)
    twin = training_twin(model)
    tokens = np.random.default_rng(0).integers(0, VOCAB_SIZE, (3, 37)).astype(np.int32)
    np.testing.assert_allclose(twin.predict(tokens, verbose=0), model.predict(tokens, verbose=0), atol=1e-6)
    rng = np.random.default_rng(1)
    for variable in twin.trainable_variables:  # as if trained
        variable.assign(variable.numpy() + rng.normal(0, 0.05, variable.shape).astype(np.float32))
    before = model.predict(tokens, verbose=0)
    copy_from_twin(twin, model)
    after = model.predict(tokens, verbose=0)
    assert np.abs(after - before).max() > 1e-3
    np.testing.assert_allclose(after, twin.predict(tokens, verbose=0), atol=1e-6)
    assert model.count_params() == getattr(zoo.get(name), "params_demo")


@pytest.mark.parametrize("name", NAMES)
def test_quick_training_lowers_the_loss(name, quick_trained):
    _, result = quick_trained(name)
    losses = result.losses
    assert len(losses) >= 20
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.2
    assert np.isfinite(result.metrics["bits_per_char"])
    assert result.metrics["bits_per_char"] < np.log2(VOCAB_SIZE)  # better than uniform guessing
    assert result.metrics["seconds_per_epoch"] > 0 and result.metrics["train_seconds"] > 0
    assert len(result.curves["loss"]) == len(result.curves["val_bits_per_char"]) == 1


@pytest.mark.parametrize("name", NAMES)
def test_demo_exports_with_tfjs_parity(name, quick_trained, tmp_path):
    from exporter.pipeline import export_keras_model

    model, _ = quick_trained(name)
    spec = zoo.get(name)
    golden = spec.golden_inputs(2)
    meta = export_keras_model(model, tmp_path / name, inputs=golden, log=lambda *_: None)
    assert meta["parity"]["max_rel_error"] <= FLOAT32_BOUND
    assert golden[0].dtype == np.int32 and golden[0].shape == (2, spec.golden_length)


def test_io_spec_matches_the_model():
    spec = zoo.get("lstm")
    io = spec.io_spec()
    (tokens,) = io["inputs"]
    assert tokens["name"] == "tokens" and tokens["dtype"] == "int32" and tokens["shape"] == [None, None]
    assert tokens["preprocessing"]["vocabulary"] == "".join(io["labels"]) == moby_dick.VOCABULARY
    assert io["labels"][tokens["preprocessing"]["unknown"]] == moby_dick.UNKNOWN
    assert io["outputs"][0]["shape"] == [None, None, VOCAB_SIZE] == [None, None, len(io["labels"])]


def test_vocabulary_round_trip():
    assert len(set(moby_dick.VOCABULARY)) == len(moby_dick.VOCABULARY) == VOCAB_SIZE == 50
    sample = "Call me Ishmael. Some years ago\u2014never mind how long\u2019s \u201cprecisely\u201d?\n"
    ids = moby_dick.encode(sample)
    assert ids.dtype == np.int32 and len(ids) == len(sample)
    assert moby_dick.decode(ids) == "call me ishmael. some years ago-never mind how long's \"precisely\"?\n"
    assert moby_dick.UNKNOWN_INDEX not in ids
    assert moby_dick.decode(moby_dick.encode("a$b")) == "a" + moby_dick.UNKNOWN + "b"


def test_split_is_fixed_and_covers_the_book():
    train, held_out = moby_dick.load()
    text = moby_dick.read_text()
    assert len(train) + len(held_out) == len(text) == 1_190_317
    assert len(held_out) == 119_014 and moby_dick.decode(train[-1:]) == "\n"
    assert moby_dick.decode(train[:33]) == "chapter 1. loomings.\n\ncall me ish"
    # hard line wraps are joined, paragraph breaks kept
    assert moby_dick.decode(train[:300]).count("\n") == 2
    assert moby_dick.unwrap("a\nb\n\nc\n") == "a b\n\nc\n"
    assert moby_dick.decode(held_out).endswith("as it rolled five thousand years ago.\n")
    # almost every character of the book is in the vocabulary
    assert np.mean(np.concatenate([train, held_out]) == moby_dick.UNKNOWN_INDEX) < 1e-4
    x, y = moby_dick.windows(held_out, 100)
    assert x.shape == y.shape == ((len(held_out) - 1) // 100, 100)
    assert (x[:, 1:] == y[:, :-1]).all()  # y is x shifted by one character
    assert (x[1:, 0] == y[:-1, -1]).all()  # consecutive windows tile the text


def test_missing_text_names_npm_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(moby_dick, "DATA_FILE", tmp_path / "missing.txt")
    with pytest.raises(FileNotFoundError, match="npm ci"):
        moby_dick.read_text()
