"""Parity matrix for every layer translator: each registered Keras class, with
the options that change what it computes, exported and run in real TF.js.

All cases run in one Node process (module fixture). A translator registered
without a case here fails `test_every_translator_is_covered`.
"""

import subprocess

import keras
import numpy as np
import pytest

from exporter.errors import ExportError, UnsupportedLayerError
from exporter.layers import TRANSLATORS, translate_model
from exporter.layers.translators.common import ACTIVATIONS, LOWERED_ACTIVATIONS
# Each augmentation class is checked to be the identity in Keras (test_webnets_layers.py).
from exporter.layers.translators.preprocessing import AUGMENTATION_LAYERS
from exporter.parity import runtime
from exporter.parity.runtime import run_jobs

from exporter.layers.table import FOREIGN_CODE, RNN_CELLS, builtin_layer_statuses

from . import (test_builtin_llm_blocks, test_builtin_preprocessing, test_builtin_recurrent, test_builtin_spatial,
               test_builtin_text, test_webnets_attention, test_webnets_layers, test_webnets_recurrent)
from .parity_helper import Case, assert_parity, layer_classes, run_cases, single

# Modules whose CASES hold parity cases of translators (each runs them on WASM and CPU itself).
WEBNETS_CASE_MODULES = [test_webnets_layers, test_webnets_attention, test_webnets_recurrent, test_builtin_spatial,
                        test_builtin_llm_blocks, test_builtin_preprocessing, test_builtin_recurrent, test_builtin_text]

L = keras.layers

from keras.src.applications.convnext import LayerScale  # noqa: E402  (keras.applications' own layers)
from keras.src.applications.inception_resnet_v2 import CustomScaleLayer  # noqa: E402

IMG = (6, 6, 3)
SEQ = (5, 4)
VOL = (4, 4, 4, 2)


def merge(case_id, shapes, make):
    """Several inputs joined by one merge layer."""

    def build():
        inputs = [keras.Input(s) for s in shapes]
        return keras.Model(inputs, make()(inputs))

    return Case(case_id, build)


def adapted_normalization(case_id, shape, **options):
    def build():
        rng = np.random.default_rng(1)
        data = (rng.standard_normal((64, *shape)) * rng.uniform(0.5, 3.0, shape[-1]) + rng.normal(0, 2, shape[-1]))
        layer = L.Normalization(**options)
        layer.adapt(data.astype("float32"))
        inputs = keras.Input(shape)
        return keras.Model(inputs, layer(inputs))

    return Case(case_id, build)


def sequential_convnet():
    return keras.Sequential([
        keras.Input((8, 8, 3)), L.Conv2D(4, 3, activation="relu"), L.MaxPooling2D(), L.Flatten(), L.Dense(5),
    ])


def sequential_chained_lowerings():
    # Lowerings that stay a chain (Permute / Reshape / pad around one layer) inside a Sequential.
    return keras.Sequential([
        keras.Input((8, 3)), L.Conv1D(4, 3, padding="causal"), L.BatchNormalization(axis=1),
        L.Softmax(axis=1), L.ZeroPadding1D(1), L.Dense(3, activation="hard_sigmoid"),
    ])


def sequential_branching_lowerings():
    # Lowerings whose pieces branch (x * hard_sigmoid(x); elu with alpha) inside a Sequential.
    return keras.Sequential([keras.Input(SEQ), L.Dense(3, activation="hard_silu"), L.ELU(alpha=0.5)])


def masked_lstm():
    # A 1-feature ReLU zeroes about half the time steps, so Masking really masks.
    inputs = keras.Input((6, 1))
    x = L.Masking(0.0)(L.ReLU()(inputs))
    return keras.Model(inputs, L.LSTM(3, return_sequences=True)(x))


def embedding_mask_zero():
    # sample_inputs draws ids below input_dim, zeros included, so the mask matters.
    inputs = keras.Input((6,), dtype="int32")
    x = L.Embedding(10, 4, mask_zero=True)(inputs)
    return keras.Model(inputs, L.GRU(3, reset_after=False)(x))



CASES = [
    # --- core -----------------------------------------------------------------
    *[single(f"dense-{a}", (4,), lambda a=a: L.Dense(3, activation=a)) for a in [*ACTIVATIONS, *LOWERED_ACTIVATIONS]],
    single("dense-no-bias", (4,), lambda: L.Dense(3, use_bias=False)),
    single("dense-rank3", SEQ, lambda: L.Dense(3, activation="tanh")),
    *[single(f"activation-{a}", SEQ, lambda a=a: L.Activation(a)) for a in [*ACTIVATIONS, *LOWERED_ACTIVATIONS]],
    single("embedding", (6,), lambda: L.Embedding(10, 4), dtype="int32"),
    Case("embedding-mask-zero-gru", embedding_mask_zero),
    single("masking", SEQ, lambda: L.Masking(0.0)),
    Case("masking-lstm", masked_lstm),
    single("dropout", SEQ, lambda: L.Dropout(0.5)),
    single("dropout-noise-shape", SEQ, lambda: L.Dropout(0.5, noise_shape=(None, 1, 4))),
    single("spatial-dropout1d", SEQ, lambda: L.SpatialDropout1D(0.3)),
    single("spatial-dropout2d", IMG, lambda: L.SpatialDropout2D(0.3)),
    single("spatial-dropout3d", VOL, lambda: L.SpatialDropout3D(0.3)),
    single("activity-regularization", SEQ, lambda: L.ActivityRegularization(l1=0.01, l2=0.01)),
    single("gaussian-noise", SEQ, lambda: L.GaussianNoise(0.5)),
    single("gaussian-dropout", SEQ, lambda: L.GaussianDropout(0.3)),
    single("alpha-dropout", SEQ, lambda: L.AlphaDropout(0.3)),
    Case("sequential-convnet", sequential_convnet),
    Case("sequential-chained-lowerings", sequential_chained_lowerings),
    Case("sequential-branching-lowerings", sequential_branching_lowerings),
    # --- activation layers ----------------------------------------------------
    single("relu", SEQ, lambda: L.ReLU()),
    single("relu-max-value", SEQ, lambda: L.ReLU(max_value=0.5)),
    single("relu-negative-slope", SEQ, lambda: L.ReLU(negative_slope=0.1)),
    single("leaky-relu-default", SEQ, lambda: L.LeakyReLU()),
    single("leaky-relu-slope", SEQ, lambda: L.LeakyReLU(negative_slope=0.05)),
    single("prelu", SEQ, lambda: L.PReLU(alpha_initializer=keras.initializers.RandomUniform(0.0, 0.5))),
    single("prelu-shared-axes", IMG,
           lambda: L.PReLU(alpha_initializer=keras.initializers.RandomUniform(0.0, 0.5), shared_axes=[1, 2])),
    single("elu", SEQ, lambda: L.ELU()),
    single("elu-alpha", SEQ, lambda: L.ELU(alpha=0.5)),
    single("softmax", SEQ, lambda: L.Softmax()),
    single("softmax-axis1", SEQ, lambda: L.Softmax(axis=1)),
    single("softmax-axis1-image", IMG, lambda: L.Softmax(axis=1)),
    single("softmax-axis-last-positive", SEQ, lambda: L.Softmax(axis=2)),
    # --- convolutions ---------------------------------------------------------
    single("conv1d", SEQ, lambda: L.Conv1D(3, 2)),
    single("conv1d-channels-first", SEQ, lambda: L.Conv1D(3, 2, data_format="channels_first")),
    single("conv1d-same-stride2", (8, 3), lambda: L.Conv1D(3, 3, strides=2, padding="same")),
    single("conv1d-causal", (8, 3), lambda: L.Conv1D(3, 2, padding="causal", activation="hard_silu")),
    single("conv1d-causal-dilation2", (8, 3), lambda: L.Conv1D(3, 3, padding="causal", dilation_rate=2)),
    single("conv1d-causal-stride2", (8, 3), lambda: L.Conv1D(3, 3, padding="causal", strides=2)),
    single("conv1d-channels-first-causal-hard-sigmoid", (3, 8),
           lambda: L.Conv1D(4, 3, padding="causal", data_format="channels_first", activation="hard_sigmoid")),
    single("conv2d-valid", IMG, lambda: L.Conv2D(4, 3)),
    single("conv2d-groups-depthwise", IMG, lambda: L.Conv2D(6, 3, groups=3, padding="same", activation="relu")),
    single("conv2d-groups-depthwise-no-bias", IMG, lambda: L.Conv2D(3, 3, groups=3, use_bias=False)),
    single("layer-scale-convnext", IMG, lambda: LayerScale(0.5, 3)),
    merge("custom-scale-inception-resnet", [IMG, IMG], lambda: CustomScaleLayer(0.17)),
    single("conv2d-same", IMG, lambda: L.Conv2D(4, 3, padding="same")),
    single("conv2d-stride2", IMG, lambda: L.Conv2D(4, 3, strides=2, padding="same")),
    single("conv2d-dilation2", IMG, lambda: L.Conv2D(4, 3, dilation_rate=2, padding="same")),
    single("conv2d-rect-kernel", IMG, lambda: L.Conv2D(4, (1, 3), strides=(2, 1))),
    single("conv2d-no-bias", IMG, lambda: L.Conv2D(4, 3, use_bias=False)),
    *[single(f"conv2d-{a}", IMG, lambda a=a: L.Conv2D(4, 3, activation=a))
      for a in ("relu", "silu", "hard_sigmoid", "leaky_relu", "gelu", "hard_silu", "relu6", "sigmoid")],
    single("conv2d-channels-first", (3, 6, 6), lambda: L.Conv2D(4, 3, data_format="channels_first")),
    single("conv2d-transpose-channels-first", (3, 6, 6),
           lambda: L.Conv2DTranspose(2, 3, strides=2, data_format="channels_first")),
    single("separable-conv2d-channels-first", (3, 6, 6), lambda: L.SeparableConv2D(4, 3, data_format="channels_first")),
    single("depthwise-conv2d-channels-first", (3, 6, 6), lambda: L.DepthwiseConv2D(3, data_format="channels_first")),
    single("conv3d-channels-first", (2, 4, 4, 4), lambda: L.Conv3D(3, 2, data_format="channels_first")),
    single("conv3d", VOL, lambda: L.Conv3D(3, 2)),
    single("conv3d-same-stride2", VOL, lambda: L.Conv3D(3, 3, strides=2, padding="same", activation="relu")),
    single("conv2d-transpose", IMG, lambda: L.Conv2DTranspose(4, 3)),
    single("conv2d-transpose-stride2-same", IMG, lambda: L.Conv2DTranspose(4, 3, strides=2, padding="same")),
    single("conv2d-transpose-stride2-valid-relu", IMG,
           lambda: L.Conv2DTranspose(2, 3, strides=2, activation="relu", use_bias=False)),
    single("separable-conv2d", IMG, lambda: L.SeparableConv2D(4, 3)),
    single("separable-conv2d-multiplier2", IMG,
           lambda: L.SeparableConv2D(4, 3, depth_multiplier=2, padding="same", strides=2, activation="silu")),
    single("separable-conv2d-no-bias", IMG, lambda: L.SeparableConv2D(4, 3, use_bias=False)),
    single("separable-conv2d-dilation2", IMG, lambda: L.SeparableConv2D(4, 3, dilation_rate=2, padding="same")),
    single("depthwise-conv2d", IMG, lambda: L.DepthwiseConv2D(3)),
    single("depthwise-conv2d-multiplier2", IMG, lambda: L.DepthwiseConv2D(3, depth_multiplier=2, padding="same")),
    single("depthwise-conv2d-stride2-relu6", IMG, lambda: L.DepthwiseConv2D(3, strides=2, activation="relu6")),
    single("depthwise-conv2d-dilation2", IMG, lambda: L.DepthwiseConv2D(3, dilation_rate=2, padding="same")),
    single("depthwise-conv2d-dilation2-multiplier2-hard-silu", IMG,
           lambda: L.DepthwiseConv2D(3, dilation_rate=(2, 1), depth_multiplier=2, activation="hard_silu")),
    # --- pooling --------------------------------------------------------------
    single("max-pool1d", (8, 3), lambda: L.MaxPooling1D()),
    single("max-pool1d-stride1-same", (8, 3), lambda: L.MaxPooling1D(3, strides=1, padding="same")),
    single("avg-pool1d", (8, 3), lambda: L.AveragePooling1D(2)),
    single("avg-pool1d-same", (7, 3), lambda: L.AveragePooling1D(3, strides=2, padding="same")),
    single("max-pool2d", IMG, lambda: L.MaxPooling2D()),
    single("max-pool2d-channels-first", (3, 6, 6), lambda: L.MaxPooling2D(data_format="channels_first")),
    single("max-pool2d-3x3-stride2-same", IMG, lambda: L.MaxPooling2D(3, strides=2, padding="same")),
    single("avg-pool2d", IMG, lambda: L.AveragePooling2D(2)),
    single("avg-pool2d-3x3-stride2-same", (7, 7, 3), lambda: L.AveragePooling2D(3, strides=2, padding="same")),
    single("avg-pool2d-stride1-valid", IMG, lambda: L.AveragePooling2D(3, strides=1)),
    single("avg-pool2d-channels-first", (3, 6, 6), lambda: L.AveragePooling2D(2, data_format="channels_first")),
    single("max-pool3d", VOL, lambda: L.MaxPooling3D()),
    single("max-pool3d-channels-first", (2, 4, 4, 4), lambda: L.MaxPooling3D(data_format="channels_first")),
    single("max-pool3d-same", VOL, lambda: L.MaxPooling3D(3, strides=2, padding="same")),
    single("avg-pool3d", VOL, lambda: L.AveragePooling3D(2)),
    single("avg-pool3d-same", VOL, lambda: L.AveragePooling3D(3, strides=2, padding="same")),
    single("global-max-pool1d", SEQ, lambda: L.GlobalMaxPooling1D()),
    single("global-max-pool1d-keepdims", SEQ, lambda: L.GlobalMaxPooling1D(keepdims=True)),
    single("global-avg-pool1d", SEQ, lambda: L.GlobalAveragePooling1D()),
    single("global-avg-pool1d-keepdims", SEQ, lambda: L.GlobalAveragePooling1D(keepdims=True)),
    single("global-max-pool2d", IMG, lambda: L.GlobalMaxPooling2D()),
    single("global-max-pool2d-keepdims", IMG, lambda: L.GlobalMaxPooling2D(keepdims=True)),
    single("global-avg-pool2d", IMG, lambda: L.GlobalAveragePooling2D()),
    single("global-avg-pool2d-keepdims", IMG, lambda: L.GlobalAveragePooling2D(keepdims=True)),
    single("global-avg-pool2d-channels-first", (3, 6, 6), lambda: L.GlobalAveragePooling2D(data_format="channels_first")),
    single("global-avg-pool1d-channels-first", SEQ, lambda: L.GlobalAveragePooling1D(data_format="channels_first")),
    single("global-max-pool1d-channels-first-keepdims", SEQ,
           lambda: L.GlobalMaxPooling1D(data_format="channels_first", keepdims=True)),
    # --- normalization --------------------------------------------------------
    single("batch-norm", IMG, lambda: L.BatchNormalization()),
    single("batch-norm-no-center-no-scale", IMG, lambda: L.BatchNormalization(center=False, scale=False)),
    single("batch-norm-no-center", IMG, lambda: L.BatchNormalization(center=False, epsilon=0.01)),
    single("batch-norm-axis1", SEQ, lambda: L.BatchNormalization(axis=1)),
    single("batch-norm-axis1-image", (3, 6, 6), lambda: L.BatchNormalization(axis=1)),
    single("batch-norm-axis2-image", IMG, lambda: L.BatchNormalization(axis=2, center=False)),
    single("batch-norm-rank2", (4,), lambda: L.BatchNormalization()),
    single("batch-norm-volume", VOL, lambda: L.BatchNormalization()),
    single("batch-norm-volume-axis1", VOL, lambda: L.BatchNormalization(axis=1)),
    single("layer-norm", SEQ, lambda: L.LayerNormalization()),
    single("layer-norm-axes-1-2", (4, 5, 3), lambda: L.LayerNormalization(axis=[1, 2])),
    single("layer-norm-axis1-no-center", SEQ, lambda: L.LayerNormalization(axis=1, center=False)),
    single("layer-norm-no-scale", SEQ, lambda: L.LayerNormalization(scale=False, epsilon=1e-5)),
    adapted_normalization("normalization-adapted", SEQ),
    adapted_normalization("normalization-adapted-image", IMG),
    adapted_normalization("normalization-adapted-invert", SEQ, invert=True),
    adapted_normalization("normalization-adapted-axis1", SEQ, axis=1),
    adapted_normalization("normalization-adapted-volume", VOL),
    single("normalization-given", SEQ, lambda: L.Normalization(mean=[0.0, 1.0, -1.0, 2.0], variance=[1.0, 4.0, 0.25, 9.0])),
    single("normalization-scalar", SEQ, lambda: L.Normalization(axis=None, mean=2.0, variance=4.0)),
    # --- preprocessing --------------------------------------------------------
    single("rescaling", IMG, lambda: L.Rescaling(1 / 127.5, offset=-1.0)),
    single("rescaling-per-channel", IMG, lambda: L.Rescaling([0.5, 1.0, 2.0], offset=[0.1, 0.0, -0.1])),
    single("rescaling-per-channel-offset-scalar", SEQ, lambda: L.Rescaling(np.array([0.5, 1.0, 2.0, -1.0]), offset=0.5)),
    single("rescaling-per-row", SEQ, lambda: L.Rescaling(np.array([[1.0], [2.0], [3.0], [4.0], [5.0]]))),
    single("rescaling-volume-per-channel", VOL, lambda: L.Rescaling([0.5, 2.0])),
    # --- merging --------------------------------------------------------------
    merge("add", [SEQ, SEQ], lambda: L.Add()),
    merge("add-three", [SEQ, SEQ, SEQ], lambda: L.Add()),
    merge("multiply", [SEQ, SEQ], lambda: L.Multiply()),
    merge("average", [SEQ, SEQ], lambda: L.Average()),
    merge("maximum", [SEQ, SEQ], lambda: L.Maximum()),
    merge("minimum", [SEQ, SEQ], lambda: L.Minimum()),
    merge("subtract", [SEQ, SEQ], lambda: L.Subtract()),
    merge("concatenate", [SEQ, SEQ], lambda: L.Concatenate()),
    merge("concatenate-axis1", [(3, 4), (5, 4)], lambda: L.Concatenate(axis=1)),
    merge("dot", [(4,), (4,)], lambda: L.Dot(axes=1)),
    merge("dot-normalize", [(4,), (4,)], lambda: L.Dot(axes=1, normalize=True)),
    merge("dot-axes-2-2", [(3, 4), (5, 4)], lambda: L.Dot(axes=(2, 2))),
    merge("dot-axes-1-1", [(3, 4), (3, 5)], lambda: L.Dot(axes=1)),
    # --- reshaping ------------------------------------------------------------
    single("flatten", IMG, lambda: L.Flatten()),
    single("flatten-channels-first", IMG, lambda: L.Flatten(data_format="channels_first")),
    single("reshape", IMG, lambda: L.Reshape((9, 12))),
    single("reshape-minus-one", IMG, lambda: L.Reshape((-1, 3))),
    single("permute", SEQ, lambda: L.Permute((2, 1))),
    single("permute-3d", IMG, lambda: L.Permute((3, 1, 2))),
    single("repeat-vector", (4,), lambda: L.RepeatVector(3)),
    single("zero-padding1d", SEQ, lambda: L.ZeroPadding1D(2)),
    single("zero-padding1d-asym", SEQ, lambda: L.ZeroPadding1D((1, 3))),
    single("cropping1d", (8, 3), lambda: L.Cropping1D((1, 2))),
    single("upsampling1d", SEQ, lambda: L.UpSampling1D(3)),
    single("zero-padding2d", IMG, lambda: L.ZeroPadding2D(1)),
    single("zero-padding2d-asym", IMG, lambda: L.ZeroPadding2D(((1, 2), (0, 3)))),
    single("zero-padding2d-channels-first", (3, 6, 6),
           lambda: L.ZeroPadding2D(((1, 0), (0, 2)), data_format="channels_first")),
    single("cropping2d", IMG, lambda: L.Cropping2D(((1, 2), (0, 3)))),
    single("cropping2d-channels-first", (3, 6, 6),
           lambda: L.Cropping2D(((1, 0), (0, 2)), data_format="channels_first")),
    single("upsampling2d-nearest", IMG, lambda: L.UpSampling2D((2, 3))),
    single("upsampling2d-channels-first", (3, 6, 6), lambda: L.UpSampling2D(2, data_format="channels_first")),
    single("zero-padding3d", VOL, lambda: L.ZeroPadding3D(((1, 0), (0, 2), (1, 1)))),
    single("cropping3d", VOL, lambda: L.Cropping3D(((1, 0), (0, 2), (1, 1)))),
    # --- recurrent ------------------------------------------------------------
    single("simple-rnn", SEQ, lambda: L.SimpleRNN(3)),
    single("simple-rnn-sequences", SEQ, lambda: L.SimpleRNN(3, return_sequences=True, activation="relu")),
    single("simple-rnn-state", SEQ, lambda: L.SimpleRNN(3, return_state=True)),
    single("simple-rnn-backwards", SEQ, lambda: L.SimpleRNN(3, go_backwards=True, return_sequences=True)),
    single("lstm", SEQ, lambda: L.LSTM(3)),
    single("lstm-sequences", SEQ, lambda: L.LSTM(3, return_sequences=True)),
    single("lstm-state", SEQ, lambda: L.LSTM(3, return_state=True)),
    single("lstm-backwards", SEQ, lambda: L.LSTM(3, go_backwards=True)),
    single("lstm-backwards-sequences-state", SEQ,
           lambda: L.LSTM(3, go_backwards=True, return_sequences=True, return_state=True)),
    single("lstm-no-bias-unroll", SEQ, lambda: L.LSTM(3, use_bias=False, unroll=True)),
    single("lstm-relu-sigmoid", SEQ, lambda: L.LSTM(3, activation="relu", recurrent_activation="sigmoid")),
    single("gru", SEQ, lambda: L.GRU(3, reset_after=False)),
    single("gru-sequences", SEQ, lambda: L.GRU(3, reset_after=False, return_sequences=True)),
    single("gru-state", SEQ, lambda: L.GRU(3, reset_after=False, return_state=True)),
    single("gru-backwards", SEQ, lambda: L.GRU(3, reset_after=False, go_backwards=True, return_sequences=True)),
    single("gru-no-bias", SEQ, lambda: L.GRU(3, reset_after=False, use_bias=False)),
    # --- wrappers -------------------------------------------------------------
    *[single(f"bidirectional-lstm-{m}", SEQ, lambda m=m: L.Bidirectional(L.LSTM(3), merge_mode=m))
      for m in ("concat", "sum", "mul", "ave")],
    single("bidirectional-lstm-none", SEQ, lambda: L.Bidirectional(L.LSTM(3), merge_mode=None)),
    single("bidirectional-gru-sequences", SEQ,
           lambda: L.Bidirectional(L.GRU(3, reset_after=False, return_sequences=True))),
    single("bidirectional-lstm-state", SEQ, lambda: L.Bidirectional(L.LSTM(3, return_state=True))),
    single("bidirectional-simple-rnn", SEQ, lambda: L.Bidirectional(L.SimpleRNN(3), merge_mode="sum")),
    single("time-distributed-dense", SEQ, lambda: L.TimeDistributed(L.Dense(3, activation="relu"))),
    single("time-distributed-conv2d", (3, 6, 6, 2), lambda: L.TimeDistributed(L.Conv2D(2, 3))),
]


# Cases that fail because of exporter/layers/topology.py, not a translator. Strict:
# when topology is fixed they pass, xfail turns into a failure, and the entry
# must be removed here.
TOPOLOGY_GAPS = {}


def _params(cases):
    return [pytest.param(case, id=case.id, marks=pytest.mark.xfail(reason=TOPOLOGY_GAPS[case.id], strict=True))
            if case.id in TOPOLOGY_GAPS else pytest.param(case, id=case.id) for case in cases]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return run_cases(CASES, tmp_path_factory.mktemp("layers"))


@pytest.mark.parametrize("case", _params(CASES))
def test_parity(results, case):
    assert_parity(results[case.id])


def test_parity_ran_on_the_wasm_backend(results):
    """The check runs on WASM, as browsers without WebGL do; no case needed the CPU fallback."""
    assert {case_id: r.backend for case_id, r in results.items() if r.backend != "wasm"} == {}


@pytest.mark.parametrize("backend", ["cpu", "wasm"])
def test_parity_backend_can_be_chosen(tmp_path, monkeypatch, backend):
    monkeypatch.setenv("WEBNETS_TFJS_BACKEND", backend)
    result = run_cases([CASES[0]], tmp_path)[CASES[0].id]
    assert_parity(result)
    assert result.backend == backend


def test_prestarted_runner_takes_the_next_jobs(tmp_path, monkeypatch):
    """`convert` starts Node before importing TensorFlow; the parity check then hands that runner its jobs."""
    monkeypatch.delenv("WEBNETS_TFJS_BACKEND", raising=False)
    early = runtime.prestart()
    assert runtime.waiting_runner("wasm") is early is not None
    result = run_cases([CASES[0]], tmp_path)[CASES[0].id]
    assert_parity(result)
    assert early.returncode == 0 and runtime.waiting_runner("wasm") is None


def test_unused_prestarted_runner_exits_when_told_nothing():
    runner = subprocess.Popen(["node", str(runtime.RUNNER), "--stdin", "wasm"], cwd=runtime.REPO_ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = runner.communicate("", timeout=60)
    assert runner.returncode == 0 and out == err == ""


def test_a_missing_tfjs_package_is_named(tmp_path, monkeypatch):
    (tmp_path / "node_modules" / "@tensorflow" / "tfjs").mkdir(parents=True)
    monkeypatch.setattr(runtime, "REPO_ROOT", tmp_path)
    with pytest.raises(ExportError, match="@tensorflow/tfjs-backend-wasm is not installed.*Fix: run `npm ci`"):
        run_jobs([])


def test_unknown_parity_backend_is_refused(monkeypatch):
    monkeypatch.setenv("WEBNETS_TFJS_BACKEND", "webgpu")
    with pytest.raises(ExportError, match="WEBNETS_TFJS_BACKEND='webgpu'.*one of wasm, cpu"):
        run_jobs([])


def test_case_ids_are_unique():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    assert set(TOPOLOGY_GAPS) <= set(ids)


def test_every_translator_is_covered(results):
    # The webnets classes' translators have their parity cases in tests/test_webnets_*.py.
    covered = set().union(*(result.classes for result in results.values()))
    for module in WEBNETS_CASE_MODULES:
        for case in module.CASES:
            keras.utils.set_random_seed(0)
            covered |= layer_classes(case.build())
    builtin = {key for key in TRANSLATORS if ">" not in key and "." not in key}  # keras-hub's: test_keras_hub.py
    missing = sorted(builtin - covered - set(AUGMENTATION_LAYERS))
    assert not missing, f"translators without a parity case in tests/test_layers.py or test_webnets_*.py: {missing}"
    cells = set(RNN_CELLS) - covered
    assert not cells, f"RNN cells without a parity case: {sorted(cells)}"


def test_every_builtin_layer_class_converts_or_is_refused_for_a_reason():
    """The count the README states: every concrete keras.layers class has a translator (or runs inside
    one), but the foreign-code five, refused for good."""
    statuses = {name: status for name, status, *_ in builtin_layer_statuses()}
    assert [name for name, status in statuses.items() if status == "missing"] == []
    assert {name for name, status in statuses.items() if status == "refused"} == set(FOREIGN_CODE)
    assert len(statuses) >= 140 and sum(status == "converts" for status in statuses.values()) >= 120


REFUSALS = [
    ("conv2d-groups-channels-first", (4, 6, 6), lambda: L.Conv2D(4, 3, groups=2, data_format="channels_first"),
     "channels_first"),
    ("relu-threshold", SEQ, lambda: L.ReLU(threshold=0.5), "threshold"),
    ("relu-slope-and-max", SEQ, lambda: L.ReLU(max_value=6.0, negative_slope=0.1), "max_value"),
    ("upsampling2d-bicubic", IMG, lambda: L.UpSampling2D(2, interpolation="bicubic"), "interpolation='bicubic'"),
    ("resizing-lanczos", IMG, lambda: L.Resizing(4, 4, interpolation="lanczos3"), "interpolation='lanczos3'"),
    ("resizing-antialias", IMG, lambda: L.Resizing(3, 3, antialias=True), "antialias"),
    ("max-pool1d-channels-first", SEQ, lambda: L.MaxPooling1D(data_format="channels_first"), "channels_last"),
    ("lstm-hard-sigmoid", SEQ, lambda: L.LSTM(3, recurrent_activation="hard_sigmoid"), "hard_sigmoid"),
    ("dense-exponential", (4,), lambda: L.Dense(3, activation="exponential"), "exponential"),
    ("time-distributed-lowered", SEQ, lambda: L.TimeDistributed(L.Dense(3, activation="hard_silu")), "wrapper"),
    ("lambda", SEQ, lambda: L.Lambda(lambda x: x * 2.0), "Lambda"),
]


@pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`")
@pytest.mark.parametrize("case_id, shape, make, expected", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusal(case_id, shape, make, expected):
    inputs = keras.Input(shape)
    model = keras.Model(inputs, make()(inputs))
    with pytest.raises(UnsupportedLayerError) as error:
        translate_model(model)
    message = str(error.value)
    assert expected in message, message
    assert "Fix:" in message, message
