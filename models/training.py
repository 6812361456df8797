"""Shared training plumbing: seeds, distribution strategies, Keras fit with a
progress bar and timing, training-curve PNGs, and checkpoint paths."""

import contextlib
import json
import os
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
# WEBNETS_CHECKPOINT_DIR moves the cache (tests and smoke runs keep theirs apart).
CHECKPOINT_DIR = Path(os.environ.get("WEBNETS_CHECKPOINT_DIR", REPO_ROOT / "artifacts" / "checkpoints"))
SEED = 1234


def set_seeds(seed=SEED):
    import keras

    keras.utils.set_random_seed(seed)  # python, numpy and the backend


def make_strategy(name):
    """None | "default" | "mirrored" | "multiworker" -> a tf.distribute strategy (or None).

    mirrored: every local GPU (falls back to the CPU when there is none).
    multiworker: MultiWorkerMirroredStrategy; each worker runs the same command
    with TF_CONFIG describing the cluster and its own task index.
    """
    if name in (None, "", "default", "none"):
        return None
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError("--strategy multiworker needs TF_CONFIG (cluster and task) in the environment; "
                             "see the README section 'Training on several machines'.")
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown strategy {name!r}: use mirrored or multiworker")


def strategy_scope(strategy):
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


class _EpochTimer:
    """Keras callback recording wall time per epoch and per-batch losses."""

    def __new__(cls):
        import keras

        class Timer(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.epoch_seconds, self.batch_losses = [], []

            def on_epoch_begin(self, epoch, logs=None):
                self._start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                self.epoch_seconds.append(time.perf_counter() - self._start)

            def on_train_batch_end(self, batch, logs=None):
                if logs and "loss" in logs:
                    self.batch_losses.append(float(logs["loss"]))

        return Timer()


def fit(model, x, y, *, epochs, batch_size, validation_data=None, callbacks=(), verbose=None, **kwargs):
    """model.fit with Keras' progress bar, returning (history dict, seconds per epoch, batch losses)."""
    timer = _EpochTimer()
    if verbose is None:
        verbose = 1 if os.environ.get("CI") is None else 2
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                        callbacks=[timer, *callbacks], verbose=verbose, **kwargs)
    return history.history, timer.epoch_seconds, timer.batch_losses


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
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def write_json_atomic(path, data):
    from exporter.atomic import write_text_atomic

    write_text_atomic(path, json.dumps(data, indent=1, default=float))
