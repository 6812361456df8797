"""keras-hub models (tests/keras_hub_corpus.py) converted to TF.js layers models: parity on WASM and CPU at
several sequence lengths, a training step in TF.js that matches Keras, every keras-hub translator
exercised, and a file saved with keras-hub converted from the command line with --import keras_hub.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from exporter.layers import TRANSLATORS, translate_model
from exporter.layers.translators import registered_name
from exporter.parity.runtime import REPO_ROOT
from exporter.parity.tolerances import FLOAT32_BOUND

from .fit_helper import fit_step
from .keras_hub_corpus import CORPUS, MAX_LENGTH, token_inputs, token_encoder_classifier
from .parity_helper import Case, assert_parity, run_cases

# The models that take token sequences of any length (the keras.io ones declare their 16 steps).
TEXT = [name for name in CORPUS if name not in ("vit_classifier", "resnet_classifier", "token_encoder_classifier",
                                                "gpt_style_decoder")]
LENGTHS = {"wasm": 7, "cpu": 7, "short": 3, "longest": MAX_LENGTH}


def cases(length):
    return [Case(name, build, inputs=lambda model, n=length: token_inputs(model, n)) for name, build in CORPUS.items()]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """{run: {case id: Result}}: every model at 7 tokens on WASM and CPU, the text models at 3 and 16 (WASM)."""
    out = {"wasm": run_cases(cases(7), tmp_path_factory.mktemp("hub-wasm"))}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WEBNETS_TFJS_BACKEND", "cpu")
        out["cpu"] = run_cases(cases(7), tmp_path_factory.mktemp("hub-cpu"))
    for run in ("short", "longest"):
        out[run] = run_cases([c for c in cases(LENGTHS[run]) if c.id in TEXT], tmp_path_factory.mktemp(f"hub-{run}"))
    return out


@pytest.mark.parametrize("name", list(CORPUS))
@pytest.mark.parametrize("run", ["wasm", "cpu"])
def test_keras_hub_model_matches_keras(results, run, name):
    result = results[run][name]
    assert_parity(result)
    assert result.backend == run


@pytest.mark.parametrize("name", TEXT)
@pytest.mark.parametrize("run", ["short", "longest"])
def test_text_models_take_any_length_up_to_their_maximum(results, run, name):
    assert_parity(results[run][name])
    model_json = results[run][name].model_json
    first_input = model_json["modelTopology"]["model_config"]["config"]["layers"][0]["config"]
    assert first_input["batch_input_shape"] == [None, None]


def _library_layers(layer):
    """Every layer inside a model or layer, sublayers of keras-hub's blocks included."""
    return [layer, *layer._flatten_layers(include_self=False, recursive=True)]


def test_every_keras_hub_translator_is_exercised_by_the_corpus():
    keras.utils.set_random_seed(0)
    used = {registered_name(layer) for build in CORPUS.values() for layer in _library_layers(build())}
    library = {key for key in TRANSLATORS if ">" in key or "." in key}
    # The Llama decoder's rotary layer (a RotaryEmbedding subclass) shares RotaryEmbedding's translator.
    used.add("keras_hub>RotaryEmbedding")
    # The tokenizers take strings: tests/test_tokenizers.py exports models with each of them.
    used |= {"keras_hub>WordPieceTokenizer", "keras_hub>BytePairTokenizer", "keras_hub>SentencePieceTokenizer"}
    # The packers, and the tokenizer feeding them: tests/test_hub_preprocessors.py exports each option.
    used |= {"keras_hub>StartEndPacker", "keras_hub>MultiSegmentPacker", "webnets>RaggedTokenizer"}
    assert library <= used, f"keras-hub translators without a corpus model: {sorted(library - used)}"


def test_the_gpt2_head_shares_one_embedding_with_the_input():
    """GPT2CausalLM projects its logits with the backbone's token embedding, reversed: one TF.js layer,
    called twice, one weight (the nested backbone is inlined so that the layer is not duplicated)."""
    keras.utils.set_random_seed(0)
    config, weights = translate_model(CORPUS["gpt2_causal_lm"]())
    layers = config["config"]["layers"]
    embedding = [layer for layer in layers if layer["name"] == "token_embedding"]
    assert len(embedding) == 1 and len(embedding[0]["inbound_nodes"]) == 2
    assert [name for name, _ in weights].count("token_embedding/embeddings") == 1


def _freeze_key_biases(model):
    """A key bias cannot change a softmax over keys (it adds q.b to a whole row of scores), so its true
    gradient is 0 and its update only rounding noise; it is left out of the comparison."""
    for layer in _library_layers(model):
        dense = getattr(layer, "_key_dense", None)
        if dense is not None and getattr(dense, "bias", None) is not None:
            dense.bias.trainable = False
    return model


def test_one_sgd_step_of_a_keras_hub_encoder_in_tfjs_matches_keras(tmp_path):
    keras.utils.set_random_seed(3)
    model = _freeze_key_biases(token_encoder_classifier())
    inputs = token_inputs(model, MAX_LENGTH, batch=3, seed=3)
    targets = np.random.default_rng(3).standard_normal((3, *model.output.shape[1:])).astype("float32")
    step = fit_step(model, inputs, [targets], tmp_path, lr=0.2)
    assert step.weights >= 10 and step.change > 1e-6, step
    assert step.error <= FLOAT32_BOUND, f"{step.worst}: update differs by {step.error:.2e}"


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "exporter", *map(str, args)], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=600)


def test_a_saved_keras_hub_task_converts_from_the_command_line(tmp_path):
    # Keras itself imports keras-hub's modules for a file that names them (its first-party packages).
    keras.utils.set_random_seed(1)
    CORPUS["gpt2_causal_lm"]().save(tmp_path / "gpt2.keras")
    done = _cli("convert", tmp_path / "gpt2.keras", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    meta = json.loads((tmp_path / "out" / "meta.json").read_text())
    assert meta["parity"]["max_rel_error"] <= FLOAT32_BOUND
    assert {i["name"] for i in meta["inputs"]} == {"token_ids", "padding_mask"}

    # Where keras_hub cannot be imported, the error names it and the option, not a damaged file.
    shadow = tmp_path / "shadow" / "keras_hub"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'keras_hub'\")\n")
    refused = subprocess.run([sys.executable, "-m", "exporter", "convert", str(tmp_path / "gpt2.keras"),
                              str(tmp_path / "no")], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
                             env={**os.environ, "PYTHONPATH": str(shadow.parent)})
    message = " ".join(refused.stderr.split())
    assert refused.returncode == 1, refused.stderr
    assert "from the module(s) keras_hub, which were not imported" in message and "--import keras_hub" in message
    assert "saved by Keras 3" not in message and not (tmp_path / "no").exists()
