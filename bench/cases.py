"""What the bench measures: the eight zoo models at demo size (their trained checkpoints),
SqueezeNet at paper size (random weights: ImageNet weights are not to be had offline, and
sizes and latency do not depend on the values; it has no accuracy), and a transformer text
classifier of our own (random weights; it runs on webnets-layers.js classes in TF.js and is
timed against ONNX Runtime Web).

A Case is a .keras file plus how to score a model of it. The scores reuse the zoo's
evaluate code (models/*.py):
- image classifiers: top-1 accuracy on the Fashion-MNIST test set (10,000 images);
- language models: bits per character on the held-out tenth of Moby-Dick (lower is better);
- DQN: the maze success rate, the zoo's own metric: 100 greedy episodes from random start
  cells, fraction that reach the goal. Cheap (about 0.1 s) and it is what the agent is for;
  a Q-value agreement would flag changes that never alter a decision.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ZOO = ("alexnet", "googlenet", "resnet", "squeezenet", "simple_rnn", "lstm", "gru", "dqn")
CNNS = ("alexnet", "googlenet", "resnet", "squeezenet")
PAPER_SQUEEZENET = "squeezenet_paper"
TRANSFORMER = "transformer_text"
ALL = ZOO + (PAPER_SQUEEZENET, TRANSFORMER)
ONNX_CASES = ("squeezenet", PAPER_SQUEEZENET, TRANSFORMER)
# The transformer's size: a small sentence classifier (two blocks, 4 heads of 16, 64 tokens).
TRANSFORMER_VOCAB, TRANSFORMER_TOKENS, TRANSFORMER_WIDTH = 2000, 64, 64

METRICS = {
    "image-classification": {"name": "accuracy", "key": "test_accuracy", "higher_is_better": True,
                             "unit": "fraction", "data": "Fashion-MNIST test set, 10,000 images"},
    "text-generation": {"name": "bits_per_char", "key": "bits_per_char", "higher_is_better": False,
                        "unit": "bits per character", "data": "held-out last tenth of Moby-Dick"},
    "reinforcement-learning": {"name": "maze_success_rate", "key": "success_rate", "higher_is_better": True,
                               "unit": "fraction", "data": "100 greedy maze episodes from random start cells"},
}


@dataclass
class Case:
    key: str  # results.json key
    checkpoint: Path
    cnn: bool
    weights: str  # where the weights come from, for the report
    spec: object = None  # the zoo entry (models.base.ZooModel); None: no data to score on
    quick: bool = False
    onnx: bool = False
    prunable: bool = False
    notes: list = field(default_factory=list)
    _input: np.ndarray = None

    @property
    def metric(self):
        return METRICS[self.spec.task] if self.spec is not None and self.spec.task in METRICS else None

    def evaluate(self, model):
        """The metric of `model` (a float), or None where there is none."""
        if self.metric is None:
            return None
        return float(self.spec.evaluate(model, quick=self.quick)[self.metric["key"]])

    def validation(self):
        """Labelled data for --quantize auto (the zoo's validation split), or None where the model offers none."""
        from models.base import ZooModel

        if self.spec is None or type(self.spec).validation_data is ZooModel.validation_data:
            return None
        from exporter.quantize import Validation

        inputs, labels = self.spec.validation_data(quick=self.quick)
        return Validation(inputs, labels, f"{self.spec.name}: {self.spec.validation_source}")

    def browser_input(self):
        """One sample (batch 1) to time predictions on: a real test input where the zoo has one."""
        if self._input is None:
            if self.spec is not None:
                self._input = np.asarray(self.spec.golden_inputs(1)[0])
            else:
                import keras

                model = keras.saving.load_model(self.checkpoint, compile=False, safe_mode=True)
                shape = [1] + list(model.inputs[0].shape[1:])
                rng = np.random.default_rng(0)
                if "int" in str(model.inputs[0].dtype):  # token ids, none of them padding
                    self._input = rng.integers(1, TRANSFORMER_VOCAB, shape).astype(np.int32)
                else:
                    self._input = rng.uniform(0, 255, shape).astype(np.float32)
        return self._input


def missing_checkpoints(names):
    """[(zoo name, about how many seconds training it takes)] for the zoo models among `names` that
    have no checkpoint yet: the training time of the committed export (web_demo/models/NAME/meta.json)."""
    import json

    from exporter.zoo.checkpoints import Checkpoint

    missing = []
    for name in names:
        if name not in ZOO or Checkpoint.of(name).model.exists():
            continue
        meta_path = Path(__file__).resolve().parents[1] / "web_demo" / "models" / name / "meta.json"
        metrics = json.loads(meta_path.read_text()).get("metrics", {}) if meta_path.exists() else {}
        missing.append((name, float(metrics.get("train_seconds") or 600)))
    return missing


def build_cases(names, work, *, quick=False, log=print):
    """Cases for `names` (from ALL). A zoo model without a checkpoint is trained first, as
    `make export` would (artifacts/checkpoints/); with quick, it gets random weights in `work` instead."""
    from exporter.zoo.checkpoints import Checkpoint
    from models import zoo

    cases = []
    for name in names:
        if name == TRANSFORMER:
            path = Path(work) / f"{name}.keras"
            if not path.exists():
                transformer_classifier().save(path)
            cases.append(Case(name, path, cnn=False, quick=quick, onnx=True,
                              weights="random (our own text classifier: Embedding + 2 attention blocks; "
                                      "latency does not depend on the values)"))
            continue
        if name == PAPER_SQUEEZENET:
            path = Path(work) / f"{name}.keras"
            if not path.exists():
                model = zoo.build("squeezenet", preset="paper")
                model.save(path)
            cases.append(Case(name, path, cnn=True, quick=quick, onnx=True,
                              weights="random (paper-size SqueezeNet 1.0, 224x224x3, 1000 classes; no ImageNet "
                                      "weights offline, and sizes/latency do not depend on the values)"))
            continue
        spec = zoo.get(name)
        checkpoint = Checkpoint.of(name).model
        weights = f"trained ({checkpoint.parent.parent.name}/{checkpoint.parent.name}/{checkpoint.name})"
        if not checkpoint.exists():
            if quick:
                checkpoint = Path(work) / f"{name}.keras"
                spec.build("demo").save(checkpoint)
                weights = "random (no checkpoint; --quick does not train)"
            else:
                from exporter.zoo.training import train_or_load

                log(f"{name}: no checkpoint at {checkpoint}: training the demo model first (as `make export` does)")
                train_or_load(spec, log=log)
        cases.append(Case(name, checkpoint, cnn=name in CNNS, weights=weights, spec=spec, quick=quick,
                          onnx=name in ONNX_CASES, prunable=type(spec).fine_tune is not _base_fine_tune()))
    return cases


def _base_fine_tune():
    from models.base import ZooModel

    return ZooModel.fine_tune


def transformer_classifier(seed=0):
    """Embedding -> 2 x (MultiHeadAttention + LayerNorm + ReLU feed-forward) -> pooling -> 2 classes.

    The feed-forward uses relu, not gelu: Keras' exact gelu traces to Erf/Erfc, which the
    official graph converter and ONNX Runtime Web 1.30 lack, and the point is a comparison that
    runs on both runtimes. (webnets exports the gelu version too; the coverage corpus has one.)
    """
    import keras

    L = keras.layers
    keras.utils.set_random_seed(seed)
    tokens = keras.Input((TRANSFORMER_TOKENS,), dtype="int32", name="tokens")
    x = L.Embedding(TRANSFORMER_VOCAB, TRANSFORMER_WIDTH)(tokens)
    for _ in range(2):
        attended = L.MultiHeadAttention(num_heads=4, key_dim=TRANSFORMER_WIDTH // 4)(x, x)
        x = L.LayerNormalization(epsilon=1e-6)(L.Add()([x, attended]))
        ff = L.Dense(TRANSFORMER_WIDTH)(L.Dense(2 * TRANSFORMER_WIDTH, activation="relu")(x))
        x = L.LayerNormalization(epsilon=1e-6)(L.Add()([x, ff]))
    outputs = L.Dense(2, activation="softmax")(L.GlobalAveragePooling1D()(x))
    return keras.Model(tokens, outputs, name=TRANSFORMER)
