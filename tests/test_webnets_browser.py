"""webnets' own layer classes in headless Chromium on WebGL, loaded by the demo's own loader.

A representative set of user models that need webnets-layers.js is exported into a models
directory of its own; the demo page loads it over http (meta.json `requires` -> a script
before tf.loadLayersModel) and from disk (model.js carries the runtime), checks each model
against its golden vectors as it loads, and the test re-runs them to the browser bound.
"""

import json
import shutil

import keras
import pytest

from exporter import export_keras_model
from exporter.browser.chromium import WEB_DEMO, ensure_vendor
from exporter.browser.serve import serving
from exporter.parity.tolerances import BROWSER_BOUND, max_relative_error
from exporter.runtime import RUNTIME_NAME
from exporter.zoo.index import update_index
from tests.browser import Page, chromium

from . import test_webnets_layers
from .coverage_corpus import BY_NAME
from .keras_hub_corpus import gpt_style_decoder, token_encoder_classifier

pytestmark = pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`")

def string_layers():
    """Raw text in: TextVectorization (tf-idf of words and bigrams), StringLookup (multi-hot) and salted
    Hashing (one-hot) side by side, then a classifier."""
    texts = ["the whale", "call me Ishmael", "a white whale!", "the sea, the sea", "é 🐋 東京"]
    inputs = keras.Input((1,), dtype="string")
    vectorize = keras.layers.TextVectorization(max_tokens=40, ngrams=2, output_mode="tf_idf")
    vectorize.adapt(texts)
    lookup = keras.layers.StringLookup(vocabulary=["the whale", "a white whale!"], output_mode="multi_hot")
    hashed = keras.layers.Hashing(num_bins=8, salt=7, output_mode="one_hot")
    # Reshape, not Flatten: Keras declares (None, 1, 21) here but computes (batch, 21), and tfjs-layers'
    # Flatten takes rank 3 and up only.
    words = keras.layers.Reshape((vectorize.vocabulary_size(),))(vectorize(inputs))
    x = keras.layers.Concatenate()([words, lookup(inputs), hashed(inputs)])
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))


def integer_features():
    """Integer categories: IntegerLookup (one-hot, OOV), Hashing and HashedCrossing (the feature with itself)."""
    inputs = keras.Input((1,), dtype="int32")
    lookup = keras.layers.IntegerLookup(vocabulary=[3, 7, 11, 42], output_mode="one_hot")(inputs)
    hashed = keras.layers.Hashing(num_bins=6, output_mode="one_hot")(inputs)
    crossed = keras.layers.HashedCrossing(num_bins=5, output_mode="one_hot")([inputs, inputs])
    x = keras.layers.Concatenate()([lookup, hashed, crossed])
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))


def bert_on_raw_text():
    """keras-hub's BERT classifier with its preprocessor: WebnetsTokenizer (WordPiece) -> WebnetsMultiSegmentPacker
    -> the encoder (webnets-tokenizers.js after webnets-layers.js)."""
    from exporter.layers.hub_preprocessors import with_preprocessor

    from .test_hub_preprocessors import _classifier

    return with_preprocessor(_classifier(), True)


# name -> model builder: one-input models covering every family of webnets classes.
REPRESENTATIVE = {
    "string_layers": string_layers,
    "integer_features": integer_features,
    "bert_on_raw_text": bert_on_raw_text,
    "unet_decoder": test_webnets_layers.unet_decoder,  # GroupNormalization, bilinear UpSampling2D
    "resizing_pad": test_webnets_layers.BY_ID["resizing_pad_to_aspect"].build,
    "rms_norm": test_webnets_layers.BY_ID["layer_norm_rms_two_axes"].build,
    **{name: BY_NAME[name].build for name in (
        "text_transformer",  # MultiHeadAttention with Embedding masks, masked average pooling
        "mini_gpt_block",  # causal attention, ops in the graph
        "gru_text_classifier",  # WebnetsGRU, Bidirectional, masks
        "timeseries_transformer",  # attention on a float sequence, WebnetsDense
        "resnext_block",  # grouped convolution
        "cbam",  # WebnetsOperation reductions and concatenate
        "rms_einsum_heads",  # EinsumDense
    )},
    # keras-hub: a BERT-style encoder and a GPT-style causal decoder (traced blocks, position embeddings)
    "hub_encoder": token_encoder_classifier,
    "hub_decoder": gpt_style_decoder,
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A copy of web_demo whose models/ holds the representative exports (and nothing else)."""
    ensure_vendor()
    root = tmp_path_factory.mktemp("webnets-site")
    shutil.copytree(WEB_DEMO, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("models"))
    models = root / "models"
    for name, build in REPRESENTATIVE.items():
        keras.utils.set_random_seed(0)
        model = build()
        model.name = name
        meta = export_keras_model(model, models / name, script=True, log=lambda *_: None)
        update_index(models, {**meta, "display_name": name})
    return root


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module", params=["http", "file"])
def page(request, browser, site):
    if request.param == "http":
        with serving({"/": site}) as base:
            loaded = Page(browser, f"{base}/index.html?autoplay=0")
            yield loaded
    else:
        loaded = Page(browser, (site / "index.html").as_uri() + "?autoplay=0")
        yield loaded
    loaded.close()


@pytest.mark.parametrize("name", list(REPRESENTATIVE))
def test_webnets_classes_run_on_webgl_through_the_demo_loader(page, site, name):
    state = page.models[name]
    assert state["state"] == "ready", (state, page.errors())
    assert state["backend"] == "webgl"
    meta = json.loads((site / "models" / name / "meta.json").read_text())
    assert meta["requires"][0]["file"] == RUNTIME_NAME
    golden = meta["golden"]
    outputs = page.predict(name, golden["inputs"][0])
    error = max_relative_error([o["data"] for o in outputs], [g["data"] for g in golden["outputs"]])
    assert error <= BROWSER_BOUND, f"{name} on WebGL: relative error {error:.2e}"


@pytest.mark.parametrize("name", list(REPRESENTATIVE))
def test_one_row_on_webgl(page, site, name):
    """A batch of one (what a page classifying one input or generating text runs) takes other paths
    on WebGL (webnets-layers.js doubles a one-row matMul); its outputs are the golden ones' first row."""
    golden = json.loads((site / "models" / name / "meta.json").read_text())["golden"]

    def first_row(entry):
        rows = entry["shape"][0]
        return {**entry, "shape": [1, *entry["shape"][1:]], "data": entry["data"][:len(entry["data"]) // rows]}

    outputs = page.predict(name, first_row(golden["inputs"][0]))
    assert [o["shape"] for o in outputs] == [first_row(g)["shape"] for g in golden["outputs"]]
    error = max_relative_error([o["data"] for o in outputs], [first_row(g)["data"] for g in golden["outputs"]])
    assert error <= BROWSER_BOUND, f"{name}, one row on WebGL: relative error {error:.2e}"
