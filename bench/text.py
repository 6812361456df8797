"""The language models in Chromium: what the demo's text panel gets, and what its cells cost.

Side by side in one browser, on WASM at 2 and at 1 thread and on WebGL (SwiftShader):
- the demo page itself (web_demo/, served as `make demo` serves it), "Continue the text" with
  120 characters, all three models generating at once with the carried state, as a person uses
  it: the wall time and characters per second of each card (`window.webnets.textRuns`);
- per-step latency of each step model alone (GRU vs LSTM of the same width), and on WASM the
  LSTM's step model converted by tf2onnx and run by ONNX Runtime Web beside it (for comparison,
  not a target; "lstm_onnx");
- full-sequence (96 characters) predict latency of the sequence models with webnets' cells
  (WebnetsSimpleRNN / WebnetsLSTM / WebnetsGRU) against the same export with tfjs-layers' own
  SimpleRNN / LSTM / GRU classes (everything else identical), and the largest difference
  between their outputs.

`python -m bench.text [--out DIR]` runs it alone on the committed exports (no training);
`make bench` runs it as one phase of the whole bench.
"""

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from exporter.browser.chromium import CHROMIUM_FLAGS, WEB_DEMO, chromium_path, ensure_vendor
from exporter.browser.serve import serving

MODELS = ("simple_rnn", "lstm", "gru")
PASSES = (("wasm_2threads", "wasm", 2), ("wasm_1thread", "wasm", 1), ("webgl", "webgl", None))
LENGTH = 120
SEQUENCE = 96
# Paired GRU/LSTM/SimpleRNN steps per pass (after 10 untimed): a step is 0.2-7 ms, and 110 pairs
# left the 1-thread WASM interval undecided (0.78 [0.72, 0.92], 2026-12-04).
STEP_ROUNDS = 400
# tfjs-layers' own class for each webnets recurrent class, for the comparison export.
TFJS_CELLS = {"WebnetsSimpleRNN": "SimpleRNN", "WebnetsLSTM": "LSTM", "WebnetsGRU": "GRU"}
WEBNETS_ONLY_KEYS = ("zero_output_for_mask", "ignore_mask")

ORT_DIST = WEB_DEMO.parent / "node_modules" / "onnxruntime-web" / "dist"


def lstm_step_onnx(work, log=print):
    """The demo LSTM's step model as ONNX (tf2onnx, the bench's converter): the committed export
    imported back into Keras (no checkpoint needed), its step form built as `convert --step` builds
    it, exported as a SavedModel and converted. -> (path, None) or (None, why it could not be made)."""
    import keras

    from exporter.importer import import_model
    from exporter.pipeline.step_form import build_step_model

    from .export_time import onnx_export

    work = Path(work)
    try:
        import_model(WEB_DEMO / "models" / "lstm", work / "lstm.keras", verify=False, log=lambda *_: None)
        step = build_step_model(keras.saving.load_model(work / "lstm.keras", compile=False))
        step.export(str(work / "lstm_step_saved_model"), format="tf_saved_model", verbose=False)
        onnx_export(work / "lstm_step_saved_model", work / "lstm_step.onnx")
    except Exception as error:  # the comparison is optional: record why it is missing
        why = f"{type(error).__name__}: {str(error).splitlines()[0][:300] if str(error) else ''}"
        log(f"  LSTM step on ONNX Runtime Web not measured: {why}")
        return None, why
    return work / "lstm_step.onnx", None


# Runs in the demo page once it is ready: per-step latency of the step models, and the sequence
# models with webnets' cells against tfjs' own, in interleaved turns (one model after the other).
_CELLS_SCRIPT = """
async ([names, tfjsUrls, T, runs, stepRounds, onnxUrl, threads]) => {
  const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
  const out = {step: {}, sequence: {}};
  const steps = {};
  for (const n of names) {
    const meta = await (await fetch(`models/${n}/meta.json`)).json();
    steps[n] = await tf.loadLayersModel(`models/${meta.step.model}`);
  }
  const x1 = tf.tensor([[3]], [1, 1], 'int32');
  const stepTimes = Object.fromEntries(names.map((n) => [n, []]));
  // The LSTM step on ONNX Runtime Web (WASM, the page's thread count), in the same rounds.
  let ortStep = null;
  if (onnxUrl) {
    const ort = await import('/ort/ort.wasm.min.mjs');
    ort.env.wasm.wasmPaths = '/ort/';
    ort.env.wasm.numThreads = threads;
    const session = await ort.InferenceSession.create(onnxUrl, {executionProviders: ['wasm'], graphOptimizationLevel: 'all'});
    const units = steps.lstm.inputs[1].shape[1];
    ortStep = async () => {
      const feeds = {};
      for (const name of session.inputNames) {
        feeds[name] = name.startsWith('tokens')
          ? new ort.Tensor('int32', Int32Array.from([3]), [1, 1])
          : new ort.Tensor('float32', new Float32Array(units), [1, units]);
      }
      const results = await session.run(feeds);
      const value = results[session.outputNames[0]].data;
      for (const t of Object.values(results)) if (t.dispose) t.dispose();
      return value;
    };
    stepTimes.lstm_onnx = [];
  }
  // As the text panel generates: read-backs poll without the 4 ms clamp (WN.withQuickReadback).
  await WN.withQuickReadback(async () => {
    for (let r = 0; r < stepRounds + 10; r++) {
      for (const n of names) {
        const m = steps[n];
        const states = m.inputs.slice(1).map((i) => tf.zeros([1, i.shape[1]]));
        const t0 = performance.now();
        const y = m.execute([x1, ...states], m.outputs.map((o) => o.name));
        await y[0].data();
        if (r >= 10) stepTimes[n].push(performance.now() - t0);
        tf.dispose([...y, ...states]);
      }
      if (ortStep) {
        const t0 = performance.now();
        await ortStep();
        if (r >= 10) stepTimes.lstm_onnx.push(performance.now() - t0);
      }
    }
  });
  // The runs of round r of every model are paired (they ran one after the other).
  for (const n of Object.keys(stepTimes)) out.step[n] = {ms_median: median(stepTimes[n]), runs: stepTimes[n].length, ms: stepTimes[n]};
  const ids = Array.from({length: T}, (_, i) => 1 + ((i * 7) % 40));
  const x = tf.tensor([ids], [1, T], 'int32');
  for (const n of names) {
    const pair = {webnets: await tf.loadLayersModel(`models/${n}/model.json`), tfjs: await tf.loadLayersModel(tfjsUrls[n])};
    const times = {webnets: [], tfjs: []};
    const values = {};
    for (let r = 0; r < runs + 2; r++) {
      for (const k of (r % 2 ? ['tfjs', 'webnets'] : ['webnets', 'tfjs'])) {
        const t0 = performance.now();
        const y = pair[k].predict(x);
        values[k] = await y.data();
        if (r >= 2) times[k].push(performance.now() - t0);
        y.dispose();
      }
    }
    let diff = 0;
    for (let i = 0; i < values.webnets.length; i++) diff = Math.max(diff, Math.abs(values.webnets[i] - values.tfjs[i]));
    out.sequence[n] = {webnets_ms_median: median(times.webnets), tfjs_ms_median: median(times.tfjs),
                       runs: times.webnets.length, max_abs_difference: diff, webnets_ms: times.webnets,
                       tfjs_ms: times.tfjs};
    pair.webnets.dispose(); pair.tfjs.dispose();
  }
  for (const m of Object.values(steps)) m.dispose();
  tf.dispose([x, x1]);
  return out;
}
"""


def tfjs_cells_copy(source, target):
    """The export `source` with tfjs-layers' own recurrent classes: same weights, same other layers."""
    shutil.copytree(source, target)
    path = Path(target) / "model.json"
    model = json.loads(path.read_text())

    def walk(layers):
        for layer in layers:
            inner = layer["config"].get("layer")
            for entry in [layer] + ([inner] if isinstance(inner, dict) else []):
                if entry["class_name"] in TFJS_CELLS:
                    entry["class_name"] = TFJS_CELLS[entry["class_name"]]
                    for key in WEBNETS_ONLY_KEYS:
                        entry["config"].pop(key, None)

    walk(model["modelTopology"]["model_config"]["config"]["layers"])
    path.write_text(json.dumps(model))


def _generate(page, length, runs):
    """`runs` clicks of "Continue the text"; per model the wall seconds and characters per second."""
    page.evaluate("(n) => { const s = document.getElementById('text-length'); s.value = n; "
                  "s.dispatchEvent(new Event('input')); }", length)
    per_model = {}
    for _ in range(runs):
        page.evaluate("() => Object.keys(window.webnets.textRuns || {}).forEach((k) => delete window.webnets.textRuns[k])")
        page.click("#text-generate")
        page.wait_for_function(f"() => {{ const r = window.webnets.textRuns || {{}}; "
                               f"return {json.dumps(list(MODELS))}.every((n) => r[n] && r[n].wallMs != null); }}",
                               timeout=600_000)
        runs_now = page.evaluate("() => window.webnets.textRuns")
        for name in MODELS:
            r = runs_now[name]
            entry = per_model.setdefault(name, {"wall_s": [], "chars_per_s": [], "step_ms_median": [], "mode": r["mode"]})
            entry["wall_s"].append(r["wallMs"] / 1000)
            entry["chars_per_s"].append(length / (r["wallMs"] / 1000))
            entry["step_ms_median"].append(r["stepMsMedian"])
    for entry in per_model.values():
        entry["first_wall_s"] = round(entry["wall_s"][0], 3)
        for key in ("wall_s", "chars_per_s", "step_ms_median"):
            entry[f"{key}_median"] = round(float(np.median(entry[key])), 3)
            entry[key] = [round(v, 3) for v in entry[key]]
    return per_model


def measure(*, runs=3, cell_runs=30, log=print):
    """{pass label: {"backend": ..., "demo": {model: ...}, "step": ..., "sequence": ...}}."""
    from playwright.sync_api import sync_playwright

    if chromium_path() is None:
        raise RuntimeError("Chromium is not installed: apt-get install chromium")
    ensure_vendor()
    results = {}
    with tempfile.TemporaryDirectory(prefix="webnets-text-bench-") as tmp:
        for name in MODELS:
            tfjs_cells_copy(WEB_DEMO / "models" / name, Path(tmp) / name)
        urls = {name: f"tfjs-cells/{name}/model.json" for name in MODELS}
        onnx_path, onnx_missing = lstm_step_onnx(tmp, log)
        with serving({"/": WEB_DEMO, "/tfjs-cells/": Path(tmp), "/ort/": ORT_DIST}) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS, headless=True)
            try:
                for label, backend, threads in PASSES:
                    context = browser.new_context()
                    page = context.new_page()
                    query = f"autoplay=0&backend={backend}&seed=1" + (f"&threads={threads}" if threads else "")
                    page.goto(f"{base}/index.html?{query}", wait_until="domcontentloaded")
                    page.evaluate("window.webnets.ready")
                    info = page.evaluate("() => ({backend: tf.getBackend(), threads: "
                                         "tf.getBackend() === 'wasm' ? tf.wasm.getThreadsCount() : null})")
                    demo = _generate(page, LENGTH, runs)
                    onnx_url = f"tfjs-cells/{onnx_path.name}" if onnx_path and backend == "wasm" else None
                    cells = page.evaluate(_CELLS_SCRIPT, [list(MODELS), urls, SEQUENCE, cell_runs, STEP_ROUNDS,
                                                          onnx_url, threads or 1])
                    context.close()
                    results[label] = {"backend": info, "demo": demo, **cells}
                    log(f"  text {label}: " + ", ".join(
                        f"{n} {demo[n]['chars_per_s_median']:.0f} chars/s ({demo[n]['wall_s_median']:.2f} s for "
                        f"{LENGTH}), step {cells['step'][n]['ms_median']:.2f} ms, 96 chars "
                        f"{cells['sequence'][n]['webnets_ms_median']:.1f} vs tfjs {cells['sequence'][n]['tfjs_ms_median']:.1f} ms"
                        for n in MODELS))
                    if "lstm_onnx" in cells["step"]:
                        steps = cells["step"]
                        log(f"  text {label}: LSTM step webnets {steps['lstm']['ms_median']:.2f} ms, "
                            f"ONNX Runtime Web {steps['lstm_onnx']['ms_median']:.2f} ms")
            finally:
                browser.close()
    return {"length": LENGTH, "sequence": SEQUENCE, "passes": results,
            "lstm_onnx": {"measured": onnx_path is not None, "why_not": onnx_missing,
                          "how": "tf2onnx of the LSTM step model (imported back from web_demo/models/lstm), "
                                 "ONNX Runtime Web on WASM at the pass's thread count, in the same step rounds"}}


# Targets (issue 12), checked by bench/report.py on results["text"].
THROUGHPUT = {"wasm_2threads": 300, "webgl": 30}   # characters/s per model, all three at once
DEMO_SECONDS = {"wasm_2threads": 1.0, "webgl": 4.0}  # 120 characters, all three at once
GRU_VS_LSTM_STEP = 0.9
SEQUENCE_RATIO = {"gru": 0.5, "lstm": 1.0, "simple_rnn": 1.0}


def pool(first, second):
    """Two measurements (make bench --repeat) as one: every sample of both, the medians recomputed."""
    if first is None:
        return second
    passes = {}
    for label, b in second["passes"].items():
        a = first["passes"].get(label)
        if a is None:
            passes[label] = b
            continue
        demo = {}
        for n, d in b["demo"].items():
            e = {key: a["demo"][n][key] + d[key] for key in ("wall_s", "chars_per_s", "step_ms_median")}
            demo[n] = {**d, **e, "first_wall_s": a["demo"][n]["first_wall_s"],
                       **{f"{key}_median": round(float(np.median(e[key])), 3) for key in e}}
        step = {n: {"ms": a["step"][n]["ms"] + t["ms"], "runs": a["step"][n]["runs"] + t["runs"],
                    "ms_median": float(np.median(a["step"][n]["ms"] + t["ms"]))} for n, t in b["step"].items()}
        sequence = {}
        for n, q in b["sequence"].items():
            w, t = a["sequence"][n]["webnets_ms"] + q["webnets_ms"], a["sequence"][n]["tfjs_ms"] + q["tfjs_ms"]
            sequence[n] = {**q, "webnets_ms": w, "tfjs_ms": t, "runs": len(w),
                           "webnets_ms_median": float(np.median(w)), "tfjs_ms_median": float(np.median(t)),
                           "max_abs_difference": max(a["sequence"][n]["max_abs_difference"], q["max_abs_difference"])}
        passes[label] = {**b, "demo": demo, "step": step, "sequence": sequence}
    return {**second, "passes": passes}


def _combined(judged, limit):
    from .stats import combine, describe

    if not judged:
        return {"verdict": None, "holds": None, "limit": limit, "summary": "not measured"}
    verdict = combine(j["verdict"] for j in judged.values())
    return {"verdict": verdict, "holds": {"holds": True, "fails": False}.get(verdict), "limit": limit,
            "intervals": judged, "summary": "; ".join(f"{k} {describe(j)}" for k, j in judged.items())}


def targets(text):
    """The text targets from results["text"] ({} when not measured), each with 95% intervals: over the
    clicks of the demo page, over the paired runs of the step and sequence timings (bench/stats.py)."""
    from .stats import judge, ratio_interval, value_interval

    if not text:
        return {}
    passes = text["passes"]
    throughput, seconds, steps, sequences = {}, {}, {}, {}
    for label, p in passes.items():
        for n in MODELS:
            demo = p["demo"][n]
            if label in THROUGHPUT:
                throughput[f"{label} {n}"] = judge(value_interval(demo["chars_per_s"]), THROUGHPUT[label],
                                                   at_most=False)
                seconds[f"{label} {n}"] = judge(value_interval(demo["wall_s"]), DEMO_SECONDS[label])
            q = p["sequence"][n]
            sequences[f"{label} {n}"] = judge(ratio_interval(q["webnets_ms"], q["tfjs_ms"]), SEQUENCE_RATIO[n])
        steps[label] = judge(ratio_interval(p["step"]["gru"]["ms"], p["step"]["lstm"]["ms"]), GRU_VS_LSTM_STEP)
    return {
        "text_throughput": _combined(throughput,
                                     "characters/s per model, all three generating at once in the demo page: >= 300 "
                                     "on WASM (2 threads), >= 30 on WebGL (95% interval's lower bound)"),
        "text_demo_seconds": _combined(seconds,
                                       f"{text['length']} characters, all three at once, in the demo page: <= 1 s on "
                                       "WASM, <= 4 s on WebGL (95% interval's upper bound)"),
        "gru_vs_lstm_step": _combined(steps,
                                      f"GRU step latency / LSTM step latency (same width) <= {GRU_VS_LSTM_STEP} on "
                                      "WASM and WebGL (95% interval's upper bound)"),
        "recurrent_cells_vs_tfjs": _combined(sequences,
                                             f"{text['sequence']}-character predict, webnets' cells / tfjs-layers' "
                                             "own: GRU <= 0.5, LSTM and SimpleRNN <= 1.0 (95% interval's upper bound)"),
    }


def markdown(text, level=2):
    """The text section of results.md (heading level 2) and of the README's Benchmarks section (3)."""
    if not text:
        return ""
    lines = [f"{'#' * level} Language models in the demo page", "",
             f"`{text['length']}` characters, all three models generating at once (the demo's carried state); "
             "per-step latency of each step model alone; a "
             f"{text['sequence']}-character predict with webnets' cells and with tfjs-layers' own.", "",
             "| pass | model | chars/s per model | s for 120 (first run) | step ms | 96 chars ms webnets / tfjs "
             "| max abs diff |", "|---|---|---:|---:|---:|---:|---:|"]
    for label, p in text["passes"].items():
        for n in MODELS:
            d, s, q = p["demo"][n], p["step"][n], p["sequence"][n]
            lines.append(f"| {label} | {n} | {d['chars_per_s_median']:.0f} | {d['wall_s_median']:.2f} "
                         f"({d['first_wall_s']:.2f}) | {s['ms_median']:.2f} | {q['webnets_ms_median']:.1f} / "
                         f"{q['tfjs_ms_median']:.1f} | {q['max_abs_difference']:.1e} |")
    onnx = [(label, p["step"]) for label, p in text["passes"].items() if "lstm_onnx" in p["step"]]
    if onnx:
        lines += ["", "The LSTM step on ONNX Runtime Web (tf2onnx of the same step model, WASM, same rounds): " + "; ".join(
            f"{label} {s['lstm_onnx']['ms_median']:.2f} ms vs webnets {s['lstm']['ms_median']:.2f} ms" for label, s in onnx) + "."]
    elif text.get("lstm_onnx", {}).get("why_not"):
        lines += ["", f"The LSTM step on ONNX Runtime Web was not measured: {text['lstm_onnx']['why_not']}."]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.text", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "webnets-bench"),
                        help="where text.json and text.md go")
    parser.add_argument("--runs", type=int, default=3, help="clicks of 'Continue the text' per pass (median)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    text = measure(runs=args.runs)
    result = {"text": text, "targets": targets(text)}
    (out / "text.json").write_text(json.dumps(result, indent=1) + "\n")
    (out / "text.md").write_text(markdown(text) + "\n")
    for name, t in result["targets"].items():
        print(f"  target {name}: {t['verdict']} - {t['summary']}")
    print(f"wrote {out / 'text.json'} and text.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
