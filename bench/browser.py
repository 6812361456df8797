"""Latency in headless Chromium: TF.js layers (ours) vs TF.js graph (official) vs ONNX Runtime Web.

The page (bench/page/) is served over loopback HTTP with COOP/COEP headers, so it is
cross-origin isolated: SharedArrayBuffer exists, and both TF.js WASM and ONNX Runtime
Web can run their threaded SIMD binaries. Browser flags, the Chromium lookup and the
vendor copy come from exporter/browser/chromium.py, so the bench runs the browser the tests run.

WebGPU: the same Chromium with exporter/browser/chromium.py WEBGPU_FLAGS (SwiftShader's WebGPU
adapter, so compute shaders on these CPUs; the loopback page is a secure context, which
navigator.gpu needs). TF.js runs tfjs-backend-webgpu with the webnets package's repairs, as the
demo does; ONNX Runtime Web its WebGPU execution provider.

Cold: a fresh browser context (own HTTP cache, no shader cache) loads the model and
predicts once. Warm: one page holds every format of a backend and times them in
turns after a warm-up (bench/page/bench.js `warm`).
"""

import contextlib
from pathlib import Path

import numpy as np

from exporter.browser.chromium import CHROMIUM_FLAGS, WEB_DEMO, WEBGPU_FLAGS, chromium_path, ensure_vendor
from exporter.browser.serve import serving
from exporter.parity.tolerances import relative_error

ROOT = Path(__file__).resolve().parent.parent
PAGE = Path(__file__).resolve().parent / "page"
ORT_DIST = ROOT / "node_modules" / "onnxruntime-web" / "dist"
# Shader programs are cached per GPU process; a cold start must compile its own (WebGL programs and
# WebGPU pipelines alike). WEBGPU_FLAGS only add a WebGPU adapter: the other backends run as before.
BENCH_FLAGS = CHROMIUM_FLAGS + WEBGPU_FLAGS + ["--disable-gpu-program-cache", "--disable-gpu-shader-disk-cache"]
BACKENDS = ("webgl", "wasm", "webgpu", "cpu")
# Where ONNX Runtime Web runs beside TF.js: its WASM and its WebGPU execution providers (its WebGL one
# is deprecated since 1.29).
ONNX_BACKENDS = ("wasm", "webgpu")
WASM_THREADS = 2
# Timed rounds beyond the minimum, for models fast enough: a millisecond-scale median needs
# hundreds of samples on a shared machine to be stable to a few percent.
WARM_BUDGET_MS = 3000
MAX_WARM_RUNS = 300
WARMUP_MS = 250
# Between blocks of back-to-back predictions (bench/page/bench.js `warm`), so that the worker
# threads of the runtime that ran the last block park before the next one starts.
PAUSE_MS = 20
# The warm series of a model and backend is spread over this many fresh pages (see Bench.measure).
WARM_PAGES = 3


def serve_isolated(models_dir):
    """/ = bench/page, /vendor/ and /js/ = the demo's TF.js and backend set-up, /ort/ = onnxruntime-web,
    /models/ = models_dir; with the headers of `make demo` (exporter/browser/serve.py): cross-origin isolated."""
    mounts = {"/": PAGE, "/vendor/": WEB_DEMO / "vendor", "/js/": WEB_DEMO / "js", "/ort/": ORT_DIST,
              "/models/": Path(models_dir)}
    return serving(mounts)


def warm_summary(blocks):
    """A format's warm series: its blocks (one per round, paired with the other formats' blocks of
    the same round, for bench/stats.py) and the median and p10-p90 of all their predictions."""
    t = np.concatenate([np.asarray(b, float) for b in blocks])
    return {"warm_ms_median": round(float(np.median(t)), 3), "warm_ms_p10": round(float(np.percentile(t, 10)), 3),
            "warm_ms_p90": round(float(np.percentile(t, 90)), 3), "warm_runs": int(t.size),
            "warm_blocks": [[round(float(v), 4) for v in b] for b in blocks]}


def as_page_input(array):
    array = np.asarray(array)
    dtype = "int32" if np.issubdtype(array.dtype, np.integer) else "float32"
    return {"shape": list(array.shape), "dtype": dtype, "data": array.reshape(-1).astype(dtype).tolist()}


class Bench:
    """A Chromium for the whole run; pages in fresh contexts."""

    def __init__(self, base_url, log=print):
        self.base_url = base_url
        self.log = log
        self._stack = contextlib.ExitStack()

    def __enter__(self):
        from playwright.sync_api import sync_playwright

        if chromium_path() is None:
            raise RuntimeError("Chromium is not installed: apt-get install chromium (the bench drives Debian's "
                               "headless Chromium with Playwright)")
        ensure_vendor()
        pw = self._stack.enter_context(sync_playwright())
        self.browser = pw.chromium.launch(executable_path=chromium_path(), args=BENCH_FLAGS, headless=True)
        self._stack.callback(self.browser.close)
        self.version = self.browser.version
        return self

    def __exit__(self, *exc):
        self._stack.close()

    @contextlib.contextmanager
    def page(self, backend, threads=WASM_THREADS):
        context = self.browser.new_context()
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_default_timeout(0)  # the CPU backend on a 224x224 network takes minutes per warm series
        try:
            page.goto(f"{self.base_url}/index.html")
            info = page.evaluate("([b, t]) => window.bench.setBackend(b, t)", [backend, threads])
            if info["backend"] != backend:
                raise RuntimeError(f"asked for the {backend} backend, TF.js runs {info['backend']}")
            yield page, info
        finally:
            context.close()
            if errors:
                self.log(f"  page errors: {errors[:3]}")

    def measure(self, model_urls, page_input, expected, backend, *, warmup=5, runs=30, pause_ms=PAUSE_MS, order=0,
                threads=WASM_THREADS, budget_ms=WARM_BUDGET_MS, max_runs=MAX_WARM_RUNS):
        """{format: {cold_ms, load_ms, first_ms, warm_ms_median, ..., max_rel_error}} plus "_backend" info.

        model_urls: {format: URL path under the server}; order rotates which format starts cold first;
        runs: the least number of timed rounds; fast models get more, up to max_runs or budget_ms of them;
        threads: given to TF.js WASM (the demo's WN.initWasm) and ONNX Runtime Web (numThreads) alike;
        A format that cannot run records {"error": ...} and is left out of the warm series.
        """
        formats = list(model_urls)
        formats = formats[order % len(formats):] + formats[:order % len(formats)]
        results, backend_info = {}, None
        for fmt in formats:
            with self.page(backend, threads) as (page, info):
                backend_info = info
                try:
                    cold = page.evaluate("([f, u, x, t]) => window.bench.cold(f, u, x, t)",
                                         [fmt, model_urls[fmt], page_input, threads])
                except Exception as error:  # playwright's Error: the page's exception, with its message
                    message = str(error).split("\n")[0].removeprefix("Page.evaluate: ")
                    results[fmt] = {"error": message[:500]}
                    self.log(f"  {fmt} on {backend} failed: {message[:200]}")
                    continue
            output = np.asarray(cold.pop("output"), np.float32)
            results[fmt] = {**{k: round(v, 3) if isinstance(v, float) else v for k, v in cold.items()},
                            "max_rel_error": relative_error(output.reshape(-1), np.asarray(expected).reshape(-1))}
        running = [fmt for fmt in formats if "error" not in results[fmt]]
        # A median moves with the page it was measured in (where buffers, textures and the runtime's
        # JIT code landed) by up to 9% (ResNet demo, WebGL, between runs): the series is spread over
        # fresh pages, each format loading first in one of them.
        blocks, warmups, page_medians = {f: [] for f in running}, {f: 0 for f in running}, {f: [] for f in running}
        for index in range(WARM_PAGES if running else 0):
            turn = running[index % len(running):] + running[:index % len(running)]  # who loads first
            with self.page(backend, threads) as (page, info):
                for fmt in turn:
                    page.evaluate("([f, u, x, t]) => window.bench.loadOnly(f, u, x, t)",
                                  [fmt, model_urls[fmt], page_input, threads])
                series = page.evaluate("(a) => window.bench.warm(...a)",
                                       [turn, warmup, -(-runs // WARM_PAGES), pause_ms, budget_ms / WARM_PAGES,
                                        max_runs // WARM_PAGES, WARMUP_MS])
            for fmt in running:
                blocks[fmt] += series["blocks"][fmt]
                warmups[fmt] += series["warmups"][fmt]
                page_medians[fmt].append(round(float(np.median(np.concatenate(series["blocks"][fmt]))), 3))
        for fmt in running:
            results[fmt].update(warm_summary(blocks[fmt]))
            results[fmt].update({"warmup_runs": warmups[fmt], "warm_pages": WARM_PAGES,
                                 "warm_ms_page_medians": page_medians[fmt]})
        results = {fmt: results[fmt] for fmt in model_urls}
        results["_backend"] = backend_info
        return results


def pool(first, second):
    """Two measurements of one backend (make bench --repeat) as one: the warm blocks of both series
    together, the cold starts' medians, the larger error; a format that failed once is recorded failed."""
    if first is None:
        return second
    out = {"_backend": second["_backend"]} if "_backend" in second else {}
    for fmt, b in second.items():
        if fmt == "_backend":
            continue
        a = first.get(fmt)
        if a is None or "error" in a or "error" in b:
            out[fmt] = a if a is not None and "error" in a else b
            continue
        colds = {key: a.get(f"{key}_runs", [a[key]]) + [b[key]] for key in ("cold_ms", "load_ms", "first_ms")}
        out[fmt] = {**b, **warm_summary(a["warm_blocks"] + b["warm_blocks"]),
                    **{key: round(float(np.median(values)), 3) for key, values in colds.items()},
                    **{f"{key}_runs": values for key, values in colds.items()},
                    "max_rel_error": max(a["max_rel_error"], b["max_rel_error"]),
                    "warmup_runs": a["warmup_runs"] + b["warmup_runs"], "warm_pages": a["warm_pages"] + b["warm_pages"],
                    "warm_ms_page_medians": a["warm_ms_page_medians"] + b["warm_ms_page_medians"]}
    return out
