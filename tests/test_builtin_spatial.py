"""Keras 3's spatial layers that tfjs-layers 4.22 lacks or computes otherwise: adaptive pooling
(1D/2D/3D, average and max), GlobalAveragePooling3D / GlobalMaxPooling3D, UpSampling3D,
Conv3DTranspose, output_padding / dilation_rate / channels_first on the transposed
convolutions, and MaxPooling3D with a pool size of 1 (wrong in tfjs-backend-wasm's kernel). Parity on WASM and CPU, what each becomes, one SGD step in TF.js against Keras
(the transposed convolutions' weights, and a Dense trained through the weightless layers), and
the refusals.
"""

import keras
import numpy as np
import pytest

from exporter.errors import UnsupportedLayerError
from exporter.layers import translate_model
from exporter.parity.tolerances import FLOAT32_BOUND
from exporter.runtime import webnets_classes

from .fit_helper import fit_step
from .parity_helper import parity_on_backends, single

L = keras.layers

ADAPTIVE_CASES = [
    single("adaptive_avg1d_uneven", (7, 3), lambda: L.AdaptiveAveragePooling1D(3)),
    single("adaptive_max1d_uneven", (7, 3), lambda: L.AdaptiveMaxPooling1D(3)),
    single("adaptive_max1d_more_outputs_than_steps", (3, 2), lambda: L.AdaptiveMaxPooling1D(5)),
    single("adaptive_avg1d_channels_first", (3, 7), lambda: L.AdaptiveAveragePooling1D(4, data_format="channels_first")),
    single("adaptive_avg1d_even", (8, 3), lambda: L.AdaptiveAveragePooling1D(4)),
    single("adaptive_max1d_even_channels_first", (3, 8), lambda: L.AdaptiveMaxPooling1D(2, data_format="channels_first")),
    single("adaptive_avg2d_uneven", (7, 5, 3), lambda: L.AdaptiveAveragePooling2D((3, 2))),
    single("adaptive_max2d_uneven_channels_first", (3, 7, 5),
           lambda: L.AdaptiveMaxPooling2D((3, 4), data_format="channels_first")),
    single("adaptive_avg2d_one_axis_even", (8, 7, 3), lambda: L.AdaptiveAveragePooling2D((4, 3))),
    single("adaptive_avg2d_even", (8, 6, 3), lambda: L.AdaptiveAveragePooling2D((4, 3))),
    single("adaptive_max2d_even_channels_first", (3, 8, 6), lambda: L.AdaptiveMaxPooling2D(2, data_format="channels_first")),
    single("adaptive_avg2d_to_one", (7, 5, 3), lambda: L.AdaptiveAveragePooling2D(1)),
    # (Keras' TF backend crashes, a floating point exception, on max-pooling the last spatial axis to 1.)
    single("adaptive_max2d_rows_to_one", (7, 4, 3), lambda: L.AdaptiveMaxPooling2D((1, 2))),
    single("adaptive_avg3d_uneven", (5, 7, 6, 2), lambda: L.AdaptiveAveragePooling3D((2, 3, 4))),
    single("adaptive_max3d_uneven_channels_first", (2, 5, 7, 6),
           lambda: L.AdaptiveMaxPooling3D((3, 2, 4), data_format="channels_first")),
    single("adaptive_max3d_even", (4, 6, 4, 2), lambda: L.AdaptiveMaxPooling3D((2, 3, 2))),
    single("adaptive_max3d_even_pool_of_one", (4, 6, 2, 2), lambda: L.AdaptiveMaxPooling3D((2, 3, 2))),
    single("adaptive_avg3d_even_channels_first", (2, 4, 6, 3),
           lambda: L.AdaptiveAveragePooling3D((2, 3, 3), data_format="channels_first")),
]

GLOBAL_3D_CASES = [
    single("global_avg_pool3d", (3, 4, 5, 2), lambda: L.GlobalAveragePooling3D()),
    single("global_max_pool3d", (3, 4, 5, 2), lambda: L.GlobalMaxPooling3D()),
    single("global_avg_pool3d_keepdims", (3, 4, 5, 2), lambda: L.GlobalAveragePooling3D(keepdims=True)),
    single("global_max_pool3d_channels_first", (2, 3, 4, 5), lambda: L.GlobalMaxPooling3D(data_format="channels_first")),
    single("global_avg_pool3d_channels_first_keepdims", (2, 3, 4, 5),
           lambda: L.GlobalAveragePooling3D(data_format="channels_first", keepdims=True)),
    single("global_max_pool3d_any_size", (None, None, None, 3), lambda: L.GlobalMaxPooling3D()),
]

UPSAMPLING_CASES = [
    single("upsampling3d", (3, 4, 2, 3), lambda: L.UpSampling3D()),
    single("upsampling3d_uneven_sizes", (3, 2, 5, 2), lambda: L.UpSampling3D((1, 2, 3))),
    single("upsampling3d_channels_first", (2, 3, 4, 2), lambda: L.UpSampling3D((3, 1, 2), data_format="channels_first")),
    single("upsampling3d_any_size", (None, 3, None, 2), lambda: L.UpSampling3D(2)),
]

TRANSPOSE_CASES = [
    single("conv3d_transpose", (4, 5, 3, 2), lambda: L.Conv3DTranspose(3, 3)),
    single("conv3d_transpose_stride2_same_relu", (3, 4, 5, 2),
           lambda: L.Conv3DTranspose(2, 3, strides=2, padding="same", activation="relu")),
    single("conv3d_transpose_uneven_no_bias", (3, 4, 5, 2),
           lambda: L.Conv3DTranspose(2, (2, 3, 1), strides=(2, 1, 3), use_bias=False)),
    single("conv3d_transpose_stride_above_kernel", (3, 2, 4, 2), lambda: L.Conv3DTranspose(2, 2, strides=3)),
    single("conv3d_transpose_channels_first", (2, 3, 4, 5),
           lambda: L.Conv3DTranspose(2, 3, strides=2, data_format="channels_first")),
    single("conv3d_transpose_output_padding", (3, 4, 3, 2), lambda: L.Conv3DTranspose(2, 3, strides=2, output_padding=1)),
    single("conv3d_transpose_same_output_padding", (3, 4, 3, 2),
           lambda: L.Conv3DTranspose(2, 3, strides=(2, 3, 2), padding="same", output_padding=(1, 2, 0))),
    single("conv3d_transpose_dilated_same", (4, 5, 3, 2),
           lambda: L.Conv3DTranspose(2, 3, dilation_rate=(2, 1, 2), padding="same")),
    single("conv2d_transpose_output_padding", (5, 4, 3), lambda: L.Conv2DTranspose(2, 3, strides=3, output_padding=2)),
    single("conv2d_transpose_same_output_padding", (5, 4, 3),
           lambda: L.Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=(1, 0))),
    single("conv2d_transpose_even_kernel_same_output_padding", (5, 4, 3),
           lambda: L.Conv2DTranspose(2, 4, strides=2, padding="same", output_padding=1)),
    single("conv2d_transpose_pointwise_same_output_padding", (5, 4, 3),
           lambda: L.Conv2DTranspose(2, 1, strides=2, padding="same", output_padding=1)),
    single("conv2d_transpose_output_padding_channels_first_hard_silu", (3, 5, 4),
           lambda: L.Conv2DTranspose(2, 3, strides=2, output_padding=1, data_format="channels_first",
                                     activation="hard_silu")),
    single("conv2d_transpose_dilated", (5, 6, 3), lambda: L.Conv2DTranspose(2, (3, 2), dilation_rate=(2, 3))),
    single("conv2d_transpose_dilated_same_channels_first", (3, 5, 6),
           lambda: L.Conv2DTranspose(2, 3, dilation_rate=2, padding="same", data_format="channels_first")),
    single("conv2d_transpose_stride_above_kernel", (5, 4, 3), lambda: L.Conv2DTranspose(2, 2, strides=3)),
    single("conv1d_transpose_channels_first", (3, 7),
           lambda: L.Conv1DTranspose(2, 3, strides=2, data_format="channels_first")),
    single("conv1d_transpose_same_output_padding", (7, 3),
           lambda: L.Conv1DTranspose(4, 3, strides=2, padding="same", output_padding=1)),
    single("conv1d_transpose_dilated", (7, 3), lambda: L.Conv1DTranspose(2, 3, dilation_rate=2)),
    single("conv1d_transpose_channels_first_output_padding_gelu", (3, 7),
           lambda: L.Conv1DTranspose(2, 4, strides=3, output_padding=2, data_format="channels_first", activation="gelu")),
]

# tfjs-backend-wasm 4.22's MaxPool3D is wrong when a pool size is 1 (C3D pools (1, 2, 2)): WebnetsMaxPooling3D.
MAX_POOL_3D_CASES = [
    single("max_pool3d_spatial_only", (3, 4, 6, 2), lambda: L.MaxPooling3D((1, 2, 2))),
    single("max_pool3d_one_axis_same_channels_first", (2, 5, 4, 7),
           lambda: L.MaxPooling3D((2, 1, 3), strides=(1, 2, 2), padding="same", data_format="channels_first")),
    single("max_pool3d_two_axes_of_one", (3, 4, 5, 2), lambda: L.MaxPooling3D((1, 1, 2), strides=(2, 1, 2))),
]

CASES = ADAPTIVE_CASES + GLOBAL_3D_CASES + UPSAMPLING_CASES + TRANSPOSE_CASES + MAX_POOL_3D_CASES


wasm_results, cpu_results, test_parity_on_wasm, test_parity_on_cpu = parity_on_backends(CASES, "spatial")




def tfjs_classes(model_json):
    layers = model_json["modelTopology"]["model_config"]["config"]["layers"]
    return {layer["class_name"] for layer in layers} - {"InputLayer"}


@pytest.mark.parametrize("case_id, expected", [
    ("adaptive_avg1d_even", {"AveragePooling1D"}),
    ("adaptive_max2d_even_channels_first", {"MaxPooling2D"}),
    ("adaptive_avg2d_to_one", {"AveragePooling2D"}),
    ("adaptive_max3d_even", {"MaxPooling3D"}),
    ("adaptive_max3d_even_pool_of_one", {"WebnetsMaxPooling3D"}),  # tfjs-backend-wasm's MaxPool3D is wrong there
    ("max_pool3d_spatial_only", {"WebnetsMaxPooling3D"}),
    ("adaptive_avg1d_channels_first", {"WebnetsAdaptivePooling"}),  # tfjs' 1D pooling is channels_last only
    ("adaptive_avg2d_one_axis_even", {"WebnetsAdaptivePooling"}),
    ("adaptive_max3d_uneven_channels_first", {"WebnetsAdaptivePooling"}),
    ("global_avg_pool3d", {"Reshape", "GlobalAveragePooling2D"}),
    ("global_max_pool3d_channels_first", {"Reshape", "GlobalMaxPooling2D"}),
    ("upsampling3d_channels_first", {"WebnetsUpSampling3D"}),
    ("conv2d_transpose_stride_above_kernel", {"Conv2DTranspose"}),  # tfjs' own where it computes the same
    ("conv2d_transpose_output_padding", {"WebnetsConvTranspose"}),
    ("conv2d_transpose_dilated", {"WebnetsConvTranspose"}),
    ("conv3d_transpose", {"WebnetsConvTranspose"}),  # tfjs' Conv3DTranspose cannot train
    ("conv1d_transpose_channels_first", {"WebnetsConvTranspose"}),
])
def test_each_layer_becomes_tfjs_own_layers_where_they_compute_the_same(wasm_results, case_id, expected):
    assert tfjs_classes(wasm_results[case_id].model_json) == expected
    assert bool(webnets_classes(wasm_results[case_id].model_json)) == any(c.startswith("Webnets") for c in expected)


def test_keras_adaptive_windows_are_the_ones_the_runtime_pools():
    # Keras' uneven windows, which WebnetsAdaptivePooling reproduces: 7 steps pooled to 4 read
    # [floor(i * 7 / 4), ceil((i + 1) * 7 / 4)) = [0, 2), [1, 4), [3, 6), [5, 7), overlapping.
    x = np.arange(7, dtype="float32").reshape(1, 7, 1)
    np.testing.assert_allclose(np.asarray(L.AdaptiveAveragePooling1D(4)(x))[0, :, 0], [0.5, 2, 4, 5.5])
    np.testing.assert_allclose(np.asarray(L.AdaptiveMaxPooling1D(4)(x))[0, :, 0], [1, 3, 5, 6])


FIT_CASES = {
    # (input shape, layer): a Dense in front, so the step also trains through the layer's input gradient.
    "conv3d_transpose_same": ((3, 4, 3, 2), lambda: L.Conv3DTranspose(2, 3, strides=2, padding="same", activation="tanh")),
    "conv3d_transpose_output_padding_channels_first": (
        (2, 3, 4, 3), lambda: L.Conv3DTranspose(2, 3, strides=2, output_padding=1, data_format="channels_first")),
    "conv3d_transpose_dilated": ((4, 3, 5, 2), lambda: L.Conv3DTranspose(2, 2, dilation_rate=2, padding="same")),
    "conv2d_transpose_same_output_padding": (
        (5, 4, 3), lambda: L.Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=(1, 0))),
    "conv2d_transpose_dilated_channels_first": (
        (3, 5, 6), lambda: L.Conv2DTranspose(2, 3, dilation_rate=(2, 1), data_format="channels_first")),
    "conv1d_transpose_channels_first_output_padding": (
        (3, 7), lambda: L.Conv1DTranspose(2, 3, strides=2, output_padding=1, data_format="channels_first")),
    "conv1d_transpose_dilated": ((7, 3), lambda: L.Conv1DTranspose(2, 3, dilation_rate=2, activation="tanh")),
    "adaptive_max2d_uneven": ((7, 5, 3), lambda: L.AdaptiveMaxPooling2D((3, 2))),
    "adaptive_avg3d_uneven_channels_first": (
        (2, 5, 7, 6), lambda: L.AdaptiveAveragePooling3D((3, 2, 4), data_format="channels_first")),
    "upsampling3d": ((2, 3, 2, 3), lambda: L.UpSampling3D((2, 1, 3))),
    "global_max_pool3d_keepdims": ((3, 4, 5, 2), lambda: L.GlobalMaxPooling3D(keepdims=True)),
    "max_pool3d_spatial_only": ((3, 4, 6, 2), lambda: L.MaxPooling3D((1, 2, 2), padding="same")),
}


@pytest.mark.parametrize("case_id", list(FIT_CASES))
def test_one_sgd_step_in_tfjs_matches_keras(tmp_path, case_id):
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    shape, make = FIT_CASES[case_id]
    inputs = keras.Input(shape)
    model = keras.Model(inputs, make()(L.Dense(shape[-1])(inputs)))
    x = rng.standard_normal((3, *shape)).astype("float32")
    y = rng.standard_normal((3, *model.output.shape[1:])).astype("float32")
    step = fit_step(model, [x], [y], tmp_path)
    assert step.change > 1e-4, "the step did not move every weight"
    assert step.error <= FLOAT32_BOUND, f"{step.worst}: update differs by {step.error:.2e}"


REFUSALS = [
    ("global_pool3d_unknown_channels", (4, 4, 4, None), lambda: L.GlobalAveragePooling3D(), "channel"),
]


@pytest.mark.parametrize("case_id, shape, make, expected", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusal(case_id, shape, make, expected):
    inputs = keras.Input(shape)
    with pytest.raises(UnsupportedLayerError) as error:
        translate_model(keras.Model(inputs, make()(inputs)))
    assert expected in str(error.value) and "Fix:" in str(error.value), str(error.value)
