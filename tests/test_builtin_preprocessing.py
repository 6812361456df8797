"""Keras 3's numeric preprocessing and audio layers in TF.js: STFTSpectrogram, MelSpectrogram
(webnets-layers.js, defineSignal), AutoContrast, ContrastLimitedAdaptiveHistogramEqualization,
Discretization, CategoryEncoding (defineImagePreprocessing), Pipeline (its layers in sequence),
and Equalization and MaxNumBoundingBoxes, which are the identity on images at inference.

Parity runs every case on WASM and on CPU. The sample inputs of exporter/parity/compare.py
(normal floats, ids below 10) miss most of these layers' edges, so cases whose model name is in
INPUTS get their own inputs (batch 3): values exactly on and just below bin boundaries and out of
range, images with a constant channel and pixels outside [0, 255], a silent signal. STFTSpectrogram
with channels_first cannot run in Keras' TensorFlow backend on a CPU (its Conv2D takes NHWC only),
so those cases compare with Keras' channels_last layer on the same kernels, rearranged as
STFTSpectrogram._adjust_shapes arranges channels_first outputs (REFERENCES).
"""

import json

import keras
import numpy as np
import pytest

from exporter.errors import UnsupportedLayerError
from exporter.layers import translate_model
from exporter.parity.tolerances import FLOAT32_BOUND
from exporter.runtime import webnets_classes

from . import parity_helper
from .fit_helper import fit_step
from .parity_helper import Case, parity_on_backends, single

L = keras.layers
pytestmark = pytest.mark.filterwarnings("ignore:`fft_length` is recommended to be a power of two")

INPUTS = {}  # model name -> model -> input arrays, for cases whose edges sample_inputs misses
REFERENCES = {}  # model name -> (model, inputs) -> expected outputs, where Keras cannot run the model itself


def case(case_id, shape, make, inputs=None, dtype="float32", reference=None):
    """`single`, with its own inputs (a function of the built model) and, optionally, its reference."""
    name = case_id

    def build():
        x = keras.Input(shape, dtype=dtype)
        return keras.Model(x, make()(x), name=name)

    if inputs is not None:
        INPUTS[name] = inputs
    if reference is not None:
        REFERENCES[name] = reference
    return Case(case_id, build)


# --- inputs that reach the edges -------------------------------------------------------------

def signals(length, channels=None, seed=0):
    """Three signals: noise, silence (every power under min_power) and a quiet sine (a dB floor)."""
    rng = np.random.default_rng(seed)
    shape = (length,) if channels is None else (length, channels)
    noise = rng.standard_normal(shape)
    quiet = 1e-3 * np.sin(np.arange(length) * 0.7).reshape((length,) + (1,) * (len(shape) - 1)) * np.ones(shape)
    return lambda model: [np.stack([noise, np.zeros(shape), quiet]).astype("float32")]


def pixel_images(shape, value_range=(0, 255), seed=0):
    """Three images in value_range: one with a constant channel, one with a zero channel, one with
    pixels outside the range, and fractional values throughout (CLAHE truncates them to bins)."""
    low, high = value_range
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, (3, *shape)).astype("float32")
    x[..., :4] = np.round(x[..., :4])  # whole values too (exact bins)
    x[0, ..., 1] = low + 0.3 * (high - low)  # channels_last: a constant channel; channels_first: a constant column
    x[1, ..., -1] = low
    x[2, 0, 0] = low - 0.013 * (high - low)
    x[2, -1, -1] = high + 0.2 * (high - low)
    return lambda model: [x]


def integer_images(shape, seed=0):
    return lambda model: [np.random.default_rng(seed).integers(0, 256, (3, *shape)).astype("int32")]


BOUNDARIES = [-1.0, 0.0, 0.1, 2.5]


def around(boundaries, shape, seed=0):
    """Values on each float32 boundary, a float32 step below it, and far outside, in a random order."""
    b = np.asarray(boundaries, np.float32)
    edges = np.concatenate([b, np.nextafter(b, np.float32(-np.inf)), [-1e6, 1e6, 1.7, -0.5]]).astype("float32")
    size = 3 * int(np.prod(shape))
    values = np.resize(np.random.default_rng(seed).permutation(edges), size)
    return values.reshape((3, *shape))


def near_boundaries(shape, boundaries=BOUNDARIES):
    return lambda model: [around(boundaries, shape)]


def near_adapted_boundaries(shape):
    """The adapted boundaries are known once the model is built (adapt() ran on fixed data)."""
    return lambda model: [around(model.layers[-1].bin_boundaries, shape)]


def ids(shape, low=-1, high=9, seed=0):
    """Token ids, some at or above num_tokens (6 below) and, where Keras allows them, negative."""
    return lambda model: [np.random.default_rng(seed).integers(low, high, (3, *shape)).astype("int32")]


def adapted_discretization(**options):
    layer = L.Discretization(num_bins=5, **options)
    layer.adapt(np.random.default_rng(7).normal(size=(200, 4)).astype("float32"))
    return layer


# --- STFTSpectrogram with channels_first: Keras' channels_last layer, rearranged -------------

def stft_channels_first_reference(model, inputs):
    layer = model.layers[-1]
    twin = L.STFTSpectrogram.from_config({**layer.get_config(), "data_format": "channels_last"})
    twin.build((None, None, inputs[0].shape[1]))
    twin.set_weights(layer.get_weights())
    y = np.asarray(twin(np.transpose(inputs[0], (0, 2, 1))))
    # _adjust_shapes: channels_last gives [B, T, C*F] or [B, T, F, C]; channels_first [B, C*F, T] or [B, C, T, F].
    return [np.transpose(y, (0, 3, 1, 2)) if layer.expand_dims else np.transpose(y, (0, 2, 1))]


def channels_first_stft(**options):
    return lambda: L.STFTSpectrogram(data_format="channels_first", **options)


def two_inputs_count_weights():
    tokens, weights = keras.Input((5,), dtype="int32"), keras.Input((5,))
    return keras.Model([tokens, weights], L.CategoryEncoding(6, output_mode="count")(tokens, count_weights=weights),
                       name="count_weights")


INPUTS["count_weights"] = lambda model: [ids((5,), low=0, high=9)(model)[0],
                                          np.random.default_rng(3).uniform(-2, 2, (3, 5)).astype("float32")]


def pipeline_in_sequential():
    return keras.Sequential([keras.Input((6, 5, 3)), L.Pipeline([L.AutoContrast(), L.Equalization()]), L.Flatten(),
                             L.Dense(2)], name="pipeline_in_sequential")


INPUTS["pipeline_in_sequential"] = pixel_images((6, 5, 3))

SIGNAL_CASES = [
    case("stft_log_defaults", (101, 1), lambda: L.STFTSpectrogram(frame_length=16), signals(101, 1)),
    case("stft_magnitude_same_hamming_periodic", (51, 2), lambda: L.STFTSpectrogram(
        mode="magnitude", frame_length=15, frame_step=4, fft_length=32, window="hamming", periodic=True,
        scaling="spectrum", padding="same"), signals(51, 2)),
    case("stft_psd_expand_dims_no_scaling", (37, 3), lambda: L.STFTSpectrogram(
        mode="psd", frame_length=8, frame_step=3, scaling=None, expand_dims=True), signals(37, 3)),
    single("stft_real_no_window_odd_fft", (41, 2), lambda: L.STFTSpectrogram(
        mode="real", frame_length=9, frame_step=9, fft_length=15, window=None)),
    single("stft_imag_custom_window", (41, 1), lambda: L.STFTSpectrogram(
        mode="imag", frame_length=8, window=np.linspace(0.2, 1.0, 8).tolist(), padding="same")),
    single("stft_angle", (40, 2), lambda: L.STFTSpectrogram(mode="angle", frame_length=8, frame_step=4)),
    single("stft_stft_expand_dims", (33, 2), lambda: L.STFTSpectrogram(mode="stft", frame_length=8, expand_dims=True)),
    case("stft_channels_first", (2, 45), channels_first_stft(mode="magnitude", frame_length=8, padding="same"),
         reference=stft_channels_first_reference),
    case("stft_channels_first_expand_dims", (3, 45), channels_first_stft(mode="stft", frame_length=8, expand_dims=True),
         reference=stft_channels_first_reference),
    case("stft_any_length", (None, 2), lambda: L.STFTSpectrogram(mode="log", frame_length=8, padding="same"),
         signals(43, 2)),
    case("mel_any_length", (None,), lambda: L.MelSpectrogram(fft_length=32, sequence_stride=8, num_mel_bins=5),
         signals(70)),
    case("mel_db", (101,), lambda: L.MelSpectrogram(fft_length=64, sequence_stride=16, num_mel_bins=10,
                                                    sampling_rate=8000), signals(101)),
    case("mel_hamming_short_frames_magnitude", (97,), lambda: L.MelSpectrogram(
        fft_length=64, sequence_stride=10, sequence_length=47, window="hamming", num_mel_bins=8, sampling_rate=16000,
        min_freq=100.0, max_freq=5000.0, power_to_db=False, mag_exp=1.0), signals(97)),
    case("mel_no_window_top_db_ref_power", (80,), lambda: L.MelSpectrogram(
        fft_length=32, sequence_stride=7, window=None, num_mel_bins=6, sampling_rate=4000, top_db=20.0,
        ref_power=-2.0, min_power=1e-6, mag_exp=1.5), signals(80)),
    case("mel_custom_window", (75,), lambda: L.MelSpectrogram(
        fft_length=32, sequence_stride=8, sequence_length=24, window=np.hanning(24).astype("float32"),
        num_mel_bins=12, sampling_rate=22050, max_freq=None), signals(75)),
]

IMAGE_CASES = [
    case("auto_contrast_constant_channels", (5, 6, 3), lambda: L.AutoContrast(), pixel_images((5, 6, 3))),
    case("auto_contrast_unit_range", (4, 7, 2), lambda: L.AutoContrast(value_range=(1, 0)),
         pixel_images((4, 7, 2), (0, 1))),
    case("auto_contrast_channels_first", (3, 5, 4), lambda: L.AutoContrast(data_format="channels_first"),
         pixel_images((3, 5, 4))),
    case("clahe_whole_tiles", (16, 16, 3), lambda: L.ContrastLimitedAdaptiveHistogramEqualization(
        tile_grid_size=(4, 4)), pixel_images((16, 16, 3))),
    case("clahe_padded_tiles_low_clip", (13, 11, 2), lambda: L.ContrastLimitedAdaptiveHistogramEqualization(
        clip_limit=1.5, tile_grid_size=(3, 4)), pixel_images((13, 11, 2))),
    case("clahe_unit_range_no_clip_channels_first", (3, 10, 9), lambda: L.ContrastLimitedAdaptiveHistogramEqualization(
        value_range=(0, 1), clip_limit=0, tile_grid_size=(2, 3), data_format="channels_first"),
         pixel_images((3, 10, 9), (0, 1))),
    case("clahe_any_size", (None, None, 3), lambda: L.ContrastLimitedAdaptiveHistogramEqualization(
        tile_grid_size=(2, 2)), pixel_images((9, 7, 3))),
    case("clahe_int_images", (8, 8, 3), lambda: L.ContrastLimitedAdaptiveHistogramEqualization(
        tile_grid_size=(2, 2)), integer_images((8, 8, 3)), dtype="int32"),
    single("max_num_bounding_boxes", (6, 6, 3), lambda: L.MaxNumBoundingBoxes(4)),
]

ENCODING_CASES = [
    case("discretization_int", (5,), lambda: L.Discretization(bin_boundaries=BOUNDARIES), near_boundaries((5,))),
    case("discretization_one_hot", (5,), lambda: L.Discretization(bin_boundaries=BOUNDARIES, output_mode="one_hot"),
         near_boundaries((5,))),
    case("discretization_one_hot_last_axis_1", (1,), lambda: L.Discretization(BOUNDARIES, output_mode="one_hot"),
         near_boundaries((1,))),
    case("discretization_multi_hot", (5,), lambda: L.Discretization(BOUNDARIES, output_mode="multi_hot"),
         near_boundaries((5,))),
    case("discretization_count_rank3", (3, 4), lambda: L.Discretization(BOUNDARIES, output_mode="count"),
         near_boundaries((3, 4))),
    case("discretization_one_hot_rank3", (3, 4), lambda: L.Discretization(BOUNDARIES, output_mode="one_hot"),
         near_boundaries((3, 4))),
    case("discretization_adapted_int", (4,), adapted_discretization, near_adapted_boundaries((4,))),
    case("discretization_adapted_count", (4,), lambda: adapted_discretization(output_mode="count"),
         near_adapted_boundaries((4,))),
    case("discretization_no_boundaries_count", (5,), lambda: L.Discretization([], output_mode="count"),
         near_boundaries((5,))),
    case("discretization_int_inputs", (6,), lambda: L.Discretization([2.0, 5.0, 5.5]), ids((6,)), dtype="int32"),
    case("category_multi_hot", (5,), lambda: L.CategoryEncoding(6), ids((5,), low=0), dtype="int32"),
    case("category_count", (5,), lambda: L.CategoryEncoding(6, output_mode="count"), ids((5,), low=0), dtype="int32"),
    case("category_count_int_dtype", (5,), lambda: L.CategoryEncoding(6, output_mode="count", dtype="int32"),
         ids((5,), low=0), dtype="int32"),
    case("category_one_hot", (5,), lambda: L.CategoryEncoding(6, output_mode="one_hot"), ids((5,)), dtype="int32"),
    case("category_one_hot_last_axis_1", (1,), lambda: L.CategoryEncoding(6, output_mode="one_hot"), ids((1,)),
         dtype="int32"),
    case("category_multi_hot_rank3_square", (3, 3), lambda: L.CategoryEncoding(6, output_mode="multi_hot"),
         ids((3, 3), low=0), dtype="int32"),
    Case("category_count_weights", two_inputs_count_weights),
]

PIPELINE_CASES = [
    case("pipeline_images", (12, 10, 3), lambda: L.Pipeline([
        L.AutoContrast(), L.Equalization(), L.RandomFlip(), L.ContrastLimitedAdaptiveHistogramEqualization(
            tile_grid_size=(3, 2)), L.Rescaling(1 / 255)]), pixel_images((12, 10, 3))),
    single("pipeline_lowered_layers", (5, 4), lambda: L.Pipeline([
        L.Rescaling(0.5), L.Activation("hard_silu"), L.Dense(3, activation="hard_silu"), L.Dense(2)])),
    single("pipeline_audio", (64, 1), lambda: L.Pipeline([L.STFTSpectrogram(mode="magnitude", frame_length=16),
                                                          L.Dense(3)])),
    Case("pipeline_in_sequential", pipeline_in_sequential),
]

CASES = SIGNAL_CASES + IMAGE_CASES + ENCODING_CASES + PIPELINE_CASES
BY_ID = {c.id: c for c in CASES}


def _with_inputs(original):
    def sample_inputs(model, *args, **kwargs):
        return INPUTS[model.name](model) if model.name in INPUTS else original(model, *args, **kwargs)

    return sample_inputs


def _with_references(original):
    def keras_outputs(model, inputs):
        return REFERENCES[model.name](model, inputs) if model.name in REFERENCES else original(model, inputs)

    return keras_outputs


def _own_inputs_and_references(patch):
    patch.setattr(parity_helper, "sample_inputs", _with_inputs(parity_helper.sample_inputs))
    patch.setattr(parity_helper, "keras_outputs", _with_references(parity_helper.keras_outputs))


# Several outputs are int32, or float32 made by a cast from int32, which TF.js' CPU backend keeps in an
# Int32Array: the Node runner reads them with Float32Array.from (run_tfjs.mjs), so they compare too.
wasm_results, cpu_results, test_parity_on_wasm, test_parity_on_cpu = parity_on_backends(
    CASES, "preprocessing", prepare=_own_inputs_and_references)


def _classes(result):
    def walk(value):
        if isinstance(value, dict):
            if "class_name" in value:
                yield value["class_name"]
            for v in value.values():
                yield from walk(v)
        elif isinstance(value, list):
            for v in value:
                yield from walk(v)

    return set(walk(result.model_json["modelTopology"]))


@pytest.mark.parametrize("case_id, expected", [
    ("stft_log_defaults", "WebnetsSTFTSpectrogram"), ("mel_db", "WebnetsMelSpectrogram"),
    ("auto_contrast_constant_channels", "WebnetsAutoContrast"),
    ("clahe_whole_tiles", "WebnetsContrastLimitedAdaptiveHistogramEqualization"),
    ("discretization_adapted_count", "WebnetsDiscretization"), ("category_count_weights", "WebnetsCategoryEncoding"),
])
def test_each_layer_becomes_its_webnets_class(wasm_results, case_id, expected):
    assert expected in _classes(wasm_results[case_id])


def test_integer_outputs_are_exact(wasm_results):
    for case_id in ("discretization_int", "discretization_adapted_int", "discretization_int_inputs",
                    "discretization_count_rank3", "category_count_int_dtype", "category_multi_hot", "clahe_int_images"):
        assert wasm_results[case_id].rel_error == 0, case_id


def test_identity_layers_leave_nothing_in_the_export(wasm_results):
    text = json.dumps(wasm_results["max_num_bounding_boxes"].model_json)
    assert "BoundingBoxes" not in text and not webnets_classes(wasm_results["max_num_bounding_boxes"].model_json)
    layers = wasm_results["pipeline_images"].model_json["modelTopology"]["model_config"]["config"]["layers"]
    assert not [layer["name"] for layer in layers if "__equalization" in layer["name"] or "flip" in layer["name"]]
    assert {"WebnetsAutoContrast", "WebnetsContrastLimitedAdaptiveHistogramEqualization"} <= _classes(
        wasm_results["pipeline_images"])


def test_the_pipeline_keeps_its_name_on_its_last_layer(wasm_results):
    layers = wasm_results["pipeline_lowered_layers"].model_json["modelTopology"]["model_config"]["config"]["layers"]
    names = [layer["name"] for layer in layers]
    pipeline = next(name for name in names if name.startswith("pipeline") and "__" not in name)
    assert names[-1] == pipeline and all(n.startswith(f"{pipeline}__") for n in names[1:-1])


# --- the premises: Keras itself ----------------------------------------------------------------

def _images():
    x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    x[0, ..., 1] = 7.0
    return x


def test_equalization_and_max_num_bounding_boxes_are_the_identity_in_keras_at_inference():
    x = _images()
    inputs = keras.Input((8, 8, 3))
    # Equalization alone cannot be in a Keras graph (its output spec is its input: "part of a cycle").
    for layer in (L.Pipeline([L.Equalization(), L.Equalization(bins=16, value_range=(0, 1))]),
                  L.MaxNumBoundingBoxes(3)):
        model = keras.Model(inputs, layer(inputs))
        np.testing.assert_array_equal(np.asarray(model(x, training=False)), x)
        np.testing.assert_array_equal(model.predict(x, verbose=0), x)


def test_auto_contrast_keeps_a_constant_channel_in_keras():
    x = _images()
    inputs = keras.Input((8, 8, 3))
    y = np.asarray(keras.Model(inputs, L.AutoContrast()(inputs))(x, training=False))
    np.testing.assert_array_equal(y[0, ..., 1], x[0, ..., 1])
    assert y[0, ..., 0].min() == 0 and y[0, ..., 0].max() == pytest.approx(255)


def test_the_edge_inputs_reach_the_edges():
    model = BY_ID["discretization_int"].build()
    (x,) = INPUTS[model.name](model)
    assert np.isin(np.float32(BOUNDARIES), x).all() and (x < -1).any() and (x > 2.5).any()
    (ids_,) = INPUTS["category_one_hot"](None)
    assert (ids_ < 0).any() and (ids_ >= 6).any()
    (images,) = INPUTS["auto_contrast_constant_channels"](None)
    assert np.ptp(images[0, ..., 1]) == 0 and (images < 0).any() and (images > 255).any()
    (audio,) = INPUTS["mel_db"](None)
    assert audio.shape[1] % 2 == 1 and not audio[1].any()


# --- training: STFTSpectrogram's kernels are trainable weights in Keras -----------------------

def test_stft_kernels_train_in_tfjs_as_in_keras(tmp_path):
    keras.utils.set_random_seed(5)
    rng = np.random.default_rng(5)
    inputs = keras.Input((40, 2))
    x = L.STFTSpectrogram(mode="magnitude", frame_length=8, frame_step=4)(inputs)
    model = keras.Model(inputs, L.Dense(2)(x))
    step = fit_step(model, [rng.standard_normal((3, 40, 2)).astype("float32")],
                    [rng.standard_normal((3, *model.output.shape[1:])).astype("float32")], tmp_path)
    assert step.change > 1e-4 and step.error <= FLOAT32_BOUND, step


# --- refusals ----------------------------------------------------------------------------------

def _model(shape, layer, dtype="float32"):
    inputs = keras.Input(shape, dtype=dtype)
    return keras.Model(inputs, layer(inputs))


@pytest.mark.parametrize("build, match", [
    (lambda: _model((4,), L.Discretization(BOUNDARIES, output_mode="count", sparse=True)), "sparse=True"),
    (lambda: _model((4,), L.Discretization([1.0, 0.0])), "bin_boundaries are not sorted"),
    (lambda: _model((4,), L.Discretization(num_bins=3)), "bin_boundaries"),
    (lambda: _model((), L.Discretization(BOUNDARIES, output_mode="multi_hot")), "output_mode='multi_hot'"),
    (lambda: _model((4,), L.CategoryEncoding(6, output_mode="count", sparse=True), "int32"), "sparse=True"),
    (lambda: _model((), L.CategoryEncoding(6, output_mode="count"), "int32"), "output_mode='count'"),
    (lambda: _model((3, 2), L.CategoryEncoding(6, output_mode="multi_hot"), "int32"), "output_mode='multi_hot'"),
    (lambda: _model((2, 64), L.MelSpectrogram(fft_length=16, sequence_stride=4, num_mel_bins=4)), "input has shape"),
    (lambda: _model((8, 8), L.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2))), "input has shape"),
    (lambda: _model((4,), L.Pipeline([keras.Sequential([L.Dense(2)], name="inner")])), "holds the model 'inner'"),
])
def test_refusals_name_the_option_and_a_fix(build, match):
    with pytest.raises(UnsupportedLayerError, match=f"(?s){match}.*Fix:"):
        translate_model(build())
