"""Fashion-MNIST through keras.datasets, working offline.

Keras downloads the four .gz files into $KERAS_HOME/datasets/fashion-mnist/.
On a machine without internet the Debian package `dataset-fashion-mnist`
ships the same files under /usr/share/datasets/fashion-mnist/; they are
copied into Keras' cache first, so `keras.datasets.fashion_mnist.load_data()`
finds them and never reaches for the network.

Several processes may do this at once (the workers of a multi-worker run on one
machine, two exports): each copies into a temporary name of its own (pid +
random) and renames it into place, so a file in the cache is always complete,
under an flock on .webnets.lock in the cache directory, so they do not copy (or
let Keras download) the same files twice.
"""

import contextlib
import fcntl
import os
import shutil
import uuid
from pathlib import Path

import numpy as np

from . import DatasetUnavailableError

LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")


def keras_cache_dir():
    base = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return base / "datasets" / "fashion-mnist"


@contextlib.contextmanager
def _cache_lock(target):
    """An exclusive flock on target/.webnets.lock (a file that stays: removing it would let a waiter lock
    a file no one else sees)."""
    fd = os.open(target / ".webnets.lock", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _missing(target):
    """The cache's files that are absent, or (with the Debian package to compare with) of the wrong size:
    a copy cut short by an older webnets that wrote every process's copy into one temporary name."""
    def wrong(name):
        try:
            size = (target / name).stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            return True
        source = DEBIAN_DIR / name
        return source.exists() and size != source.stat().st_size
    return [name for name in FILES if wrong(name)]


def _copy_atomically(source, destination):
    temp = destination.with_name(f".{destination.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        shutil.copyfile(source, temp)
        os.replace(temp, destination)
    finally:
        temp.unlink(missing_ok=True)


def seed_keras_cache():
    """Copy the Debian package's files into Keras' cache where they are missing (safe with several
    processes at once: see the module's docstring)."""
    target = keras_cache_dir()
    if not _missing(target) or not DEBIAN_DIR.exists():
        return target
    try:
        target.mkdir(parents=True, exist_ok=True)
        with _cache_lock(target):
            for name in _missing(target):  # again: another process may have copied them while this one waited
                _copy_atomically(DEBIAN_DIR / name, target / name)
    except OSError as error:
        raise DatasetUnavailableError(
            f"Fashion-MNIST could not be copied from {DEBIAN_DIR} into Keras' cache {target} "
            f"({type(error).__name__}: {error}). Fix: make that directory writable and free some space, or "
            "point KERAS_HOME at a writable directory.") from None
    return target


def _load_data():
    """keras.datasets.fashion_mnist.load_data(); if it has files to download, under the cache's lock, since
    Keras writes a download straight into its final name."""
    import keras

    target = keras_cache_dir()
    if not _missing(target):
        return keras.datasets.fashion_mnist.load_data()
    target.mkdir(parents=True, exist_ok=True)
    with _cache_lock(target):
        return keras.datasets.fashion_mnist.load_data()


def load(limit_train=None, limit_test=None):
    """((x_train, y_train), (x_test, y_test)): uint8 images (N, 28, 28, 1), int labels."""
    target = seed_keras_cache()
    cached = not _missing(target)
    try:
        (x_train, y_train), (x_test, y_test) = _load_data()
    except Exception as error:
        if cached:
            raise DatasetUnavailableError(
                f"Fashion-MNIST's files in {target} could not be read ({type(error).__name__}: {error}). "
                f"Fix: delete {target} and run again (it is copied or downloaded afresh).") from error
        raise DatasetUnavailableError(
            "Fashion-MNIST is not available: Keras could not download it and the Debian package "
            "`dataset-fashion-mnist` is not installed. Fix: connect to the internet once, or "
            "`apt-get install dataset-fashion-mnist`.") from error
    x_train, x_test = x_train[..., None], x_test[..., None]
    if limit_train:
        x_train, y_train = x_train[:limit_train], y_train[:limit_train]
    if limit_test:
        x_test, y_test = x_test[:limit_test], y_test[:limit_test]
    return (x_train, y_train.astype(np.int32)), (x_test, y_test.astype(np.int32))
