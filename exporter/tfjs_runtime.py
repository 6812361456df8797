"""Run exported models in TF.js under Node (the `@tensorflow/tfjs` package, pure JS)."""

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ExportError

REPO_ROOT = Path(__file__).resolve().parent.parent
RUNNER = Path(__file__).resolve().parent / "node" / "run_tfjs.mjs"


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


def is_url(location):
    return str(location).startswith(("http://", "https://"))


def _check_node():
    if shutil.which("node") is None:
        raise ExportError("Node.js is not installed, so the TF.js parity check cannot run. Fix: install Node.js "
                          "(18 or newer) and run `npm ci` in the webnets checkout, or pass --no-verify.")
    if not (REPO_ROOT / "node_modules" / "@tensorflow" / "tfjs").exists():
        raise ExportError(f"@tensorflow/tfjs is not installed under {REPO_ROOT}/node_modules, so the TF.js parity "
                          "check cannot run. Fix: run `npm ci` there (make does it for you), or pass --no-verify.")


def run_jobs(jobs, timeout=900):
    """Run all jobs in one Node process; fills each job's outputs or error."""
    _check_node()
    with tempfile.TemporaryDirectory(prefix="webnets-tfjs-") as work:
        work = Path(work)
        specs = []
        for n, job in enumerate(jobs):
            job_dir = work / f"job{n}"
            job_dir.mkdir()
            inputs = []
            for i, array in enumerate(job.inputs):
                dtype = "int32" if np.issubdtype(array.dtype, np.integer) else "float32"
                file = job_dir / f"input_{i}.bin"
                np.ascontiguousarray(array, dtype=dtype).tofile(file)
                name = job.input_names[i] if job.input_names else None
                inputs.append({"path": str(file), "shape": list(array.shape), "dtype": dtype, "name": name})
            location = str(job.model_dir)
            if not is_url(location):
                location = str(Path(location).absolute())
            specs.append({"id": job.id, "dir": location, "format": job.format,
                          "inputs": inputs, "out": str(job_dir / "out")})
        (work / "jobs.json").write_text(json.dumps({"jobs": specs}))
        proc = subprocess.run(["node", str(RUNNER), str(work / "jobs.json"), str(work / "results.json")],
                              cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0 or not (work / "results.json").exists():
            raise ExportError(f"The TF.js runner failed before producing results (exit {proc.returncode}): "
                              f"{proc.stderr.strip()[-800:]}. Fix: run `npm ci` and check Node.js >= 18.")
        results = json.loads((work / "results.json").read_text())
        for job in jobs:
            result = results[job.id]
            if not result["ok"]:
                job.error = result["error"]
                continue
            job.load_ms, job.predict_ms = result["load_ms"], result["predict_ms"]
            job.outputs = [np.fromfile(o["path"], dtype=np.float32).reshape(o["shape"]) for o in result["outputs"]]
    return jobs
