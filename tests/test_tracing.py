"""A user's own layers (tests/user_layers.py) traced from keras.ops into TF.js: parity on WASM and CPU,
one SGD step in TF.js that moves their add_weight variables as Keras does, batch size left free,
refusals that name the construct and the line, and `convert --import` for files that name them.
"""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from exporter import convert
from exporter.errors import ExportError, UnsupportedLayerError
from exporter.layers import translate_model
from exporter.parity.runtime import REPO_ROOT
from exporter.parity.tolerances import FLOAT32_BOUND

from . import user_layers as U
from .fit_helper import fit_step
from .parity_helper import Case, parity_on_backends

L = keras.layers


def llama_block(length=6, drop_rate=0.1):
    """RMSNorm -> a residual with stochastic depth around a Dense -> SwiGLU, on (batch, length, 8)."""
    tokens = keras.Input((length, 8))
    x = U.RMSNorm(name="norm")(tokens)
    x = U.StochasticDepthResidual(8, rate=drop_rate, name="residual")(x)
    return keras.Model(tokens, U.SwiGLU(16, name="mlp")(x), name="llama_block")


def rotary():
    heads = keras.Input((5, 2, 8))
    return keras.Model(heads, U.RotaryEmbedding(name="rope")(heads))


def vit_patches():
    images = keras.Input((8, 8, 3))
    x = U.PatchEmbedding(4, 6, name="patches")(images)
    return keras.Model(images, L.Dense(3)(L.GlobalAveragePooling1D()(x)), name="vit_patches")


def shared_norm():
    """One traced layer called on two inputs: one nested TF.js model with two calls, one set of weights."""
    a, b = keras.Input((4, 8)), keras.Input((4, 8))
    norm = U.RMSNorm(name="shared_norm")
    return keras.Model([a, b], L.Add()([norm(a), norm(b)]))


def nested_in_sequential():
    return keras.Sequential([keras.Input((6,)), L.Dense(8), U.RMSNorm(name="seq_norm"), L.Dense(2)])


def randomize(model):
    """Move every variable off its initializer (ones / zeros would hide a wrong product)."""
    rng = np.random.default_rng(7)
    for v in model.weights:
        v.assign(rng.normal(0.5, 0.4, v.shape).astype("float32"))
    return model


CASES = [Case("llama_block", lambda: randomize(llama_block())),
         Case("llama_block_any_length", lambda: randomize(llama_block(None))),
         Case("rotary", rotary),
         Case("vit_patches", lambda: randomize(vit_patches())),
         Case("shared_norm", lambda: randomize(shared_norm())),
         Case("nested_in_sequential", lambda: randomize(nested_in_sequential()))]


wasm_results, cpu_results, test_parity_on_wasm, test_parity_on_cpu = parity_on_backends(CASES, "traced")




def _layers(model_json):
    return model_json["modelTopology"]["model_config"]["config"]["layers"]


def test_a_traced_layer_is_a_nested_graph_with_its_variables_as_weights(wasm_results):
    layers = {layer["name"]: layer for layer in _layers(wasm_results["llama_block"].model_json)}
    mlp = layers["mlp"]["config"]
    inner = {layer["class_name"] for layer in mlp["layers"]}
    assert layers["mlp"]["class_name"] == "Functional" and {"WebnetsVariable", "WebnetsOperation"} <= inner
    # The batch axis stays free, and so does the length where the model leaves it free.
    assert mlp["layers"][0]["config"]["batch_input_shape"] == [None, 6, 8]
    free = {layer["name"]: layer for layer in _layers(wasm_results["llama_block_any_length"].model_json)}
    assert free["mlp"]["config"]["layers"][0]["config"]["batch_input_shape"] == [None, None, 8]
    # The SwiGLU's three kernels and the norm's scale travel as weights with their Keras values.
    config, weights = translate_model(llama_block())
    names = {name for name, _ in weights}
    assert {"mlp__w1/value", "mlp__w2/value", "mlp__w3/value", "norm__scale/value",
            "residual__residual_inner/kernel"} <= names


def test_the_shared_layer_is_one_nested_model_called_twice(wasm_results):
    layers = _layers(wasm_results["shared_norm"].model_json)
    norm = [layer for layer in layers if layer["name"] == "shared_norm"]
    assert len(norm) == 1 and len(norm[0]["inbound_nodes"]) == 2


# The TF.js graph is the inference trace: what call() does only while training (stochastic depth
# dropping samples at random) is not in it, so the training step is compared without it.
@pytest.mark.parametrize("build", [lambda: llama_block(drop_rate=0.0), vit_patches], ids=["llama_block", "vit_patches"])
def test_one_sgd_step_in_tfjs_moves_the_traced_variables_as_keras(tmp_path, build):
    keras.utils.set_random_seed(5)
    rng = np.random.default_rng(5)
    model = randomize(build())
    x = rng.standard_normal((3, *model.input.shape[1:])).astype("float32")
    y = rng.standard_normal((3, *model.output.shape[1:])).astype("float32")
    step = fit_step(model, [x], [y], tmp_path, lr=0.05)
    assert step.weights >= 3 and step.change > 1e-4, step
    assert step.error <= FLOAT32_BOUND, f"{step.worst}: update differs by {step.error:.2e}"


@pytest.mark.parametrize("layer, expected", [
    (U.BranchesOnValues, r"branches in Python on a tensor's value.* at user_layers\.py:\d+ \(`if ops\.mean\(x\) > 0:`\)"),
    (U.UsesNumpy, r"converts a tensor to numpy.* at user_layers\.py:\d+"),
    (U.UsesCumsum, r"Cumsum.*webnets translates these ops"),
    (U.WeightsInAList, r"keeps the variable\(s\) s0, s1 in a container"),
], ids=["python-branch", "numpy", "unknown-op", "variables-in-a-list"])
def test_what_cannot_be_traced_is_refused_by_construct_and_line(layer, expected):
    inputs = keras.Input((4, 3))
    model = keras.Model(inputs, layer()(inputs))
    with pytest.raises(UnsupportedLayerError, match=expected) as error:
        translate_model(model)
    assert "Fix:" in str(error.value)


def test_keras_own_layer_without_translator_is_called_built_in_never_custom():
    from exporter.layers.translators import translator_for

    layer = L.Layer(name="plain")  # Keras' own base class: no translator, and not a user's code
    with pytest.raises(UnsupportedLayerError, match="built-in Keras layer class that webnets does not translate") as e:
        translator_for(layer)
    assert "custom" not in str(e.value)


# --- files naming a user's classes: --import ------------------------------------------------

@pytest.fixture(scope="module")
def saved_block(tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "llama_block.keras"
    keras.utils.set_random_seed(6)
    randomize(llama_block()).save(path)
    return path


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "exporter", *map(str, args)], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=600)


def test_a_file_naming_unimported_classes_says_which_module_to_import(saved_block, tmp_path):
    proc = _cli("convert", saved_block, tmp_path / "out")
    assert proc.returncode == 1, proc.stderr
    message = " ".join(proc.stderr.split())
    assert "not part of Keras: 'norm' (RMSNorm)" in message
    assert "from the module(s) tests.user_layers, which were not imported" in message
    assert "Fix: if you trust that code, pass --import tests.user_layers" in message
    assert "Traceback" not in proc.stderr and not (tmp_path / "out").exists()


def test_convert_with_import_traces_the_users_layers_and_verifies(saved_block, tmp_path):
    proc = _cli("convert", saved_block, tmp_path / "out", "--import", "tests.user_layers")
    assert proc.returncode == 0, proc.stderr
    meta = json.loads((tmp_path / "out" / "meta.json").read_text())
    assert meta["parity"]["max_rel_error"] <= FLOAT32_BOUND
    assert meta["requires"][0]["file"] == "webnets-layers.js"


def test_the_python_api_takes_imports_and_names_a_missing_module(saved_block, tmp_path):
    meta = convert(saved_block, tmp_path / "api", imports=["tests.user_layers"], log=lambda *_: None)
    assert meta["parity"]["max_rel_error"] <= FLOAT32_BOUND
    with pytest.raises(ExportError, match=r"--import no_such_module_webnets: the module could not be imported.*Fix:"):
        convert(saved_block, tmp_path / "missing", imports=["no_such_module_webnets"], log=lambda *_: None)
    assert not (tmp_path / "missing").exists()
