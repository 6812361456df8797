"""The interface every zoo architecture implements (one subclass per model name).

A `ZooModel` knows how to build its network at two presets, train it on real
data that works offline, evaluate it, and describe its inputs for meta.json.
The exporter (`python -m exporter export NAME`) only talks to this interface.
"""

from dataclasses import dataclass, field


@dataclass
class TrainResult:
    """What training produced.

    metrics: the model's final metrics (the keys of `ZooModel.metric_keys`, plus
        e.g. `seconds_per_epoch`, `train_seconds`).
    curves: named series for the training-curve PNG, e.g. {"loss": [...], "val_accuracy": [...]}.
    losses: per-step (or per-epoch) training loss, for the CI check that it falls.
    extra_models: further trained networks to checkpoint beside the main one
        (e.g. the DQN's CartPole agent), name -> keras.Model.
    """

    metrics: dict
    curves: dict = field(default_factory=dict)
    losses: list = field(default_factory=list)
    extra_models: dict = field(default_factory=dict)


class ZooModel:
    """Base class; subclasses are registered with `models.zoo.register_model`."""

    name = ""
    display_name = ""  # what the demo's card is titled (meta.json and index.json carry it)
    family = ""
    task = ""  # "image-classification" | "text-generation" | "reinforcement-learning"
    dataset = ""
    # Reference parameter counts, asserted by tests against build(): the
    # published architecture ("paper") and the configuration trained here ("demo").
    params_paper = None
    params_demo = None
    metric_keys = ()
    # Further training-record keys that `list` reports beside metric_keys and their
    # "_exported" twins (e.g. seconds per epoch, the DQN's CartPole return).
    listed_metric_keys = ()

    def build(self, preset="demo", **overrides):
        """A fresh keras.Model. `paper`: the published size; `demo`: the trained browser size."""
        raise NotImplementedError

    def train(self, model, *, strategy=None, quick=False, log=print):
        """Train `model` in place and return a TrainResult.

        quick=True is the CI mode: a few steps on a small slice of the real data,
        enough to see the loss fall. `strategy` is a tf.distribute strategy or None;
        models built for it must have been built under `strategy.scope()`.
        """
        raise NotImplementedError

    def evaluate(self, model, quick=False):
        """Metrics of `model` on held-out data: {metric_key: float}."""
        raise NotImplementedError

    validation_source = ""  # what validation_data holds, for meta.json

    def validation_data(self, quick=False):
        """(inputs, labels) to tune export choices on (`--quantize auto`), never the data `evaluate`
        reports on: a list of input arrays, and integer class ids shaped like the output without its
        class axis (accuracy is the argmax's). Families without a classification output do not offer one."""
        raise NotImplementedError

    def fine_tune(self, model, *, callbacks=(), quick=False, log=print):
        """Continue training `model` briefly at a low learning rate (after pruning, `--prune`), with
        these keras callbacks; returns the seconds it took."""
        raise NotImplementedError

    def io_spec(self):
        """meta.json's description of the model's interface:
        {"inputs": [{"name", "shape", "dtype", "preprocessing": {...}}], "outputs": [...], "labels": [...] or None}."""
        raise NotImplementedError

    def golden_inputs(self, count=1):
        """Real inputs (list of numpy arrays, batch `count`) for meta.json's golden vectors."""
        raise NotImplementedError
