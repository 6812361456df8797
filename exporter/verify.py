"""`verify DIR`: re-run an exported model in TF.js on its golden inputs."""

import json
from pathlib import Path

from .errors import ExportError
from .parity import FLOAT32_BOUND, ParityReport, golden_arrays, raise_if_failed, relative_error, run_tfjs


def verify_directory(model_dir):
    model_dir = Path(model_dir)
    meta_path = model_dir / "meta.json"
    if not (model_dir / "model.json").exists():
        raise ExportError(f"'{model_dir}' has no model.json, so it is not an exported TF.js model. Fix: pass the "
                          "directory that `convert` or `export` wrote.")
    if not meta_path.exists() or "golden" not in json.loads(meta_path.read_text()):
        raise ExportError(f"'{model_dir}' has no meta.json with golden vectors (it was exported with --no-verify "
                          "or by another tool). Fix: convert it again with webnets, with verification on.")
    meta = json.loads(meta_path.read_text())
    inputs, expected = golden_arrays(meta["golden"])
    job = run_tfjs(model_dir, inputs, meta.get("format", "layers"), [i["name"] for i in meta.get("inputs", [])] or None)
    report = ParityReport(
        format=meta.get("format", "layers"), quantization=meta.get("quantization", "none"), samples=len(inputs[0]),
        max_rel_error=float("inf") if job.error else relative_error(job.outputs, expected), bound=FLOAT32_BOUND,
        vs_float32_max_abs_error=None, vs_float32_max_rel_error=None, vs_float32_top1_agreement=None,
        tfjs_load_ms=job.load_ms, tfjs_predict_ms=job.predict_ms,
    )
    raise_if_failed(report, job, f"'{model_dir}' (golden vectors in meta.json)")
    return report
