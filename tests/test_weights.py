"""Weights: bytes identical to the official tensorflowjs writer, sharding, and
quantization (all weights or by name pattern) that TF.js dequantizes correctly."""

import json

import keras
import numpy as np
import pytest
from keras import layers

from exporter import official
from exporter.errors import ExportError
from exporter.parity.tolerances import FLOAT32_BOUND
from exporter.pipeline import export_keras_model
from exporter.quantize import QuantizeRequest

BYTES_PER_ELEMENT = {"float32": 4, "int32": 4, "float16": 2, "uint16": 2, "uint8": 1}


def cnn():
    keras.utils.set_random_seed(1)
    model = keras.Sequential([
        keras.Input((12, 12, 3)), layers.Conv2D(8, 3, name="conv"), layers.BatchNormalization(name="bn"),
        layers.ReLU(), layers.Flatten(), layers.Dense(64, activation="relu", name="fc"),
        layers.Dense(10, activation="softmax", name="logits"),
    ], name="cnn")
    for v in model.non_trainable_weights:  # non-trivial BatchNorm statistics
        v.assign(np.random.default_rng(0).uniform(0.5, 1.5, v.shape).astype("float32"))
    return model


def weight_bytes(model_dir):
    """{name: (manifest entry, the weight's bytes)} from model.json + shards."""
    manifest = json.loads((model_dir / "model.json").read_text())["weightsManifest"]
    out = {}
    for group in manifest:
        data = b"".join((model_dir / p).read_bytes() for p in group["paths"])
        offset = 0
        for entry in group["weights"]:
            dtype = entry.get("quantization", {}).get("dtype", entry["dtype"])
            size = int(np.prod(entry["shape"], dtype=np.int64)) * BYTES_PER_ELEMENT[dtype]
            out[entry["name"]] = (entry, data[offset:offset + size])
            offset += size
        assert offset == len(data), "shards hold exactly the manifest's weights"
    return out


@pytest.mark.parametrize("quantize", [None, "float16", "uint8", "uint16"])
def test_bytes_equal_official_writer(tmp_path, quantize):
    model = cnn()
    request = QuantizeRequest.parse([quantize] if quantize else None)
    # optimize=False: the official writer keeps BatchNorm as its own weights; folding
    # (tests/test_optimize.py) would rightly change the conv's bytes.
    export_keras_model(model, tmp_path / "ours", quantize=request, verify=False, log=lambda *_: None,
                       optimize=False)
    official.keras_h5_conversion.save_keras_model(model, str(tmp_path / "official"),
                                                  quantization_dtype_map=request.official_map())
    ours, theirs = weight_bytes(tmp_path / "ours"), weight_bytes(tmp_path / "official")
    # The official writer prefixes names with the model name ("cnn/conv/kernel"),
    # one reason TF.js cannot load its Keras 3 output; the bytes must still agree.
    theirs = {name.split("/", 1)[1]: value for name, value in theirs.items()}
    assert sorted(ours) == sorted(theirs)
    for name, (entry, data) in ours.items():
        official_entry, official_data = theirs[name]
        assert data == official_data, name
        assert entry.get("quantization") == official_entry.get("quantization"), name
        assert entry["shape"] == official_entry["shape"]


@pytest.mark.parametrize("dtype_map", [None, {"uint8": ["*"]}, {"float16": ["a/*"], "uint16": ["b/kernel"]}])
def test_shard_writer_writes_the_official_files(tmp_path, dtype_map):
    """exporter.quantize.shards writes without TensorFlow what tensorflowjs' write_weights writes:
    the same shard files, byte for byte, and the same manifest (quantization keys in order)."""
    from exporter.quantize.shards import write_shards

    rng = np.random.default_rng(0)
    entries = [{"name": "a/kernel", "data": rng.normal(size=(300, 1000)).astype("float32")},
               {"name": "a/bias", "data": np.zeros(1000, "float32")},
               {"name": "b/kernel", "data": rng.normal(size=(7, 5)).astype("float64")},
               {"name": "b/steps", "data": np.arange(6, dtype="int64")},
               {"name": "c/half", "data": rng.normal(size=(3,)).astype("float16")},
               {"name": "c/scalar", "data": np.asarray(2.5, "float32")}]
    (tmp_path / "ours").mkdir()
    (tmp_path / "official").mkdir()
    ours = write_shards([dict(e) for e in entries], tmp_path / "ours", shard_size_bytes=256 * 1024,
                        dtype_map=dtype_map)
    theirs = official.write_weights.write_weights([[dict(e) for e in entries]], str(tmp_path / "official"),
                                                  shard_size_bytes=256 * 1024, write_manifest=False,
                                                  quantization_dtype_map=dtype_map)
    assert json.dumps(ours) == json.dumps(theirs)
    assert len(ours[0]["paths"]) > 1
    for path in ours[0]["paths"]:
        assert (tmp_path / "ours" / path).read_bytes() == (tmp_path / "official" / path).read_bytes(), path


def test_shards_split_at_shard_size_and_load(tmp_path):
    model = keras.Sequential([keras.Input((200,)), layers.Dense(1000, name="wide"), layers.Dense(10)])  # ~0.84 MB
    shard = 256 * 1024
    meta = export_keras_model(model, tmp_path / "m", shard_size=shard, log=lambda *_: None)
    paths = json.loads((tmp_path / "m" / "model.json").read_text())["weightsManifest"][0]["paths"]
    n = len(paths)
    assert n == -(-4 * model.count_params() // shard)
    assert paths == [f"group1-shard{i}of{n}.bin" for i in range(1, n + 1)]
    sizes = [(tmp_path / "m" / p).stat().st_size for p in paths]
    assert all(s == shard for s in sizes[:-1]) and sum(sizes) == 4 * model.count_params()
    assert meta["parity"]["max_rel_error"] <= FLOAT32_BOUND


@pytest.mark.parametrize("quantize,ratio", [("float16", 0.5), ("uint16", 0.5), ("uint8", 0.25)])
def test_quantized_export_is_smaller_and_exact_after_dequantization(tmp_path, quantize, ratio):
    model = cnn()
    base = export_keras_model(model, tmp_path / "f32", log=lambda *_: None)
    meta = export_keras_model(model, tmp_path / quantize, quantize=quantize, log=lambda *_: None)
    weights = lambda m: sum(v for k, v in m["bytes"].items() if k.endswith(".bin"))  # noqa: E731
    assert weights(meta) == pytest.approx(ratio * weights(base), abs=64)
    parity = meta["parity"]
    # TF.js matches Keras run with the dequantized weights as tightly as float32 ...
    assert parity["max_rel_error"] <= FLOAT32_BOUND
    # ... and the report says how far quantization moved the outputs from float32.
    assert 0 < parity["vs_float32_max_abs_error"] < (0.05 if quantize == "uint8" else 0.005)
    assert parity["vs_float32_top1_agreement"] == 1.0


def test_quantize_by_pattern(tmp_path):
    model = cnn()
    meta = export_keras_model(model, tmp_path / "m", quantize=["float16", "uint8=*/kernel"], log=lambda *_: None)
    entries = {name: entry for name, (entry, _) in weight_bytes(tmp_path / "m").items()}
    assert {n for n, e in entries.items() if e["quantization"]["dtype"] == "uint8"} == {
        "conv/kernel", "fc/kernel", "logits/kernel"}
    assert all(e["quantization"]["dtype"] == "float16" for n, e in entries.items() if not n.endswith("/kernel"))
    assert meta["parity"]["max_rel_error"] <= FLOAT32_BOUND


@pytest.mark.parametrize("options,message", [
    (["int4"], "unknown quantization"),
    (["uint8", "float16"], "only one quantization may apply to all weights"),
])
def test_bad_quantize_options(options, message):
    with pytest.raises(ExportError, match=message):
        QuantizeRequest.parse(options)


def test_quantize_pattern_matching_nothing_is_an_error(tmp_path):
    with pytest.raises(ExportError, match="matches no weight"):
        export_keras_model(cnn(), tmp_path / "m", quantize="uint8=nothing*", verify=False)
    assert not (tmp_path / "m").exists()
