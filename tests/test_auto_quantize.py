"""`--quantize auto`: the chosen map keeps the validation accuracy within P points, costs fewer
bytes than float16 when uint8 is good enough, and moves a deliberately fragile kernel off uint8;
the values it measures are bit-identical to what the writer stores; bad options are refused.

The model is a small MLP trained here on separable synthetic data (a few seconds). Its first input
feature is always 0, so outliers of +-1000 in the kernel row that reads it change nothing in
float32 but stretch that kernel's uint8 grid until every ordinary weight rounds to 0.
"""

import json

import keras
import numpy as np
import pytest

from exporter.errors import ExportError
from exporter.layers import translate_model
from exporter.pipeline import convert
from exporter.quantize import QuantizeRequest, Validation, read_validation_file
from exporter.quantize.auto import choose
from exporter.quantize.shards import read_dequantized, round_trip, write_shards
from exporter.weights import as_numpy
from tests.test_errors import assert_refused, error_paragraph_problems, run_cli

FEATURES, CLASSES = 16, 4


def _data(count, seed):
    rng = np.random.default_rng(seed)
    centers = np.random.default_rng(0).normal(0, 1.2, (CLASSES, FEATURES)).astype(np.float32)
    labels = rng.integers(0, CLASSES, count)
    x = centers[labels] + rng.normal(0, 1.0, (count, FEATURES)).astype(np.float32)
    x[:, 0] = 0.0
    return x.astype(np.float32), labels.astype(np.int32)


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((FEATURES,), name="features")
    x = keras.layers.Dense(64, activation="relu", name="hidden")(inputs)
    x = keras.layers.Dense(32, activation="relu", name="mid")(x)
    outputs = keras.layers.Dense(CLASSES, activation="softmax", name="out")(x)
    model = keras.Model(inputs, outputs, name="mlp")
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    x_train, y_train = _data(3000, 1)
    model.fit(x_train, y_train, epochs=15, batch_size=64, verbose=0)
    x_val, y_val = _data(2000, 2)
    return model, Validation([x_val], y_val, "synthetic")


def _with_outliers(model):
    """A copy whose 'hidden' kernel has +-1000 in the row of the always-zero feature."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    kernel = copy.get_layer("hidden").kernel
    value = kernel.numpy()
    value[0, :8], value[0, 8:16] = 1000.0, -1000.0
    kernel.assign(value)
    return copy


def _choose(model, validation, max_drop=1.0):
    _, weights = translate_model(model)
    return choose(model, weights, validation, max_drop, log=lambda *a: None), weights


def test_uint8_kernels_within_the_bound_and_smaller_than_float16(trained):
    model, validation = trained
    choice, _ = _choose(model, validation)
    record = choice.record
    assert record["validation_accuracy"]["float32"] > 0.9  # the data is learnable
    assert record["validation_drop_points"] <= 1.0
    assert all(choice.dtypes[f"{n}/kernel"] == "uint8" for n in ("hidden", "mid", "out"))
    assert not record["promotions"]
    sizes = record["weight_bytes"]
    assert sizes["chosen"] < 0.6 * sizes["float16"], sizes
    assert sizes["chosen"] < 0.3 * sizes["float32"], sizes
    # Biases are 1-D: never uint8; float16 where it saves bytes (64 and 32 values), float32 for the 4 of 'out'.
    assert choice.dtypes["hidden/bias"] == "float16" and choice.dtypes["out/bias"] == "float32"
    assert {s["unit"] for s in record["sensitivity"]} >= {"hidden/kernel", "mid/kernel", "out/kernel"}


def test_a_fragile_kernel_is_promoted_off_uint8(trained):
    model, validation = trained
    fragile = _with_outliers(model)
    choice, _ = _choose(fragile, validation)
    record = choice.record
    assert record["validation_accuracy"]["float32"] == pytest.approx(
        json.loads(json.dumps(_choose(model, validation)[0].record))["validation_accuracy"]["float32"])
    # All-uint8 breaks the model; the outlier kernel is the one promoted, to float16
    # (exact for +-1000 and for the small weights, where uint16's grid step is 0.03).
    assert record["validation_drop_points"] <= 1.0
    cheapest_drop = (record["validation_accuracy"]["float32"] - record["validation_accuracy"]["cheapest"]) * 100
    assert cheapest_drop > 20, record["validation_accuracy"]
    assert choice.dtypes["hidden/kernel"] == "float16"
    assert choice.dtypes["mid/kernel"] == "uint8" and choice.dtypes["out/kernel"] == "uint8"
    assert [p["unit"] for p in record["promotions"]] == ["hidden/kernel"]
    by_unit = {s["unit"]: s for s in record["sensitivity"]}
    assert by_unit["hidden/kernel"]["accuracy_drop_points"] > 20
    assert by_unit["hidden/kernel"]["kl"] > 100 * by_unit["mid/kernel"]["kl"]


def test_a_zero_budget_keeps_float32_accuracy(trained):
    model, validation = _with_outliers(trained[0]), trained[1]
    choice, _ = _choose(model, validation, max_drop=0.0)
    assert choice.record["validation_drop_points"] <= 0.0


def test_measured_values_are_the_written_values(trained, tmp_path):
    """round_trip (what auto measures with) == what the official writer stores and the reader dequantizes."""
    model = _with_outliers(trained[0])
    choice, weights = _choose(model, trained[1])
    entries = as_numpy(weights)
    for dtype in ("uint8", "uint16", "float16"):
        out = tmp_path / dtype
        out.mkdir()
        quantization = QuantizeRequest.parse(dtype).resolve(model, weights)
        manifest = write_shards(entries, out, dtype_map=quantization.tfjs_map)
        written = read_dequantized(manifest, out)
        for entry in entries:
            assert np.array_equal(written[entry["name"]], round_trip(entry["data"], dtype)), (dtype, entry["name"])
    out = tmp_path / "auto"
    out.mkdir()
    quantization = QuantizeRequest.automatic(1.0, trained[1]).resolve(model, weights, log=lambda *a: None)
    assert quantization.dtypes == {n: d for n, d in choice.dtypes.items() if d != "float32"}
    manifest = write_shards(entries, out, dtype_map=quantization.tfjs_map)
    dtypes = {w["name"]: w.get("quantization", {}).get("dtype", "float32") for w in manifest[0]["weights"]}
    assert dtypes == choice.dtypes


def test_validation_file_checks(trained, tmp_path):
    model, validation = trained
    x, y = validation.inputs[0], validation.labels
    one_hot = tmp_path / "one_hot.npz"
    np.savez(one_hot, x=x, y=np.eye(CLASSES)[y])
    assert np.array_equal(read_validation_file(one_hot, model).labels, y)
    for name, arrays, expected in [
        ("no_y.npz", {"x": x}, "the arrays y are missing"),
        ("shape.npz", {"x": x[:, :3], "y": y}, "has shape"),
        ("count.npz", {"x": x, "y": y[:10]}, "samples but y has 10"),
        ("labels.npz", {"x": x, "y": y.astype(np.float32)}, "must be integer class ids"),
    ]:
        np.savez(tmp_path / name, **arrays)
        with pytest.raises(ExportError, match=expected) as error:
            read_validation_file(tmp_path / name, model)
        assert "Fix:" in str(error.value)


def test_auto_is_refused_for_the_graph_format(trained, tmp_path):
    model, validation = trained
    model.save(tmp_path / "mlp.keras")
    np.savez(tmp_path / "val.npz", x=validation.inputs[0], y=validation.labels)
    with pytest.raises(ExportError, match="--format layers"):
        convert(tmp_path / "mlp.keras", tmp_path / "out", format="graph", log=lambda *a: None,
                quantize=QuantizeRequest.parse("auto", validation_file=str(tmp_path / "val.npz")))
    assert not (tmp_path / "out").exists()


def test_convert_cli_end_to_end(trained, tmp_path):
    """`convert --quantize auto --validation-data`: the map in meta.json is the one in model.json, TF.js agrees."""
    fragile = _with_outliers(trained[0])
    fragile.save(tmp_path / "fragile.keras")
    validation = trained[1]
    np.savez(tmp_path / "val.npz", x=validation.inputs[0], y=validation.labels)
    out = tmp_path / "out"
    result = run_cli("convert", tmp_path / "fragile.keras", out, "--quantize", "auto", "--validation-data",
                     tmp_path / "val.npz", "--max-accuracy-drop", "0.5")
    assert result.returncode == 0, result.stderr[-3000:]
    meta = json.loads((out / "meta.json").read_text())
    auto = meta["quantization_auto"]
    assert meta["quantization"] == "auto" and meta["parity"]["passed"]
    assert auto["max_accuracy_drop_points"] == 0.5 and auto["validation_drop_points"] <= 0.5
    assert "hidden/kernel" in auto["map"]["float16"] and "mid/kernel" in auto["map"]["uint8"]
    manifest = json.loads((out / "model.json").read_text())["weightsManifest"]
    written = {w["name"]: w.get("quantization", {}).get("dtype", "float32") for g in manifest for w in g["weights"]}
    assert written == {n: d for d, names in auto["map"].items() for n in names}
    compressed = meta["bytes_compressed"]
    assert compressed["raw"] == meta["bytes_total"] and 0 < compressed["brotli"] < compressed["raw"]


@pytest.mark.parametrize("args, names", [
    (["--quantize", "auto"], ["--validation-data", "x (or x0, x1", "y"]),
    (["--quantize", "auto", "--validation-data", "v.npz", "--max-accuracy-drop", "-0.5"], ["--max-accuracy-drop"]),
    (["--quantize", "auto", "--quantize", "uint8", "--validation-data", "v.npz"], ["auto", "uint8", "not both"]),
    (["--max-accuracy-drop", "1"], ["--quantize auto"]),
    (["--validation-data", "v.npz"], ["--validation-data", "--quantize auto"]),
    (["--quantize", "auto", "--validation-data", "missing.npz"], ["missing.npz"]),
])
def test_convert_refuses_bad_auto_options(tmp_path, args, names):
    (tmp_path / "v.npz").write_bytes(b"")
    out = tmp_path / "out"
    args = [str(tmp_path / a) if a.endswith(".npz") else a for a in args]
    result = run_cli("convert", tmp_path / "m.keras", out, *args)
    assert_refused(result, out, *names)
    assert not error_paragraph_problems(result.stderr), result.stderr


def test_export_refuses_auto_without_a_labelled_split(tmp_path):
    from exporter.zoo import export_model

    with pytest.raises(ExportError, match="'dqn' .* has no validation split.*Fix:"):
        export_model("dqn", out_root=tmp_path / "models", quantize="auto", log=lambda *a: None)
    assert not (tmp_path / "models").exists()
