"""The `export` pipeline: train (quick) -> checkpoint -> convert (uint8) -> verify ->
meta.json + index.json, then reuse of the cached checkpoint, `verify` and `list`."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from exporter.parity.tolerances import FLOAT32_BOUND
from exporter.zoo import checkpoints, export_model, zoo_listing

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("zoo")
    patch = pytest.MonkeyPatch()
    patch.setattr(checkpoints, "CHECKPOINT_DIR", root / "checkpoints")
    logs = []
    meta = export_model("squeezenet", out_root=root / "models", quick=True, log=logs.append,
                        quantize="uint8")
    yield root, meta, logs, patch
    patch.undo()


def test_meta_describes_the_exported_model(exported):
    root, meta, _, _ = exported
    on_disk = json.loads((root / "models" / "squeezenet" / "meta.json").read_text())
    assert on_disk == json.loads(json.dumps(meta))
    assert meta["name"] == "squeezenet" and meta["family"] and meta["task"] == "image-classification"
    assert meta["quantization"] == "uint8" and len(meta["labels"]) == 10
    assert meta["inputs"][0]["shape"] == [None, 28, 28, 1] and meta["inputs"][0]["preprocessing"]
    assert meta["parameter_count"] > 0
    files = {p.name: p.stat().st_size for p in (root / "models" / "squeezenet").iterdir()
             if p.name not in ("meta.json", "model.js")}
    assert meta["bytes"] == files and meta["bytes_total"] == sum(files.values())
    # uint8 weights: about a quarter of float32 (plus model.json)
    weights = sum(v for k, v in files.items() if k.endswith(".bin"))
    assert weights == pytest.approx(meta["parameter_count"], rel=0.05)
    assert meta["parity"]["max_rel_error"] <= FLOAT32_BOUND


def test_metrics_fp32_and_exported(exported):
    _, meta, _, _ = exported
    metrics = meta["metrics"]
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert 0.0 <= metrics["test_accuracy_exported"] <= 1.0
    # uint8 moves a quick-trained model's accuracy by little
    assert abs(metrics["test_accuracy"] - metrics["test_accuracy_exported"]) <= 0.05


def test_script_form_carries_the_same_model(exported):
    """model.js (for pages opened from disk) holds exactly model.json's topology and the shards' bytes."""
    import base64

    root, meta, _, _ = exported
    directory = root / "models" / "squeezenet"
    text = (directory / "model.js").read_text()
    payload = json.loads(text[text.index("] = ") + 4:].rstrip().rstrip(";"))
    model_json = json.loads((directory / "model.json").read_text())
    assert payload["modelTopology"] == model_json["modelTopology"]
    shards = b"".join((directory / p).read_bytes() for g in model_json["weightsManifest"] for p in g["paths"])
    assert base64.b64decode(payload["weightData"]) == shards
    assert payload["meta"]["golden"] == meta["golden"]
    index_js = (root / "models" / "index.js").read_text()
    assert json.loads(index_js[index_js.index("= ") + 2:].rstrip().rstrip(";")) == json.loads(
        (root / "models" / "index.json").read_text())


def test_golden_vectors_are_real_images(exported):
    _, meta, _, _ = exported
    golden = meta["golden"]
    image = np.asarray(golden["inputs"][0]["data"]).reshape(golden["inputs"][0]["shape"])
    assert image.shape == (1, 28, 28, 1) and image.max() > 100 and image.min() == 0  # a Fashion-MNIST item
    probabilities = np.asarray(golden["outputs"][0]["data"])
    assert probabilities.shape == (10,) and probabilities.sum() == pytest.approx(1.0, abs=1e-4)


def test_index_lists_the_model(exported):
    root, meta, _, _ = exported
    index = json.loads((root / "models" / "index.json").read_text())
    entry = {m["name"]: m for m in index["models"]}["squeezenet"]
    assert entry["model"] == "squeezenet/model.json" and entry["bytes_total"] == meta["bytes_total"]
    assert entry["metrics"] == meta["metrics"]
    # What the page titles the card with comes from the zoo, not from the page's code.
    assert entry["display_name"] == meta["display_name"] == "SqueezeNet"


def test_checkpoint_and_curves_are_cached_and_reused(exported):
    root, meta, _, _ = exported
    checkpoints = root / "checkpoints"
    assert (checkpoints / "squeezenet.keras").exists() and (checkpoints / "squeezenet.png").stat().st_size > 1000
    logs = []
    again = export_model("squeezenet", out_root=root / "models", quick=True, log=logs.append,
                         quantize="uint8")
    assert any("cached checkpoint" in line for line in logs)
    assert again["metrics"]["test_accuracy"] == meta["metrics"]["test_accuracy"]


def test_verify_cli_reruns_golden_vectors(exported):
    root, _, _, _ = exported
    result = subprocess.run([sys.executable, "-m", "exporter", "verify", root / "models" / "squeezenet"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_unknown_model_is_a_clear_error(tmp_path):
    result = subprocess.run([sys.executable, "-m", "exporter", "export", "vgg", "--out", tmp_path],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 1 and "unknown model 'vgg'" in result.stderr and "Fix:" in result.stderr


def test_list_json_has_the_nine_models():
    rows = {row["name"]: row for row in zoo_listing()}
    assert set(rows) == {"alexnet", "googlenet", "resnet", "squeezenet", "simple_rnn", "lstm", "gru", "dqn",
                         "text_cnn"}
    for row in rows.values():
        assert set(row) == {"name", "display_name", "family", "task", "dataset", "params_paper", "params_demo",
                            "metrics"}
        assert row["params_paper"] > row["params_demo"] > 0


def test_weights_that_are_not_a_keras_file_get_the_convert_message(tmp_path):
    """`export --weights` sniffs the file as `convert` does: a file that is not a .keras zip (nor .h5)
    is named for what it is, not reported as Keras' "File not found"."""
    fake = tmp_path / "weights.keras"
    fake.write_text("not a model")
    result = subprocess.run([sys.executable, "-m", "exporter", "export", "squeezenet", "--weights", fake,
                             "--out", tmp_path / "models"], cwd=ROOT, capture_output=True, text=True)
    message = " ".join(result.stderr.split())
    assert result.returncode == 1, result.stderr
    assert "neither a Keras 3 .keras archive nor a Keras .h5 file" in message and "Fix:" in message
    assert "not found" not in result.stderr.lower() and not (tmp_path / "models").exists()


def test_export_again_from_an_earlier_export(tmp_path):
    """`python -m exporter.zoo.export --from-export NAME`: no checkpoint, the committed export's
    weights; the new export predicts what the old one did, keeps its training record, and gets
    its step model."""
    import shutil

    from exporter.parity.compare import golden_arrays
    from exporter.parity.tolerances import max_relative_error

    source = ROOT / "web_demo" / "models"
    root = tmp_path / "models"
    root.mkdir()
    shutil.copytree(source / "simple_rnn", root / "simple_rnn")
    old = json.loads((root / "simple_rnn" / "meta.json").read_text())
    (root / "index.json").write_text(json.dumps({"models": []}))
    meta = export_model("simple_rnn", out_root=root, from_export=True, log=lambda *_: None)
    assert meta["training"]["weights_from"].startswith("simple_rnn/model.json of an earlier export")
    assert meta["training"]["trained_at"] == old["training"]["trained_at"]
    assert meta["metrics"]["epochs"] == old["metrics"]["epochs"]
    assert meta["metrics"]["bits_per_char"] == old["metrics"]["bits_per_char"]
    assert meta["parity"]["max_rel_error"] <= FLOAT32_BOUND
    # The old golden inputs through the new export (uint8 of already-uint8 weights: nothing moves).
    inputs, outputs = golden_arrays(old["golden"])
    from exporter.parity.runtime import Job, run_jobs

    job = Job("again", root / "simple_rnn", inputs, "layers")
    run_jobs([job])
    assert job.error is None, job.error
    assert max_relative_error(job.outputs, outputs) <= 1e-5
    assert (root / "simple_rnn_step" / "model.json").exists() and meta["step"]["name"] == "simple_rnn_step"
