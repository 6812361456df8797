"""Export-time optimizations (exporter/optimize/): BatchNorm folding (after a
layer or a Concatenate of layers), no-op dropping, activation merging, Rescaling
folding. Each case is exported with the rewrites on, run in
real TF.js and compared with the unchanged Keras model (bound 1e-5 relative);
layer counts and weight names are checked in the written model.json.

All parity cases run in one Node process (module fixture).
"""

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers as L

from exporter.cli import build_parser
from exporter.parity.compare import keras_outputs, sample_inputs
from exporter.pipeline import export_keras_model

from .parity_helper import Case, application, assert_parity, randomize_state, run_cases

FOLDING_BOUND = 1e-5  # folding changes results by float rounding only
REPO = Path(__file__).resolve().parents[1]
IMG = (8, 8, 3)


def functional(shape, body):
    def build():
        x = keras.Input(shape)
        return keras.Model(x, body(x))

    return build


def conv_bn(x):
    return L.ReLU()(L.BatchNormalization()(L.Conv2D(5, 3, name="conv")(x)))


def conv_no_bias_bn(x):
    return L.Activation("relu")(L.BatchNormalization(epsilon=0.01)(L.Conv2D(5, 3, use_bias=False)(x)))


def depthwise_bn(x):
    y = L.DepthwiseConv2D(3, depth_multiplier=2, use_bias=False, padding="same")(x)
    return L.ReLU(6.0)(L.BatchNormalization()(y))


def separable_bn(x):
    return L.BatchNormalization()(L.SeparableConv2D(4, 3, depth_multiplier=2)(x))


def conv1d_bn(x):
    return L.BatchNormalization(axis=2)(L.Conv1D(4, 3, padding="causal", use_bias=False)(x))


def dense_bn(x):
    return L.Activation("softmax")(L.BatchNormalization()(L.Dense(6, use_bias=False)(x)))


def dense_sequence_bn(x):  # Dense on a rank-3 input: BatchNorm over its last axis
    return L.BatchNormalization()(L.Dense(3)(x))


def bn_no_center_no_scale(x):
    return L.BatchNormalization(center=False, scale=False)(L.Conv2D(4, 3)(x))


def bn_no_center_no_bias(x):  # the folded bias has only BN's moving mean to live in
    return L.BatchNormalization(center=False)(L.Conv2D(4, 3, use_bias=False)(x))


def bn_as_output():
    """Two outputs, the first a BatchNorm: after folding the model still returns them in order."""
    x = keras.Input(IMG)
    features = L.Conv2D(4, 3, name="features")(x)
    normalized = L.BatchNormalization(name="normalized")(features)
    head = L.Dense(2, name="head")(L.GlobalAveragePooling2D()(normalized))
    return keras.Model(x, [normalized, head])


def dropout_as_output():
    x = keras.Input((6,))
    hidden = L.Dense(5, activation="relu")(x)
    return keras.Model(x, [L.Dense(3, name="logits")(hidden), L.Dropout(0.5, name="dropped")(hidden)])


def noops_everywhere():
    x = keras.Input(IMG)
    y = L.GaussianNoise(0.3)(L.Conv2D(4, 3)(x))
    y = L.SpatialDropout2D(0.2)(L.BatchNormalization()(L.Dropout(0.1)(y)))
    y = L.GaussianDropout(0.2)(L.Flatten()(y))
    y = L.AlphaDropout(0.1)(L.ActivityRegularization(0.01)(L.Dense(4)(y)))
    return keras.Model(x, L.Activation("tanh")(y))


def activations_merged():
    x = keras.Input(IMG)
    y = L.Activation("gelu")(L.Conv2D(4, 3)(x))
    y = L.Activation("tanh")(L.Conv2D(4, 3, activation="relu")(y))  # host not linear: stays
    y = L.Flatten()(y)
    return keras.Model(x, L.Activation("softmax", name="probs")(L.Dense(5, name="fc")(y)))


def sequential_model():
    return keras.Sequential([keras.Input(IMG), L.Conv2D(4, 3), L.BatchNormalization(), L.ReLU(6.0), L.Dropout(0.2),
                             L.Flatten(), L.Dense(3), L.Activation("softmax")], name="seq")


def shared_not_folded():
    """Nothing here may fold: a conv called twice, a conv read by BN and by a side branch, a BN called twice."""
    a, b = keras.Input(IMG), keras.Input(IMG)
    shared_conv = L.Conv2D(3, 3, name="shared_conv")
    left = L.BatchNormalization(name="bn_left")(shared_conv(a))
    right = L.BatchNormalization(name="bn_right")(shared_conv(b))
    branched = L.Conv2D(3, 3, name="branched")(a)
    side = L.Activation("relu", name="side")(branched)
    normalized = L.BatchNormalization(name="bn_branched")(branched)
    shared_bn = L.BatchNormalization(name="shared_bn")
    c1, c2 = L.Conv2D(3, 3, name="c1")(a), L.Conv2D(3, 3, name="c2")(b)
    total = L.Add()([left, right, side, normalized, shared_bn(c1), shared_bn(c2)])
    return keras.Model([a, b], total)


def nested_model():
    inner = keras.Sequential([keras.Input((6, 6, 4)), L.Conv2D(4, 3, name="inner_conv"),
                              L.BatchNormalization(name="inner_bn"), L.Activation("relu", name="inner_relu")],
                             name="inner")
    x = keras.Input(IMG)
    y = inner(L.Conv2D(4, 3, name="outer_conv")(x))
    return keras.Model(x, L.BatchNormalization(name="outer_bn")(y))


def fire_module():
    """SqueezeNet's Fire module with BatchNorm, behind a 1/255 Rescaling: everything folds into the convs.
    The expand convs differ in bias, so the folded shift lands in BN's beta for one, in the conv's bias for
    the other."""
    x = keras.Input(IMG, name="pixels")
    y = L.Rescaling(1 / 255, name="rescale")(x)
    y = L.ReLU(name="stem_relu")(L.BatchNormalization(name="stem_bn")(L.Conv2D(4, 3, use_bias=False, name="stem")(y)))
    e1 = L.Conv2D(3, 1, use_bias=False, name="expand1x1")(y)
    e3 = L.Conv2D(5, 3, padding="same", name="expand3x3")(y)
    y = L.Concatenate(name="concat")([e1, e3])
    return keras.Model(x, L.ReLU(name="fire_relu")(L.BatchNormalization(name="fire_bn")(y)))


def concat_not_folded():
    """A Concatenate along rows (not channels) keeps its BN; a branch read twice, an offset Rescaling, a
    Rescaling feeding two layers and a softmax after a Concatenate stay as they are. An element-wise
    activation goes through a Concatenate along any axis."""
    x = keras.Input(IMG)
    a, b = L.Conv2D(4, 3, name="rows_a")(x), L.Conv2D(4, 3, name="rows_b")(x)
    rows = L.BatchNormalization(name="rows_bn")(L.Concatenate(axis=1, name="rows")([a, b]))
    c, d = L.Conv2D(4, 3, name="read_twice")(x), L.Conv2D(4, 3, name="other")(x)
    twice = L.BatchNormalization(name="twice_bn")(L.Concatenate(name="twice_concat")([c, d]))
    e, f = L.Conv2D(4, 3, name="tanh_a")(x), L.Conv2D(4, 3, name="tanh_b")(x)
    tanh = L.Activation("tanh", name="tanh")(L.Concatenate(axis=1, name="tanh_concat")([e, f]))
    g, h = L.Conv2D(4, 3, name="soft_a")(x), L.Conv2D(4, 3, name="soft_b")(x)
    soft = L.Activation("softmax", name="soft")(L.Concatenate(name="soft_concat")([g, h]))
    offset = L.Conv2D(8, 3, name="after_offset")(L.Rescaling(0.5, offset=1.0, name="offset")(x))
    shared = L.Rescaling(2.0, name="shared_scale")(x)
    shared = L.Add()([L.Conv2D(8, 3, name="s1")(shared), L.Conv2D(8, 3, name="s2")(shared)])
    return keras.Model(x, [rows, twice, tanh, soft, offset, shared, L.Concatenate(name="c_again")([c, c])])


def integer_pixels():
    """The Rescaling casts the integer input to float: without it the conv would get integers, so it stays."""
    x = keras.Input(IMG, dtype="int32")
    return keras.Model(x, L.Conv2D(4, 3)(L.Rescaling(1 / 255)(x)))


CASES = [
    Case("conv-bn", functional(IMG, conv_bn)),
    Case("conv-no-bias-bn", functional(IMG, conv_no_bias_bn)),
    Case("depthwise-bn", functional(IMG, depthwise_bn)),
    Case("separable-bn", functional(IMG, separable_bn)),
    Case("conv1d-causal-bn", functional((7, 3), conv1d_bn)),
    Case("dense-bn", functional((5,), dense_bn)),
    Case("dense-sequence-bn", functional((4, 5), dense_sequence_bn)),
    Case("bn-no-center-no-scale", functional(IMG, bn_no_center_no_scale)),
    Case("bn-no-center-no-bias", functional(IMG, bn_no_center_no_bias)),
    Case("bn-as-output", bn_as_output),
    Case("dropout-as-output", dropout_as_output),
    Case("noops-everywhere", noops_everywhere),
    Case("activations-merged", activations_merged),
    Case("sequential", sequential_model),
    Case("shared-not-folded", shared_not_folded),
    Case("nested", nested_model),
    Case("fire-module", fire_module),
    Case("concat-not-folded", concat_not_folded),
    Case("integer-pixels", integer_pixels),
    Case("MobileNetV2", application("MobileNetV2", (32, 32, 3), alpha=0.35)),
    Case("ResNet50", application("ResNet50", (32, 32, 3))),
    Case("ResNet50-no-optimize", application("ResNet50", (32, 32, 3)), optimize=False),
]

# (folded BatchNorms, dropped no-ops, merged activations, folded Rescalings, layers before -> after)
EXPECTED = {
    "conv-bn": (1, 0, 1, 0, 4, 2),
    "conv-no-bias-bn": (1, 0, 1, 0, 4, 2),
    "depthwise-bn": (1, 0, 1, 0, 4, 2),
    "separable-bn": (1, 0, 0, 0, 3, 2),
    "conv1d-causal-bn": (1, 0, 0, 0, 6, 5),  # the causal padding is lowered to Reshape/ZeroPadding2D/Reshape
    "dense-bn": (1, 0, 1, 0, 4, 2),
    "dense-sequence-bn": (1, 0, 0, 0, 3, 2),
    "bn-no-center-no-scale": (1, 0, 0, 0, 3, 2),
    "bn-no-center-no-bias": (1, 0, 0, 0, 3, 2),
    "bn-as-output": (1, 0, 0, 0, 5, 4),
    "dropout-as-output": (0, 1, 0, 0, 4, 3),
    "noops-everywhere": (1, 6, 1, 0, 12, 4),
    "activations-merged": (0, 0, 2, 0, 8, 6),
    "sequential": (1, 1, 2, 0, 8, 4),
    "shared-not-folded": (0, 0, 0, 0, 12, 12),
    "nested": (1, 0, 1, 0, 7, 5),  # the outer BN follows a nested model: not folded,
    "fire-module": (2, 0, 2, 1, 10, 5),
    "concat-not-folded": (0, 0, 1, 0, 24, 23),
    "integer-pixels": (0, 0, 0, 0, 3, 3),
    "MobileNetV2": (52, 0, 35, 0, 156, 69),
    "ResNet50": (53, 0, 33, 0, 177, 91),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return run_cases(CASES, tmp_path_factory.mktemp("optimize"))


def topology_layers(model_json):
    """All layers of a written model.json, nested models' layers included."""

    def walk(config):
        for entry in config["config"]["layers"]:
            if entry["class_name"] in ("Sequential", "Functional"):
                yield from walk(entry)
            else:
                yield entry

    return list(walk(model_json["modelTopology"]["model_config"]))


def weight_names(model_json):
    return {w["name"] for group in model_json["weightsManifest"] for w in group["weights"]}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_parity_with_keras(case, results):
    assert_parity(results[case.id], bound=FOLDING_BOUND)


@pytest.mark.parametrize("case_id", sorted(EXPECTED))
def test_rewrite_counts(case_id, results):
    summary = results[case_id].optimizations
    *counts, before, after = EXPECTED[case_id]
    assert [summary[key] for key in ("folded_batchnorm", "dropped_noops", "merged_activations",
                                     "folded_rescaling")] == counts
    assert (summary["layers_before"], summary["layers_after"]) == (before, after)
    assert len(topology_layers(results[case_id].model_json)) == after


def test_resnet50_loses_all_53_batchnorms(results):
    optimized = Counter(l["class_name"] for l in topology_layers(results["ResNet50"].model_json))
    plain = Counter(l["class_name"] for l in topology_layers(results["ResNet50-no-optimize"].model_json))
    assert plain["BatchNormalization"] == 53 and optimized["BatchNormalization"] == 0
    assert optimized["Conv2D"] == plain["Conv2D"] == 53
    # Of the 49 ReLU Activations, the 16 after a residual Add have no layer to merge into.
    assert (plain["Activation"], optimized["Activation"]) == (49, 16)
    names = weight_names(results["ResNet50"].model_json)
    assert {"conv1_conv/kernel", "conv1_conv/bias"} <= names and not any("_bn/" in n for n in names)
    assert results["ResNet50-no-optimize"].optimizations is None


def test_folded_layer_gets_a_bias_and_keeps_its_weight_names(results):
    layers = {l["config"]["name"]: l for l in topology_layers(results["depthwise-bn"].model_json)}
    depthwise = next(l for l in layers.values() if l["class_name"] == "DepthwiseConv2D")
    assert depthwise["config"]["use_bias"] is True and depthwise["config"]["activation"] == "relu6"
    name = depthwise["config"]["name"]
    assert weight_names(results["depthwise-bn"].model_json) == {f"{name}/depthwise_kernel", f"{name}/bias"}


def test_outputs_keep_their_order(results):
    config = results["bn-as-output"].model_json["modelTopology"]["model_config"]["config"]
    assert [ref[0] for ref in config["output_layers"]] == ["features", "head"]
    config = results["dropout-as-output"].model_json["modelTopology"]["model_config"]["config"]
    assert config["output_layers"][0][0] == "logits" and config["output_layers"][1][0].startswith("dense")


def test_activation_merged_into_its_layer(results):
    layers = {l["config"]["name"]: l for l in topology_layers(results["activations-merged"].model_json)}
    assert "probs" not in layers and layers["fc"]["config"]["activation"] == "softmax"
    assert sum(l["class_name"] == "Activation" for l in layers.values()) == 1  # the tanh after a relu conv


def test_shared_and_branched_layers_are_left_alone(results):
    layers = {l["name"]: l for l in topology_layers(results["shared-not-folded"].model_json)}
    assert {"bn_left", "bn_right", "bn_branched", "shared_bn", "side"} <= set(layers)
    assert len(layers["shared_conv"]["inbound_nodes"]) == 2 and len(layers["shared_bn"]["inbound_nodes"]) == 2


def test_fire_module_becomes_three_convs_and_a_concatenate(results):
    model_json = results["fire-module"].model_json
    layers = {l["name"]: l for l in topology_layers(model_json)}
    assert [l["class_name"] for l in layers.values()] == ["InputLayer", "Conv2D", "Conv2D", "Conv2D", "Concatenate"]
    assert layers["stem"]["inbound_nodes"][0][0][0] == "pixels"  # the Rescaling went into the stem's kernel
    assert all(layers[n]["config"]["activation"] == "relu" and layers[n]["config"]["use_bias"]
               for n in ("stem", "expand1x1", "expand3x3"))
    assert model_json["modelTopology"]["model_config"]["config"]["output_layers"][0][0] == "concat"
    assert weight_names(model_json) == {f"{n}/{w}" for n in ("stem", "expand1x1", "expand3x3")
                                        for w in ("kernel", "bias")}


def test_concatenate_folds_only_where_exact(results):
    layers = {l["name"]: l for l in topology_layers(results["concat-not-folded"].model_json)}
    assert {"rows_bn", "twice_bn", "soft", "offset", "shared_scale"} <= set(layers)
    assert "tanh" not in layers
    assert layers["tanh_a"]["config"]["activation"] == layers["tanh_b"]["config"]["activation"] == "tanh"
    assert layers["soft_a"]["config"]["activation"] == "linear"


def quantization_model():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([
        keras.Input((10, 10, 3)), L.Conv2D(8, 3, use_bias=False, name="conv"), L.BatchNormalization(name="bn"),
        L.ReLU(), L.DepthwiseConv2D(3, name="dw"), L.BatchNormalization(center=False, name="bn2"),
        L.GlobalAveragePooling2D(), L.Dense(6, name="fc"), L.BatchNormalization(name="bn3"),
        L.Activation("softmax"),
    ], name="qnet")
    randomize_state(model)
    return model


@pytest.mark.parametrize("quantize", ["uint8", "float16", "uint8=*/kernel"])
def test_quantized_fold_checked_against_keras_with_the_exported_numbers(tmp_path, quantize):
    """The folded kernel is quantized itself; the reference is Keras with it written back.

    evaluate() runs inside that context too, so its outputs must equal what
    TF.js computed from the quantized folded weights (the golden outputs).
    """
    model = quantization_model()
    inputs = sample_inputs(model)
    before = keras_outputs(model, inputs)
    seen = []
    meta = export_keras_model(model, tmp_path / "q", quantize=quantize, inputs=inputs,
                              evaluate=lambda m: seen.append(keras_outputs(m, inputs)) or {}, log=lambda *_: None)
    assert meta["optimizations"]["folded_batchnorm"] == 3
    assert meta["parity"]["max_rel_error"] <= FOLDING_BOUND
    assert meta["parity"]["vs_float32_max_abs_error"] > 0  # quantization really changed the outputs
    golden = np.asarray(meta["golden"]["outputs"][0]["data"])
    np.testing.assert_allclose(seen[0][0][0], golden, rtol=0, atol=1e-6)
    manifest = json.loads((tmp_path / "q" / "model.json").read_text())["weightsManifest"]
    dtypes = {w["name"]: w.get("quantization", {}).get("dtype", w["dtype"]) for g in manifest for w in g["weights"]}
    kernel_dtype = "float16" if quantize == "float16" else "uint8"
    bias_dtype = "float32" if "=" in quantize else kernel_dtype
    depthwise_dtype = "float32" if "=" in quantize else kernel_dtype  # */kernel does not match depthwise_kernel
    assert dtypes == {"conv/kernel": kernel_dtype, "conv/bias": bias_dtype, "dw/depthwise_kernel": depthwise_dtype,
                      "dw/bias": bias_dtype, "fc/kernel": kernel_dtype, "fc/bias": bias_dtype}
    # The write-back is undone: the Keras model computes what it did before.
    np.testing.assert_array_equal(keras_outputs(model, inputs)[0], before[0])


@pytest.mark.parametrize("quantize", ["uint8", "float16"])
def test_quantized_concatenate_fold_checked_against_keras(tmp_path, quantize):
    """Each expand conv's folded kernel and bias is quantized on its own; writing them all back rebuilds the
    Keras BatchNorm's shift slice by slice (one slice in BN's beta, one in the conv's bias)."""
    keras.utils.set_random_seed(4)
    model = fire_module()
    randomize_state(model)
    inputs = [np.random.default_rng(0).uniform(0, 255, (2, *IMG)).astype("float32")]
    before = keras_outputs(model, inputs)
    meta = export_keras_model(model, tmp_path / "q", quantize=quantize, inputs=inputs,
                              log=lambda *_: None)
    assert (meta["optimizations"]["folded_batchnorm"], meta["optimizations"]["folded_rescaling"]) == (2, 1)
    assert meta["parity"]["max_rel_error"] <= FOLDING_BOUND
    assert meta["parity"]["vs_float32_max_abs_error"] > 0
    np.testing.assert_array_equal(keras_outputs(model, inputs)[0], before[0])


def test_no_optimize_option_is_on_both_commands():
    parser = build_parser()
    assert parser.parse_args(["convert", "a.keras", "out"]).optimize is True
    assert parser.parse_args(["convert", "a.keras", "out", "--no-optimize"]).optimize is False
    assert parser.parse_args(["export", "squeezenet", "--no-optimize"]).optimize is False


def test_cli_no_optimize_keeps_the_layers(tmp_path):
    model = sequential_model()
    randomize_state(model)
    model.save(tmp_path / "seq.keras")
    metas = {}
    for flag in ("--no-optimize", None):
        out = tmp_path / ("plain" if flag else "optimized")
        result = subprocess.run([sys.executable, "-m", "exporter", "convert", tmp_path / "seq.keras", out,
                                 *([flag] if flag else [])], cwd=REPO, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        metas[flag] = json.loads((out / "meta.json").read_text())
        config = json.loads((out / "model.json").read_text())["modelTopology"]["model_config"]
        metas[flag]["classes"] = [l["class_name"] for l in config["config"]["layers"]]
    assert metas["--no-optimize"]["classes"] == ["InputLayer", "Conv2D", "BatchNormalization", "ReLU", "Dropout",
                                                 "Flatten", "Dense", "Activation"]
    assert metas["--no-optimize"]["optimizations"] == "none"
    assert metas[None]["classes"] == ["InputLayer", "Conv2D", "Flatten", "Dense"]
    assert metas[None]["optimizations"]["folded_batchnorm"] == 1
    for meta in metas.values():
        assert meta["parity"]["max_rel_error"] <= FOLDING_BOUND


def test_a_linear_activation_is_dropped_as_the_identity(tmp_path):
    # What Identity and the augmentation layers become: nothing left in TF.js.
    x = keras.Input(IMG)
    model = keras.Model(x, L.Activation("linear")(L.Conv2D(4, 3, activation="relu")(x)))
    result = run_cases([Case("linear", lambda: model)], tmp_path)["linear"]
    assert_parity(result)
    assert result.optimizations["dropped_noops"] == 1
    assert "Activation" not in {l["class_name"] for l in topology_layers(result.model_json)}
