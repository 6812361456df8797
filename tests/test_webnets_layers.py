"""webnets-layers.js: the runtime's contract (it travels with exactly the exports that need it,
through meta.json, model.js, verify, publish and Node's require), and its normalization,
resizing and grouped-convolution classes, plus the exact lowerings of the 1D convolutions tfjs
lacks and the augmentation layers: parity on WASM and CPU, and one SGD step in TF.js that
moves the weights as Keras does.

The attention and recurrent classes have their own files (test_webnets_attention.py,
test_webnets_recurrent.py); they share this file's parity and fit-step helpers.
"""

import hashlib
import json
import subprocess

import keras
import numpy as np
import pytest
from keras import ops

from exporter import export_keras_model, verify
from exporter.errors import ExportError, UnsupportedLayerError
from exporter.layers import translate_model
from exporter.layers.translators.preprocessing import AUGMENTATION_LAYERS
from exporter.parity.compare import sample_inputs
from exporter.parity.runtime import REPO_ROOT
from exporter.parity.tolerances import FLOAT32_BOUND
from exporter.publish import publish
from exporter.zoo.index import update_index
from exporter.runtime import CLASS_PREFIX, RUNTIME_FILE, RUNTIME_NAME, webnets_classes
from tests.browser import serve

from .fit_helper import fit_step
from .parity_helper import Case, parity_on_backends, single

L = keras.layers
pytestmark = pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`")


def augmented_classifier():
    """keras.io's idiom: augmentation inside the model, in front of the network."""
    augment = keras.Sequential([L.RandomFlip("horizontal"), L.RandomRotation(0.1), L.RandomZoom(0.2),
                                L.RandomContrast(0.2), L.RandomTranslation(0.1, 0.1), L.RandomBrightness(0.2),
                                L.RandomCrop(6, 6)], name="augmentation")
    inputs = keras.Input((8, 8, 3))
    x = L.Conv2D(4, 3, activation="relu")(augment(inputs))
    return keras.Model(inputs, L.Dense(3)(L.Identity()(L.GlobalAveragePooling2D()(x))))


def masked_average_pooling():
    """Padded token ids: Keras averages only the unmasked steps (tfjs' own layer would not)."""
    tokens = keras.Input((7,), dtype="int32")
    x = L.Dense(4)(L.Embedding(9, 3, mask_zero=True)(tokens))
    return keras.Model(tokens, [L.GlobalAveragePooling1D()(x), L.GlobalAveragePooling1D(keepdims=True)(x)])


def unet_decoder():
    """A U-Net step: GroupNorm + bilinear upsampling + skip concatenation."""
    inputs = keras.Input((8, 8, 3))
    skip = L.Conv2D(8, 3, padding="same")(inputs)
    down = L.GroupNormalization(4)(L.Conv2D(8, 3, strides=2, padding="same")(skip))
    up = L.UpSampling2D(2, interpolation="bilinear")(L.Activation("silu")(down))
    return keras.Model(inputs, L.Conv2D(2, 1)(L.Concatenate()([up, skip])))


def two_inputs(case_id, make):
    """keras.ops calls on two symbolic (batch, 4, 6) tensors, each output checked."""
    def build():
        a, b = keras.Input((4, 6)), keras.Input((4, 6))
        return keras.Model([a, b], make(a, b))

    return Case(case_id, build)


OPERATION_CASES = [
    two_inputs("ops_reductions", lambda a, b: [
        ops.mean(a, axis=1, keepdims=True), ops.sum(a, axis=[1, 2]), ops.max(a, axis=-1),
        ops.min(a, axis=2, keepdims=True), ops.prod(a, axis=1)]),
    two_inputs("ops_shapes", lambda a, b: [
        ops.concatenate([a, b], axis=1), ops.stack([a, b], axis=1), ops.reshape(a, (-1, 24)),
        ops.transpose(a, (0, 2, 1)), ops.squeeze(ops.expand_dims(a, 1), 1)]),
    two_inputs("ops_elementwise", lambda a, b: [
        ops.sqrt(ops.abs(a)), ops.power(a, 2.0), ops.clip(a, -1.0, 1.0), ops.maximum(a, b), ops.minimum(a, 0.5),
        ops.erf(a), ops.sign(a), ops.exp(a), ops.log(ops.abs(a) + 1.0), ops.square(a)]),
    two_inputs("ops_matmul_softmax_where", lambda a, b: [
        ops.matmul(a, ops.transpose(b, (0, 2, 1))), ops.softmax(a, axis=1), ops.where(ops.greater(a, 0.0), a, b),
        ops.where(ops.less_equal(a, b), 1.0, a)]),
    two_inputs("ops_constant_array", lambda a, b: a * np.linspace(-1, 1, 6).astype("float32") + b),
]

CASES = OPERATION_CASES + [
    single("group_norm", (6, 6, 4), lambda: L.GroupNormalization(2)),
    single("group_norm_sequence_no_center", (5, 6), lambda: L.GroupNormalization(3, center=False)),
    single("group_norm_instance", (6, 6, 4), lambda: L.GroupNormalization(-1, scale=False, epsilon=1e-5)),
    single("group_norm_axis1", (4, 6, 6), lambda: L.GroupNormalization(2, axis=1)),
    single("unit_norm", (5, 6), lambda: L.UnitNormalization()),
    single("unit_norm_two_axes", (5, 6), lambda: L.UnitNormalization(axis=[1, 2])),
    single("layer_norm_rms", (5, 6), lambda: L.LayerNormalization(rms_scaling=True)),
    single("layer_norm_rms_two_axes", (4, 5, 6), lambda: L.LayerNormalization(axis=[1, 2], rms_scaling=True)),
    single("upsampling_bilinear", (5, 4, 3), lambda: L.UpSampling2D((2, 3), interpolation="bilinear")),
    single("upsampling_bilinear_channels_first", (3, 5, 4),
           lambda: L.UpSampling2D(2, interpolation="bilinear", data_format="channels_first")),
    single("resizing_down", (12, 10, 3), lambda: L.Resizing(5, 7)),
    single("resizing_up_nearest", (5, 7, 3), lambda: L.Resizing(12, 9, interpolation="nearest")),
    single("resizing_crop_to_aspect", (12, 10, 3), lambda: L.Resizing(6, 9, crop_to_aspect_ratio=True)),
    single("resizing_pad_to_aspect", (12, 10, 3), lambda: L.Resizing(9, 5, pad_to_aspect_ratio=True, fill_value=0.5)),
    single("resizing_any_size_input", (None, None, 3), lambda: L.Resizing(5, 6)),
    single("center_crop_static", (9, 8, 3), lambda: L.CenterCrop(4, 5)),
    single("center_crop_smaller_input", (4, 5, 3), lambda: L.CenterCrop(6, 6)),
    single("center_crop_any_size_input", (None, None, 3), lambda: L.CenterCrop(5, 3)),
    single("grouped_conv2d", (6, 6, 4), lambda: L.Conv2D(6, 3, groups=2, padding="same", activation="relu")),
    single("grouped_conv2d_strided_no_bias", (7, 7, 4), lambda: L.Conv2D(4, 3, groups=2, strides=2, use_bias=False)),
    single("grouped_conv2d_dilated_hard_silu", (9, 9, 6),
           lambda: L.Conv2D(6, 3, groups=3, dilation_rate=2, activation="hard_silu")),
    single("grouped_conv1d", (9, 6), lambda: L.Conv1D(4, 3, groups=2, strides=2, padding="same")),
    single("conv1d_transpose", (7, 3), lambda: L.Conv1DTranspose(4, 3, strides=2, padding="same")),
    single("conv1d_transpose_valid_hard_silu", (7, 3), lambda: L.Conv1DTranspose(4, 3, strides=2, activation="hard_silu")),
    single("separable_conv1d", (9, 3),
           lambda: L.SeparableConv1D(4, 3, depth_multiplier=2, strides=2, padding="same", activation="relu")),
    single("separable_conv1d_dilated", (9, 3), lambda: L.SeparableConv1D(4, 3, dilation_rate=2)),
    single("depthwise_conv1d", (9, 3), lambda: L.DepthwiseConv1D(3, depth_multiplier=2, padding="same")),
    single("depthwise_conv1d_strided_no_bias", (9, 3), lambda: L.DepthwiseConv1D(3, strides=2, use_bias=False)),
    single("einsum_dense_last_axis", (5, 4), lambda: L.EinsumDense("abc,cd->abd", output_shape=(None, 3), bias_axes="d")),
    single("einsum_dense_heads_gelu", (5, 4),
           lambda: L.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de", activation="gelu")),
    single("einsum_dense_merge_heads", (5, 2, 3), lambda: L.EinsumDense("abcd,cde->abe", output_shape=(None, 4),
                                                                         bias_axes="e")),
    single("einsum_dense_ellipsis_hard_silu", (5, 4), lambda: L.EinsumDense("...b,bc->...c", output_shape=3,
                                                                             bias_axes="c", activation="hard_silu")),
    single("dense_sequence", (5, 6), lambda: L.Dense(4)),
    single("dense_sequence_relu_no_bias", (5, 6), lambda: L.Dense(3, activation="relu", use_bias=False)),
    single("dense_rank4_gelu", (3, 4, 6), lambda: L.Dense(5, activation="gelu")),
    Case("masked_average_pooling", masked_average_pooling),
    Case("augmentation_in_model", augmented_classifier),
    Case("unet_decoder_block", unet_decoder),
]
BY_ID = {case.id: case for case in CASES}


wasm_results, cpu_results, test_parity_on_wasm, test_parity_on_cpu = parity_on_backends(CASES, "webnets")


def layer_classes(model_json):
    return webnets_classes(model_json) | {
        layer["class_name"] for layer in model_json["modelTopology"]["model_config"]["config"]["layers"]}




def test_a_large_enough_center_crop_stays_a_tfjs_layer(wasm_results):
    classes = layer_classes(wasm_results["center_crop_static"].model_json)
    assert "Cropping2D" in classes and not webnets_classes(wasm_results["center_crop_static"].model_json)
    assert "WebnetsCenterCrop" in layer_classes(wasm_results["center_crop_smaller_input"].model_json)


def test_a_dense_on_sequences_is_webnets_dense_and_on_vectors_tfjs_dense(wasm_results):
    assert "WebnetsDense" in layer_classes(wasm_results["dense_sequence"].model_json)
    assert "WebnetsDense" in layer_classes(wasm_results["dense_rank4_gelu"].model_json)
    config, _ = translate_model(dense_model())
    assert [l["class_name"] for l in config["config"]["layers"]] == ["InputLayer", "Dense"]


def test_augmentation_layers_are_identities_dropped_at_export(wasm_results):
    model_json = wasm_results["augmentation_in_model"].model_json
    text = json.dumps(model_json)
    assert "Random" not in text and "identity" not in text and not webnets_classes(model_json)
    layers = model_json["modelTopology"]["model_config"]["config"]["layers"]
    augmentation = next(layer for layer in layers if layer["name"] == "augmentation")["config"]["layers"]
    # What is left of the nested model (tfjs has no empty Sequential) computes the identity.
    assert all(layer["config"]["activation"] == "linear" for layer in augmentation[1:])


@pytest.mark.parametrize("class_name", AUGMENTATION_LAYERS)
def test_every_augmentation_layer_is_the_identity_in_keras_at_inference(class_name):
    # The translation's premise, checked on Keras itself for each class webnets drops.
    options = {"RandomCrop": (3, 3), "RandomZoom": (0.3,), "RandomRotation": (0.3,), "RandomTranslation": (0.2, 0.2),
               "RandomContrast": (0.5,), "RandomBrightness": (0.5,), "RandomSharpness": (0.5,), "RandomShear": (0.3,),
               "RandomHue": (0.5, (0, 255)), "RandomSaturation": (0.5, (0, 255)), "RandomColorDegeneration": (0.5,),
               "Solarization": (0.5,)}
    kwargs = {"value_range": (0, 255), "factor": (1, 8)} if class_name == "RandomPosterization" else {}
    layer = getattr(L, class_name)(*options.get(class_name, ()), **kwargs)
    x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, layer(inputs))
    np.testing.assert_array_equal(np.asarray(model(x, training=False)), x)


FIT_CASES = {
    # A Conv2D in front, so the step also trains through the webnets class's gradient.
    "group_norm": lambda: L.GroupNormalization(2),
    "unit_norm": lambda: L.UnitNormalization(),
    "layer_norm_rms": lambda: L.LayerNormalization(rms_scaling=True),
    "upsampling_bilinear": lambda: L.UpSampling2D(2, interpolation="bilinear"),
    "resizing_bilinear": lambda: L.Resizing(5, 7),
    "resizing_nearest_crop": lambda: L.Resizing(4, 7, crop_to_aspect_ratio=True, interpolation="nearest"),
    "resizing_pad": lambda: L.Resizing(5, 9, pad_to_aspect_ratio=True),
    "center_crop_smaller_input": lambda: L.CenterCrop(10, 10),
    "grouped_conv2d": lambda: L.Conv2D(4, 3, groups=2, padding="same", activation="tanh"),
    "einsum_dense": lambda: L.EinsumDense("abcd,de->abce", output_shape=(8, 8, 3), bias_axes="e", activation="tanh"),
    "dense_rank4": lambda: L.Dense(3, activation="tanh"),  # WebnetsDense: the input is [batch, 8, 8, 4]
}


def conv_around(make, shape=(8, 8, 3)):
    inputs = keras.Input(shape)
    x = make()(L.Conv2D(4, 3, padding="same")(inputs))
    return keras.Model(inputs, L.Conv2D(2, 1)(x))


def targets_for(model, samples, rng):
    return rng.standard_normal((samples, *model.output.shape[1:])).astype("float32")


@pytest.mark.parametrize("case_id", list(FIT_CASES))
def test_one_sgd_step_in_tfjs_matches_keras(tmp_path, case_id):
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    model = conv_around(FIT_CASES[case_id])
    x = rng.standard_normal((3, 8, 8, 3)).astype("float32")
    step = fit_step(model, [x], [targets_for(model, 3, rng)], tmp_path)
    assert step.change > 1e-4, "the step did not move every weight"
    assert step.error <= FLOAT32_BOUND, f"{step.worst}: update differs by {step.error:.2e}"


def test_operations_train_in_tfjs_as_in_keras(tmp_path):
    keras.utils.set_random_seed(4)
    rng = np.random.default_rng(4)
    inputs = keras.Input((5, 6))
    h = L.Dense(6)(inputs)
    pooled = ops.concatenate([ops.mean(h, axis=1), ops.max(ops.square(h), axis=1)], axis=-1)
    attention = ops.matmul(ops.softmax(h, axis=1), ops.transpose(h, (0, 2, 1)))
    model = keras.Model(inputs, [L.Dense(2)(pooled), ops.reshape(attention, (-1, 25))])
    x = rng.standard_normal((3, 5, 6)).astype("float32")
    step = fit_step(model, [x], [rng.standard_normal((3, 2)).astype("float32"),
                                 rng.standard_normal((3, 25)).astype("float32")], tmp_path)
    assert step.change > 1e-4 and step.error <= FLOAT32_BOUND, step


def test_an_operation_outside_the_table_is_refused_by_name():
    inputs = keras.Input((5,))
    with pytest.raises(UnsupportedLayerError, match="Cumsum.*webnets translates these ops:.*Mean"):
        translate_model(keras.Model(inputs, ops.cumsum(inputs, axis=1)))


def test_resize_trains_on_wasm_with_its_own_gradient(tmp_path):
    # tfjs-backend-wasm has no ResizeBilinearGrad kernel: the class supplies the gradient.
    keras.utils.set_random_seed(2)
    rng = np.random.default_rng(2)
    inputs = keras.Input((6, 6, 3))
    model = keras.Model(inputs, L.Dense(2)(L.Resizing(9, 4)(L.Dense(4)(inputs))))
    step = fit_step(model, [rng.standard_normal((2, 6, 6, 3)).astype("float32")], [targets_for(model, 2, rng)],
                    tmp_path, backend="wasm")
    assert step.change > 1e-4 and step.error <= FLOAT32_BOUND, step


# --- the runtime file's contract -------------------------------------------------------------

def node(script, cwd=REPO_ROOT):
    proc = subprocess.run(["node", "-e", script], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def registered_names(path):
    return json.loads(node(f"const tf = require('@tensorflow/tfjs'); "
                           f"console.log(JSON.stringify(require({json.dumps(str(path))}).register(tf)))"))


def test_node_require_registers_every_class_without_shadowing_a_tfjs_builtin():
    builtins = json.loads(node("const tf = require('@tensorflow/tfjs'); console.log(JSON.stringify("
                               "Object.keys(tf.serialization.SerializationMap.getMap().classNameMap)))"))
    names = registered_names(RUNTIME_FILE)
    assert {"WebnetsGroupNormalization", "WebnetsResizing", "WebnetsUpSampling2D"} <= set(names)
    assert all(name.startswith(CLASS_PREFIX) for name in names)
    assert not set(names) & set(builtins)


def group_norm_model():
    keras.utils.set_random_seed(3)
    inputs = keras.Input((6, 6, 4))
    return keras.Model(inputs, L.Dense(2)(L.GroupNormalization(2)(inputs)), name="group_norm_model")


def dense_model():
    inputs = keras.Input((4,))
    return keras.Model(inputs, L.Dense(2)(inputs), name="dense_model")


def test_the_runtime_travels_with_exactly_the_exports_that_need_it(tmp_path):
    meta = export_keras_model(group_norm_model(), tmp_path / "gn", script=True, log=lambda *_: None)
    copy = tmp_path / "gn" / RUNTIME_NAME
    assert copy.read_bytes() == RUNTIME_FILE.read_bytes()
    assert meta["requires"] == [{"file": RUNTIME_NAME, "sha256": hashlib.sha256(copy.read_bytes()).hexdigest(),
                                 "bytes": copy.stat().st_size}]
    assert meta["bytes"][RUNTIME_NAME] == copy.stat().st_size  # a browser downloads it with the model
    assert RUNTIME_FILE.read_text() in (tmp_path / "gn" / "model.js").read_text()  # the file:// form carries it
    assert "WebnetsGroupNormalization" in registered_names(copy)
    assert verify(tmp_path / "gn").max_rel_error <= FLOAT32_BOUND

    plain = export_keras_model(dense_model(), tmp_path / "dense", script=True, log=lambda *_: None)
    assert "requires" not in plain and not (tmp_path / "dense" / RUNTIME_NAME).exists()
    assert "webnetsLayers" not in (tmp_path / "dense" / "model.js").read_text()


def test_tfjs_without_the_runtime_names_the_unknown_layer(tmp_path):
    # What a page that forgets webnets-layers.js sees (the README explains the message).
    export_keras_model(group_norm_model(), tmp_path / "gn", verify=False, log=lambda *_: None)
    script = ("const tf = require('@tensorflow/tfjs'); const fs = require('fs');"
              f"const json = JSON.parse(fs.readFileSync({json.dumps(str(tmp_path / 'gn' / 'model.json'))}));"
              "tf.models.modelFromJSON(json.modelTopology).then(() => console.log('loaded'), (e) => console.log(e.message));")
    assert "Unknown layer: WebnetsGroupNormalization" in node(script)


def test_verify_refuses_an_export_whose_runtime_went_missing(tmp_path):
    export_keras_model(group_norm_model(), tmp_path / "gn", log=lambda *_: None)
    (tmp_path / "gn" / RUNTIME_NAME).unlink()
    with pytest.raises(ExportError, match="needs webnets-layers.js"):
        verify(tmp_path / "gn")


def test_publish_uploads_the_runtime_with_its_sri_and_verify_loads_it_over_http(tmp_path):
    root = tmp_path / "exports"
    update_index(root, export_keras_model(group_norm_model(), root / "group_norm_model", script=True,
                                          log=lambda *_: None))
    dest = tmp_path / "cdn"
    _, index = publish(root, dest.as_uri(), "1.0.0", log=lambda *_: None)
    version = index["models"][0]["versions"]["1.0.0"]
    files = version["files"]
    assert version["requires"][0]["file"] == RUNTIME_NAME  # a page knows before it reads meta.json
    published = dest / "group_norm_model" / "1.0.0" / RUNTIME_NAME
    assert published.read_bytes() == RUNTIME_FILE.read_bytes()
    assert files[RUNTIME_NAME]["integrity"].startswith("sha384-")
    assert files[RUNTIME_NAME]["sha256"] == hashlib.sha256(published.read_bytes()).hexdigest()
    with serve(dest) as url:
        assert verify(f"{url}/group_norm_model/1.0.0").max_rel_error <= FLOAT32_BOUND


def test_the_masked_pooling_case_really_has_masked_steps(wasm_results):
    keras.utils.set_random_seed(0)
    (tokens,) = sample_inputs(masked_average_pooling())
    assert (tokens == 0).any() and (tokens != 0).any()
    assert "WebnetsGlobalAveragePooling1D" in webnets_classes(wasm_results["masked_average_pooling"].model_json)
