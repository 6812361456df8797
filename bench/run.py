"""`python -m bench`: one run, every measurement side by side, then bench/results.{json,md,png}.

Order matters on a shared 2-core machine: the timed phases (export processes, then
the browser) run first and one at a time; the untimed work (writing variants, scoring
them, the pruning fine-tune) comes last, so it never overlaps a measurement.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import cases as cases_module
from . import export_time, report, variants

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_OUT = HERE


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--models", help=f"comma-separated subset of: {', '.join(cases_module.ALL)} (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="development run: quick metrics (256 test images), 1 export run, 5 warm browser runs, "
                             "quick pruning fine-tune; numbers are not for reporting")
    parser.add_argument("--out", help="where results.{json,md,png} go (default: bench/ for a full run, "
                                      "$TMPDIR/webnets-bench for --quick or --models)")
    parser.add_argument("--export-runs", type=int, default=3, help="runs per CNN of each export route (median)")
    parser.add_argument("--export-runs-other", type=int, default=1,
                        help="runs for the RNNs and the DQN (their graph models are needed for the browser anyway)")
    parser.add_argument("--warm-runs", type=int, default=30, help="timed predictions per format and backend")
    parser.add_argument("--warmup", type=int, default=5, help="untimed predictions before them")
    parser.add_argument("--backends", default="webgl,wasm,cpu", help="TF.js backends to time")
    parser.add_argument("--no-prune", dest="prune", action="store_false", help="skip the pruned variant")
    parser.add_argument("--no-browser", dest="browser", action="store_false", help="skip the browser timings")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (exported models)")
    args = parser.parse_args(argv)
    names = args.models.split(",") if args.models else list(cases_module.ALL)
    unknown = [n for n in names if n not in cases_module.ALL]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(cases_module.ALL)}")
    args.names = names
    args.full = not args.quick and not args.models and args.browser and args.prune
    if args.quick:
        args.export_runs, args.export_runs_other = 1, 1
        args.warm_runs, args.warmup = min(args.warm_runs, 5), min(args.warmup, 1)
    args.backends = [b for b in args.backends.split(",") if b]
    return args


def _log(message):
    print(message, file=sys.__stdout__, flush=True)


def _machine(load_at_start, browser_version=None):
    import keras
    import tensorflow as tf

    def npm_version(package):
        path = ROOT / "node_modules" / package / "package.json"
        return json.loads(path.read_text())["version"] if path.exists() else None

    return {
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in load_at_start],
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "gpu": None,
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "tfjs": npm_version("@tensorflow/tfjs"),
        "onnxruntime_web": npm_version("onnxruntime-web"),
        "tf2onnx": _version("tf2onnx"),
        "chromium": browser_version,
        "webgl": "ANGLE on SwiftShader (software, no GPU)",
    }


def _version(module):
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return None


def run(cases, work, settings, log=_log):
    """Measure `cases` (bench.cases.Case) into a results dict (see bench/README.md for the schema)."""
    import keras

    started = time.perf_counter()
    load_at_start = os.getloadavg()  # other jobs on the machine skew timings; the report says how busy it was
    work = Path(work)
    models = {case.key: {"weights": case.weights, "cnn": case.cnn, "metric": case.metric} for case in cases}

    log(f"[1/4] export time: ours vs official, {settings['export_runs']} run(s) per CNN")
    for case in cases:
        runs = settings["export_runs"] if case.cnn else settings["export_runs_other"]
        models[case.key]["export_seconds"] = export_time.measure(case, work, runs=runs, log=log)
        if case.onnx and settings.get("onnx", True):
            seconds = export_time.onnx_export(work / case.key / "saved_model", work / case.key / "model.onnx")
            models[case.key]["onnx_export_seconds"] = round(seconds, 2)

    browser_version = None
    if settings["backends"]:
        from .browser import PAUSE_MS, WASM_THREADS, Bench, as_page_input, serve_isolated

        log(f"[2/4] browser: {', '.join(settings['backends'])}; {settings['warm_runs']} warm runs after "
            f"{settings['warmup']} warm-up, formats in balanced turns")
        with serve_isolated(work) as base, Bench(base, log=log) as bench:
            browser_version = bench.version
            for index, case in enumerate(cases):
                model = keras.saving.load_model(case.checkpoint, compile=False, safe_mode=True)
                x = case.browser_input()
                expected = model.predict(x, verbose=0)
                page_input = as_page_input(x)
                urls = {"layers": f"/models/{case.key}/layers/model.json",
                        "graph": f"/models/{case.key}/graph/model.json"}
                browser = {}
                # (label, backend, threads). "wasm": both runtimes at 2 threads, set up as the demo does
                # (web_demo/js/backend.js). For SqueezeNet one more WASM pass shows what the threads buy:
                # both runtimes at 1.
                passes = [(b, b, WASM_THREADS) for b in settings["backends"]]
                if case.onnx and "wasm" in settings["backends"]:
                    passes += [("wasm_1thread", "wasm", 1)]
                for b_index, (label, backend, threads) in enumerate(passes):
                    formats = dict(urls)
                    if case.onnx and backend == "wasm" and (work / case.key / "model.onnx").exists():
                        formats["onnx"] = f"/models/{case.key}/model.onnx"
                    t0 = time.perf_counter()
                    measured = bench.measure(formats, page_input, expected, backend, warmup=settings["warmup"],
                                             runs=settings["warm_runs"], order=index + b_index, threads=threads,
                                             budget_ms=settings.get("warm_budget_ms", 0),
                                             pause_ms=settings.get("pause_ms", PAUSE_MS),
                                             max_runs=settings.get("max_warm_runs", settings["warm_runs"]))
                    info = measured.pop("_backend")
                    browser[label] = {**measured, "backend_info": info}
                    summary = ", ".join(f"{f} {m['warm_ms_median']:.2f}/{m['cold_ms']:.0f} ms" if "error" not in m
                                        else f"{f} failed" for f, m in measured.items())
                    log(f"  {case.key} {label} (warm/cold): {summary} "
                        f"[{'threads ' + str(info.get('threads')) + ', ' if 'threads' in info else ''}"
                        f"{time.perf_counter() - t0:.0f}s]")
                models[case.key]["browser"] = browser
                models[case.key]["browser_input_shape"] = list(x.shape)

    log("[3/4] weight variants: bytes (raw, gzip -9, brotli 11) and the metric with the weights as exported")
    for case in cases:
        model = keras.saving.load_model(case.checkpoint, compile=False, safe_mode=True)
        models[case.key]["parameters"] = int(model.count_params())
        measured = variants.measure_variants(case, model, work, log=log)
        models[case.key].update(bytes=measured["bytes"], accuracy=measured["accuracy"], auto=measured["auto"],
                                variant_seconds=measured["seconds"])

    if settings.get("prune", True):
        log(f"[4/4] pruned variant: export --prune {variants.PRUNE_SPARSITY} --quantize {variants.PRUNE_QUANTIZE}")
        for case in cases:
            pruned = variants.measure_pruned(case, work, log=log)
            if pruned is None:
                continue
            models[case.key]["bytes"]["pruned"] = pruned.pop("bytes")
            models[case.key]["accuracy"]["pruned"] = pruned.pop("accuracy")
            models[case.key]["pruned"] = pruned

    results = {
        "schema": 1,
        "generated_by": "python -m bench",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": _machine(load_at_start, browser_version),
        "settings": {**settings, "wasm_threads_requested": 2,
                     "bytes": "model.json + weight shards; each file compressed on its own (gzip -9, brotli 11)",
                     "mb": "1 MB = 1,000,000 bytes"},
        "models": models,
    }
    results["targets"] = report.targets(results)
    results["wall_seconds"] = round(time.perf_counter() - started, 1)
    return results


def main(argv=None):
    args = parse_args(argv)
    if args.out:
        out = Path(args.out)
    else:
        out = DEFAULT_OUT if args.full else Path(tempfile.gettempdir()) / "webnets-bench"
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="webnets-bench-work-"))
    from .browser import MAX_WARM_RUNS, PAUSE_MS, WARM_BUDGET_MS, WARMUP_MS

    settings = {"quick": args.quick, "models": args.names, "export_runs": args.export_runs,
                "export_runs_other": args.export_runs_other, "warm_runs": args.warm_runs, "warmup": args.warmup,
                "backends": args.backends if args.browser else [], "prune": args.prune,
                "warm_budget_ms": 0 if args.quick else WARM_BUDGET_MS, "max_warm_runs": MAX_WARM_RUNS,
                "warmup_ms": WARMUP_MS, "pause_ms": PAUSE_MS,
                "prune_sparsity": variants.PRUNE_SPARSITY, "auto_max_accuracy_drop": variants.MAX_ACCURACY_DROP}
    started = time.perf_counter()
    try:
        cases = cases_module.build_cases(args.names, work, quick=args.quick, log=_log)
        results = run(cases, work, settings)
    finally:
        if args.keep:
            _log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    results["wall_seconds"] = round(time.perf_counter() - started, 1)
    report.write_all(results, out)
    if args.full and out.resolve() == DEFAULT_OUT.resolve():
        report.update_readme(ROOT / "README.md", results)
    _log(f"wrote {out / 'results.json'}, results.md, results.png in {results['wall_seconds'] / 60:.1f} min")
    for name, target in results["targets"].items():
        _log(f"  target {name}: {'holds' if target['holds'] else 'FAILS' if target['holds'] is False else 'n/a'}"
             f" - {target['summary']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
