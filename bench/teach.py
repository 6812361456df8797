"""Teaching a zoo CNN new classes in the browser: held-out accuracy per number of samples per class,
and training time per epoch, on WebGL and WASM.

The demo page (web_demo/, served as `make demo` serves it) in headless Chromium, driven through the
Teach panel's own controls (window.webnets.teach): each zoo CNN learns 5 MNIST digits (0-4), which
its Fashion-MNIST training never showed it, from N samples per class (the panel's defaults: 15% of
them held out for validation, 30 epochs, shifted copies), then classifies 200 other digits.

`python -m bench.teach [--out DIR]` writes teach.json and teach.md; tests/test_teach.py uses the
same page scripts.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from exporter.browser.chromium import CHROMIUM_FLAGS, WEB_DEMO, chromium_path, ensure_vendor
from exporter.browser.serve import serving
from models.data.mnist_digits import digits

__all__ = ["TEACH", "PREDICT", "SET_OPTIONS", "measure", "markdown"]

CLASSES = [0, 1, 2, 3, 4]
HELD_OUT = 200
BASES = ("resnet", "googlenet", "squeezenet", "alexnet")
SAMPLES = (5, 10, 20)
BACKENDS = ("webgl", "wasm")

# Page scripts (the panel's own entry points). Samples are {width, height, data: gray 0..255}.
TEACH = """async ([base, classes, train]) => {
  const T = window.webnets.teach;
  if (base) T.selectBase(base);
  while (T.classes.length) T.removeClass(0);
  classes.forEach((name, k) => {
    T.addClass(name);
    if (train[k].length) T.addSamples(k, train[k].map((r) => ({width: 28, height: 28, data: r})));
  });
  await T.train();
  return {state: T.state, status: T.status, result: T.result};
}"""
PREDICT = """async (rows) => (await window.webnets.teach.predict(rows.map((r) => ({width: 28, height: 28, data: r}))))
  .map((p) => p.probabilities)"""
SET_OPTIONS = """(options) => { for (const [k, v] of Object.entries(options)) {
  const el = document.getElementById('teach-' + k); if (el.type === 'checkbox') el.checked = v; else el.value = v; } }"""


def measure(bases=BASES, samples=SAMPLES, backends=BACKENDS, log=print):
    from playwright.sync_api import sync_playwright

    ensure_vendor()
    rows = []
    test = None
    with sync_playwright() as p, serving({"/": WEB_DEMO}) as base_url:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS, headless=True)
        try:
            for backend in backends:
                page = browser.new_page()
                page.goto(f"{base_url}/index.html?autoplay=0&backend={backend}", wait_until="domcontentloaded")
                models = page.evaluate("window.webnets.ready")
                for n in samples:
                    train, (test_x, test_y) = digits(CLASSES, n, HELD_OUT)
                    test = test_x.tolist()
                    for base in bases:
                        if models.get(base, {}).get("state") != "ready":
                            log(f"  {backend} {base}: not loaded ({models.get(base)}), skipped")
                            continue
                        started = time.perf_counter()
                        outcome = page.evaluate(TEACH, [f"zoo:{base}", [str(c) for c in CLASSES],
                                                        [t.tolist() for t in train]])
                        wall = time.perf_counter() - started
                        probabilities = np.array(page.evaluate(PREDICT, test))
                        history = outcome["result"]["history"]
                        row = {"backend": models[base]["backend"], "base": base, "per_class": n,
                               "held_out_accuracy": float(np.mean(probabilities.argmax(1) == test_y)),
                               "validation_accuracy": outcome["result"]["validation"]["accuracy"],
                               "epochs": len(history), "first_epoch_ms": history[0]["ms"],
                               "epoch_ms": statistics.median(h["ms"] for h in history[1:]),
                               "seconds": wall}
                        rows.append(row)
                        log(f"  {row['backend']} {base} {n}/class: held-out {row['held_out_accuracy']:.3f}, "
                            f"{row['epoch_ms']:.0f} ms/epoch (first {row['first_epoch_ms']:.0f}), {wall:.1f} s")
                page.close()
        finally:
            browser.close()
    return {"classes": CLASSES, "held_out": HELD_OUT, "rows": rows}


def markdown(result):
    lines = [f"Teach: {len(result['classes'])} MNIST digits on the zoo's Fashion-MNIST CNNs, accuracy on "
             f"{result['held_out']} held-out digits (panel defaults: 30 epochs, shifted copies, 15% per class "
             "held out for validation)", "",
             "| backend | base | samples / class | held-out accuracy | ms / epoch (median) | first epoch ms | "
             "whole run s |", "|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['backend']} | {r['base']} | {r['per_class']} | {r['held_out_accuracy']:.3f} | "
                     f"{r['epoch_ms']:.0f} | {r['first_epoch_ms']:.0f} | {r['seconds']:.1f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.teach", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "webnets-bench"),
                        help="where teach.json and teach.md go")
    parser.add_argument("--bases", default=",".join(BASES), help="zoo CNNs, comma-separated")
    parser.add_argument("--samples", default=",".join(map(str, SAMPLES)), help="samples per class, comma-separated")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="webgl, wasm or both")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = measure(args.bases.split(","), [int(n) for n in args.samples.split(",")], args.backends.split(","))
    (out / "teach.json").write_text(json.dumps(result, indent=1) + "\n")
    (out / "teach.md").write_text(markdown(result) + "\n")
    print(markdown(result))
    print(f"wrote {out / 'teach.json'} and teach.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
