"""`webnets import`: TF.js layers models back into Keras 3 .keras files, checked in the real runtimes.

Models are exported by webnets, trained a few SGD steps in TF.js (Node, tests/fit_and_save.mjs)
and saved as a page's model.save would; the official converter's exports of tf_keras models
(float32 and uint8) are imported too. Every import is verified against TF.js by the importer
itself; the tests re-check the written file after loading it with safe_mode=True.
"""

import functools
import http.server
import json
import subprocess
import sys
import threading

import keras
import numpy as np
import pytest

import exporter
from exporter.errors import ExportError, UnsupportedLayerError
from exporter.importer import import_model
from exporter.parity.compare import keras_outputs, run_tfjs, sample_inputs
from exporter.parity.runtime import REPO_ROOT
from exporter.parity.tolerances import FLOAT32_BOUND, max_relative_error
from exporter.runtime import RUNTIME_FILE

from .fit_helper import fit_and_save

QUIET = dict(log=lambda *_: None)

def _cnn():
    inputs = keras.Input((12, 12, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(6, 3)(x)
    x = keras.layers.AveragePooling2D(2)(x)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(5, activation="softmax")(x))


def _lstm():
    return keras.Sequential([keras.Input((7,), dtype="int32"), keras.layers.Embedding(20, 8),
                             keras.layers.LSTM(6), keras.layers.Dense(3)])


def _webnets_classes():
    inputs = keras.Input((6, 8))
    x = keras.layers.GroupNormalization(groups=2)(inputs)
    x = keras.layers.GRU(5, return_sequences=True)(x)  # reset_after=True: WebnetsGRU
    x = keras.layers.LayerNormalization(rms_scaling=True)(x)
    x = keras.layers.UnitNormalization()(x)
    x = keras.layers.LayerNormalization(center=False)(x)
    return keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x)))


def _check_file(path, tfjs_dir, inputs, runtime=None):
    """The .keras file, loaded safely, predicts what TF.js predicts on tfjs_dir."""
    loaded = keras.saving.load_model(path, safe_mode=True)
    job = run_tfjs(tfjs_dir, inputs, runtime=runtime)
    assert job.error is None, job.error
    error = max_relative_error(keras_outputs(loaded, inputs), job.outputs)
    assert error <= FLOAT32_BOUND, error
    return loaded, error


def _inputs(model, rng, batch=4):
    shape = (batch, *model.inputs[0].shape[1:])
    if "int" in str(model.inputs[0].dtype):
        return rng.integers(0, 20, shape).astype(np.int32)
    return rng.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("build", [_cnn, _lstm, _webnets_classes], ids=["cnn", "embedding_lstm", "webnets_classes"])
def test_trained_in_tfjs_round_trip(build, tmp_path):
    keras.utils.set_random_seed(0)
    model = build()
    rng = np.random.default_rng(0)
    x = _inputs(model, rng)
    y = rng.random((4, *model.outputs[0].shape[1:])).astype(np.float32)
    exporter.export_keras_model(model, tmp_path / "export", optimize=False, **QUIET)
    saved = tmp_path / "saved"
    fit_and_save(tmp_path / "export", saved, x, y)

    summary = import_model(saved, tmp_path / "model.keras", **QUIET)
    assert summary["parity"]["max_rel_error"] <= FLOAT32_BOUND
    # A browser download has no webnets-layers.js beside it; the check registers webnets' own.
    runtime = str(RUNTIME_FILE) if "Webnets" in (saved / "model.json").read_text() else None
    loaded, _ = _check_file(tmp_path / "model.keras", saved, [x], runtime=runtime)
    assert type(loaded) is type(model)
    assert [w.shape for w in loaded.weights] == [w.shape for w in model.weights]
    moved = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in zip(loaded.weights, model.weights))
    assert moved > 1e-4  # the TF.js training is in the imported weights
    if build is _webnets_classes:
        kinds = {type(l).__name__: l for l in loaded.layers}
        assert kinds["GRU"].reset_after
        assert [l.rms_scaling for l in loaded.layers if isinstance(l, keras.layers.LayerNormalization)] == [True, False]
        assert {"GroupNormalization", "UnitNormalization"} <= set(kinds)


def test_webnets_export_round_trip_keeps_predictions(tmp_path):
    """An optimized webnets export (BatchNorm folded, lowered pieces) imports as the tfjs layers it holds."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input((10, 4))
    x = keras.layers.Conv1D(5, 3, padding="causal")(inputs)  # lowered: ZeroPadding + Conv1D
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Subtract()([x, keras.layers.Dense(5)(inputs)])  # lowered: Rescaling + Add
    x = keras.layers.Activation("leaky_relu")(x)
    model = keras.Model(inputs, keras.layers.GlobalMaxPooling1D()(x))
    exporter.export_keras_model(model, tmp_path / "export", **QUIET)
    import_model(tmp_path / "export", tmp_path / "m.keras", **QUIET)
    x = np.random.default_rng(0).standard_normal((3, 10, 4)).astype(np.float32)
    loaded, _ = _check_file(tmp_path / "m.keras", tmp_path / "export", [x])
    assert max_relative_error(keras_outputs(loaded, [x]), keras_outputs(model, [x])) <= FLOAT32_BOUND


L = keras.layers


def _recurrent_wrappers():
    inputs = keras.Input((6, 4))
    x = L.Bidirectional(L.LSTM(3, return_sequences=True))(inputs)
    x = L.TimeDistributed(L.Dense(2))(x)
    x = L.GRU(3, reset_after=False, return_sequences=True)(x)  # tfjs' own GRU
    return keras.Model(inputs, L.SimpleRNN(3)(x))


def _initial_state():
    inputs, state = keras.Input((6, 4)), keras.Input((3,))
    return keras.Model([inputs, state], L.SimpleRNN(3)(inputs, initial_state=[state]))


def _grouped_and_resized():
    inputs = keras.Input((8, 8, 4))
    x = L.Conv2D(6, 3, groups=2)(inputs)  # WebnetsGroupedConv
    x = L.Resizing(5, 6)(x)  # WebnetsResizing
    x = L.UpSampling2D(interpolation="bilinear")(x)  # WebnetsUpSampling2D
    x = L.CenterCrop(12, 12)(x)
    return keras.Model(inputs, L.Conv1D(4, 2, groups=2)(L.Reshape((144, 6))(x)))


def _masked():
    tokens = keras.Input((7,), dtype="int32")
    x = L.Embedding(10, 4, mask_zero=True)(tokens)
    return keras.Model(tokens, [L.GlobalAveragePooling1D()(x), L.GRU(3)(x)])  # WebnetsGlobalAveragePooling1D


def _activations_and_lowered():
    inputs = keras.Input((8, 8, 3))
    x = L.Rescaling(1 / 255.0, offset=-0.5)(inputs)
    x = L.ZeroPadding2D(1)(x)
    x = L.Cropping2D(2)(x)
    x = L.SeparableConv2D(4, 3, activation="relu")(x)
    x = L.DepthwiseConv2D(3, depth_multiplier=2, activation="hard_silu")(x)
    x = L.Conv2DTranspose(3, 2, strides=2)(x)
    x = L.PReLU()(x)
    x = L.ELU(0.5)(x)
    x = L.LeakyReLU(0.2)(x)
    x = L.ReLU(max_value=6.0)(x)
    x = L.Permute((2, 1, 3))(x)
    a, b = L.Dense(3, activation="gelu")(x), L.Dense(3, activation="swish")(x)
    x = L.Concatenate()([L.Maximum()([a, b]), L.Multiply()([a, b]), L.Average()([a, b])])
    x = L.Softmax()(x)
    return keras.Model(inputs, L.Dense(2, activation="hard_sigmoid")(L.Flatten()(x)))


def _attention():
    query, value = keras.Input((5, 8)), keras.Input((3, 6))
    x = L.MultiHeadAttention(2, 4, value_dim=3, output_shape=(7,))(query, value)
    y = L.MultiHeadAttention(2, 4)(query, query, use_causal_mask=True)
    z, scores = L.MultiHeadAttention(2, 4)(query, value, value, return_attention_scores=True)
    wide = L.Dense(8)(value)
    dot = L.Attention(use_scale=True, score_mode="concat")([query, wide])  # WebnetsAttention
    additive, additive_scores = L.AdditiveAttention()([query, wide, wide], return_attention_scores=True,
                                                      use_causal_mask=True)
    return keras.Model([query, value], [x, y, z, scores, dot, additive, additive_scores])


def _einsum_dense():
    inputs = keras.Input((5, 8))
    return keras.Model(inputs, [L.EinsumDense("abc,cd->abd", (5, 3), bias_axes="d", activation="relu")(inputs),
                                L.EinsumDense("abc,cde->abde", (5, 2, 4), bias_axes="b")(inputs),
                                L.EinsumDense("abc,bcd->ad", (6,))(inputs)])


@pytest.mark.parametrize("build", [_recurrent_wrappers, _initial_state, _grouped_and_resized, _masked,
                                   _activations_and_lowered, _attention, _einsum_dense])
def test_webnets_exports_import(build, tmp_path):
    """webnets' own exports (optimized: BatchNorm folded, lowered pieces, Webnets* classes) come back
    as Keras models predicting what TF.js and the original Keras model predict."""
    keras.utils.set_random_seed(0)
    model = build()
    exporter.export_keras_model(model, tmp_path / "export", **QUIET)
    summary = import_model(tmp_path / "export", tmp_path / "m.keras", **QUIET)
    assert summary["parity"]["max_rel_error"] <= FLOAT32_BOUND
    inputs = sample_inputs(model, batch=3, seed=5)
    loaded, _ = _check_file(tmp_path / "m.keras", tmp_path / "export", inputs)
    assert max_relative_error(keras_outputs(loaded, inputs), keras_outputs(model, inputs)) <= FLOAT32_BOUND


def test_imports_from_a_url(tmp_path):
    export = _webnets_cnn_export(tmp_path / "export")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/export/"
        summary = import_model(url, tmp_path / "url.keras", **QUIET)
    finally:
        server.shutdown()
        server.server_close()
    assert summary["parity"]["max_rel_error"] <= FLOAT32_BOUND
    x = np.random.default_rng(4).standard_normal((2, 12, 12, 3)).astype(np.float32)
    _check_file(tmp_path / "url.keras", export, [x])


def _official_export(out, quantization=None, branch="tk.layers.Conv2D(3, 1)"):
    code = f"""
import numpy as np, tf_keras as tk
from exporter import official
from tensorflowjs.converters import keras_h5_conversion as conv
tk.utils.set_random_seed(0)
inputs = tk.Input((10, 10, 2))
x = tk.layers.Conv2D(3, 3, activation="relu")(inputs)
x = tk.layers.BatchNormalization()(x)
x = tk.layers.DepthwiseConv2D(3, padding="same")(x)
y = {branch}(x)
x = tk.layers.Add()([x, y])
x = tk.layers.GlobalAveragePooling2D()(x)
m = tk.Model(inputs, tk.layers.Dense(4, activation="softmax")(x))
bn = m.layers[2]
bn.set_weights([np.random.rand(*w.shape).astype("float32") + 0.5 for w in bn.get_weights()])
conv.save_keras_model(m, {str(out)!r}, quantization_dtype_map={quantization!r})
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.parametrize("quantization", [None, {"uint8": "*"}, {"float16": "*"}], ids=["float32", "uint8", "float16"])
def test_official_tfjs_export_of_tf_keras(quantization, tmp_path):
    _official_export(tmp_path / "official", quantization)
    summary = import_model(tmp_path / "official", tmp_path / "m.keras", **QUIET)
    assert summary["quantized_weights"] == (0 if quantization is None else 12)
    x = np.random.default_rng(2).standard_normal((3, 10, 10, 2)).astype(np.float32)
    _check_file(tmp_path / "m.keras", tmp_path / "official", [x])


def test_refuses_what_tfjs_itself_cannot_load(tmp_path):
    """The official converter writes tf_keras' SeparableConv2D with kernel_* keys that TF.js 4.22 rejects:
    there is nothing to verify against, so the import stops with TF.js' own words."""
    _official_export(tmp_path / "official", branch='tk.layers.SeparableConv2D(3, 3, padding="same")')
    with pytest.raises(exporter.ParityError, match="TF.js could not run .* itself .*SeparableConv2D.*Fix:"):
        import_model(tmp_path / "official", tmp_path / "m.keras", **QUIET)
    assert not (tmp_path / "m.keras").exists()


def _webnets_cnn_export(root):
    keras.utils.set_random_seed(0)
    exporter.export_keras_model(_cnn(), root, optimize=False, **QUIET)
    return root


def test_refuses_a_graph_model_and_a_non_model(tmp_path):
    graph = tmp_path / "graph"
    graph.mkdir()
    (graph / "model.json").write_text(json.dumps({"format": "graph-model", "modelTopology": {"node": []},
                                                  "weightsManifest": []}))
    with pytest.raises(ExportError, match="graph model.*Fix: import the layers-format"):
        import_model(graph, tmp_path / "g.keras", **QUIET)
    (graph / "model.json").write_text(json.dumps({"hello": "world"}))
    with pytest.raises(ExportError, match="not a TF.js layers model.*Fix:"):
        import_model(graph, tmp_path / "g.keras", **QUIET)
    (graph / "model.json").write_text("not json")
    with pytest.raises(ExportError, match="not JSON"):
        import_model(graph, tmp_path / "g.keras", **QUIET)
    assert not (tmp_path / "g.keras").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["graph"]


def test_refuses_an_unknown_class_and_an_unmappable_option(tmp_path):
    export = _webnets_cnn_export(tmp_path / "export")
    original = json.loads((export / "model.json").read_text())
    layers = original["modelTopology"]["model_config"]["config"]["layers"]

    flatten = next(l for l in layers if l["class_name"] == "Flatten")
    flatten["class_name"] = "MyCustomFlatten"
    (export / "model.json").write_text(json.dumps(original))
    with pytest.raises(UnsupportedLayerError) as caught:
        import_model(export, tmp_path / "m.keras", **QUIET)
    message = str(caught.value)
    assert f"Layer '{flatten['config']['name']}' (MyCustomFlatten)" in message
    assert "Fix:" in message and "\n" not in message
    flatten["class_name"] = "Flatten"

    conv = next(l for l in layers if l["class_name"] == "Conv2D")
    conv["config"]["activation"] = "gelu_new"
    (export / "model.json").write_text(json.dumps(original))
    with pytest.raises(UnsupportedLayerError, match=r"\(Conv2D\): activation='gelu_new': tfjs' gelu_new is the tanh"):
        import_model(export, tmp_path / "m.keras", **QUIET)
    conv["config"]["activation"] = "relu"
    conv["config"]["fancy_option"] = 3
    (export / "model.json").write_text(json.dumps(original))
    with pytest.raises(UnsupportedLayerError, match="option fancy_option=3 has no counterpart"):
        import_model(export, tmp_path / "m.keras", **QUIET)
    conv["config"].pop("fancy_option")

    for build, refused in [(lambda i: L.EinsumDense("...b,bc->...c", (3,))(i), "WebnetsEinsumDense"),
                           (lambda i: keras.ops.mean(i, axis=1), "WebnetsOperation")]:
        inputs = keras.Input((5, 8))
        exporter.export_keras_model(keras.Model(inputs, build(inputs)), tmp_path / refused, **QUIET)
        with pytest.raises(UnsupportedLayerError, match=rf"\({refused}\): .*Fix:"):
            import_model(tmp_path / refused, tmp_path / "m.keras", **QUIET)
    assert not (tmp_path / "m.keras").exists()
    assert not list(tmp_path.glob(".m.tmp-*"))


def test_refuses_to_overwrite_without_force(tmp_path):
    export = _webnets_cnn_export(tmp_path / "export")
    out = tmp_path / "m.keras"
    out.write_bytes(b"keep me")
    with pytest.raises(ExportError, match="already exists.*--force"):
        import_model(export, out, **QUIET)
    assert out.read_bytes() == b"keep me"
    import_model(export, out, force=True, **QUIET)
    keras.saving.load_model(out, safe_mode=True)


def test_cli(tmp_path):
    export = _webnets_cnn_export(tmp_path / "export")
    out = tmp_path / "cli.keras"
    proc = subprocess.run([sys.executable, "-m", "exporter", "import", str(export), str(out)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "max relative error" in proc.stdout and proc.stderr == ""
    x = np.random.default_rng(3).standard_normal((2, 12, 12, 3)).astype(np.float32)
    _check_file(out, export, [x])
    again = subprocess.run([sys.executable, "-m", "exporter", "import", str(export), str(out)], cwd=REPO_ROOT,
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 1 and again.stderr.startswith("error: ") and "--force" in again.stderr
    assert again.stderr.count("\n") <= 3  # one wrapped paragraph
