"""The four image families: published parameter counts, demo sizes, a quick
training step that lowers the loss, and TF.js parity of each demo model."""

import json
import socket

import numpy as np
import pytest

from exporter.parity.tolerances import FLOAT32_BOUND
from exporter.pipeline import export_keras_model
from models import zoo

CNNS = ("alexnet", "googlenet", "resnet", "squeezenet")

# torchvision's published counts (sum of parameters(), BatchNorm running statistics excluded).
TORCHVISION_RESNET = {18: 11_689_512, 34: 21_797_672, 50: 25_557_032, 101: 44_549_160, 152: 60_192_808}
# Keras' count_params() also counts BatchNorm's moving mean and variance (non-trainable
# weights in Keras, buffers in PyTorch): 2 per BatchNorm channel more than torchvision.
KERAS_RESNET = {18: 11_699_112, 34: 21_814_696, 50: 25_610_152, 101: 44_654_504, 152: 60_344_232}


def trainable_count(model):
    return sum(int(np.prod(v.shape)) for v in model.trainable_weights)


def test_zoo_lists_the_four_cnns():
    assert set(CNNS) <= set(zoo.names())
    for name in CNNS:
        spec = zoo.get(name)
        assert (spec.name, spec.family, spec.task, spec.dataset) == (name, name, "image-classification",
                                                                      "fashion-mnist")
        assert isinstance(spec.params_paper, int) and isinstance(spec.params_demo, int)


@pytest.mark.parametrize("name,overrides,count", [
    ("alexnet", {}, 62_378_344),  # single tower; the two-tower original (groups=2) has 60,965,224
    ("googlenet", {}, 6_998_552),  # Table 1 with real 5x5 branches and conv biases, no auxiliary heads
    ("squeezenet", {}, 1_248_424),  # torchvision squeezenet1_0
    ("squeezenet", {"version": "1.0"}, 1_248_424),
    ("squeezenet", {"version": "1.1"}, 1_235_496),  # torchvision squeezenet1_1
])
def test_paper_parameter_counts(name, overrides, count):
    model = zoo.build(name, "paper", **overrides)
    assert model.count_params() == count
    assert model.input_shape[1:] in ((224, 224, 3), (227, 227, 3)) and model.output_shape == (None, 1000)
    if not overrides:
        assert zoo.get(name).params_paper == count
    if name == "googlenet":
        assert count < 7_000_000


@pytest.mark.parametrize("depth", sorted(KERAS_RESNET))
def test_resnet_depths_match_torchvision(depth):
    # The paper preset's default depth is 152 ("60.2M" in torchvision's table).
    model = zoo.build("resnet", "paper") if depth == 152 else zoo.build("resnet", "paper", depth=depth)
    assert model.name == f"resnet{depth}"
    assert model.count_params() == KERAS_RESNET[depth]
    assert trainable_count(model) == TORCHVISION_RESNET[depth]
    if depth == 152:
        assert zoo.get("resnet").params_paper == KERAS_RESNET[152]
        assert abs(KERAS_RESNET[152] - 60.2e6) / 60.2e6 < 0.005
    blocks = {"basic": "conv2", "bottleneck": "conv3"}[("basic" if depth < 50 else "bottleneck")]
    assert any(layer.name.endswith(f"_{blocks}") for layer in model.layers)


def test_resnet_rejects_unknown_depth_and_weights():
    with pytest.raises(ValueError, match="Fix:"):
        zoo.build("resnet", "paper", depth=20)
    with pytest.raises(ValueError, match="Fix:"):
        zoo.build("resnet", "paper", depth=18, weights="imagenet")  # keras.applications has 50/101/152 only
    with pytest.raises(ValueError, match="Fix:"):
        zoo.build("resnet", "paper", weights="/some/file.h5")


def test_resnet_imagenet_weights_offline_error(tmp_path, monkeypatch):
    """Offline, weights='imagenet' fails with one clear paragraph, not a download traceback.
    The network and Keras' cache are both taken away so the test means the same everywhere."""
    from keras.src.backend import config

    def offline(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (network disabled by the test)")

    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path / "keras_home"))
    monkeypatch.setattr(socket, "getaddrinfo", offline)
    with pytest.raises(RuntimeError) as caught:
        zoo.build("resnet", "paper", depth=50, weights="imagenet")
    message = str(caught.value)
    assert "ResNet50" in message and "Fix:" in message and "\n" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.fixture(scope="module")
def quick_trained():
    """Each demo model, built and trained in CI mode (quick=True) once for the tests below."""
    trained = {}
    for name in CNNS:
        spec = zoo.get(name)
        model = spec.build("demo")
        result = spec.train(model, quick=True, log=lambda *_: None)
        trained[name] = (model, result)
    return trained


@pytest.mark.parametrize("name", CNNS)
def test_demo_size_and_interface(name, quick_trained):
    model, _ = quick_trained[name]
    spec = zoo.get(name)
    assert model.count_params() == spec.params_demo
    assert 4 * spec.params_demo < 4 * 1024 * 1024, "float32 weights of a browser demo stay under 4 MiB"
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    assert type(model.layers[1]).__name__ == "Rescaling"
    probabilities = model.predict(spec.golden_inputs(4)[0], verbose=0)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", CNNS)
def test_quick_training_lowers_the_loss(name, quick_trained):
    _, result = quick_trained[name]
    losses = result.losses
    assert len(losses) >= 20
    first, last = np.mean(losses[:3]), np.mean(losses[-3:])
    assert last < 0.85 * first, f"{name}: loss {first:.3f} -> {last:.3f}"
    assert 0.0 <= result.metrics["test_accuracy"] <= 1.0


@pytest.mark.parametrize("quantize", [None, "uint8"])
@pytest.mark.parametrize("name", CNNS)
def test_demo_exports_with_parity(name, quantize, quick_trained, tmp_path):
    model, _ = quick_trained[name]
    meta = export_keras_model(model, tmp_path / name, quantize=quantize,
                              inputs=zoo.get(name).golden_inputs(2), log=lambda *_: None)
    assert meta["parity"]["max_rel_error"] <= FLOAT32_BOUND
    assert meta["parameter_count"] == zoo.get(name).params_demo
    weight_bytes = meta["bytes_total"] - meta["bytes"]["model.json"]
    # BatchNorm folding (on by default) drops 4 numbers per BN channel and may add a bias.
    manifest = json.loads((tmp_path / name / "model.json").read_text())["weightsManifest"]
    exported = sum(int(np.prod(w["shape"])) for group in manifest for w in group["weights"])
    assert exported <= model.count_params()
    assert weight_bytes == (1 if quantize else 4) * exported
