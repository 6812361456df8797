"""How long `webnets.load('squeezenet@1')` takes in a page, cold and from the Cache API, and how big the
package is: `python -m bench.package_load [--rounds N]` -> bench/package_load.json and a table.

The page is an application bundled by esbuild from the package's ES module build (js/dist/webnets.mjs)
with the WebGPU backend, served on loopback beside a CDN tree that `webnets publish` wrote (SqueezeNet
from web_demo/models as 1.0.0; one origin, so no CORS). Headless Chromium with WebGL and WebGPU on
SwiftShader. Each round of a backend: the cache is cleared and the model loaded (cold: index.json,
download, SRI checks, cache writes, model build, golden check), then loaded again (warm: everything
from the Cache API, checked again). The first round also compiles the backend's shaders, so it is
reported apart and the medians (95% bootstrap intervals, bench/stats.py) are over the others.
"""

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import brotli
import numpy as np

from exporter.browser.chromium import CHROMIUM_FLAGS, ROOT, WEB_DEMO, WEBGPU_FLAGS, chromium_path
from exporter.browser.serve import serving
from exporter.publish import publish

from .stats import value_interval

OUT = Path(__file__).resolve().parent / "package_load.json"
NODE_MODULES = ROOT / "node_modules"
DIST = ROOT / "js" / "dist"
BACKENDS = ("webgpu", "webgl")
APP = """import webnets from '{dist}/webnets.mjs';
import '@tensorflow/tfjs-backend-webgpu';
window.app = webnets;
"""
ROUND = """async ([backend, base]) => {
  const app = window.app;
  await app.cache.clear();
  let t = performance.now();
  const cold = await app.load('squeezenet@1', {base, backend});
  const coldMs = performance.now() - t;
  cold.dispose();
  t = performance.now();
  const warm = await app.load('squeezenet@1', {base, backend});
  const warmMs = performance.now() - t;
  warm.dispose();
  return {coldMs, warmMs, backend: warm.backend.name, hit: warm.cache.hit, bytes: cold.bytes};
}"""


def package_sizes():
    """Raw and brotli bytes of each build of the package (what a page downloads)."""
    sizes = {}
    for name in ("webnets.min.js", "webnets.mjs", "webnets.js"):
        data = (DIST / name).read_bytes()
        sizes[name] = {"raw": len(data), "brotli": len(brotli.compress(data, quality=11))}
    return sizes


def build_app(where):
    subprocess.run(["node", str(ROOT / "js" / "build.mjs")], cwd=ROOT, check=True, capture_output=True)
    (where / "main.js").write_text(APP.format(dist=DIST))
    (where / "index.html").write_text('<!doctype html><meta charset="utf-8"><script type="module" src="bundle.js">'
                                      '</script>')
    subprocess.run([str(NODE_MODULES / ".bin" / "esbuild"), "main.js", "--bundle", "--format=esm",
                    "--outfile=bundle.js", "--log-level=warning"], cwd=where, check=True,
                   env={"NODE_PATH": str(NODE_MODULES), "PATH": "/usr/bin:/bin"})


def measure(rounds):
    import playwright.sync_api as playwright

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "app").mkdir()
        build_app(tmp / "app")
        publish(WEB_DEMO / "models", str(tmp / "cdn"), "1.0.0", only=["squeezenet"], log=lambda *_: None)
        results = {}
        with serving({"/": tmp / "app", "/cdn/": tmp / "cdn"}) as origin, playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=[*CHROMIUM_FLAGS, *WEBGPU_FLAGS],
                                        headless=True)
            try:
                for backend in BACKENDS:
                    page = browser.new_page()
                    page.goto(f"{origin}/index.html")
                    page.wait_for_function("window.app !== undefined")
                    runs = [page.evaluate(ROUND, [backend, f"{origin}/cdn"]) for _ in range(rounds + 1)]
                    page.close()
                    assert all(r["backend"] == backend and r["hit"] for r in runs), runs
                    cold = [r["coldMs"] for r in runs[1:]]
                    warm = [r["warmMs"] for r in runs[1:]]
                    results[backend] = {
                        "first_cold_ms": round(runs[0]["coldMs"], 1), "first_warm_ms": round(runs[0]["warmMs"], 1),
                        "cold_ms": value_interval(cold), "warm_ms": value_interval(warm),
                        "warm_over_cold": round(float(np.median(warm) / np.median(cold)), 3),
                        "model_bytes": runs[0]["bytes"], "rounds": rounds}
            finally:
                browser.close()
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.package_load", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds per backend after the first (15)")
    args = parser.parse_args(argv)
    loads = measure(args.rounds)
    report = {"package": package_sizes(), "squeezenet_load": loads}
    temp = OUT.with_suffix(".json.tmp")
    temp.write_text(json.dumps(report, indent=1) + "\n")
    temp.replace(OUT)
    for name, size in report["package"].items():
        print(f"{name}: {size['raw']:,} bytes, {size['brotli']:,} brotli")
    print("backend | first load (cold, shaders) | cold median [95%] | warm median [95%] ms")
    for backend, r in loads.items():
        c, w = r["cold_ms"], r["warm_ms"]
        print(f"{backend} | {r['first_cold_ms']} | {c['estimate']:.1f} [{c['low']:.1f}, {c['high']:.1f}] | "
              f"{w['estimate']:.1f} [{w['low']:.1f}, {w['high']:.1f}]")


if __name__ == "__main__":
    main()
