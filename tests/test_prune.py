"""`export --prune`: per-layer magnitude masks of exactly the requested sparsity, zeros that survive
the fine-tune and every quantization (in TF.js itself), transfers that shrink, bad options refused.

The end-to-end case exports the SqueezeNet demo trained with --quick into a temporary checkpoint
directory (the real checkpoints are never touched).
"""

import math

import keras
import numpy as np
import pytest

from exporter.errors import ExportError
from exporter.output import brotli_size, gzip_size
from exporter.parity.compare import run_tfjs
from exporter.pipeline import export_keras_model
from exporter.zoo import checkpoints
from exporter.zoo.prune import check_sparsity, magnitude_mask, prunable_kernels, prune
from tests.test_errors import assert_refused, error_paragraph_problems, run_cli


def _convnet():
    keras.utils.set_random_seed(3)
    inputs = keras.Input((12, 12, 1), name="image")
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="stem")(inputs)  # first: kept dense
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="body")(x)  # 1,152 weights: pruned
    x = keras.layers.Conv2D(8, 1, activation="relu", name="small")(x)  # 128 weights: too small to matter
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(2, activation="softmax", name="head")(x)  # last: kept dense
    return keras.Model(inputs, outputs, name="convnet")


def _bars(count, seed):
    """Vertical vs horizontal bars in noise: learnable by a small convnet in a few epochs."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, count)
    x = rng.normal(0, 0.3, (count, 12, 12, 1)).astype(np.float32)
    positions = rng.integers(2, 10, count)
    for i, (label, p) in enumerate(zip(labels, positions)):
        if label:
            x[i, :, p, 0] += 1.0
        else:
            x[i, p, :, 0] += 1.0
    return x, labels.astype(np.int32)


def test_masks_have_exactly_the_requested_sparsity():
    values = np.random.default_rng(0).normal(size=(3, 3, 16, 32)).astype(np.float32)
    for sparsity in (0.0, 0.3, 0.5, 0.9):
        mask = magnitude_mask(values, sparsity)
        assert int(np.sum(mask == 0)) == round(sparsity * values.size)
        if 0 < sparsity:
            assert np.max(np.abs(values[mask == 0])) <= np.min(np.abs(values[mask == 1]))


def test_which_kernels_are_pruned():
    assert [layer.name for layer, _ in prunable_kernels(_convnet())] == ["body"]


def test_fine_tune_keeps_the_zeros_and_recovers():
    model = _convnet()
    x, y = _bars(1024, 1)
    x_test, y_test = _bars(512, 2)
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=6, batch_size=32, verbose=0)

    def evaluate(m):
        return {"accuracy": float(np.mean(np.argmax(m.predict(x_test, verbose=0), -1) == y_test))}

    def fine_tune(callbacks):
        model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=callbacks)
        return 0.0

    pruned = prune(model, 0.75, fine_tune=fine_tune, evaluate=evaluate, log=lambda *a: None)
    record = pruned.record
    assert record["kernels"] == {"body/kernel": {"elements": 1152, "zeros": 864}}
    assert record["sparsity_of_pruned_kernels"] == 0.75
    assert record["sparsity_of_all_parameters"] == pytest.approx(864 / model.count_params())
    assert pruned.zeros_exact() and pruned.sparsity()["body/kernel"] == 0.75
    assert record["metrics_before"]["accuracy"] > 0.9
    assert record["metrics_after_fine_tune"]["accuracy"] >= record["metrics_before"]["accuracy"] - 0.05


@pytest.mark.parametrize("quantization", ["uint8", "uint16", "float16"])
def test_zeros_survive_quantization_in_tfjs(tmp_path, quantization):
    """A pruned kernel, read back by TF.js: Dense(identity rows) outputs the kernel as TF.js dequantized it.
    The kernel's range is lopsided (min -0.13, max 2.9), so 0 is not the middle of the uint8 grid."""
    rng = np.random.default_rng(5)
    kernel = np.abs(rng.normal(0.5, 0.6, (64, 64))).astype(np.float32) - 0.13
    kernel *= magnitude_mask(kernel, 0.5)
    inputs = keras.Input((64,), name="x")
    model = keras.Model(inputs, keras.layers.Dense(64, use_bias=False, name="probe")(inputs))
    model.get_layer("probe").kernel.assign(kernel)
    out = tmp_path / "probe"
    export_keras_model(model, out, quantize=quantization, verify=False, log=lambda *a: None)
    job = run_tfjs(out, [np.eye(64, dtype=np.float32)], "layers", ["x"])
    assert job.error is None, job.error
    seen = np.asarray(job.outputs[0])
    assert np.all(seen[kernel == 0] == 0.0), f"{np.sum(seen[kernel == 0] != 0)} pruned weights are not 0 in TF.js"
    assert np.all(seen[kernel != 0] != 0.0)


def test_pruned_uint8_compresses_better():
    """Zeros are one repeated byte: a pruned uint8 tensor shrinks by a measured factor (here, 200,000
    Gaussian weights: gzip 1.40x at 50%, 2.03x at 70%; brotli 1.61x and 2.37x)."""
    values = np.random.default_rng(7).normal(0, 0.05, 200_000).astype(np.float32)
    from exporter.official import quantization

    def as_uint8(data):
        return quantization.quantize_weights(data, np.uint8)[0].tobytes()

    dense = as_uint8(values)
    for sparsity, gzip_factor, brotli_factor in ((0.5, 1.35, 1.55), (0.7, 1.95, 2.3)):
        sparse = as_uint8(values * magnitude_mask(values, sparsity))
        assert gzip_size(dense) / gzip_size(sparse) >= gzip_factor, (sparsity, gzip_size(dense), gzip_size(sparse))
        assert brotli_size(dense) / brotli_size(sparse) >= brotli_factor, (sparsity, brotli_size(dense),
                                                                            brotli_size(sparse))


def test_export_squeezenet_pruned_and_auto(tmp_path):
    """The whole `export squeezenet --quick --prune 0.5 --quantize auto` into a temporary checkpoint directory."""
    from exporter.zoo import export_model

    patch = pytest.MonkeyPatch()
    patch.setattr(checkpoints, "CHECKPOINT_DIR", tmp_path / "checkpoints")
    try:
        meta = export_model("squeezenet", out_root=tmp_path / "models", quick=True, prune=0.5,
                            quantize="auto", log=lambda *a: None)
    finally:
        patch.undo()
    pruning = meta["pruning"]
    assert pruning["sparsity_of_pruned_kernels"] == pytest.approx(0.5, abs=1e-4)
    assert len(pruning["kernels"]) == 13
    assert pruning["zeros_exact_as_exported"] is True
    assert all(s >= 0.5 - 1e-4 for s in pruning["sparsity_as_exported"].values())
    assert pruning["fine_tune_seconds"] > 0
    assert set(pruning["metrics_after_fine_tune"]) == {"test_accuracy"}
    auto = meta["quantization_auto"]
    assert meta["quantization"] == "auto" and auto["validation_drop_points"] <= 1.0
    assert auto["test_metrics"]["chosen"]["test_accuracy"] == meta["metrics"]["test_accuracy_exported"]
    assert 0 < meta["bytes_compressed"]["brotli"] < meta["bytes_compressed"]["gzip"] < meta["bytes_total"]


@pytest.mark.parametrize("value", ["1.0", "1.5", "-0.1", "nan"])
def test_export_refuses_bad_sparsity(tmp_path, value):
    result = run_cli("export", "squeezenet", "--prune", value, "--out", tmp_path / "models")
    assert_refused(result, tmp_path / "models", "--prune", "Fix:")
    assert not error_paragraph_problems(result.stderr), result.stderr


def test_sparsity_bounds():
    assert check_sparsity(None) is None and check_sparsity(0) == 0.0 and check_sparsity(0.99) == 0.99
    for bad in (1, -1e-9, math.inf):
        with pytest.raises(ExportError):
            check_sparsity(bad)


def test_export_refuses_pruning_without_a_fine_tune(tmp_path):
    from exporter.zoo import export_model

    with pytest.raises(ExportError, match="--prune: 'lstm' .*no fine-tuning"):
        export_model("lstm", out_root=tmp_path / "models", prune=0.5, log=lambda *a: None)
