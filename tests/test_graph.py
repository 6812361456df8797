"""--format graph: Keras 3 model.export() -> SavedModel -> official converter ->
tf.loadGraphModel in TF.js, verified against Keras."""

import json
import subprocess
import sys
from pathlib import Path

import keras
import pytest
from keras import layers

from exporter.parity.tolerances import FLOAT32_BOUND

ROOT = Path(__file__).resolve().parent.parent


def cli(*args):
    return subprocess.run([sys.executable, "-m", "exporter", *map(str, args)], cwd=ROOT, capture_output=True, text=True)


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("graph-src")
    keras.utils.set_random_seed(0)
    cnn = keras.Sequential([keras.Input((16, 16, 3)), layers.Conv2D(8, 3, activation="relu"),
                            layers.BatchNormalization(), layers.GlobalAveragePooling2D(),
                            layers.Dense(5, activation="softmax")])
    cnn.save(root / "cnn.keras")
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    multi = keras.Model([a, b], [layers.Dense(2, name="first")(layers.Concatenate()([a, b])),
                                 layers.Dense(3, name="second")(b)])
    multi.save(root / "multi.keras")
    cnn.export(str(root / "saved_model"), format="tf_saved_model", verbose=False)
    return root


@pytest.mark.parametrize("source,extra", [("cnn.keras", []), ("multi.keras", []), ("saved_model", []),
                                          ("cnn.keras", ["--quantize", "uint8"])])
def test_graph_export_matches_keras(sources, tmp_path, source, extra):
    out = tmp_path / "out"
    result = cli("convert", sources / source, out, "--format", "graph", *extra)
    assert result.returncode == 0, result.stderr
    model_json = json.loads((out / "model.json").read_text())
    assert model_json["format"] == "graph-model"
    meta = json.loads((out / "meta.json").read_text())
    assert meta["parity"]["max_rel_error"] <= FLOAT32_BOUND
    if extra:
        assert meta["parity"]["vs_float32_top1_agreement"] == 1.0
        assert 0 < meta["parity"]["vs_float32_max_abs_error"] < 0.05
    again = cli("verify", out)
    assert again.returncode == 0, again.stderr


def test_saved_model_needs_graph_format(sources, tmp_path):
    result = cli("convert", sources / "saved_model", tmp_path / "out")
    assert result.returncode != 0 and "--format graph" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("make, cause", [
    (lambda x: layers.Dense(3, activation="gelu")(layers.Flatten()(x)), "Erfc"),
    (lambda x: layers.Dense(2)(layers.GlobalAveragePooling2D()(layers.RandomFlip()(x))), "augmentation"),
], ids=["gelu", "augmentation"])
def test_what_the_official_graph_converter_cannot_do_points_to_the_layers_format(tmp_path, make, cause):
    inputs = keras.Input((8, 8, 3))
    keras.Model(inputs, make(inputs)).save(tmp_path / "model.keras")
    proc = cli("convert", tmp_path / "model.keras", tmp_path / "out", "--format", "graph")
    assert proc.returncode != 0 and not (tmp_path / "out").exists()
    message = proc.stderr.strip().splitlines()
    text = " ".join(message)
    assert cause in text and "leave out --format graph" in text and "unexpectedly" not in text, text
    # ...and the layers format converts the same file.
    assert cli("convert", tmp_path / "model.keras", tmp_path / "layers").returncode == 0
