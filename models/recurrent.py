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

paper: Karpathy's char-rnn (github.com/karpathy/char-rnn, and "The Unreasonable
Effectiveness of Recurrent Neural Networks", 2015): "a 2-layer LSTM with 512
hidden nodes (approx. 3.5 million parameters), and with dropout of 0.5 after
each layer", the blog's model of Paul Graham's essays (about 1 million
characters, like Moby-Dick) and the README's `-rnn_size 512 -num_layers 2
-dropout 0.5`; char-rnn offers the same three cells (`-model lstm|gru|rnn`).
Its one-hot input is a vocabulary-wide embedding here (50x50), and Keras cells
have one bias per gate where Torch's have two: 3.28 million parameters.

demo: one layer, the same embedding and hidden width for all three cells so
that they compare fairly: the GRU's recurrent layer holds exactly 3/4 of the
LSTM's parameters (3 weight blocks against 4), the SimpleRNN's exactly 1/4.

Training runs on a twin of the network (`training_twin`) that computes the same
function with the input projection hoisted out of the time loop; the trained
weights are copied back into the stock Keras layers, which is what TF.js loads.
The twin exists because Keras' GRU(reset_after=False) slices its recurrent
matrix at every time step: on CPU the stock GRU took 1.8x the LSTM's time per
step, the twin takes 0.7x (its 3/4 of the LSTM's arithmetic).
"""

import functools
from dataclasses import dataclass

import numpy as np

from .base import TrainResult, ZooModel
from .data import moby_dick
from .training import SEED, agree_any, fit, is_multiworker, release_from_cluster, set_seeds, strategy_scope
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


@functools.cache
def _hoisted_cells():
    """Training-time twins of the Keras cells (classes built on first use, so importing the zoo
    stays free of Keras). They take the input projection x @ kernel + bias precomputed for the
    whole sequence (one large matmul outside the time loop) and keep only the recurrent matmul
    inside it. Same math as the stock cells, gate for gate."""
    from keras import layers, ops

    class HoistedCell(layers.Layer):
        blocks = 1  # weight blocks (gates): SimpleRNN 1, GRU 3, LSTM 4

        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units
            self.output_size = units

    class HoistedSimpleRNNCell(HoistedCell):
        def build(self, input_shape):
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), name="recurrent_kernel")

        def call(self, projected, states, training=False):
            h = ops.tanh(projected + ops.matmul(states[0], self.recurrent_kernel))
            return h, [h]

    class HoistedLSTMCell(HoistedCell):
        blocks = 4

        def __init__(self, units, **kwargs):
            super().__init__(units, **kwargs)
            self.state_size = [units, units]

        def build(self, input_shape):
            self.recurrent_kernel = self.add_weight(shape=(self.units, 4 * self.units), name="recurrent_kernel")

        def call(self, projected, states, training=False):
            h, c = states
            i, f, g, o = ops.split(projected + ops.matmul(h, self.recurrent_kernel), 4, axis=-1)
            c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
            h = ops.sigmoid(o) * ops.tanh(c)
            return h, [h, c]

    class HoistedGRUCell(HoistedCell):
        """reset_after=False. The recurrent matrix is held as its update/reset part and its candidate
        part: Keras' GRUCell slices one matrix at every time step, and on the CPU those slices (and their
        gradients) cost more than the arithmetic."""

        blocks = 3

        def build(self, input_shape):
            self.recurrent_kernel_zr = self.add_weight(shape=(self.units, 2 * self.units), name="recurrent_kernel_zr")
            self.recurrent_kernel_h = self.add_weight(shape=(self.units, self.units), name="recurrent_kernel_h")

        def call(self, projected, states, training=False):
            h = states[0]
            x_z, x_r, x_h = ops.split(projected, 3, axis=-1)
            r_z, r_r = ops.split(ops.matmul(h, self.recurrent_kernel_zr), 2, axis=-1)
            z, r = ops.sigmoid(x_z + r_z), ops.sigmoid(x_r + r_r)
            candidate = ops.tanh(x_h + ops.matmul(r * h, self.recurrent_kernel_h))
            h = z * h + (1 - z) * candidate
            return h, [h]

    return {"SimpleRNN": HoistedSimpleRNNCell, "LSTM": HoistedLSTMCell, "GRU": HoistedGRUCell}


def _check_stock(layer):
    """The twin reproduces the zoo's recurrent layers only (default activations, biases, no masking)."""
    config = layer.get_config()
    expected = {"activation": "tanh", "use_bias": True, "go_backwards": False, "stateful": False,
                "dropout": 0.0, "recurrent_dropout": 0.0}
    if type(layer).__name__ != "SimpleRNN":
        expected["recurrent_activation"] = "sigmoid"
    if type(layer).__name__ == "GRU":
        expected["reset_after"] = False
    differs = {k: config.get(k) for k, v in expected.items() if config.get(k) != v}
    if differs:
        raise ValueError(f"{layer.name}: the training twin cannot reproduce {differs}")


def training_twin(model):
    """A model computing exactly what `model` (Embedding -> recurrent layers -> Dense) computes, with
    hoisted input projections (see `_hoisted_cells`), holding a copy of its weights. Train the twin,
    then `copy_from_twin(twin, model)`: the exported network keeps the stock Keras layers."""
    import keras
    from keras import layers

    cells = _hoisted_cells()
    x = tokens = keras.Input((None,), dtype="int32", name=model.inputs[0].name)
    for layer in model.layers[1:]:
        kind = type(layer).__name__
        if kind in cells:
            _check_stock(layer)
            x = layers.Dense(cells[kind].blocks * layer.units, name=f"{layer.name}_input_projection")(x)
            x = layers.RNN(cells[kind](layer.units), return_sequences=True, name=layer.name)(x)
        else:
            x = type(layer).from_config(layer.get_config())(x)
    twin = keras.Model(tokens, x, name=f"{model.name}_twin")
    _copy_weights(model, twin, to_twin=True)
    return twin


def copy_from_twin(twin, model):
    """Put the trained twin's weights into the stock model."""
    _copy_weights(model, twin, to_twin=False)


def _copy_weights(stock, twin, *, to_twin):
    for layer in stock.layers[1:]:
        other = twin.get_layer(layer.name)
        if hasattr(layer, "cell"):
            projection = twin.get_layer(f"{layer.name}_input_projection")
            if to_twin:
                kernel, recurrent, bias = layer.get_weights()
                projection.set_weights([kernel, bias])
                gru = type(layer).__name__ == "GRU"
                other.set_weights([recurrent[:, :2 * layer.units], recurrent[:, 2 * layer.units:]] if gru
                                  else [recurrent])
            else:
                kernel, bias = projection.get_weights()
                layer.set_weights([kernel, np.concatenate(other.get_weights(), axis=1), bias])
        elif layer.weights:
            source, target = (layer, other) if to_twin else (other, layer)
            target.set_weights(source.get_weights())


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
    listed_metric_keys = ("seconds_per_epoch",)

    sequence_length = 50  # characters per training window (truncated backpropagation through time)
    # Held-out scoring: windows of eval_context + eval_scored characters, advancing by eval_scored; only
    # the last eval_scored positions count, so every scored character sees >= eval_context characters
    # before it rather than a cold, zero state.
    eval_context = 50
    eval_scored = 200
    golden_length = 40
    batch_size = 32
    epochs = 10
    learning_rate = 3e-3
    warmup_steps = 100
    clipnorm = 1.0
    # A safety net for shared or slow machines: training stops (mid-epoch) once it has run this long.
    time_budget_seconds = 570

    # The recurrent layer class (keras.layers name) and its options; the only
    # thing that differs between the three models.
    cell_class = None
    cell_options = {}

    def make_cell(self, units, name):
        """A fresh recurrent layer that returns the whole sequence."""
        from keras import layers

        return getattr(layers, self.cell_class)(units, return_sequences=True, name=name, **self.cell_options)

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

    def _callbacks(self, quick, log, strategy=None):
        """Held-out bits per character after every epoch, and the time budget. Under a multi-worker
        strategy the workers agree on stopping (every 10th batch), or the one that stopped first would
        leave the others waiting in their next step."""
        import time

        import keras

        spec, budget = self, self.time_budget_seconds
        check_every = 10 if is_multiworker(strategy) else 1

        class HeldOutAndBudget(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.started, self.bits_per_char = time.perf_counter(), []

            def on_epoch_end(self, epoch, logs=None):
                self.bits_per_char.append(spec.evaluate(self.model, quick=quick)["bits_per_char"])
                log(f"epoch {epoch + 1}: held-out {self.bits_per_char[-1]:.3f} bits per character")

            def on_train_batch_end(self, batch, logs=None):
                if batch % check_every or self.model.stop_training:
                    return
                if agree_any(strategy, time.perf_counter() - self.started > budget):
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
            twin = training_twin(model)
            self._compile(twin, steps)
        log(f"{self.name}: {data.count} windows of {data.length} characters per epoch, batch {data.batch_size}, "
            f"{epochs} epoch(s), {steps} steps")
        held_out = self._callbacks(quick, log, strategy)
        history, epoch_seconds, batch_losses = fit(twin, data, None, epochs=epochs, batch_size=None,
                                                   callbacks=[held_out])
        copy_from_twin(twin, model)
        release_from_cluster(model)  # from here on the chief saves and exports alone
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

    validation_characters = 20_000
    validation_source = "the last 20,000 characters of the training text (2,000 with --quick), next-character accuracy"

    def validation_data(self, quick=False):
        """Windows from the end of the training text (the held-out tenth is what `evaluate` reports on);
        the labels are the next characters, scored by accuracy at every position."""
        train_ids, _ = moby_dick.load()
        ids = train_ids[-(2_000 if quick else self.validation_characters) - 1:]
        x, y = moby_dick.windows(ids, self.eval_context + self.eval_scored, stride=self.eval_scored)
        return [x], y

    def io_spec(self):
        return {
            "inputs": [{"name": "tokens", "shape": [None, None], "dtype": "int32", "preprocessing": {
                "vocabulary": moby_dick.VOCABULARY,
                "unknown": moby_dick.UNKNOWN_INDEX,
                "lowercase": True,
                "normalize": moby_dick.NORMALIZE,
                "note": "lower-case the text, replace the `normalize` characters, then map each character to "
                        "its index in `vocabulary`; any other character is `unknown`. Any length. Trained on "
                        "unwrapped text: a newline marks a paragraph break, not the end of a printed line.",
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
    display_name = "SimpleRNN"
    params_paper = 841_206
    params_demo = 194_866
    cell_class = "SimpleRNN"


@register_model
class LSTMModel(CharLanguageModel):
    name = "lstm"
    display_name = "LSTM"
    params_paper = 3_280_374
    params_demo = 712_114
    cell_class = "LSTM"


@register_model
class GRUModel(CharLanguageModel):
    name = "gru"
    display_name = "GRU"
    params_paper = 2_467_318
    params_demo = 539_698
    cell_class = "GRU"
    # reset_after=False: Cho et al.'s original GRU and the only one tfjs-layers implements.
    cell_options = {"reset_after": False}
