"""Export wall time, each route as a user runs it: fresh processes, imports included.

ours:     python -m exporter convert CHECKPOINT OUT      (translate, fold, write, verify in TF.js)
official: python -m bench.official_export CHECKPOINT SM  (load .keras, model.export SavedModel)
          + tensorflowjs_converter --input_format=tf_saved_model SM OUT   (graph model)

Runs alternate (ours first, then official first, ...) so a drifting machine load
hits both alike; the median of the runs is reported. The outputs of the first run
are kept: they are the models the browser bench loads.
"""

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _converter():
    found = Path(sys.executable).parent / "tensorflowjs_converter"
    return str(found) if found.exists() else shutil.which("tensorflowjs_converter")


def _env():
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")
    return env


def timed(argv, what):
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {done.returncode}): {' '.join(map(str, argv))}\n"
                           f"{done.stderr.strip()[-2000:]}")
    return seconds


def ours(checkpoint, out):
    return timed([sys.executable, "-m", "exporter", "convert", str(checkpoint), str(out)], "python -m exporter convert")


def official(checkpoint, saved_model, out):
    """(seconds, {part: seconds})"""
    export = timed([sys.executable, "-m", "bench.official_export", str(checkpoint), str(saved_model)],
                   "model.export(format='tf_saved_model')")
    convert = timed([_converter(), "--input_format=tf_saved_model", str(saved_model), str(out)],
                    "tensorflowjs_converter")
    return export + convert, {"saved_model_export": export, "tensorflowjs_converter": convert}


def measure(case, work, runs=3, log=print):
    """export_seconds for one case; leaves work/<key>/{layers,graph,saved_model} from the first run."""
    base = Path(work) / case.key
    ours_runs, official_runs, parts = [], [], []
    for i in range(runs):
        run_dir = base / f"export-{i}"
        run_dir.mkdir(parents=True, exist_ok=True)
        steps = [("ours", lambda: ours(case.checkpoint, run_dir / "layers")),
                 ("official", lambda: official(case.checkpoint, run_dir / "saved_model", run_dir / "graph"))]
        for name, step in (steps if i % 2 == 0 else steps[::-1]):
            if name == "ours":
                ours_runs.append(step())
            else:
                seconds, split = step()
                official_runs.append(seconds)
                parts.append(split)
        split = parts[-1]
        log(f"  {case.key} export run {i + 1}/{runs}: ours {ours_runs[-1]:.1f}s, official {official_runs[-1]:.1f}s "
            f"(SavedModel {split['saved_model_export']:.1f}s + converter {split['tensorflowjs_converter']:.1f}s)")
    for name in ("layers", "graph", "saved_model"):
        target = base / name
        if target.exists():
            shutil.rmtree(target)
        os.replace(base / "export-0" / name, target)
    for i in range(runs):
        shutil.rmtree(base / f"export-{i}", ignore_errors=True)
    return summarize(ours_runs, official_runs, parts)


def summarize(ours_runs, official_runs, parts):
    """export_seconds from the paired runs: medians, their ratio (the target's, with its interval in
    bench/report.py), every run, and the official route's two commands."""
    ours_median, official_median = statistics.median(ours_runs), statistics.median(official_runs)
    return {
        "ours": round(ours_median, 2),
        "official": round(official_median, 2),
        "ratio": round(ours_median / official_median, 3),
        "runs": len(ours_runs),
        "ours_runs": [round(s, 3) for s in ours_runs],
        "official_runs": [round(s, 3) for s in official_runs],
        "official_parts": parts,
        "official_parts_median": {k: round(statistics.median(p[k] for p in parts), 2) for k in parts[0]},
    }


def pool(first, second):
    """Two measurements of one case (make bench --repeat) as one."""
    if first is None:
        return second
    return summarize(first["ours_runs"] + second["ours_runs"], first["official_runs"] + second["official_runs"],
                     first["official_parts"] + second["official_parts"])


def onnx_export(saved_model, out, opset=17):
    """tf2onnx from the official route's SavedModel (seconds)."""
    return timed([sys.executable, "-m", "tf2onnx.convert", "--saved-model", str(saved_model), "--output", str(out),
                  "--opset", str(opset)], "tf2onnx")
