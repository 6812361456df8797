"""`export --prune SPARSITY`: magnitude pruning of the large kernels and a short fine-tune with the
masks held fixed, so that the shards carry zeros, which gzip and brotli squeeze.

Per layer, not global: every pruned kernel loses the same fraction, its smallest
magnitudes. A global threshold compares magnitudes across layers, and those are
not comparable here: the zoo's CNNs put BatchNorm after their convolutions, which
divides a kernel's scale out, so its magnitude says nothing about its importance
next to another layer's; a global cut empties some layers and spares others.

Pruned: Conv/Dense kernels of at least MIN_ELEMENTS values, except the first and
the last layer with a kernel (the input's and the classifier's), which are small
and the most sensitive; sparsity studies keep them dense too (Zhu and Gupta 2017,
Gale et al. 2019).

Zeros survive quantization: float16 stores 0 exactly, and the official affine
uint8/uint16 quantizer nudges its range so that 0.0 lies on the grid
(min = -zero_point * scale); dequantization zero_point * scale + min is then
exactly 0, in numpy's float64 as in TF.js' JavaScript doubles. A pruned kernel
holds zeros, so its range covers 0. `Pruned.zeros_exact` checks the weights as
exported, read back from the written shards.

The fine-tune re-applies the masks after every batch (a Keras callback):
Adam's momentum would otherwise regrow pruned weights. tensorflow_model_optimization
would do this with gradient masking, but it does not support Keras 3.
"""

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import ExportError

MIN_ELEMENTS = 1024
PRUNABLE_CLASSES = {"Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose",
                    "Conv3DTranspose"}


def check_sparsity(sparsity):
    if sparsity is None:
        return None
    sparsity = float(sparsity)
    if not math.isfinite(sparsity) or not 0 <= sparsity < 1:
        raise ExportError(f"--prune {sparsity:g}: the sparsity is the fraction of each large kernel's weights set to "
                          "zero, so it must be at least 0 and below 1 (0.5 zeroes half of them). Fix: pass e.g. "
                          "--prune 0.5.")
    return sparsity


def prunable_kernels(model, min_elements=MIN_ELEMENTS):
    """[(layer, kernel variable)] to prune, in the model's layer order (see the module docstring)."""
    weighted = [layer for layer in model._flatten_layers(include_self=False, recursive=True)
                if type(layer).__name__ in PRUNABLE_CLASSES and getattr(layer, "kernel", None) is not None]
    inner = weighted[1:-1]
    return [(layer, layer.kernel) for layer in inner if int(np.prod(layer.kernel.shape)) >= min_elements]


def magnitude_mask(values, sparsity):
    """1 where a weight stays, 0 for the round(sparsity * n) smallest magnitudes (ties broken by position)."""
    flat = np.abs(np.asarray(values)).reshape(-1)
    mask = np.ones(flat.size, np.float32)
    mask[np.argsort(flat, kind="stable")[:int(round(sparsity * flat.size))]] = 0
    return mask.reshape(np.shape(values))


@dataclass
class Pruned:
    """The kernels pruned and their masks; `apply` zeroes the masked weights."""

    kernels: list  # [(layer name, variable, mask)]
    record: dict = field(default_factory=dict)

    def apply(self):
        for _, variable, mask in self.kernels:
            variable.assign(variable.numpy() * mask)

    def callback(self):
        import keras

        pruned = self

        class ReapplyMasks(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                pruned.apply()

            def on_train_end(self, logs=None):
                pruned.apply()

        return ReapplyMasks()

    def zeros_exact(self):
        """Whether every masked weight is exactly 0 in the model's current values (call it with the
        exported weights in place, e.g. from export's `evaluate`)."""
        return all(bool(np.all(variable.numpy()[mask == 0] == 0)) for _, variable, mask in self.kernels)

    def sparsity(self):
        """{kernel: fraction of exact zeros} now."""
        return {name: float(np.mean(variable.numpy() == 0)) for name, variable, _ in self.kernels}


def prune(model, sparsity, *, fine_tune, evaluate, log=print):
    """Prune `model` in place and fine-tune it.

    fine_tune: [keras callbacks] -> seconds; evaluate: model -> metrics dict (reported, never tuned on).
    Returns a Pruned whose `record` is meta.json's "pruning".
    """
    kernels = prunable_kernels(model)
    if not kernels:
        raise ExportError(f"--prune: model '{model.name}' has no kernel of {MIN_ELEMENTS} or more weights between "
                          "its first and last layer, so there is nothing worth pruning. Fix: leave --prune out.")
    metrics_before = evaluate(model)
    pruned = Pruned([(variable.path, variable, magnitude_mask(variable.numpy(), sparsity))
                     for _, variable in kernels])
    pruned.apply()
    metrics_pruned = evaluate(model)
    log(f"pruned {len(kernels)} kernels to sparsity {sparsity:g} (per layer): {metrics_before} -> {metrics_pruned} "
        "before fine-tuning")
    started = time.perf_counter()
    fine_tune_seconds = fine_tune([pruned.callback()])
    wall = time.perf_counter() - started
    pruned.apply()
    metrics_after = evaluate(model)
    log(f"fine-tuned in {wall:.1f}s: {metrics_after}")
    zeros = sum(int(np.sum(mask == 0)) for _, _, mask in pruned.kernels)
    elements = sum(int(mask.size) for _, _, mask in pruned.kernels)
    parameters = int(model.count_params())
    pruned.record = {
        "sparsity": sparsity,
        "scope": "per layer: each pruned kernel loses its smallest magnitudes (BatchNorm makes kernel scales "
                 "incomparable across layers)",
        "kernels": {name: {"elements": int(mask.size), "zeros": int(np.sum(mask == 0))}
                    for name, _, mask in pruned.kernels},
        "sparsity_of_pruned_kernels": zeros / elements,
        "sparsity_of_all_parameters": zeros / parameters,
        "fine_tune_seconds": fine_tune_seconds,
        "fine_tune_wall_seconds": wall,
        "metrics_before": metrics_before,
        "metrics_after_pruning": metrics_pruned,
        "metrics_after_fine_tune": metrics_after,
        "zeros_exact_as_exported": None,  # set when export verifies the weights as written
    }
    return pruned
