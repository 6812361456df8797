"""Parity: run the exported model in TF.js and compare with Keras.

The reference is Keras itself. For a quantized export the reference is Keras
run with the *dequantized* weights (so the check proves the translation is
exact, bound 1e-4), and the drift from the float32 model is reported
separately (max error, top-1 agreement).
"""

from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np

from ..errors import ExportError, ParityError
from .failures import explain_keras_failure
from .runtime import Job, run_jobs, string_values, tensor_dtype
from .texts import sample_texts
from .tolerances import FLOAT32_BOUND, PAGE_INTEGRITY_BOUND, max_relative_error

DEFAULT_STEPS = 8  # length used for dimensions the model leaves open (sequences)


def sample_inputs(model, batch=2, seed=0):
    """Deterministic inputs matching the model's input specs.

    Integer inputs (token ids) are drawn below the smallest Embedding
    input_dim so every id is valid; string inputs are texts (exporter/parity/texts.py).
    """
    rng = np.random.default_rng(seed)
    import keras  # imported where a model is at hand: `convert` imports this module before TensorFlow starts

    vocab = min([l.input_dim for l in _all_layers(model) if isinstance(l, keras.layers.Embedding)] or [10])
    arrays = []
    for tensor in model.inputs:
        shape = [batch] + [d if d is not None else DEFAULT_STEPS for d in tensor.shape[1:]]
        if str(tensor.dtype) == "string":
            arrays.append(sample_texts(model, shape, rng))
        elif "int" in str(tensor.dtype):
            arrays.append(rng.integers(0, vocab, size=shape).astype(np.int32))
        else:
            arrays.append(rng.standard_normal(shape).astype(np.float32))
    return arrays


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)
        for attr in ("layer", "forward_layer"):
            if hasattr(layer, attr):
                yield getattr(layer, attr)


def keras_call_inputs(model, arrays):
    """Arrays in model.inputs order, structured as the model is called: one, a list, or a dict (keras-hub)."""
    struct = getattr(model, "_inputs_struct", None)
    if isinstance(struct, dict):
        import keras

        return keras.tree.pack_sequence_as(struct, list(arrays))
    return arrays if len(arrays) > 1 else arrays[0]


def keras_outputs(model, inputs, where="the model"):
    """Keras' outputs on `inputs`, as arrays; a model Keras cannot run is refused naming the layer."""
    try:
        outputs = model(keras_call_inputs(model, inputs), training=False)
    except ExportError:
        raise
    except Exception as error:  # noqa: BLE001 - Keras and TensorFlow raise many types; each is explained
        raise explain_keras_failure(error, model, where) from None
    if isinstance(outputs, dict):
        outputs = list(outputs.values())
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [np.asarray(o) for o in outputs]


def top1_agreement(actual, expected):
    """Share of samples whose argmax over the last axis agrees, for outputs with > 1 class."""
    agree = total = 0
    for a, e in zip(actual, expected):
        if a.ndim >= 1 and a.shape[-1] > 1 and a.shape == e.shape:
            agree += int(np.sum(np.argmax(a, -1) == np.argmax(e, -1)))
            total += int(np.prod(a.shape[:-1]))
    return None if total == 0 else agree / total


@dataclass
class ParityReport:
    format: str
    quantization: str
    samples: int
    max_rel_error: float
    bound: float
    vs_float32_max_abs_error: Optional[float]
    vs_float32_max_rel_error: Optional[float]
    vs_float32_top1_agreement: Optional[float]
    tfjs_load_ms: Optional[float]
    tfjs_predict_ms: Optional[float]
    tfjs_backend: Optional[str]  # "wasm", or "cpu" where WASM lacks a kernel the model needs

    @property
    def passed(self):
        return self.max_rel_error <= self.bound

    def as_dict(self):
        return {**asdict(self), "passed": self.passed}

    def summary(self):
        lines = [f"parity ({self.format}, TF.js {self.tfjs_backend} vs reference, {self.samples} samples): max relative error "
                 f"{self.max_rel_error:.2e} (bound {self.bound:.0e}) -> {'OK' if self.passed else 'FAILED'}"]
        if self.quantization != "none" and self.vs_float32_max_abs_error is not None:
            agree = "n/a" if self.vs_float32_top1_agreement is None else f"{self.vs_float32_top1_agreement:.3f}"
            lines.append(f"quantization {self.quantization} vs float32 Keras: max abs error "
                         f"{self.vs_float32_max_abs_error:.3e}, max relative error {self.vs_float32_max_rel_error:.3e}, "
                         f"top-1 agreement {agree}")
        return "\n".join(lines)


def build_report(fmt, quantization, inputs, tfjs, reference, float32):
    """Compare TF.js outputs with the reference and describe drift from float32."""
    abs_err = max((float(np.max(np.abs(np.asarray(a) - b))) for a, b in zip(reference, float32) if b.size), default=0.0)
    return ParityReport(
        format=fmt,
        quantization=quantization,
        samples=int(inputs[0].shape[0]) if inputs else 0,
        max_rel_error=max_relative_error(tfjs.outputs, reference) if not tfjs.error else float("inf"),
        bound=FLOAT32_BOUND,
        vs_float32_max_abs_error=abs_err,
        vs_float32_max_rel_error=max_relative_error(reference, float32),
        vs_float32_top1_agreement=top1_agreement(reference, float32),
        tfjs_load_ms=tfjs.load_ms,
        tfjs_predict_ms=tfjs.predict_ms,
        tfjs_backend=tfjs.backend,
    )


def raise_if_failed(report, job, where):
    other = "the layers format (the default)" if report.format == "graph" else "--format graph"
    if job.error:
        raise ParityError(f"TF.js could not run the exported model in {where}: {job.error}. This is a webnets bug or "
                          f"an unsupported construct; nothing was written. Fix: report it with the model, or try "
                          f"{other}.")
    if not report.passed:
        raise ParityError(f"TF.js does not reproduce Keras for {where}: max relative error {report.max_rel_error:.3e} "
                          f"exceeds {report.bound:.0e}. Nothing was written. Fix: report it with the model; "
                          "--no-verify skips the check, at your own risk.")


def run_tfjs(model_dir, inputs, fmt="layers", input_names=None, runtime=None):
    """One model in TF.js; `runtime`: the scripts to register first, a path or URL or a list of them
    (default: those the directory's meta.json requires, or the webnets-layers.js beside model.json)."""
    return run_jobs([Job("model", model_dir, inputs, fmt, input_names, runtime=runtime)])[0]


def golden_entry(inputs, outputs, count=1):
    """The first `count` samples as JSON-ready golden vectors (meta.json's `golden`), with the bound
    the demo page holds a downloaded model to when it re-runs them."""
    return {
        "bound": PAGE_INTEGRITY_BOUND,
        "inputs": [{"shape": [count, *a.shape[1:]], "dtype": tensor_dtype(a), "data": _golden_data(a[:count])}
                   for a in inputs],
        "outputs": [{"shape": [count, *np.shape(o)[1:]], **({"dtype": "string"} if tensor_dtype(o) == "string" else {}),
                     "data": _golden_data(np.asarray(o[:count]), np.float32)} for o in outputs],
    }


def _golden_data(array, number_dtype=None):
    """Golden values as JSON: the strings themselves for text (inputs and StringLookup(invert=True)
    outputs), else the numbers."""
    if tensor_dtype(array) == "string":
        return string_values(array)
    return np.asarray(array, number_dtype).reshape(-1).tolist()


def _golden_array(entry, number_dtype):
    if entry.get("dtype") == "string":
        return np.asarray(entry["data"], dtype=str).reshape(entry["shape"])
    return np.asarray(entry["data"], number_dtype).reshape(entry["shape"])


def golden_arrays(golden):
    inputs = [_golden_array(g, np.int32 if g["dtype"] == "int32" else np.float32) for g in golden["inputs"]]
    outputs = [_golden_array(g, np.float32) for g in golden["outputs"]]
    return inputs, outputs
