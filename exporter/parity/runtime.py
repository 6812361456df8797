"""Run exported models in TF.js under Node (`@tensorflow/tfjs` on its WASM backend; see node/run_tfjs.mjs)."""

import atexit
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ExportError
from ..runtime import required_scripts

REPO_ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).resolve().parent / "node" / "run_tfjs.mjs"
# WASM: what browsers run without WebGL, and fast enough that parity no longer dominates an export.
# WEBNETS_TFJS_BACKEND=cpu checks on the pure-JS reference backend instead.
BACKENDS = ("wasm", "cpu")


@dataclass
class Job:
    """One model to run: its directory, format and input arrays."""

    id: str
    model_dir: Path
    inputs: list
    format: str = "layers"
    input_names: list = None  # graph models: feed by signature name
    outputs: list = field(default_factory=list)  # filled by run_jobs
    error: str = None
    load_ms: float = None
    predict_ms: float = None
    backend: str = None  # the TF.js backend that produced the outputs
    # The scripts to register first (webnets-layers.js, plugins' files: a path or URL, or a list of them in
    # load order); None: those the export directory's meta.json requires (or its webnets-layers.js).
    runtime: object = None


def is_url(location):
    return str(location).startswith(("http://", "https://"))


def is_string_array(array):
    """Whether an input or output holds text (numpy str, bytes or object arrays): the runner feeds it as a
    TF.js string tensor, and its files and golden vectors carry the strings themselves (JSON)."""
    return np.asarray(array).dtype.kind in "USO"


def string_values(array):
    """The strings of a text array, flattened row-major; bytes (TensorFlow's strings) decoded as UTF-8."""
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in np.asarray(array).reshape(-1).tolist()]


def tensor_dtype(array):
    """The TF.js dtype an input array is fed as: string, int32 or float32."""
    if is_string_array(array):
        return "string"
    return "int32" if np.issubdtype(np.asarray(array).dtype, np.integer) else "float32"


def _write_input(array, path_stem):
    """(file, dtype) of one input: strings as a JSON list, numbers as raw little-endian values."""
    dtype = tensor_dtype(array)
    if dtype == "string":
        file = path_stem.with_suffix(".json")
        file.write_text(json.dumps(string_values(array), ensure_ascii=False), encoding="utf-8")
    else:
        file = path_stem.with_suffix(".bin")
        np.ascontiguousarray(array, dtype=dtype).tofile(file)
    return file, dtype


def _read_output(spec):
    """An output file the runner wrote: float32 or int32 raw values, or a JSON list of strings."""
    dtype = spec.get("dtype", "float32")
    if dtype == "string":
        values = json.loads(Path(spec["path"]).read_text(encoding="utf-8"))
        return np.asarray(values, dtype=object).reshape(spec["shape"])
    return np.fromfile(spec["path"], dtype=np.int32 if dtype == "int32" else np.float32).reshape(spec["shape"])


def _check_node():
    if shutil.which("node") is None:
        raise ExportError("Node.js is not installed, so the TF.js parity check cannot run. Fix: install Node.js "
                          "(18 or newer) and run `npm ci` in the webnets checkout, or pass --no-verify.")
    for package in ("tfjs", "tfjs-backend-wasm"):
        if not (REPO_ROOT / "node_modules" / "@tensorflow" / package).exists():
            raise ExportError(f"@tensorflow/{package} is not installed under {REPO_ROOT}/node_modules, so the TF.js "
                              "parity check cannot run. Fix: run `npm ci` there (make does it for you), or pass "
                              "--no-verify.")


def parity_backend():
    backend = os.environ.get("WEBNETS_TFJS_BACKEND", "wasm")
    if backend not in BACKENDS:
        raise ExportError(f"WEBNETS_TFJS_BACKEND={backend!r} is not a TF.js backend the parity check can use. "
                          f"Fix: set it to one of {', '.join(BACKENDS)}, or unset it (wasm).")
    return backend


_early = {}  # backend -> a runner started by prestart(), waiting for its jobs on stdin


def prestart():
    """Start the Node runner now, so that its TF.js import and backend set-up (0.3 s) overlap
    Python's TensorFlow import (3 s) on another core; the next run_jobs hands it its jobs.
    Best effort: without Node or TF.js nothing starts, and run_jobs reports the problem.
    Returns the waiting runner process, or None."""
    try:
        _check_node()
        backend = parity_backend()
    except ExportError:
        return None
    if backend not in _early:
        _early[backend] = subprocess.Popen(["node", str(RUNNER), "--stdin", backend], cwd=REPO_ROOT, text=True,
                                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        atexit.register(_early[backend].kill)  # unused (the export failed first): no stray Node
    return _early[backend]


def waiting_runner(backend):
    """The prestarted runner for `backend` that no run_jobs has used yet, or None."""
    return _early.get(backend)


def _run_runner(backend, jobs_file, results_file, timeout):
    """(exit code, stderr) of a runner on these files: the prestarted one if any, else a new one."""
    early = _early.pop(backend, None)
    if early is not None and early.poll() is None:
        try:
            _, stderr = early.communicate(json.dumps({"jobs": str(jobs_file), "results": str(results_file)}),
                                          timeout=timeout)
        except subprocess.TimeoutExpired:
            early.kill()
            raise
        return early.returncode, stderr
    proc = subprocess.run(["node", str(RUNNER), str(jobs_file), str(results_file)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stderr


def _scripts(job, location):
    """The paths or URLs of the scripts to register before the job's model loads, in order."""
    if job.runtime is not None:
        return [str(s) for s in ([job.runtime] if isinstance(job.runtime, (str, Path)) else job.runtime)]
    if is_url(location):
        return []
    return [str(Path(location) / name) for name in required_scripts(location)]


def run_jobs(jobs, timeout=900):
    """Run all jobs in one Node process; fills each job's outputs or error."""
    _check_node()
    backend = parity_backend()
    with tempfile.TemporaryDirectory(prefix="webnets-tfjs-") as work:
        work = Path(work)
        specs = []
        for n, job in enumerate(jobs):
            job_dir = work / f"job{n}"
            job_dir.mkdir()
            inputs = []
            for i, array in enumerate(job.inputs):
                file, dtype = _write_input(array, job_dir / f"input_{i}")
                name = job.input_names[i] if job.input_names else None
                inputs.append({"path": str(file), "shape": list(np.shape(array)), "dtype": dtype, "name": name})
            location = str(job.model_dir)
            if not is_url(location):
                location = str(Path(location).absolute())
            specs.append({"id": job.id, "dir": location, "format": job.format, "runtime": _scripts(job, location),
                          "inputs": inputs, "out": str(job_dir / "out")})
        (work / "jobs.json").write_text(json.dumps({"backend": backend, "jobs": specs}))
        try:
            returncode, stderr = _run_runner(backend, work / "jobs.json", work / "results.json", timeout)
        except subprocess.TimeoutExpired:
            raise ExportError(f"TF.js (Node) did not finish running {', '.join(str(j.model_dir) for j in jobs)} "
                              f"within {timeout} s, so it was stopped and nothing was checked. Fix: check that the "
                              "model loads and predicts in TF.js at all (a damaged model.json can make its loader "
                              "spin); for a model this large, run on a faster machine.") from None
        if returncode != 0 or not (work / "results.json").exists():
            raise ExportError(f"The TF.js runner failed before producing results (exit {returncode}): "
                              f"{stderr.strip()[-800:]}. Fix: run `npm ci` and check Node.js >= 18.")
        results = json.loads((work / "results.json").read_text())
        for job in jobs:
            result = results[job.id]
            if not result["ok"]:
                job.error = result["error"]
                continue
            job.load_ms, job.predict_ms, job.backend = result["load_ms"], result["predict_ms"], result["backend"]
            job.outputs = [_read_output(o) for o in result["outputs"]]
    return jobs
