"""`verify DIR_OR_URL`: re-run an exported model in TF.js on its golden inputs.

DIR is an export directory; a URL is a published version
(https://cdn.example.com/webnets/squeezenet/1.4.0), loaded over HTTP by TF.js
itself, exactly as a page would.
"""

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Union

from ..errors import ExportError
from ..output.validation import check_meta, check_topology, read_json
from .compare import ParityReport, golden_arrays, raise_if_failed, run_tfjs
from .runtime import is_url
from .tolerances import FLOAT32_BOUND, max_relative_error


_DAMAGED = ("export the model again (or download the whole directory again): model.json and meta.json must be "
            "the files `convert` wrote, unchanged.")


def _read_meta(location):
    if is_url(location):
        url = f"{location.rstrip('/')}/meta.json"
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                return json.loads(response.read())
        except (urllib.error.URLError, ValueError) as error:
            raise ExportError(f"Could not read {url} ({error}). Fix: pass the URL of a published version, "
                              "e.g. https://cdn.example.com/webnets/squeezenet/1.4.0, that is publicly readable.")
    model_dir = Path(location)
    if not (model_dir / "model.json").exists():
        raise ExportError(f"'{model_dir}' has no model.json, so it is not an exported TF.js model. Fix: pass the "
                          "directory that `convert` or `export` wrote.")
    # Checked here, not left to TF.js: a model.json with a cyclic graph makes its loader loop forever.
    check_topology(read_json(model_dir / "model.json", _DAMAGED), f"'{model_dir}'", _DAMAGED)
    meta_path = model_dir / "meta.json"
    return read_json(meta_path, _DAMAGED) if meta_path.exists() else {}


def _required_scripts(location, meta):
    """The URLs of the scripts a published version's meta.json `requires` (webnets-layers.js, plugins' JS
    files), in load order; for a directory None, once each is there (the runner reads them from meta.json)."""
    names = [r["file"] for r in meta.get("requires", [])]
    if is_url(location):
        return [f"{location.rstrip('/')}/{name}" for name in names]
    for name in names:
        if not (Path(location) / name).is_file():
            raise ExportError(f"'{location}' needs {name} (meta.json requires it: the model uses TF.js layer classes "
                              "it defines), and the file is missing. Fix: export the model again, or copy the file "
                              "beside model.json (webnets-layers.js from the webnets package, exporter/runtime/; "
                              "a plugin's from the plugin).")
    return None


def verify(location: Union[str, Path]) -> ParityReport:
    """Run an exported model (a directory, or the URL of a published version) in TF.js under Node on
    the golden inputs in its meta.json and compare with the golden outputs.

    Args:
        location: an export directory (model.json + meta.json), or an http(s) URL of one.

    Returns:
        The ParityReport (max relative error, bound, TF.js backend and timings).

    Raises:
        ExportError: no model or no golden vectors there; ParityError: TF.js does not reproduce them.
    """
    location = str(location)
    meta = check_meta(_read_meta(location), f"'{location}'", _DAMAGED)
    if "golden" not in meta:
        raise ExportError(f"'{location}' has no meta.json with golden vectors (it was exported with --no-verify "
                          "or by another tool). Fix: convert it again with webnets, with verification on.")
    inputs, expected = golden_arrays(meta["golden"])
    job = run_tfjs(location, inputs, meta.get("format", "layers"), [i["name"] for i in meta.get("inputs", [])] or None,
                   runtime=_required_scripts(location, meta))
    report = ParityReport(
        format=meta.get("format", "layers"), quantization=meta.get("quantization", "none"), samples=len(inputs[0]),
        max_rel_error=float("inf") if job.error else max_relative_error(job.outputs, expected), bound=FLOAT32_BOUND,
        vs_float32_max_abs_error=None, vs_float32_max_rel_error=None, vs_float32_top1_agreement=None,
        tfjs_load_ms=job.load_ms, tfjs_predict_ms=job.predict_ms, tfjs_backend=job.backend,
    )
    raise_if_failed(report, job, f"'{location}' (golden vectors in meta.json)")
    return report
