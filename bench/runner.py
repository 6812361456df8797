"""The demo's executor for layers models (web_demo/js/runner.js) against tfjs-layers' own execute():
warm latency of the same model, side by side in one page, per backend, with paired intervals.

The models are the demo's own exports (web_demo/models/, as `make export` wrote them); the input
is each one's first golden row, and each format's output is checked against Keras' golden output.
Timing is `make bench`'s (bench/browser.py `Bench.measure`: blocks of back-to-back predictions in
balanced turns, over 3 fresh pages).

`python -m bench.runner [--models a,b] [--backends wasm,wasm_1thread,webgl] [--out DIR]` prints a
table and writes runner.json (and runner.md) to DIR (default $TMPDIR/webnets-bench).
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

from exporter.browser.chromium import WEB_DEMO

from . import stats
from .browser import Bench, serve_isolated

__all__ = ["MODELS", "measure", "markdown"]

MODELS = ("squeezenet", "googlenet", "resnet", "alexnet", "dqn")
# name -> (TF.js backend, WASM threads)
BACKENDS = {"wasm": ("wasm", 2), "wasm_1thread": ("wasm", 1), "webgl": ("webgl", 2)}


def first_row(entry):
    rows = entry["shape"][0]
    data = entry["data"][:len(entry["data"]) // rows]
    return {"shape": [1, *entry["shape"][1:]], "dtype": entry.get("dtype", "float32"), "data": data}


def measure(models=MODELS, backends=tuple(BACKENDS), runs=30, log=print):
    """{model: {backend: {runner_ms, execute_ms, ratio: interval, max_rel_error}}}."""
    results = {}
    with serve_isolated(WEB_DEMO / "models") as base, Bench(base, log=log) as bench:
        for name in models:
            golden = json.loads((WEB_DEMO / "models" / name / "meta.json").read_text())["golden"]
            x, expected = first_row(golden["inputs"][0]), first_row(golden["outputs"][0])["data"]
            url = f"/models/{name}/model.json"
            for key in backends:
                backend, threads = BACKENDS[key]
                r = bench.measure({"layers": url, "execute": url}, x, expected, backend, threads=threads, runs=runs)
                interval = stats.ratio_interval(r["layers"]["warm_blocks"], r["execute"]["warm_blocks"])
                results.setdefault(name, {})[key] = {
                    "runner_ms": r["layers"]["warm_ms_median"], "execute_ms": r["execute"]["warm_ms_median"],
                    "ratio": interval, "runs": r["layers"]["warm_runs"],
                    "max_rel_error": max(r["layers"]["max_rel_error"], r["execute"]["max_rel_error"])}
                log(f"{name} {key}: runner {r['layers']['warm_ms_median']} ms, execute() "
                    f"{r['execute']['warm_ms_median']} ms, ratio {interval['estimate']} "
                    f"[{interval['low']}, {interval['high']}]")
    return results


def markdown(results):
    lines = ["| model | backend | runner ms | execute() ms | runner / execute() [95% interval] | runs |",
             "|---|---|---|---|---|---|"]
    for name, by_backend in results.items():
        for key, r in by_backend.items():
            i = r["ratio"]
            lines.append(f"| {name} | {key} | {r['runner_ms']} | {r['execute_ms']} | "
                         f"{i['estimate']:.2f} [{i['low']:.2f}, {i['high']:.2f}] | {r['runs']} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.runner", description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated (default: {','.join(MODELS)})")
    parser.add_argument("--backends", default=",".join(BACKENDS), help=f"comma-separated of: {', '.join(BACKENDS)}")
    parser.add_argument("--runs", type=int, default=30, help="timed predictions per format at the least")
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "webnets-bench"))
    args = parser.parse_args(argv)
    unknown = [b for b in args.backends.split(",") if b not in BACKENDS]
    if unknown:
        parser.error(f"unknown backend(s) {', '.join(unknown)}: choose from {', '.join(BACKENDS)}")
    results = measure(args.models.split(","), args.backends.split(","), runs=args.runs)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "runner.json").write_text(json.dumps(results, indent=1) + "\n")
    (out / "runner.md").write_text(markdown(results))
    sys.stdout.write(markdown(results))
    print(f"wrote {out / 'runner.json'} and runner.md")


if __name__ == "__main__":
    main()
