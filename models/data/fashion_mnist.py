"""Fashion-MNIST through keras.datasets, working offline.

Keras downloads the four .gz files into $KERAS_HOME/datasets/fashion-mnist/.
On a machine without internet the Debian package `dataset-fashion-mnist`
ships the same files under /usr/share/datasets/fashion-mnist/; they are
copied into Keras' cache first, so `keras.datasets.fashion_mnist.load_data()`
finds them and never reaches for the network.
"""

import os
import shutil
from pathlib import Path

import numpy as np

LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")


def keras_cache_dir():
    base = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return base / "datasets" / "fashion-mnist"


def seed_keras_cache():
    """Copy the Debian package's files into Keras' cache where they are missing."""
    target = keras_cache_dir()
    if all((target / f).exists() for f in FILES) or not DEBIAN_DIR.exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        if not (target / name).exists():
            tmp = target / f".{name}.tmp"
            shutil.copyfile(DEBIAN_DIR / name, tmp)
            os.replace(tmp, target / name)
    return target


def load(limit_train=None, limit_test=None):
    """((x_train, y_train), (x_test, y_test)): uint8 images (N, 28, 28, 1), int labels."""
    import keras

    seed_keras_cache()
    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    except Exception as error:
        raise RuntimeError(
            "Fashion-MNIST is not available: Keras could not download it and the Debian package "
            "`dataset-fashion-mnist` is not installed. Fix: connect to the internet once, or "
            "`apt-get install dataset-fashion-mnist`.") from error
    x_train, x_test = x_train[..., None], x_test[..., None]
    if limit_train:
        x_train, y_train = x_train[:limit_train], y_train[:limit_train]
    if limit_test:
        x_test, y_test = x_test[:limit_test], y_test[:limit_test]
    return (x_train, y_train.astype(np.int32)), (x_test, y_test.astype(np.int32))
