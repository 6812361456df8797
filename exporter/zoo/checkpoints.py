"""The cache of trained zoo models: artifacts/checkpoints/<name>.keras, with a <name>.json record
(training metrics, curves) and a <name>.png training-curve plot beside it.

Every file is written to a temporary name and renamed into place, so a killed
training run leaves the previous checkpoint intact. WEBNETS_CHECKPOINT_DIR moves
the cache (tests and smoke runs keep theirs apart).
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..output import write_text_atomic

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECKPOINT_DIR = Path(os.environ.get("WEBNETS_CHECKPOINT_DIR", REPO_ROOT / "artifacts" / "checkpoints"))


@dataclass(frozen=True)
class Checkpoint:
    """Where one zoo model's trained state lives."""

    name: str
    directory: Path

    @classmethod
    def of(cls, name) -> "Checkpoint":
        return cls(name, Path(CHECKPOINT_DIR))  # read at call time: tests point it elsewhere

    @property
    def model(self) -> Path:
        return self.directory / f"{self.name}.keras"

    @property
    def record(self) -> Path:
        return self.directory / f"{self.name}.json"

    @property
    def curves(self) -> Path:
        return self.directory / f"{self.name}.png"

    def sibling(self, name) -> "Checkpoint":
        """A further network trained beside this one (the DQN's CartPole agent)."""
        return Checkpoint(name, self.directory)

    def exists(self) -> bool:
        return self.model.exists()

    def relative(self, path):
        """A path as meta.json records it: relative to the repository when it lies inside it."""
        path = Path(path).absolute()
        return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)

    def load(self):
        import keras

        return keras.saving.load_model(self.model, compile=False, safe_mode=True)

    def read_record(self):
        return json.loads(self.record.read_text()) if self.record.exists() else None

    def save_model(self, model):
        self.directory.mkdir(parents=True, exist_ok=True)
        _replace(self.model, model.save)

    def save_record(self, record, curves=None, title=""):
        """The JSON record and (if any) the curves PNG; written after the models the record names."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if curves:
            save_curves(curves, self.curves, title)
        write_text_atomic(self.record, json.dumps(record, indent=1, default=float))


def _replace(path, write):
    """write(temporary path) then rename it onto `path` (same directory, so the rename is atomic)."""
    temp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    try:
        write(temp)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def save_curves(curves, path, title):
    """Plot the named series into a PNG (one panel per series)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = {k: v for k, v in curves.items() if v}
    if not series:
        return None
    fig, axes = plt.subplots(1, len(series), figsize=(4 * len(series), 3), squeeze=False)
    for ax, (name, values) in zip(axes[0], series.items()):
        ax.plot(np.arange(1, len(values) + 1), values, marker="o" if len(values) < 40 else None)
        ax.set_title(name)
        ax.set_xlabel("epoch" if len(values) < 200 else "step")
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    _replace(path, lambda temp: fig.savefig(temp, dpi=100, format="png"))
    plt.close(fig)
    return path
