"""`--quantize auto`: per weight tensor, the cheapest of uint8 / float16 or uint16 / float32
that keeps the accuracy drop on a validation set within P percentage points.

The tensor is the unit because the format quantizes per tensor (one affine
min/scale each), so a tensor's dtype is the finest choice the manifest can carry.

    1. Kernels (rank >= 2) start at uint8. 1-D tensors (biases, normalization
       parameters) hold O(channels) values, too few for uint8 to matter: they
       start as one group at float16 where that saves bytes, float32 otherwise.
    2. Sensitivity of each kernel: the validation accuracy drop and the KL
       divergence from the float32 outputs with only that kernel at uint8 (the
       1-D group: with only it at float16). KL ranks the kernels even where the
       accuracy of one kernel alone does not move.
    3. Measure the cheapest map. While its drop exceeds P, promote the unit with
       the highest KL per byte the promotion costs one rung (uint8 -> the 2-byte
       format with the smaller error on that tensor -> float32), and measure the
       combined map again. All float32 drops 0 points, so this ends within P.

Values are what TF.js will compute with: the official tensorflowjs quantizer's
quantize -> dequantize round trip (`shards.round_trip`, the functions its writer
and reader use; tests/test_auto_quantize.py checks bit equality with written
shards), put into Keras with `keras_with_values`.
"""

import json
import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..weights import has_home, keras_with_values
from .shards import round_trip

DEFAULT_MAX_DROP = 1.0
ITEMSIZE = {"uint8": 1, "uint16": 2, "float16": 2, "float32": 4}
# What a quantized entry adds to model.json beyond a float32 one (typical float reprs).
_MANIFEST_EXTRA = {
    "float32": 0,
    "float16": len(json.dumps({"quantization": {"dtype": "float16", "original_dtype": "float32"}})),
    "uint8": len(json.dumps({"quantization": {"dtype": "uint8", "min": -0.12345678901234568,
                                              "scale": 0.0012345678901234567, "original_dtype": "float32"}})),
}
_MANIFEST_EXTRA["uint16"] = _MANIFEST_EXTRA["uint8"] + 1
GROUP_1D = "1-D tensors (biases, normalization parameters)"


@dataclass(frozen=True)
class AutoChoice:
    dtypes: dict  # every candidate weight name -> the dtype chosen (float32 included)
    record: dict = field(default_factory=dict)  # meta.json["quantization_auto"]


def entry_bytes(elements, dtype):
    """Bytes a weight costs in the shards plus what its quantization adds to model.json."""
    return elements * ITEMSIZE[dtype] + _MANIFEST_EXTRA[dtype]


def probabilities(outputs):
    """Softmax unless the outputs already are probabilities (the zoo's models end in softmax)."""
    outputs = np.asarray(outputs, np.float64)
    if outputs.min() >= 0 and np.allclose(outputs.sum(-1), 1.0, atol=1e-3):
        return outputs
    shifted = np.exp(outputs - outputs.max(-1, keepdims=True))
    return shifted / shifted.sum(-1, keepdims=True)


@dataclass
class Measurement:
    accuracy: float
    drop_points: float  # (float32 accuracy - this accuracy) * 100
    kl: float  # mean KL(float32 outputs || these outputs), nats


class _Evaluator:
    """Validation accuracy of the model with its written weights replaced by the given values.

    Every measurement writes back every weight, the float32 ones too: a folded kernel's
    write-back changes its BatchNorm, which only the folded bias's write-back completes.
    """

    def __init__(self, model, weights, validation, batch_size=256):
        self.model, self.weights, self.validation, self.batch_size = model, weights, validation, batch_size
        self.count = 0
        self.reference = None
        self.float32_accuracy = None

    def _predict(self):
        self.count += 1
        inputs = self.validation.inputs
        outputs = self.model.predict(inputs if len(inputs) > 1 else inputs[0], batch_size=self.batch_size,
                                     verbose=0)
        return outputs[0] if isinstance(outputs, (list, tuple)) else outputs

    def measure(self, values):
        """values: {weight name: array} for every candidate weight. The first call is the float32 reference."""
        with keras_with_values(self.weights, values):
            probs = probabilities(self._predict())
        accuracy = float(np.mean(np.argmax(probs, -1) == self.validation.labels))
        if self.reference is None:
            self.reference, self.float32_accuracy = probs, accuracy
        kl = float(np.mean(np.sum(self.reference * (np.log(np.maximum(self.reference, 1e-12))
                                                    - np.log(np.maximum(probs, 1e-12))), -1)))
        return Measurement(accuracy, (self.float32_accuracy - accuracy) * 100, max(kl, 0.0))


@dataclass
class _Unit:
    """What is promoted as one: a kernel, or the group of 1-D tensors. rungs[i]: {name: dtype}."""

    label: str
    rungs: list
    sensitivity: Measurement = None

    def bytes(self, rung, sizes):
        return sum(entry_bytes(sizes[n], d) for n, d in self.rungs[rung].items())


def _units(candidates):
    """Kernels climb uint8 -> the better 2-byte format -> float32; 1-D tensors go as one group."""
    units, group_cheap = [], {}
    for name, data in candidates.items():
        if data.ndim >= 2:
            errors = {d: float(np.mean((round_trip(data, d).astype(np.float64) - data) ** 2))
                      for d in ("float16", "uint16")}
            errors = {d: e for d, e in errors.items() if math.isfinite(e)}  # float16 overflows past 65504
            two_byte = min(errors, key=errors.get) if errors else "float32"
            rungs = [{name: "uint8"}, {name: two_byte}, {name: "float32"}]
            units.append(_Unit(name, [r for i, r in enumerate(rungs) if i == 0 or r != rungs[i - 1]]))
        else:
            cheaper = entry_bytes(data.size, "float16") < entry_bytes(data.size, "float32")
            finite = bool(np.all(np.isfinite(round_trip(data, "float16"))))
            group_cheap[name] = "float16" if cheaper and finite else "float32"
    if group_cheap:
        rungs = [group_cheap, {n: "float32" for n in group_cheap}]
        units.append(_Unit(GROUP_1D, rungs[:1] if rungs[0] == rungs[1] else rungs))
    return units


def choose(model, weights, validation, max_drop, log=print):
    """The AutoChoice for `weights` ([(tfjs name, value)] as written, folds included) of `model`."""
    started = time.perf_counter()
    # Only weights with a home in the Keras model: derived ones stay float32 (see exporter/weights.py).
    candidates = {}
    for name, value in weights:
        data = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
        if has_home(value) and np.issubdtype(data.dtype, np.floating):
            candidates[name] = data.astype(np.float32)
    sizes = {n: int(d.size) for n, d in candidates.items()}
    cache = {}

    def values(assignment):
        """Round-tripped values of the assigned weights, float32 for every other one."""
        for name, dtype in assignment.items():
            if (name, dtype) not in cache:
                cache[name, dtype] = round_trip(candidates[name], dtype)
        return {n: cache[n, assignment[n]] if n in assignment else data for n, data in candidates.items()}

    evaluator = _Evaluator(model, weights, validation)
    evaluator.measure(values({}))
    units = _units(candidates)
    log(f"auto quantization: {len(candidates)} weights in {len(units)} units, validation {validation.samples} "
        f"samples ({validation.source}), float32 accuracy {evaluator.float32_accuracy:.4f}, "
        f"allowed drop {max_drop:g} points")
    for unit in units:
        unit.sensitivity = evaluator.measure(values(unit.rungs[0]))

    state = {unit.label: 0 for unit in units}

    def assignment():
        return {n: d for unit in units for n, d in unit.rungs[state[unit.label]].items()}

    cheapest = current = evaluator.measure(values(assignment()))
    log(f"auto quantization: cheapest map (kernels uint8) drops {cheapest.drop_points:.2f} points")
    # Highest KL per byte of promotion first; all first promotions before any second one.
    order = sorted((u for u in units if len(u.rungs) > 1),
                   key=lambda u: u.sensitivity.kl / max(u.bytes(1, sizes) - u.bytes(0, sizes), 1), reverse=True)
    promotions = []
    for rung in (1, 2):
        for unit in order:
            if current.drop_points <= max_drop + 1e-9:  # drops are k/N * 100: spare them float noise
                break
            if rung >= len(unit.rungs):
                continue
            state[unit.label] = rung
            current = evaluator.measure(values(assignment()))
            promotions.append({"unit": unit.label, "to": sorted(set(unit.rungs[rung].values())),
                               "validation_drop_points": current.drop_points})
            log(f"auto quantization: {unit.label} -> {'/'.join(promotions[-1]['to'])}: drop "
                f"{current.drop_points:.2f} points")

    chosen = assignment()
    by_dtype = {}
    for name, dtype in chosen.items():
        by_dtype.setdefault(dtype, []).append(name)

    def total(dtype_of):
        return sum(entry_bytes(sizes[n], dtype_of(n)) for n in candidates)

    record = {
        "max_accuracy_drop_points": max_drop,
        "metric": "accuracy (argmax of the output)",
        "validation": {"source": validation.source, "samples": validation.samples},
        "validation_accuracy": {"float32": evaluator.float32_accuracy, "cheapest": cheapest.accuracy,
                                "chosen": current.accuracy},
        "validation_drop_points": current.drop_points,
        "map": {d: sorted(by_dtype[d]) for d in ("uint8", "uint16", "float16", "float32") if d in by_dtype},
        "sensitivity": [{"unit": u.label, "dtype_measured": "/".join(sorted(set(u.rungs[0].values()))),
                         "elements": sum(sizes[n] for n in u.rungs[0]),
                         "accuracy_drop_points": u.sensitivity.drop_points, "kl": u.sensitivity.kl,
                         "chosen": "/".join(sorted(set(u.rungs[state[u.label]].values())))} for u in units],
        "promotions": promotions,
        "weight_bytes": {"chosen": total(chosen.get), "float32": total(lambda n: "float32"),
                         "float16": total(lambda n: "float16"),
                         "uint8": total(lambda n: "uint8")},
        "evaluations": evaluator.count,
        "seconds": time.perf_counter() - started,
    }
    log(f"auto quantization: chose {', '.join(f'{len(v)} {k}' for k, v in record['map'].items())}; validation "
        f"drop {current.drop_points:.2f} points, {record['weight_bytes']['chosen']:,} weight bytes "
        f"({evaluator.count} evaluations, {record['seconds']:.1f}s)")
    return AutoChoice(dtypes=chosen, record=record)
