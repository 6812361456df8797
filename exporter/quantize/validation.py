"""Labelled data that `--quantize auto` measures accuracy on: a zoo model's validation split,
or `--validation-data FILE.npz`, checked against the model's inputs and its output."""

from dataclasses import dataclass

import numpy as np

from ..errors import ExportError

VALIDATION_FORMAT = ("an .npz file (numpy.savez) with the inputs as x (or x0, x1, ... for a model with several "
                      "inputs, in the model's input order) and the labels as y (integer class ids, or one-hot "
                      "rows)")


@dataclass(frozen=True)
class Validation:
    """Labelled data the accuracy is measured on: inputs in the model's order, labels = class ids
    shaped like the output without its class axis."""

    inputs: list
    labels: np.ndarray
    source: str

    @property
    def samples(self):
        return int(len(self.labels))


def read_validation_file(path, model):
    """--validation-data FILE.npz -> Validation, checked against the model's inputs and its output."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except Exception as error:
        raise ExportError(f"--validation-data {path}: not a readable .npz file ({type(error).__name__}: "
                          f"{str(error)[:200]}). Fix: write it with numpy.savez; it must be {VALIDATION_FORMAT}.") from None
    count = len(model.inputs)
    names = ["x"] if count == 1 and "x" in arrays else [f"x{i}" for i in range(count)]
    missing = [n for n in names + ["y"] if n not in arrays]
    if missing:
        raise ExportError(f"--validation-data {path}: the arrays {', '.join(missing)} are missing (it holds "
                          f"{', '.join(sorted(arrays)) or 'nothing'}; the model has {count} input(s)). Fix: it must be "
                          f"{VALIDATION_FORMAT}.")
    inputs, y = [arrays[n] for n in names], arrays["y"]
    for name, array, tensor in zip(names, inputs, model.inputs):
        expected = list(tensor.shape[1:])
        if array.ndim != len(expected) + 1 or any(e is not None and e != a for e, a in zip(expected, array.shape[1:])):
            raise ExportError(f"--validation-data {path}: {name} has shape {array.shape}, the model input "
                              f"'{tensor.name}' takes (N, {', '.join('any' if e is None else str(e) for e in expected)}). "
                              "Fix: save the inputs as the model takes them, batch first.")
        if len(array) != len(y):
            raise ExportError(f"--validation-data {path}: {name} has {len(array)} samples but y has {len(y)}. "
                              "Fix: save one label per sample.")
    dtypes = [str(t.dtype) for t in model.inputs]
    inputs = [a.astype(np.int32 if "int" in d else np.float32) for a, d in zip(inputs, dtypes)]
    return Validation(inputs, _class_ids(y, model, f"--validation-data {path}"), str(path))


def _class_ids(y, model, where):
    if len(model.outputs) != 1:
        raise ExportError(f"{where}: the model has {len(model.outputs)} outputs; --quantize auto measures "
                          "classification accuracy of a single output. Fix: use a fixed --quantize for this model.")
    shape = list(model.outputs[0].shape)
    if not shape[-1] or shape[-1] < 2:
        raise ExportError(f"{where}: the model's output {tuple(shape)} has no class axis to take the argmax of; "
                          "--quantize auto measures classification accuracy. Fix: use a fixed --quantize "
                          "(uint8, float16, uint16) for regressors.")
    if y.ndim == len(shape) and y.shape[-1] == shape[-1]:
        return np.argmax(y, axis=-1).astype(np.int64)
    if y.ndim == len(shape) - 1 and np.issubdtype(y.dtype, np.integer):
        return y.astype(np.int64)
    raise ExportError(f"{where}: y has shape {y.shape} and dtype {y.dtype}; for the output {tuple(shape)} it must be "
                      f"integer class ids of shape (N{', ...' if len(shape) > 2 else ''}) or one-hot rows of "
                      f"{shape[-1]}. Fix: save y accordingly.")
