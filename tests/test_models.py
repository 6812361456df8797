"""Model-level parity: Sequential, Functional, nested models, shared layers,
several inputs/outputs, integer inputs, keras.ops nodes, and real
keras.applications architectures (random weights, small inputs)."""

import keras
import pytest
from keras import layers, ops

from tests.parity_helper import Case, application, assert_parity, run_cases


def sequential():
    return keras.Sequential([keras.Input((8,)), layers.Dense(16, activation="relu"), layers.Dropout(0.5),
                             layers.Dense(4, activation="softmax")], name="seq")


def functional_multi_io():
    image = keras.Input((8, 8, 3), name="image")
    tokens = keras.Input((5,), dtype="int32", name="tokens")
    x = layers.Conv2D(4, 3, activation="relu")(image)
    x = layers.GlobalAveragePooling2D()(x)
    t = layers.Embedding(20, 4)(tokens)
    t = layers.LSTM(4)(t)
    merged = layers.Concatenate()([x, t])
    return keras.Model([image, tokens], [layers.Dense(3, activation="softmax", name="cls")(merged),
                                         layers.Dense(1, name="reg")(merged)])


def nested_models():
    inner_seq = keras.Sequential([keras.Input((6,)), layers.Dense(5, activation="tanh", name="inner_dense")],
                                 name="inner_seq")
    i = keras.Input((4,))
    inner_fn = keras.Model(i, layers.Dense(6, name="inner_fn_dense")(i), name="inner_fn")
    x = keras.Input((4,))
    y = inner_seq(inner_fn(x))
    return keras.Model(x, layers.Dense(2, name="head")(y))


def shared_layers():
    a, b = keras.Input((7,)), keras.Input((7,))
    shared = layers.Dense(3, activation="relu", name="shared")
    encoder = keras.Sequential([keras.Input((3,)), layers.Dense(2, name="enc")], name="encoder")
    return keras.Model([a, b], layers.Subtract()([encoder(shared(a)), encoder(shared(b))]))


def integer_sequence_classifier():
    tokens = keras.Input((None,), dtype="int32")
    x = layers.Embedding(30, 8)(tokens)
    x = layers.Bidirectional(layers.GRU(6, reset_after=False, return_sequences=True))(x)
    x = layers.GlobalMaxPooling1D()(x)
    return keras.Model(tokens, layers.Dense(3, activation="softmax")(x))


def ops_in_graph():
    x = keras.Input((5,))
    y = layers.Dense(5)(x)
    y = ops.relu6(y + 3.0) * (1.0 / 6.0)
    z = 2.0 - y
    return keras.Model(x, layers.Multiply()([ops.sigmoid(z), y / 4.0]))


CASES = [
    Case("sequential", sequential),
    Case("functional_multi_io", functional_multi_io),
    Case("nested_models", nested_models),
    Case("shared_layers", shared_layers),
    Case("integer_sequence_classifier", integer_sequence_classifier),
    Case("ops_in_graph", ops_in_graph),
    Case("MobileNetV2", application("MobileNetV2", (32, 32, 3), alpha=0.35)),
    Case("MobileNetV3Small", application("MobileNetV3Small", (32, 32, 3))),
    Case("ResNet50", application("ResNet50", (32, 32, 3))),
    Case("DenseNet121", application("DenseNet121", (32, 32, 3))),
    Case("EfficientNetB0", application("EfficientNetB0", (32, 32, 3))),
    Case("InceptionV3", application("InceptionV3", (75, 75, 3))),
    Case("Xception", application("Xception", (71, 71, 3))),
    Case("NASNetMobile", application("NASNetMobile", (32, 32, 3))),
    Case("ConvNeXtTiny", application("ConvNeXtTiny", (32, 32, 3))),
    Case("InceptionResNetV2", application("InceptionResNetV2", (75, 75, 3))),  # its CustomScaleLayer
    Case("EfficientNetV2B0", application("EfficientNetV2B0", (32, 32, 3))),
]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return run_cases(CASES, tmp_path_factory.mktemp("models"))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_model_parity(case, results):
    assert_parity(results[case.id])


def test_nested_models_keep_their_structure(results):
    config = results["nested_models"].model_json["modelTopology"]["model_config"]
    classes = {l["name"]: l["class_name"] for l in config["config"]["layers"]}
    assert classes["inner_seq"] == "Sequential" and classes["inner_fn"] == "Functional"


def test_integer_inputs_stay_integer(results):
    config = results["functional_multi_io"].model_json["modelTopology"]["model_config"]
    dtypes = {l["name"]: l["config"]["dtype"] for l in config["config"]["layers"] if l["class_name"] == "InputLayer"}
    assert dtypes == {"image": "float32", "tokens": "int32"}


def test_shared_layer_is_written_once_and_called_twice(results):
    config = results["shared_layers"].model_json["modelTopology"]["model_config"]
    shared = [l for l in config["config"]["layers"] if l["name"] == "shared"]
    assert len(shared) == 1 and len(shared[0]["inbound_nodes"]) == 2
    names = [w["name"] for g in results["shared_layers"].model_json["weightsManifest"] for w in g["weights"]]
    assert names.count("shared/kernel") == 1
