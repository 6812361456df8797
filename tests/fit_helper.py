"""Trainability check shared by the webnets-class tests: one SGD step of `model.fit` in TF.js
(Node, tests/fit_step.mjs) from the exported weights, against the same step in Keras.

The measure is the relative error of the *update* (weights after minus before), per
weight, so it cannot pass on weights that barely move: `FitStep.change` says how much
they moved, and a test asserts both. The default backend is CPU, the one with every
gradient kernel: WASM lacks several (Conv2DBackpropFilter, UnsortedSegmentSum for
Embedding), so it can train only some models.
"""

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from exporter.parity.compare import keras_call_inputs
from exporter.parity.runtime import REPO_ROOT
from exporter.parity.tolerances import relative_error
from exporter.pipeline import write_layers_model

FIT_STEP = Path(__file__).with_name("fit_step.mjs")


@dataclass
class FitStep:
    error: float  # worst relative error of a weight's update, TF.js vs Keras
    change: float  # smallest max |update| over the trainable weights (0: a weight did not train)
    weights: int  # trainable weights compared
    worst: str  # the weight with the worst error


def write_arrays(arrays, folder, prefix):
    """Raw files for the Node helpers: [{path, shape, dtype}] (integers as int32, the rest float32)."""
    specs = []
    for i, array in enumerate(arrays):
        dtype = "int32" if np.issubdtype(array.dtype, np.integer) else "float32"
        path = folder / f"{prefix}{i}.bin"
        np.ascontiguousarray(array, dtype=dtype).tofile(path)
        specs.append({"path": str(path), "shape": list(array.shape), "dtype": dtype})
    return specs


def fit_step(model, inputs, targets, root, lr=0.1, backend="cpu", loss="meanSquaredError") -> FitStep:
    """Export `model` (float32, unoptimized: every TF.js weight is a Keras variable) under `root`,
    take one full-batch SGD step on (inputs, targets) in TF.js and in Keras, compare the updates."""
    root = Path(root)
    inputs, targets = list(inputs), list(targets)
    (root / "export").mkdir(parents=True, exist_ok=True)
    written = write_layers_model(model, root / "export", optimize=False, log=lambda *_: None)
    variables = {name: value for name, value in written.weights if hasattr(value, "assign")}
    before = {name: np.array(v.numpy()) for name, v in variables.items()}
    with tempfile.TemporaryDirectory(dir=root) as work:
        work = Path(work)
        request = {"dir": str(written.directory.absolute()), "backend": backend, "lr": lr, "loss": loss,
                   "scripts": [str((written.directory / r["file"]).absolute()) for r in written.requires],
                   "inputs": write_arrays(inputs, work, "x"), "targets": write_arrays(targets, work, "y"), "out": str(work / "out")}
        (work / "request.json").write_text(json.dumps(request))
        proc = subprocess.run(["node", str(FIT_STEP), str(work / "request.json")], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        records = json.loads((work / "out" / "weights.json").read_text())
        tfjs = {r["name"]: np.fromfile(r["file"], np.float32).reshape(r["shape"]) for r in records if r["trainable"]}
    model.compile(optimizer=keras.optimizers.SGD(lr), loss="mse")
    model.train_on_batch(keras_call_inputs(model, inputs), targets if len(targets) > 1 else targets[0])
    trainable = {v.path for v in model.trainable_variables}
    compared = [name for name, v in variables.items() if v.path in trainable]
    missing = [name for name in compared if name not in tfjs]
    assert not missing, f"TF.js has no trainable weight named {missing} (it has {sorted(tfjs)})"
    errors, changes = {}, []
    for name in compared:
        keras_update = np.asarray(variables[name].numpy()) - before[name]
        errors[name] = relative_error(tfjs[name] - before[name], keras_update)
        changes.append(float(np.max(np.abs(keras_update))))
    worst = max(errors, key=errors.get)
    return FitStep(errors[worst], min(changes), len(compared), worst)


FIT_AND_SAVE = Path(__file__).with_name("fit_and_save.mjs")


def fit_and_save(export_dir, out_dir, x, y, steps=3, lr=0.1):
    """Train an export a few SGD steps in TF.js (Node, fit_and_save.mjs) and save it as a page's
    downloads:// does (the Teach panel's download): out_dir/model.json + weights.bin."""
    work = out_dir.parent / f"{out_dir.name}_request"
    work.mkdir()
    request = {"dir": str(export_dir), "backend": "cpu", "lr": lr, "steps": steps, "loss": "meanSquaredError",
               "inputs": write_arrays([x], work, "x"), "targets": write_arrays([y], work, "y"), "out": str(out_dir)}
    (work / "request.json").write_text(json.dumps(request))
    proc = subprocess.run(["node", str(FIT_AND_SAVE), str(work / "request.json")], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(p.name for p in out_dir.iterdir()) == ["model.json", "weights.bin"]
