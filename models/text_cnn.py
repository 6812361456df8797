"""A convolutional text classifier that takes raw text: spam or not, on the SpamAssassin corpus.

Paper: Kim, "Convolutional Neural Networks for Sentence Classification", EMNLP 2014 (CNN-rand,
the variant whose embeddings are learned from scratch): word embeddings, convolutions of window
3, 4 and 5 words with 100 feature maps each, max-over-time pooling, dropout 0.5, softmax. Kim
also caps the L2 norm of the softmax weights at 3 (the paper preset keeps that).

The network takes raw strings, one text per sample (input shape (batch, 1), dtype string): a
Keras TextVectorization layer, adapted on the training split, lower-cases, strips punctuation,
splits on whitespace and maps each word to its id in the vocabulary (1, "[UNK]", for a word it
does not know; 0 pads the row to `sequence_length` words, and longer texts are cut there). In
TF.js it becomes webnets' WebnetsTextVectorization (exporter/runtime/webnets-layers.js), which
gives the same ids, so a page feeds the text as typed. Then: Embedding -> one Conv1D (ReLU) +
GlobalMaxPooling1D per window -> Concatenate -> Dropout -> Dense softmax over LABELS.

paper: 300-d embeddings and 100 maps per window (Kim's), over a 20,000-word vocabulary.
demo: 32-d embeddings and 32 maps per window over 10,000 words, trained here for 6 epochs in
26-40 s on two shared CPU cores (about 50 s with reading the corpus): 98.2% accuracy on the
held-out test tenth (602 messages), the same after uint8 quantization.

Training vectorizes the texts once and fits the rest of the network on the word ids (the same
layers, shared), rather than running the string ops on every batch of every epoch.
"""

from dataclasses import dataclass

import numpy as np

from .base import TrainResult, ZooModel
from .data import spam_assassin
from .training import fit, release_from_cluster, set_seeds, strategy_scope, worker_failures
from .zoo import register_model

__all__ = ["TextCNN", "TextCNNConfig", "PRESETS", "text_cnn"]

STANDARDIZE = "lower_and_strip_punctuation"
SPLIT = "whitespace"


@dataclass(frozen=True)
class TextCNNConfig:
    max_tokens: int  # vocabulary size, [UNK] and the padding id included
    sequence_length: int  # words read per text (longer texts are cut, shorter padded with 0)
    embedding_dim: int
    filters: int  # feature maps per window
    windows: tuple  # convolution widths, in words
    dropout: float
    max_norm: float = None  # cap on the L2 norm of each class's softmax weights (Kim: 3)


PRESETS = {
    "paper": TextCNNConfig(max_tokens=20_000, sequence_length=200, embedding_dim=300, filters=100,
                           windows=(3, 4, 5), dropout=0.5, max_norm=3.0),
    "demo": TextCNNConfig(max_tokens=10_000, sequence_length=200, embedding_dim=32, filters=32,
                          windows=(3, 4, 5), dropout=0.5),
}


def text_cnn(config, classes=len(spam_assassin.LABELS), name="text_cnn"):
    """Raw text (batch, 1) string -> TextVectorization -> Kim's CNN -> (batch, classes) probabilities.

    The TextVectorization layer is not adapted yet: `adapt` it (or give it a vocabulary) before use.
    """
    import keras
    from keras import layers

    text = keras.Input((1,), dtype="string", name="text")
    ids = layers.TextVectorization(max_tokens=config.max_tokens, standardize=STANDARDIZE, split=SPLIT,
                                   output_mode="int", output_sequence_length=config.sequence_length,
                                   name="vectorize")(text)
    constraint = keras.constraints.MaxNorm(config.max_norm, axis=0) if config.max_norm else None
    head = {"embedding": layers.Embedding(config.max_tokens, config.embedding_dim, name="embedding"),
            **{f"conv_{w}": layers.Conv1D(config.filters, w, activation="relu", name=f"conv_{w}")
               for w in config.windows},
            **{f"max_over_time_{w}": layers.GlobalMaxPooling1D(name=f"max_over_time_{w}") for w in config.windows},
            "features": layers.Concatenate(name="features"),
            "dropout": layers.Dropout(config.dropout, name="dropout"),
            "probabilities": layers.Dense(classes, activation="softmax", kernel_constraint=constraint,
                                          name="probabilities")}
    outputs = _head(head.__getitem__, ids, config.windows)
    return keras.Model(text, outputs, name=name)


def _head(layer, ids, windows):
    """The network after the vectorizer, on word ids; `layer(name)` gives each layer (so that training can
    run the same layers on precomputed ids)."""
    x = layer("embedding")(ids)
    x = layer("features")([layer(f"max_over_time_{w}")(layer(f"conv_{w}")(x)) for w in windows])
    return layer("probabilities")(layer("dropout")(x))


def _column(texts):
    """Texts as the model's input: a (count, 1) string array."""
    return np.asarray(list(texts), dtype=str).reshape(-1, 1)


def _strings(texts):
    """Texts as a (count, 1) tf.string tensor: Keras' predict() takes string inputs only as TensorFlow
    tensors (a numpy string array fails its dtype check, "Invalid dtype: str...")."""
    import tensorflow as tf

    return tf.constant(_column(texts))


@register_model
class TextCNN(ZooModel):
    name = "text_cnn"
    display_name = "TextCNN (spam)"
    family = "text_cnn"
    task = "text-classification"
    dataset = "spamassassin"
    params_paper = 6_360_902
    params_demo = 332_578
    metric_keys = ("test_accuracy",)
    listed_metric_keys = ("seconds_per_epoch",)

    epochs = 6
    batch_size = 64
    learning_rate = 2e-3
    quick_samples = 512

    def build(self, preset="demo", **overrides):
        if preset not in PRESETS:
            raise ValueError(f"preset must be one of {', '.join(PRESETS)}, not {preset!r}")
        unknown = set(overrides) - set(TextCNNConfig.__dataclass_fields__)
        if unknown:
            raise TypeError(f"{self.name}: unknown override(s) {', '.join(sorted(unknown))}; "
                            f"choose from {', '.join(TextCNNConfig.__dataclass_fields__)}")
        set_seeds()
        return text_cnn(TextCNNConfig(**{**PRESETS[preset].__dict__, **overrides}), name=self.name)

    @staticmethod
    def _on_ids(model):
        """(its TextVectorization layer, a model of the rest of the network on word ids sharing its layers)."""
        import keras

        vectorize = model.get_layer("vectorize")
        windows = [int(layer.name.split("_")[-1]) for layer in model.layers if layer.name.startswith("conv_")]
        ids = keras.Input(vectorize.output.shape[1:], dtype="int32", name="ids")
        return vectorize, keras.Model(ids, _head(model.get_layer, ids, windows), name=f"{model.name}_on_ids")

    def train(self, model, *, strategy=None, quick=False, log=print):
        import keras

        set_seeds()
        limit = self.quick_samples if quick else None
        texts, labels = spam_assassin.load("train", limit=limit)
        val_texts, val_labels = spam_assassin.load("validation", limit=128 if quick else None)
        vectorize, on_ids = self._on_ids(model)
        vectorize.adapt(texts)
        log(f"{self.name}: vocabulary of {vectorize.vocabulary_size()} words adapted on {len(texts)} training texts")
        x, x_val = vectorize(_column(texts)).numpy(), vectorize(_column(val_texts)).numpy()
        y, y_val = np.asarray(labels, np.int32), np.asarray(val_labels, np.int32)
        epochs = 1 if quick else self.epochs
        steps = epochs * -(-len(x) // self.batch_size)
        with strategy_scope(strategy):
            on_ids.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(
                self.learning_rate, decay_steps=max(steps, 1), alpha=0.1)),
                loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history, epoch_seconds, batch_losses = fit(on_ids, x, y, epochs=epochs, batch_size=self.batch_size,
                                                   validation_data=(x_val, y_val), shuffle=True)
        with worker_failures(strategy, "evaluation"):
            metrics = self.evaluate(model, quick=quick)
        release_from_cluster(model)
        metrics["seconds_per_epoch"] = float(np.median(epoch_seconds))
        metrics["train_seconds"] = float(sum(epoch_seconds))
        metrics["vocabulary_size"] = int(vectorize.vocabulary_size())
        curves = {"loss": history.get("loss", []), "val_accuracy": history.get("val_accuracy", [])}
        return TrainResult(metrics=metrics, curves=curves, losses=batch_losses)

    def evaluate(self, model, quick=False):
        """Accuracy on the test split (its first 128 texts if quick), from the raw strings."""
        texts, labels = spam_assassin.load("test", limit=128 if quick else None)
        probabilities = model.predict(_strings(texts), batch_size=256, verbose=0)
        return {"test_accuracy": float(np.mean(np.argmax(probabilities, -1) == np.asarray(labels)))}

    validation_source = ("the SpamAssassin validation split (a tenth of the corpus, by text hash; 128 texts with "
                         "--quick)")

    def validation_data(self, quick=False):
        """The texts as a tf.string tensor (what Keras' predict() takes, see `_strings`), and 0/1 labels."""
        texts, labels = spam_assassin.load("validation", limit=128 if quick else None)
        return [_strings(texts)], np.asarray(labels, np.int32)

    def io_spec(self):
        config = PRESETS["demo"]
        return {
            "inputs": [{"name": "text", "shape": [None, 1], "dtype": "string", "preprocessing": {
                "standardize": STANDARDIZE, "split": SPLIT, "sequence_length": config.sequence_length,
                "max_tokens": config.max_tokens,
                "note": "raw text, one string per sample (an e-mail's subject, a newline, its body); the model's "
                        "TextVectorization layer lower-cases ASCII letters, strips ASCII punctuation, splits on "
                        "whitespace and looks the words up itself ([UNK] = 1 for unknown words, 0 pads); only "
                        f"the first {config.sequence_length} words count",
            }}],
            "outputs": [{"name": "probabilities", "shape": [None, len(spam_assassin.LABELS)], "dtype": "float32"}],
            "labels": list(spam_assassin.LABELS),
        }

    def golden_inputs(self, count=1):
        """The first `count` test texts, alternating ham and spam: (count, 1) strings."""
        texts, labels = spam_assassin.load("test")
        by_class = [[t for t, y in zip(texts, labels) if y == k] for k in range(len(spam_assassin.LABELS))]
        picked = [by_class[i % len(by_class)][i // len(by_class)] for i in range(count)]
        return [_column(picked)]

    def gallery(self):
        """Test texts for the demo's example buttons: [{label, text}], three of each class (short ones)."""
        texts, labels = spam_assassin.load("test")
        samples = []
        for k, label in enumerate(spam_assassin.LABELS):
            short = [t for t, y in zip(texts, labels) if y == k and 200 <= len(t) <= 900][:3]
            samples += [{"label": label, "text": t} for t in short]
        return samples
