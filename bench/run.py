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
    parser.add_argument("--export-runs", type=int, default=5,
                        help="paired runs per CNN of each export route (median, interval over the pairs)")
    parser.add_argument("--export-runs-other", type=int, default=1,
                        help="runs for the RNNs and the DQN (their graph models are needed for the browser anyway)")
    parser.add_argument("--warm-runs", type=int, default=30, help="timed predictions per format and backend")
    parser.add_argument("--warmup", type=int, default=5, help="untimed predictions before them")
    parser.add_argument("--backends", default="webgl,wasm,webgpu,cpu",
                        help="TF.js backends to time (webgpu: SwiftShader's WebGPU adapter, a CPU here; no target)")
    parser.add_argument("--no-prune", dest="prune", action="store_false", help="skip the pruned variant")
    parser.add_argument("--no-browser", dest="browser", action="store_false", help="skip the browser timings")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (exported models)")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run the timed phases (export, browser, text) N times, one after the other, and pool "
                             "them: narrower intervals, and drift over the run sampled")
    parser.add_argument("--no-train", dest="train", action="store_false",
                        help="use only the zoo checkpoints that exist (artifacts/checkpoints/); the other zoo models "
                             "are not measured (without it, missing ones are trained first, as make export does)")
    parser.add_argument("--no-text", dest="text", action="store_false",
                        help="skip the demo's language models (the text panel, step and sequence latency)")
    parser.add_argument("--text-runs", type=int, default=5, help="clicks of 'Continue the text' per pass")
    args = parser.parse_args(argv)
    names = args.models.split(",") if args.models else list(cases_module.ALL)
    unknown = [n for n in names if n not in cases_module.ALL]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(cases_module.ALL)}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    args.names = names
    args.full = not args.quick and not args.models and args.browser and args.prune and args.train and args.text
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
        "webgpu": "Chromium's WebGPU on SwiftShader's adapter (software, no GPU)",
    }


def _version(module):
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return None


def _export_phase(cases, models, work, settings, log):
    for case in cases:
        runs = settings["export_runs"] if case.cnn else settings["export_runs_other"]
        measured = export_time.measure(case, work, runs=runs, log=log)
        models[case.key]["export_seconds"] = export_time.pool(models[case.key].get("export_seconds"), measured)
        if case.onnx and settings.get("onnx", True) and "onnx_export_seconds" not in models[case.key]:
            seconds = export_time.onnx_export(work / case.key / "saved_model", work / case.key / "model.onnx")
            models[case.key]["onnx_export_seconds"] = round(seconds, 2)


def _browser_phase(cases, models, work, settings, bench, log):
    import keras

    from .browser import ONNX_BACKENDS, PAUSE_MS, WASM_THREADS, as_page_input
    from .browser import pool as pool_browser

    for index, case in enumerate(cases):
        model = keras.saving.load_model(case.checkpoint, compile=False, safe_mode=True)
        x = case.browser_input()
        expected = model.predict(x, verbose=0)
        page_input = as_page_input(x)
        urls = {"layers": f"/models/{case.key}/layers/model.json", "graph": f"/models/{case.key}/graph/model.json"}
        browser = models[case.key].setdefault("browser", {})
        # (label, backend, threads). "wasm": both runtimes at 2 threads, set up as the demo does
        # (web_demo/js/backend.js). For the ONNX cases one more WASM pass at 1 thread each: the
        # SqueezeNet target holds at both settings. "webgpu": ONNX Runtime Web's WebGPU execution
        # provider beside TF.js' WebGPU backend (its WASM part, for what WebGPU does not run, at 2 threads).
        passes = [(b, b, WASM_THREADS) for b in settings["backends"]]
        if case.onnx and "wasm" in settings["backends"]:
            passes += [("wasm_1thread", "wasm", 1)]
        for b_index, (label, backend, threads) in enumerate(passes):
            formats = dict(urls)
            if case.onnx and backend in ONNX_BACKENDS and (work / case.key / "model.onnx").exists():
                formats["onnx"] = f"/models/{case.key}/model.onnx"
            t0 = time.perf_counter()
            measured = bench.measure(formats, page_input, expected, backend, warmup=settings["warmup"],
                                     runs=settings["warm_runs"], order=index + b_index, threads=threads,
                                     budget_ms=settings.get("warm_budget_ms", 0),
                                     pause_ms=settings.get("pause_ms", PAUSE_MS),
                                     max_runs=settings.get("max_warm_runs", settings["warm_runs"]))
            previous = browser.get(label)
            if previous is not None:
                previous = {**{f: r for f, r in previous.items() if f != "backend_info"},
                            "_backend": previous["backend_info"]}
            pooled = pool_browser(previous, measured)
            info = pooled.pop("_backend")
            browser[label] = {**pooled, "backend_info": info}
            summary = ", ".join(f"{f} {m['warm_ms_median']:.2f}/{m['cold_ms']:.0f} ms" if "error" not in m
                                else f"{f} failed" for f, m in measured.items() if f != "_backend")
            log(f"  {case.key} {label} (warm/cold): {summary} "
                f"[{'threads ' + str(info.get('threads')) + ', ' if 'threads' in info else ''}"
                f"{time.perf_counter() - t0:.0f}s]")
        models[case.key]["browser_input_shape"] = list(x.shape)


def run(cases, work, settings, log=_log):
    """Measure `cases` (bench.cases.Case) into a results dict (see bench/README.md for the schema)."""
    import keras

    started = time.perf_counter()
    load_at_start = os.getloadavg()  # other jobs on the machine skew timings; the report says how busy it was
    work = Path(work)
    models = {case.key: {"weights": case.weights, "cnn": case.cnn, "metric": case.metric} for case in cases}
    repeat = settings.get("repeat", 1)
    browser_version = None
    text = None
    for rep in range(repeat):
        turn = f" (repeat {rep + 1}/{repeat})" if repeat > 1 else ""
        log(f"[1/5] export time{turn}: ours vs official, {settings['export_runs']} run(s) per CNN")
        _export_phase(cases, models, work, settings, log)
        if settings["backends"]:
            from .browser import Bench, serve_isolated

            log(f"[2/5] browser{turn}: {', '.join(settings['backends'])}; {settings['warm_runs']} warm runs after "
                f"{settings['warmup']} warm-up, formats in balanced turns")
            with serve_isolated(work) as base, Bench(base, log=log) as bench:
                browser_version = bench.version
                _browser_phase(cases, models, work, settings, bench, log)
        if settings.get("text"):
            from . import text as text_bench

            log(f"[3/5] the demo's language models{turn}: the text panel, step and sequence latency")
            text = text_bench.pool(text, text_bench.measure(runs=settings["text_runs"], log=log))

    log("[4/5] weight variants: bytes (raw, gzip -9, brotli 11) and the metric with the weights as exported")
    for case in cases:
        model = keras.saving.load_model(case.checkpoint, compile=False, safe_mode=True)
        models[case.key]["parameters"] = int(model.count_params())
        measured = variants.measure_variants(case, model, work, log=log)
        models[case.key].update(bytes=measured["bytes"], accuracy=measured["accuracy"], auto=measured["auto"],
                                variant_seconds=measured["seconds"])

    if settings.get("prune", True):
        log(f"[5/5] pruned variant: export --prune {variants.PRUNE_SPARSITY} --quantize {variants.PRUNE_QUANTIZE}")
        for case in cases:
            pruned = variants.measure_pruned(case, work, log=log)
            if pruned is None:
                continue
            models[case.key]["bytes"]["pruned"] = pruned.pop("bytes")
            models[case.key]["accuracy"]["pruned"] = pruned.pop("accuracy")
            models[case.key]["pruned"] = pruned

    results = {
        "schema": 2,
        "generated_by": "python -m bench",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": _machine(load_at_start, browser_version),
        "settings": {**settings, "wasm_threads_requested": 2,
                     "bytes": "model.json + weight shards; each file compressed on its own (gzip -9, brotli 11)",
                     "mb": "1 MB = 1,000,000 bytes"},
        "models": models,
        **({"text": text} if text else {}),
    }
    results["targets"] = report.targets(results)
    # WebGPU has columns and no target (SwiftShader is a CPU here): its medians and ratios with intervals.
    results["webgpu"] = report.webgpu(results)
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

    names = args.names
    if not args.quick:
        missing = cases_module.missing_checkpoints(names)
        if missing:
            minutes = sum(seconds for _, seconds in missing) / 60
            listing = ", ".join(f"{name} (about {seconds / 60:.0f} min)" for name, seconds in missing)
            if args.train:
                _log(f"No checkpoint yet for {listing}: they are trained first, as `make export` does, about "
                     f"{minutes:.0f} min in all on a 2-core machine (artifacts/checkpoints/, kept for the next run). "
                     "`make bench ARGS=--no-train` measures only what exists.")
            else:
                _log(f"--no-train: {listing} have no checkpoint and are not measured.")
                names = [n for n in names if n not in {name for name, _ in missing}]
    settings = {"quick": args.quick, "models": names, "export_runs": args.export_runs,
                "export_runs_other": args.export_runs_other, "warm_runs": args.warm_runs, "warmup": args.warmup,
                "backends": args.backends if args.browser else [], "prune": args.prune,
                "warm_budget_ms": 0 if args.quick else WARM_BUDGET_MS, "max_warm_runs": MAX_WARM_RUNS,
                "warmup_ms": WARMUP_MS, "pause_ms": PAUSE_MS,
                "prune_sparsity": variants.PRUNE_SPARSITY, "auto_max_accuracy_drop": variants.MAX_ACCURACY_DROP,
                "repeat": args.repeat, "text": args.text and args.browser, "text_runs": args.text_runs,
                "not_measured": [n for n in args.names if n not in names]}
    started = time.perf_counter()
    try:
        cases = cases_module.build_cases(names, work, quick=args.quick, log=_log)
        results = run(cases, work, settings)
    finally:
        if args.keep:
            _log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    results["wall_seconds"] = round(time.perf_counter() - started, 1)
    report.write_all(results, out)
    if args.full and out.resolve() == DEFAULT_OUT.resolve():
        report.update_readme(ROOT / "docs" / "benchmarks.md", results)
    _log(f"wrote {out / 'results.json'}, results.md, results.png in {results['wall_seconds'] / 60:.1f} min")
    for name, target in results["targets"].items():
        _log(f"  target {name}: {target['verdict'] or 'not measured'} - {target['summary']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
