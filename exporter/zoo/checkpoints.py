"""The cache of trained zoo models: artifacts/checkpoints/<name>.keras, with a <name>.json record
(training metrics, curves) and a <name>.png training-curve plot beside it.

Every file is written to a temporary name of its own (pid + random) and renamed into place, so a
killed training run leaves the previous checkpoint intact and a reader never sees half a file.
Several processes may share the cache: `writing` (an exclusive flock on .<name>.lock beside the
model) is held while one trains and saves, `reading` (shared) while one loads, so a second export
of the same missing model waits for the first and loads its result rather than training again,
and never pairs a new model with the old record. WEBNETS_CHECKPOINT_DIR moves the cache (tests
and smoke runs keep theirs apart).
"""

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ExportError
from ..output.atomic import atomic_file, file_lock, write_text_atomic

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

    @property
    def lock(self) -> Path:
        return self.directory / f".{self.name}.lock"

    def exists(self) -> bool:
        return self.model.exists()

    def version(self):
        """What identifies the model file now written (inode, mtime), or None: a change means it was rewritten."""
        try:
            stat = self.model.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return stat.st_ino, stat.st_mtime_ns

    @contextlib.contextmanager
    def writing(self, log=print):
        """Exclusive: one process at a time trains and saves this checkpoint (others wait, then see its result)."""
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(file_lock(self.lock, on_wait=lambda: log(
                    f"{self.name}: another process is training or saving this checkpoint; waiting for it "
                    f"({self.lock})")))
            except OSError as error:
                raise self._unwritable(error) from None
            yield

    @contextlib.contextmanager
    def reading(self, log=print):
        """Shared: loads the model and its record together, never while another process saves them."""
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(file_lock(self.lock, shared=True, on_wait=lambda: log(
                    f"{self.name}: another process is saving this checkpoint; waiting to load it ({self.lock})")))
            except OSError:
                pass  # a read-only cache: this process cannot lock it, and none like it can write it
            yield

    def _unwritable(self, error):
        return ExportError(f"The checkpoint cache {self.directory} cannot be written ({type(error).__name__}: "
                           f"{error.strerror or error}). Fix: free some space or make it writable, or set "
                           "WEBNETS_CHECKPOINT_DIR to a writable directory.")

    def relative(self, path):
        """A path as meta.json records it: relative to the repository when it lies inside it."""
        path = Path(path).absolute()
        return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)

    def load(self):
        import keras

        try:
            return keras.saving.load_model(self.model, compile=False, safe_mode=True)
        except Exception as error:  # Keras raises many types for a file it cannot read; all mean "not usable"
            raise ExportError(f"The cached checkpoint {self.model} could not be loaded ({type(error).__name__}: "
                              f"{str(error)[:300]}). Fix: pass --retrain to train it again (it is replaced "
                              "atomically), or delete the file.") from None

    def read_record(self):
        return json.loads(self.record.read_text()) if self.record.exists() else None

    def save_model(self, model):
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            _replace(self.model, model.save)
        except OSError as error:
            raise self._unwritable(error) from None

    def save_record(self, record, curves=None, title=""):
        """The JSON record and (if any) the curves PNG; written after the models the record names."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            if curves:
                save_curves(curves, self.curves, title)
            write_text_atomic(self.record, json.dumps(record, indent=1, default=float))
        except OSError as error:
            raise self._unwritable(error) from None


def _replace(path, write):
    """write(temporary path) then rename it onto `path` (same directory, so the rename is atomic). The
    temporary name is this process's own: two processes saving at once never write into one file."""
    with atomic_file(path) as temp:
        write(temp)


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
