"""Where an exported weight lives in Keras, and running Keras with other values for it.

`translate_model` names every weight as TF.js will ([(tfjs name, value)]). A value
is one of:

    a Keras variable   the weight is that variable;
    a FoldedWeight     computed at export time from Keras variables (a BatchNorm
                       folded into a conv kernel, exporter/optimize): its
                       `write_back(array)` gives the variable assignments under
                       which the unchanged Keras model computes what TF.js
                       computes with `array`;
    a numpy array      derived at export time with no home in Keras (a lowered
                       layer's constants); it is written as float32 and left alone.

A weight with a home (the first two) may be quantized, because Keras can then be
run with exactly the numbers TF.js will use: `keras_with_values` is that one
helper, used by the parity reference of a quantized export, by `--quantize auto`'s
accuracy measurements, and by the benchmark's accuracy of each weight variant.
"""

import contextlib
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping

import numpy as np

__all__ = ["FoldedWeight", "has_home", "as_numpy", "keras_with_values"]


@dataclass(eq=False)  # compared by identity: field-wise == on arrays has no truth value
class FoldedWeight:
    """A weight computed at export time from Keras variables (see the module docstring)."""

    value: np.ndarray
    write_back: Callable  # array -> [(keras variable, array)]

    def numpy(self):
        return self.value


def is_variable(value) -> bool:
    return hasattr(value, "assign") and hasattr(value, "numpy")


def has_home(value) -> bool:
    """Whether Keras can be made to compute with other values of this weight."""
    return is_variable(value) or isinstance(value, FoldedWeight)


def assignments(value, array) -> list:
    """[(keras variable, array)] that make Keras compute with `array` as this weight."""
    if is_variable(value):
        return [(value, array)]
    if isinstance(value, FoldedWeight):
        return list(value.write_back(array))
    raise TypeError(f"a derived weight ({type(value).__name__}) has no home in the Keras model")


def as_numpy(weights: Iterable) -> list:
    """[(name, value)] -> [{'name', 'data'}] with the dtypes TF.js stores (float32 / int32)."""
    entries = []
    for name, value in weights:
        data = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
        if np.issubdtype(data.dtype, np.floating):
            data = data.astype(np.float32)
        elif np.issubdtype(data.dtype, np.integer) or data.dtype == bool:
            data = data.astype(np.int32)
        entries.append({"name": name, "data": data})
    return entries


@contextlib.contextmanager
def keras_with_values(weights: Iterable, values: Mapping[str, np.ndarray]):
    """Within the block, the Keras model computes with `values` ({tfjs name: array}) for those weights.

    Weights without a home are skipped (their TF.js value is Keras' own). Every
    write-back is computed before any assignment: a folded kernel's write-back
    changes its BatchNorm, which the folded bias's write-back completes, and the
    slices of a BatchNorm folded into a Concatenate's branches fill one shared
    array. Afterwards every variable holds its old value again.
    """
    pairs = [pair for name, value in weights if name in values and has_home(value)
             for pair in assignments(value, values[name])]
    variables = list({id(variable): variable for variable, _ in pairs}.values())
    saved = [variable.numpy() for variable in variables]
    try:
        for variable, array in pairs:
            variable.assign(np.asarray(array).reshape(variable.shape).astype(variable.dtype))
        yield
    finally:
        for variable, value in zip(variables, saved):
            variable.assign(value)
