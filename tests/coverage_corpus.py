"""The coverage corpus: models no translator was written for, converted as a user would.

Every `keras.applications` model (random weights, a small input, 10 classes) and models
written the way current Keras 3 examples write them. `tests/test_coverage.py` converts
them and checks parity in TF.js; `python -m tests.coverage_corpus` (`make coverage`)
runs the whole corpus and writes the coverage table of docs/coverage.md from what it measured
(then `make docs` carries its summary into the README), and a test checks the table still lists
exactly this corpus.

    python -m tests.coverage_corpus [--only NAME ...] [--write-docs]
"""

import argparse
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import keras
from keras import ops

from exporter.runtime import webnets_classes

from .generated_docs import COVERAGE, COVERAGE_PAGE
from .parity_helper import Case, application, run_cases

L = keras.layers
ROOT = Path(__file__).resolve().parents[1]
PAGE = COVERAGE_PAGE  # the page that holds the table: docs/coverage.md (tests/generated_docs.py)
TABLE_BEGIN, TABLE_END = COVERAGE


@dataclass(frozen=True)
class Entry:
    name: str
    source: str  # "keras.applications" | "Keras 3 example"
    build: object
    what: str = ""  # what it exercises
    inputs: object = None  # model -> arrays (default: parity_helper's sample inputs)

    def case(self):
        return Case(self.name, self.build, inputs=self.inputs)


# keras.applications: name -> the smallest input each accepts (their own minimums).
APPLICATION_INPUTS = {
    "ConvNeXtBase": 32, "ConvNeXtLarge": 32, "ConvNeXtSmall": 32, "ConvNeXtTiny": 32, "ConvNeXtXLarge": 32,
    "DenseNet121": 32, "DenseNet169": 32, "DenseNet201": 32,
    **{f"EfficientNetB{i}": 32 for i in range(8)},
    "EfficientNetV2B0": 32, "EfficientNetV2B1": 32, "EfficientNetV2B2": 32, "EfficientNetV2B3": 32,
    "EfficientNetV2L": 32, "EfficientNetV2M": 32, "EfficientNetV2S": 32,
    "InceptionResNetV2": 75, "InceptionV3": 75, "MobileNet": 32, "MobileNetV2": 32, "MobileNetV3Large": 32,
    "MobileNetV3Small": 32, "NASNetLarge": 32, "NASNetMobile": 32,
    "ResNet101": 32, "ResNet101V2": 32, "ResNet152": 32, "ResNet152V2": 32, "ResNet50": 32, "ResNet50V2": 32,
    "VGG16": 32, "VGG19": 32, "Xception": 71,
}


def _text_transformer():
    """keras.io "Text classification with Transformer", without its subclassed layers."""
    tokens = keras.Input((12,), dtype="int32")
    x = L.Embedding(50, 16, mask_zero=True)(tokens)
    attended = L.MultiHeadAttention(num_heads=2, key_dim=8)(x, x)
    x = L.LayerNormalization(epsilon=1e-6)(L.Add()([x, attended]))
    ff = L.Dense(16)(L.Dense(32, activation="gelu")(x))
    x = L.LayerNormalization(epsilon=1e-6)(L.Add()([x, ff]))
    return keras.Model(tokens, L.Dense(2, activation="softmax")(L.GlobalAveragePooling1D()(x)))


def _vit():
    """ViT-style: patches by a strided Conv2D, a learned position term, pre-norm attention blocks."""
    images = keras.Input((16, 16, 3))
    patches = L.Reshape((16, 16))(L.Conv2D(16, 4, strides=4)(images))
    x = L.Add()([patches, L.Dense(16, use_bias=False)(patches)])
    for _ in range(2):
        h = L.LayerNormalization()(x)
        x = L.Add()([x, L.MultiHeadAttention(4, 4, dropout=0.1)(h, h)])
        h = L.Dense(16)(L.Dropout(0.1)(L.Dense(32, activation="gelu")(L.LayerNormalization()(x))))
        x = L.Add()([x, h])
    return keras.Model(images, L.Dense(10)(L.GlobalAveragePooling1D()(L.LayerNormalization()(x))))


def _mini_gpt():
    """keras.io "Text generation with a miniature GPT": a causal block over token embeddings."""
    tokens = keras.Input((10,), dtype="int32")
    x = L.Embedding(40, 16)(tokens)
    attended = L.MultiHeadAttention(2, 8)(x, x, use_causal_mask=True)
    x = L.LayerNormalization(epsilon=1e-6)(x + attended)
    x = L.LayerNormalization(epsilon=1e-6)(x + L.Dense(16)(L.Dense(32, activation="relu")(x)))
    return keras.Model(tokens, L.Dense(40)(x))


def _unet():
    """keras.io segmentation U-Net with a bilinear decoder."""
    images = keras.Input((16, 16, 3))
    skip = L.Activation("relu")(L.BatchNormalization()(L.Conv2D(8, 3, padding="same")(images)))
    down = L.MaxPooling2D()(L.SeparableConv2D(16, 3, padding="same", activation="relu")(skip))
    up = L.UpSampling2D(2, interpolation="bilinear")(L.Conv2DTranspose(8, 3, padding="same")(down))
    return keras.Model(images, L.Conv2D(3, 1, activation="softmax")(L.Concatenate()([up, skip])))


def _gru_classifier():
    """A plain Keras 3 GRU (reset_after=True, the default) text classifier with masking."""
    tokens = keras.Input((12,), dtype="int32")
    x = L.Embedding(50, 8, mask_zero=True)(tokens)
    x = L.Bidirectional(L.GRU(8, return_sequences=True))(x)
    return keras.Model(tokens, L.Dense(3, activation="softmax")(L.GRU(8)(x)))


def _seq2seq():
    """keras.io "Character-level seq2seq": the encoder's LSTM states start the decoder."""
    source, target = keras.Input((6, 5)), keras.Input((7, 4))
    _, h, c = L.LSTM(8, return_state=True)(source)
    decoded = L.LSTM(8, return_sequences=True)(target, initial_state=[h, c])
    return keras.Model([source, target], L.Dense(4, activation="softmax")(decoded))


def _timeseries_conv1d():
    """keras.io "Timeseries classification from scratch"."""
    series = keras.Input((32, 1))
    x = series
    for _ in range(3):
        x = L.ReLU()(L.BatchNormalization()(L.Conv1D(8, 3, padding="same")(x)))
    return keras.Model(series, L.Dense(2, activation="softmax")(L.GlobalAveragePooling1D()(x)))


def _timeseries_transformer():
    """keras.io "Timeseries classification with a Transformer model"."""
    series = keras.Input((16, 2))
    h = L.LayerNormalization(epsilon=1e-6)(series)
    x = L.Add()([series, L.MultiHeadAttention(2, 4, dropout=0.1)(h, h)])
    h = L.Conv1D(2, 1)(L.Conv1D(4, 1, activation="relu")(L.LayerNormalization(epsilon=1e-6)(x)))
    x = L.Add()([x, h])
    pooled = L.GlobalAveragePooling1D(data_format="channels_last")(x)
    return keras.Model(series, L.Dense(3, activation="softmax")(L.Dense(8, activation="relu")(pooled)))


def _diffusion_block():
    """A DDPM/DDIM residual block: GroupNorm + swish convs, plus a time embedding."""
    images, time = keras.Input((8, 8, 8)), keras.Input((16,))
    h = L.Conv2D(8, 3, padding="same")(L.Activation("swish")(L.GroupNormalization(4)(images)))
    h = h + ops.reshape(L.Dense(8)(time), (-1, 1, 1, 8))
    h = L.Conv2D(8, 3, padding="same")(L.Activation("swish")(L.GroupNormalization(4)(h)))
    return keras.Model([images, time], L.Add()([images, h]))


def _squeeze_excite():
    images = keras.Input((8, 8, 16))
    squeezed = L.GlobalAveragePooling2D(keepdims=True)(images)
    gate = L.Dense(16, activation="sigmoid")(L.Dense(4, activation="relu")(squeezed))
    return keras.Model(images, L.Multiply()([images, gate]))


def _cbam():
    """CBAM: channel attention from average and max pooling, spatial attention from channel stats."""
    images = keras.Input((8, 8, 16))
    shared = [L.Dense(4, activation="relu"), L.Dense(16)]
    avg = shared[1](shared[0](L.GlobalAveragePooling2D(keepdims=True)(images)))
    mx = shared[1](shared[0](L.GlobalMaxPooling2D(keepdims=True)(images)))
    x = images * L.Activation("sigmoid")(avg + mx)
    stats = ops.concatenate([ops.mean(x, axis=-1, keepdims=True), ops.max(x, axis=-1, keepdims=True)], axis=-1)
    return keras.Model(images, x * L.Conv2D(1, 7, padding="same", activation="sigmoid")(stats))


def _augmented():
    """keras.io "Image classification from scratch": augmentation and rescaling inside the model."""
    images = keras.Input((16, 16, 3))
    x = keras.Sequential([L.RandomFlip("horizontal"), L.RandomRotation(0.1), L.RandomZoom(0.1)])(images)
    x = L.Rescaling(1.0 / 255)(x)
    x = L.Activation("relu")(L.BatchNormalization()(L.Conv2D(8, 3, strides=2, padding="same")(x)))
    x = L.SeparableConv2D(16, 3, padding="same", activation="relu")(x)
    return keras.Model(images, L.Dense(1)(L.Dropout(0.25)(L.GlobalAveragePooling2D()(x))))


def _resnext_block():
    images = keras.Input((8, 8, 16))
    h = L.Conv2D(16, 3, padding="same", groups=4, activation="relu")(L.Conv2D(16, 1, activation="relu")(images))
    return keras.Model(images, L.ReLU()(L.Add()([images, L.Conv2D(16, 1)(h)])))


def _attention_pooling():
    """keras.layers.Attention and AdditiveAttention between a query and a value sequence."""
    query, value = keras.Input((4, 8)), keras.Input((6, 8))
    dot = L.Attention(use_scale=True)([query, value])
    additive = L.AdditiveAttention()([query, value])
    return keras.Model([query, value], L.Dense(2)(L.Concatenate()([dot, additive])))


def _rms_einsum():
    """A Gemma-style projection: RMS-scaled layer norm and EinsumDense heads."""
    x = keras.Input((6, 8))
    h = L.LayerNormalization(rms_scaling=True)(x)
    heads = L.EinsumDense("btd,dnh->btnh", output_shape=(None, 2, 4), bias_axes="nh")(h)
    return keras.Model(x, L.EinsumDense("btnh,nhd->btd", output_shape=(None, 8))(heads))


def _resizing_frontend():
    """A model that takes any image size: Resizing to the network's size, then a CNN."""
    images = keras.Input((None, None, 3))
    x = L.Resizing(16, 16, crop_to_aspect_ratio=True)(images)
    x = L.UnitNormalization()(L.GlobalAveragePooling2D()(L.Conv2D(8, 3, activation="relu")(x)))
    return keras.Model(images, L.Dense(4)(x))


def _saved_under_jax():
    """A model trained and saved with KERAS_BACKEND=jax, then converted under TensorFlow."""
    path = Path(tempfile.mkdtemp(prefix="webnets-jax-")) / "jax_model.keras"
    script = ("import keras, numpy as np\n"
              "L = keras.layers\n"
              "keras.utils.set_random_seed(0)\n"
              "x = keras.Input((8, 8, 3))\n"
              "h = L.GroupNormalization(2)(L.Conv2D(4, 3, padding='same', activation='gelu')(x))\n"
              "m = keras.Model(x, L.Dense(3)(L.GlobalAveragePooling2D()(h)))\n"
              "m.compile('adam', 'mse')\n"
              "m.fit(np.random.rand(16, 8, 8, 3), np.random.rand(16, 3), epochs=1, verbose=0)\n"
              f"m.save({str(path)!r})\n")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, capture_output=True, timeout=600)
    return keras.saving.load_model(path)


EXAMPLES = [
    Entry("text_transformer", "Keras 3 example", _text_transformer, "MultiHeadAttention, masks, gelu"),
    Entry("vit_patches", "Keras 3 example", _vit, "patch embedding, attention blocks"),
    Entry("mini_gpt_block", "Keras 3 example", _mini_gpt, "causal attention, ops in the graph"),
    Entry("unet_bilinear", "Keras 3 example", _unet, "bilinear UpSampling2D"),
    Entry("gru_text_classifier", "Keras 3 example", _gru_classifier, "GRU(reset_after=True), Bidirectional, masks"),
    Entry("seq2seq_states", "Keras 3 example", _seq2seq, "return_state, initial_state"),
    Entry("timeseries_conv1d", "Keras 3 example", _timeseries_conv1d, "Conv1D, BatchNorm"),
    Entry("timeseries_transformer", "Keras 3 example", _timeseries_transformer, "attention on series"),
    Entry("diffusion_groupnorm_block", "Keras 3 example", _diffusion_block, "GroupNormalization, ops.reshape"),
    Entry("squeeze_excite", "Keras 3 example", _squeeze_excite, "SE attention"),
    Entry("cbam", "Keras 3 example", _cbam, "ops.mean/max/concatenate, shared layers"),
    Entry("augmentation_in_model", "Keras 3 example", _augmented, "Random* layers inside the model"),
    Entry("resnext_block", "Keras 3 example", _resnext_block, "grouped Conv2D"),
    Entry("attention_pooling", "Keras 3 example", _attention_pooling, "Attention, AdditiveAttention"),
    Entry("rms_einsum_heads", "Keras 3 example", _rms_einsum, "EinsumDense, rms_scaling"),
    Entry("resizing_frontend", "Keras 3 example", _resizing_frontend, "Resizing of any input size"),
    Entry("saved_under_jax", "Keras 3 example", _saved_under_jax, "a .keras file from the JAX backend"),
]
_HUB_EXERCISES = {
    "bert_classifier": "BERT backbone + classifier head, dict inputs, padding mask",
    "bert_masked_lm": "BERT with MaskedLMHead (gather, tied reverse projection)",
    "distil_bert_classifier": "DistilBERT, TransformerEncoder blocks",
    "gpt2_causal_lm": "GPT-2, causal TransformerDecoder, tied reverse embedding",
    "gemma_causal_lm": "Gemma, grouped-query attention, rotary, RMS norm",
    "gemma3_causal_lm": "Gemma3 text, sliding-window attention, query/key norms",
    "llama_causal_lm": "Llama, grouped-query attention, Llama rotary",
    "vit_classifier": "ViT, patches + class token + positions",
    "resnet_classifier": "keras-hub ResNet",
    "token_encoder_classifier": "TokenAndPositionEmbedding + TransformerEncoder",
    "gpt_style_decoder": "TokenAndPositionEmbedding + causal TransformerDecoder",
    "sine_decoder": "SinePositionEncoding + TransformerDecoder, any length",
}


def _hub_entries():
    """keras-hub's models and layers (tests/keras_hub_corpus.py), where keras-hub is installed."""
    try:
        from . import keras_hub_corpus as hub
    except ImportError:
        return []
    return [Entry(name, "keras-hub", build, _HUB_EXERCISES[name], lambda model: hub.token_inputs(model, 7))
            for name, build in hub.CORPUS.items()]


def _traced_entries():
    """Models built from a user's own layers (tests/user_layers.py), traced from keras.ops."""
    from . import test_tracing as traced

    return [Entry("own_llama_block", "your own layers", traced.llama_block, "RMSNorm, SwiGLU, drop path (traced)"),
            Entry("own_rotary", "your own layers", traced.rotary, "rotary embedding written in keras.ops"),
            Entry("own_vit_patches", "your own layers", traced.vit_patches, "patch embedding with a Conv2D sublayer")]


APPLICATIONS = [Entry(name, "keras.applications", application(name, (size, size, 3)))
                for name, size in APPLICATION_INPUTS.items()]
HUB = _hub_entries()
TRACED = _traced_entries()
CORPUS = EXAMPLES + HUB + TRACED + APPLICATIONS
BY_NAME = {entry.name: entry for entry in CORPUS}


def run(entries, root, chunk=6):
    """{name: Result} for the entries, a few models per Node process (large models need the memory)."""
    results = {}
    for start in range(0, len(entries), chunk):
        results.update(run_cases([e.case() for e in entries[start:start + chunk]], Path(root) / f"chunk{start}"))
        keras.backend.clear_session()
    return results


def readme_rows():
    """{name: row} of the coverage table docs/coverage.md holds now."""
    text = PAGE.read_text()
    rows = text[text.index(TABLE_BEGIN):text.index(TABLE_END)].splitlines()[3:]
    return {row.split("|")[1].strip(): row for row in rows if row.startswith("|")}


def table(results, kept=None):
    """The coverage table (markdown) from measured results; an entry not measured keeps its row
    from `kept` ({name: row}), so that `--only` updates just the entries it ran."""
    rows = ["| model | from | exercises | parameters | TF.js vs Keras (WASM) | webnets classes |",
            "|---|---|---|---:|---:|---|"]
    for entry in CORPUS:
        result = results.get(entry.name)
        if result is None:
            if kept and entry.name in kept:
                rows.append(kept[entry.name])
            continue
        if result.error:
            status = "refused: " + result.error.split(". Fix:")[0].replace("|", "/")[:140]
            params, classes = "", ""
        else:
            status = f"{result.rel_error:.1e}"
            classes = ", ".join(sorted(webnets_classes(result.model_json))) or "none"
            params = f"{result.parameters:,}"
        rows.append(f"| {entry.name} | {entry.source} | {entry.what} | {params} | {status} | {classes} |")
    return "\n".join(rows)


def write_readme(markdown):
    text = PAGE.read_text()
    begin, end = text.index(TABLE_BEGIN), text.index(TABLE_END)
    PAGE.write_text(text[:begin + len(TABLE_BEGIN)] + "\n" + markdown + "\n" + text[end:])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="corpus entries to run (default: all)")
    parser.add_argument("--write-docs", "--write-readme", dest="write_readme", action="store_true",
                        help="rewrite the coverage table of docs/coverage.md (with --only: the rows of those entries)")
    args = parser.parse_args(argv)
    entries = [BY_NAME[n] for n in args.only] if args.only else CORPUS
    with tempfile.TemporaryDirectory(prefix="webnets-corpus-") as root:
        results = run(entries, root)
    for name, result in results.items():
        print(f"{name:28s} {result.error or f'{result.rel_error:.2e} ({result.backend})'}")
    if args.write_readme:
        write_readme(table(results, kept=readme_rows()))
    return 0 if all(r.error is None for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
