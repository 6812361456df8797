"""The one shared helper for parity tests: export many small Keras models, run
them all in a single TF.js (Node) process, and compare each with Keras.

Used by every translator test, so each registered layer is checked the same
way: real export, real TF.js, numbers compared.
"""

from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import pytest

from exporter.parity.compare import keras_outputs, sample_inputs
from exporter.parity.runtime import Job, run_jobs
from exporter.parity.tolerances import FLOAT32_BOUND, max_relative_error
from exporter.pipeline import write_layers_model


def application(name, shape, **kwargs):
    """A case builder for a keras.applications model with random weights and 10 classes."""
    def build():
        return getattr(keras.applications, name)(weights=None, input_shape=shape, classes=10, **kwargs)

    return build


@dataclass
class Case:
    """A model to export: `build()` returns a Keras model (weights may be random)."""

    id: str
    build: object
    quantization: object = None  # what QuantizeRequest.coerce takes: None, "uint8", ["float16", ...], a request
    optimize: bool = True  # exporter/optimize/ rewrites (the default of convert/export)
    inputs: object = None  # model -> arrays in model.inputs order (default: sample_inputs); str arrays for texts

    def __repr__(self):
        return self.id


def single(case_id, shape, make, dtype="float32"):
    """The case every layer test builds: keras.Input(shape) -> make()(x), the layer under test alone.

    `make` returns the layer (or a callable; it may return several outputs), so each option
    combination of a class is one line, as Keras' `run_layer_test` serves every layer.
    """

    def build():
        inputs = keras.Input(shape, dtype=dtype)
        return keras.Model(inputs, make()(inputs))

    return Case(case_id, build)


@dataclass
class Result:
    rel_error: float = None
    error: str = None
    classes: set = field(default_factory=set)  # Keras layer classes the model contains
    model_json: dict = None
    optimizations: dict = None  # what exporter/optimize/ did (None with optimize=False)
    backend: str = None  # the TF.js backend that ran it (wasm, or cpu where WASM lacks a kernel)
    parameters: int = None  # the Keras model's parameter count
    outputs: list = None  # TF.js' outputs (numpy; int32 ids stay int32, strings are str), for exact checks
    expected: list = None  # Keras' outputs on the same inputs


def layer_classes(model):
    """Keras classes a model contains: its layers, nested models', wrapped layers and RNN cells."""
    classes = set()
    for layer in model.layers:
        classes |= _classes_inside(layer)
        if isinstance(layer, keras.Model):
            classes |= layer_classes(layer)
    return classes


def _classes_inside(layer):
    classes = {type(layer).__name__}
    for inner in ("layer", "forward_layer", "cell"):
        if isinstance(getattr(layer, inner, None), keras.layers.Layer):
            classes |= _classes_inside(getattr(layer, inner))
    for inner in [*(getattr(layer, "cells", None) or []),  # StackedRNNCells
                  *([] if isinstance(layer, keras.Model) else getattr(layer, "layers", None) or [])]:  # Pipeline
        classes |= _classes_inside(inner)
    return classes


def randomize_state(model, seed=0):
    """Give BatchNormalization-style statistics non-trivial values so they are really tested."""
    rng = np.random.default_rng(seed)
    for v in model.non_trainable_weights:
        if "moving_variance" in v.path:
            v.assign(rng.uniform(0.5, 2.0, v.shape).astype("float32"))
        elif "moving_mean" in v.path:
            v.assign(rng.normal(0, 0.5, v.shape).astype("float32"))


def run_cases(cases, root):
    """Export every case under root, run all in one Node process, return {id: Result}."""
    root = Path(root)
    results, jobs, references = {}, [], {}
    for case in cases:
        keras.utils.set_random_seed(0)
        result = results[case.id] = Result()
        try:
            model = case.build()
            randomize_state(model)
            result.classes = layer_classes(model)
            result.parameters = int(model.count_params())
            out = root / case.id
            out.mkdir(parents=True)
            written = write_layers_model(model, out, case.quantization, optimize=case.optimize)
            result.model_json, result.optimizations = written.model_json, written.optimizations
            inputs = case.inputs(model) if case.inputs else sample_inputs(model)
            with written.keras_as_exported():  # quantized: Keras with the dequantized weights
                references[case.id] = keras_outputs(model, inputs)
            # The export has no meta.json here: its scripts (webnets-layers.js, plugins') come from the writer.
            jobs.append(Job(case.id, out, inputs, runtime=[str(out / r["file"]) for r in written.requires] or None))
        except Exception as error:  # reported per case by the test
            result.error = f"export failed: {type(error).__name__}: {error}"
    for job in run_jobs(jobs):
        result = results[job.id]
        if job.error:
            result.error = f"TF.js failed: {job.error}"
        else:
            result.rel_error = max_relative_error(job.outputs, references[job.id])
            result.backend = job.backend
            result.outputs, result.expected = job.outputs, references[job.id]
    return results


def assert_parity(result, bound=FLOAT32_BOUND):
    assert result.error is None, result.error
    assert result.rel_error <= bound, f"TF.js differs from Keras: max relative error {result.rel_error:.3e} > {bound}"


def parity_on_backends(cases, label, prepare=None):
    """What every translator test module runs: the module fixtures `wasm_results` and `cpu_results` (every
    case exported and run in one Node process per backend) and the tests `test_parity_on_wasm` and
    `test_parity_on_cpu`, parametrized over the cases. Unpack them into the module's globals, where pytest
    finds them:

        wasm_results, cpu_results, test_parity_on_wasm, test_parity_on_cpu = parity_on_backends(CASES, "x")

    `prepare(patch)`: a module's own set-up inside the run's MonkeyPatch (its own sample inputs, say).
    """
    def run_on(backend, tmp_path_factory):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("WEBNETS_TFJS_BACKEND", backend)
            if prepare is not None:
                prepare(patch)
            return run_cases(cases, tmp_path_factory.mktemp(f"{label}-{backend}"))

    @pytest.fixture(scope="module")
    def wasm_results(tmp_path_factory):
        return run_on("wasm", tmp_path_factory)

    @pytest.fixture(scope="module")
    def cpu_results(tmp_path_factory):
        return run_on("cpu", tmp_path_factory)

    @pytest.mark.parametrize("case", cases, ids=lambda c: c.id)
    def test_parity_on_wasm(wasm_results, case):
        assert_parity(wasm_results[case.id])
        assert wasm_results[case.id].backend == "wasm"

    @pytest.mark.parametrize("case", cases, ids=lambda c: c.id)
    def test_parity_on_cpu(cpu_results, case):
        assert_parity(cpu_results[case.id])
        assert cpu_results[case.id].backend == "cpu"

    return wasm_results, cpu_results, test_parity_on_wasm, test_parity_on_cpu
