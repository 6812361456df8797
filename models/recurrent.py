"""Character-level language models on Moby-Dick: SimpleRNN, LSTM and GRU.

Papers: Elman, "Finding Structure in Time", Cognitive Science 1990 (SimpleRNN);
Hochreiter and Schmidhuber, "Long Short-Term Memory", Neural Computation 1997,
with the forget gate of Gers et al. 2000 (LSTM); Cho et al., "Learning Phrase
Representations using RNN Encoder-Decoder", EMNLP 2014 (GRU, in its original
form: the reset gate applied before the recurrent matrix, Keras'
`reset_after=False`, the only GRU that TF.js runs).

The network reads int32 character ids of any length (`models.data.moby_dick.
VOCABULARY`) and gives, at every position, the probabilities of the next
character: Embedding -> recurrent layer(s) returning sequences -> Dense softmax.
The browser generates text by feeding the characters so far and sampling from
the last position.

paper: Karpathy's char-rnn (github.com/karpathy/char-rnn; "The Unreasonable
Effectiveness of Recurrent Neural Networks", 2015): 2 layers of 512 units, the
configuration of its README (`-rnn_size 512 -num_layers 2`) and of the blog's
Paul Graham and Linux-source models; char-rnn offers the same three cells
(`-model lstm|gru|rnn`). Its one-hot input is a vocabulary-wide embedding here
(50x50), and Keras cells have one bias per gate where Torch's have two.

demo: one layer, the same embedding and hidden width for all three cells so
that they compare fairly: the GRU's recurrent layer holds exactly 3/4 of the
LSTM's parameters (3 weight blocks against 4), the SimpleRNN's exactly 1/4.
"""

from dataclasses import dataclass

import numpy as np

from .base import TrainResult, ZooModel
from .data import moby_dick
from .training import SEED, fit, set_seeds, strategy_scope
from .zoo import register_model

VOCAB_SIZE = len(moby_dick.VOCABULARY)


@dataclass(frozen=True)
class RecurrentConfig:
    embedding_dim: int
    units: int
    num_layers: int
    dropout: float  # after each recurrent layer (Zaremba et al. 2014: only non-recurrent connections)


PRESETS = {
    "paper": RecurrentConfig(embedding_dim=VOCAB_SIZE, units=512, num_layers=2, dropout=0.5),
    "demo": RecurrentConfig(embedding_dim=64, units=384, num_layers=1, dropout=0.25),
}


def char_language_model(cell, config, name):
    """Embedding -> `config.num_layers` x (`cell` (sequences), Dropout) -> Dense softmax over the vocabulary.

    Input shape: (batch, time) int32 character ids. Output shape: (batch, time, VOCAB_SIZE),
    the next-character probabilities at every position.
    """
    import keras
    from keras import layers

    tokens = keras.Input((None,), dtype="int32", name="tokens")
    x = layers.Embedding(VOCAB_SIZE, config.embedding_dim, name="embedding")(tokens)
    for index in range(1, config.num_layers + 1):
        x = cell(config.units, name=f"{name}_{index}")(x)
        if config.dropout:
            x = layers.Dropout(config.dropout, name=f"dropout_{index}")(x)
    outputs = layers.Dense(VOCAB_SIZE, activation="softmax", name="next_char")(x)
    return keras.Model(tokens, outputs, name=name)


def recurrent_layers(model):
    """The model's recurrent layers, first to last."""
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.RNN)]


def shifted_windows(ids, length, batch_size, seed=SEED):
    """A keras.utils.PyDataset of teacher-forcing batches (x = ids[s:s+length], y = ids[s+1:s+length+1]).

    Every epoch cuts the text into consecutive windows from a new random offset in [0, length) and
    shuffles them, so that the network does not see the same window boundaries epoch after epoch.
    """
    import keras

    class ShiftedWindows(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.length, self.batch_size = length, batch_size
            self.count = (len(ids) - 1) // length - 1  # windows that fit whatever the offset
            self._rng = np.random.default_rng(seed)
            self.on_epoch_end()

        def __len__(self):
            return -(-self.count // batch_size)

        def on_epoch_end(self):
            self._starts = self._rng.integers(length) + length * self._rng.permutation(self.count)

        def __getitem__(self, index):
            starts = self._starts[index * batch_size:(index + 1) * batch_size]
            positions = starts[:, None] + np.arange(length)[None, :]
            return ids[positions].astype(np.int32), ids[positions + 1].astype(np.int32)

    return ShiftedWindows()


class CharLanguageModel(ZooModel):
    """Shared training and evaluation of the three character-level language models."""

    family = "recurrent"
    task = "text-generation"
    dataset = "moby-dick"
    metric_keys = ("bits_per_char",)

    sequence_length = 50  # characters per training window (truncated backpropagation through time)
    # Held-out scoring: windows of eval_context + eval_scored characters, advancing by eval_scored; only
    # the last eval_scored positions count, so every scored character sees >= eval_context characters
    # before it rather than a cold, zero state.
    eval_context = 50
    eval_scored = 200
    golden_length = 40
    batch_size = 64
    epochs = 12
    learning_rate = 4e-3
    warmup_steps = 100
    clipnorm = 1.0
    # A safety net for shared or slow machines: training stops (mid-epoch) once it has run this long.
    time_budget_seconds = 570

    def make_cell(self, units, name):
        """A fresh recurrent layer that returns the whole sequence."""
        raise NotImplementedError

    def build(self, preset="demo", **overrides):
        if preset not in PRESETS:
            raise ValueError(f"preset must be one of {', '.join(PRESETS)}, not {preset!r}")
        unknown = set(overrides) - set(RecurrentConfig.__dataclass_fields__)
        if unknown:
            raise TypeError(f"{self.name}: unknown override(s) {', '.join(sorted(unknown))}; "
                            f"choose from {', '.join(RecurrentConfig.__dataclass_fields__)}")
        set_seeds()
        config = RecurrentConfig(**{**PRESETS[preset].__dict__, **overrides})
        return char_language_model(self.make_cell, config, self.name)

    def _compile(self, model, steps):
        import keras

        # A short linear warm-up keeps Adam's first, noisy steps from blowing up the recurrent weights.
        warmup = min(self.warmup_steps, steps // 10)
        schedule = keras.optimizers.schedules.CosineDecay(
            0.0 if warmup else self.learning_rate, decay_steps=max(steps - warmup, 1), alpha=0.05,
            warmup_target=self.learning_rate if warmup else None, warmup_steps=warmup)
        model.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=self.clipnorm),
                      loss="sparse_categorical_crossentropy")

    def _callbacks(self, quick, log):
        """Held-out bits per character after every epoch, and the time budget."""
        import time

        import keras

        spec, budget = self, self.time_budget_seconds

        class HeldOutAndBudget(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.started, self.bits_per_char = time.perf_counter(), []

            def on_epoch_end(self, epoch, logs=None):
                self.bits_per_char.append(spec.evaluate(self.model, quick=quick)["bits_per_char"])
                log(f"epoch {epoch + 1}: held-out {self.bits_per_char[-1]:.3f} bits per character")

            def on_train_batch_end(self, batch, logs=None):
                if time.perf_counter() - self.started > budget and not self.model.stop_training:
                    log(f"time budget of {budget}s reached: stopping training early")
                    self.model.stop_training = True

        return HeldOutAndBudget()

    def train(self, model, *, strategy=None, quick=False, log=print):
        set_seeds()
        train_ids, _ = moby_dick.load()
        if quick:  # CI: 24 steps of 32 windows of 64 characters from the book's start, one pass
            data = shifted_windows(train_ids[:24 * 32 * 64 + 64], 64, 32)
            epochs = 1
        else:
            data = shifted_windows(train_ids, self.sequence_length, self.batch_size)
            epochs = self.epochs
        steps = epochs * len(data)
        with strategy_scope(strategy):
            self._compile(model, steps)
        log(f"{self.name}: {data.count} windows of {data.length} characters per epoch, batch {data.batch_size}, "
            f"{epochs} epoch(s), {steps} steps")
        held_out = self._callbacks(quick, log)
        history, epoch_seconds, batch_losses = fit(model, data, None, epochs=epochs, batch_size=None,
                                                   callbacks=[held_out])
        metrics = {"bits_per_char": held_out.bits_per_char[-1],
                   "seconds_per_epoch": float(np.median(epoch_seconds)),  # training only, not the evaluation
                   "train_seconds": float(sum(epoch_seconds)),
                   "epochs": len(epoch_seconds)}
        curves = {"loss": history.get("loss", []), "val_bits_per_char": held_out.bits_per_char}
        return TrainResult(metrics=metrics, curves=curves, losses=batch_losses)

    def evaluate(self, model, quick=False):
        """Mean cross-entropy, in bits per character, of the held-out text (its first 4,000 characters if
        quick), each character predicted from at least `eval_context` characters before it."""
        _, held_out = moby_dick.load()
        if quick:
            held_out = held_out[:4000 + self.eval_context + 1]
        x, y = moby_dick.windows(held_out, self.eval_context + self.eval_scored, stride=self.eval_scored)
        probabilities = model.predict(x, batch_size=128, verbose=0)[:, self.eval_context:]
        picked = np.take_along_axis(probabilities, y[:, self.eval_context:, None], axis=-1).astype(np.float64)
        return {"bits_per_char": float(-np.mean(np.log2(np.maximum(picked, 1e-12))))}

    def io_spec(self):
        return {
            "inputs": [{"name": "tokens", "shape": [None, None], "dtype": "int32", "preprocessing": {
                "vocabulary": moby_dick.VOCABULARY,
                "unknown": moby_dick.UNKNOWN_INDEX,
                "lowercase": True,
                "normalize": moby_dick.NORMALIZE,
                "note": "lower-case the text, replace the `normalize` characters, then map each character to "
                        "its index in `vocabulary`; any other character is `unknown`. Any length.",
            }}],
            "outputs": [{"name": "probabilities", "shape": [None, None, VOCAB_SIZE], "dtype": "float32",
                         "note": "at each position, the probabilities of the next character (index into labels)"}],
            "labels": list(moby_dick.VOCABULARY),
        }

    def golden_inputs(self, count=1):
        """`count` consecutive held-out windows of `golden_length` characters: (count, golden_length) int32."""
        _, held_out = moby_dick.load()
        x, _ = moby_dick.windows(held_out, self.golden_length, limit=count)
        return [x]


@register_model
class SimpleRNNModel(CharLanguageModel):
    name = "simple_rnn"
    params_paper = 841_206
    params_demo = 194_866

    def make_cell(self, units, name):
        from keras import layers

        return layers.SimpleRNN(units, return_sequences=True, name=name)


@register_model
class LSTMModel(CharLanguageModel):
    name = "lstm"
    params_paper = 3_280_374
    params_demo = 712_114

    def make_cell(self, units, name):
        from keras import layers

        return layers.LSTM(units, return_sequences=True, name=name)


@register_model
class GRUModel(CharLanguageModel):
    name = "gru"
    params_paper = 2_467_318
    params_demo = 539_698

    def make_cell(self, units, name):
        from keras import layers

        # reset_after=False: Cho et al.'s original GRU and the only one tfjs-layers implements.
        return layers.GRU(units, return_sequences=True, reset_after=False, name=name)
