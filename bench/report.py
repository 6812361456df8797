"""results.json -> the targets, results.md, results.png and the results section of docs/benchmarks.md.

Everything here reads only the results dict, so that section can be checked
against a committed results.json (tests/test_bench.py) without re-running anything.
"""

import json
import re
from pathlib import Path

from exporter.parity.tolerances import BROWSER_BOUND

from . import stats
from .cases import CNNS

QUANTIZATIONS = ("none", "float16", "uint16", "uint8", "auto", "pruned")
# The summary's latency columns. WebGPU runs on SwiftShader here (a CPU), so it has columns and no target.
BACKENDS = ("webgl", "wasm", "webgpu", "cpu")
BACKEND_TITLES = {"webgl": "WebGL", "wasm": "WASM", "webgpu": "WebGPU", "cpu": "CPU"}
SIZE_LIMIT = 500_000  # bytes: the SqueezeNet paper's "<0.5MB", as brotli transfer
ACCURACY_LOSS_LIMIT = 1.0  # points
LATENCY_RATIO_LIMIT = 1.00
EXPORT_RATIO_LIMIT = 0.40
# SqueezeNet against ONNX Runtime Web, both runtimes at 2 threads ("wasm", TF.js set up as the
# demo does it, web_demo/js/backend.js) and at 1 ("wasm_1thread").
ONNX_RATIO_LIMIT = 0.90
ONNX_TARGET_CASES = ("squeezenet", "squeezenet_paper")
# The transformer text classifier against ONNX Runtime Web at 2 threads.
TRANSFORMER_ONNX_LIMIT = 1.0
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


# ------------------------------------------------------------------------------------ targets


def _loss_points(metric, base, value):
    """Accuracy lost (points); for bits per character, the relative increase in percent."""
    if base is None or value is None:
        return None
    if metric and not metric["higher_is_better"]:
        return (value - base) / base * 100
    return (base - value) * 100


def _cnns(results):
    return {k: m for k, m in results["models"].items() if m.get("cnn")}


def _warm_interval(numerator, denominator):
    """The paired interval of two formats' warm medians from their blocks (one per round), or None
    where the results hold no blocks (schema 1) or the series are not paired."""
    a, b = numerator.get("warm_blocks"), denominator.get("warm_blocks")
    if not a or not b or len(a) != len(b):
        return None
    return stats.ratio_interval(a, b)


def _judged(interval, point, limit, *, at_most=True):
    """An interval judged against the limit; without one (schema 1 results) the point alone, undecided."""
    if interval is None:
        return {"estimate": round(point, 4), "low": None, "high": None, "limit": limit, "verdict": "undecided",
                "more_pairs": None, "note": "no paired samples recorded: no interval"}
    return stats.judge(interval, limit, at_most=at_most)


def _describe(judged):
    if judged.get("low") is None:
        return f"{judged['estimate']:.3f} (no interval)"
    return stats.describe(judged)


def _target(verdict, limit, summary, **fields):
    return {"verdict": verdict, "holds": {"holds": True, "fails": False}.get(verdict), "limit": limit,
            "summary": summary, **fields}


def _ratio_target(judged, limit_text, not_measured=()):
    """A target made of several judged ratios ({key: judged}): its verdict, and a summary naming the
    worst upper bound, every undecided or failing ratio, and what was not measured."""
    if not judged:
        return _target(None, limit_text, "not measured", ratios={}, not_measured=list(not_measured))
    verdict = stats.combine(j["verdict"] for j in judged.values())
    worst = max(judged, key=lambda k: judged[k]["high"] if judged[k].get("high") is not None else judged[k]["estimate"])
    parts = [f"worst {worst} {_describe(judged[worst])}"]
    parts += [f"{k} {_describe(j)}" for k, j in judged.items() if j["verdict"] != "holds" and k != worst]
    if not_measured:
        parts.append(f"not measured: {', '.join(not_measured)}")
    return _target(verdict, limit_text, "; ".join(parts), ratios=judged, not_measured=list(not_measured))


def targets(results):
    """{name: {"verdict": "holds" | "fails" | "undecided" | None, "holds": bool | None, "summary", ...}}:
    None where the run did not measure it. Ratios carry 95% intervals (bench/stats.py)."""
    models = results["models"]
    out = {}

    sq = models.get("squeezenet")
    if sq and sq.get("bytes"):
        base = sq["accuracy"].get("none")
        fits = []
        for q, sizes in sq["bytes"].items():
            loss = _loss_points(sq["metric"], base, sq["accuracy"].get(q))
            if sizes and loss is not None and loss <= ACCURACY_LOSS_LIMIT + 1e-9:
                fits.append((sizes["brotli"], q, loss))
        best = min(fits) if fits else None
        # Bytes and accuracy on a fixed test set are exact: no interval.
        out["squeezenet_size"] = _target(
            "holds" if best and best[0] <= SIZE_LIMIT else "fails",
            f"SqueezeNet brotli <= {SIZE_LIMIT:,} bytes with <= {ACCURACY_LOSS_LIMIT:g} point accuracy loss",
            (f"smallest within {ACCURACY_LOSS_LIMIT:g} point: {best[1]}, {best[0]:,} bytes brotli, "
             f"{best[2]:.2f} points of accuracy lost (exact: bytes and a fixed test set)" if best
             else "no variant within the accuracy limit"),
            variant=best and best[1], brotli_bytes=best and best[0],
            accuracy_loss_points=best and round(best[2], 3))
    else:
        out["squeezenet_size"] = _target(None, "SqueezeNet size", "SqueezeNet demo not measured")

    not_measured = list(results.get("settings", {}).get("not_measured") or [])
    latency, missing = {}, []
    for key, m in _cnns(results).items():
        for backend in ("webgl", "wasm"):
            b = (m.get("browser") or {}).get(backend) or {}
            if _timed(b.get("layers")) and _timed(b.get("graph")):
                point = b["layers"]["warm_ms_median"] / b["graph"]["warm_ms_median"]
                latency[f"{key} {backend}"] = _judged(_warm_interval(b["layers"], b["graph"]), point,
                                                      LATENCY_RATIO_LIMIT)
            else:
                missing.append(f"{key} {backend}")
    out["latency_vs_graph"] = _ratio_target(
        latency, f"layers / graph warm median <= {LATENCY_RATIO_LIMIT:.2f} on WebGL and WASM, every CNN "
                 "(95% interval's upper bound)",
        missing + [n for n in not_measured if n in CNNS])

    export = {}
    for key, m in _cnns(results).items():
        e = m.get("export_seconds")
        if not e:
            continue
        interval = (stats.ratio_interval(e["ours_runs"], e["official_runs"])
                    if len(e.get("ours_runs", [])) == len(e.get("official_runs", [])) >= 2 else None)
        export[key] = _judged(interval, e["ours"] / e["official"], EXPORT_RATIO_LIMIT)
    out["export_time"] = _ratio_target(
        export, f"export seconds ours / official <= {EXPORT_RATIO_LIMIT:.2f}, every CNN, whole commands with "
                "verification (95% interval's upper bound)", [n for n in not_measured if n in CNNS])

    onnx, transformer = {}, {}
    for key, m in models.items():
        for label, formats in (m.get("browser") or {}).items():
            if not (label.startswith("wasm") and _timed(formats.get("onnx")) and _timed(formats.get("layers"))):
                continue
            point = formats["layers"]["warm_ms_median"] / formats["onnx"]["warm_ms_median"]
            interval = _warm_interval(formats["layers"], formats["onnx"])
            threads = formats.get("backend_info", {}).get("threads")
            name = f"{key} {label} ({threads} thread{'s' if threads != 1 else ''})"
            if key in ONNX_TARGET_CASES:
                onnx[name] = _judged(interval, point, ONNX_RATIO_LIMIT)
            elif label == "wasm":
                transformer[name] = _judged(interval, point, TRANSFORMER_ONNX_LIMIT)
    out["wasm_vs_onnx"] = _ratio_target(
        onnx, f"SqueezeNet (demo and paper): TF.js WASM layers / ONNX Runtime Web WASM warm median <= "
              f"{ONNX_RATIO_LIMIT:.2f}, same page, at 1 and at 2 threads (95% interval's upper bound)")
    out["transformer_vs_onnx"] = _ratio_target(
        transformer, f"transformer text classifier: TF.js WASM layers (webnets-layers.js) / ONNX Runtime Web "
                     f"WASM warm median <= {TRANSFORMER_ONNX_LIMIT:.2f}, 2 threads (95% interval's upper bound)")
    from . import text as text_bench

    out.update(text_bench.targets(results.get("text")))
    return out


def webgpu(results):
    """WebGPU's columns as numbers, {model: {...}}, no target (SwiftShader is a CPU here): per format
    (layers: ours, graph: official, onnx: ONNX Runtime Web's WebGPU execution provider) the cold start
    and the warm median with its 95% interval (bench/stats.py, whole blocks resampled), or its error;
    and the paired ratios layers / graph and layers / onnx with theirs. Empty where WebGPU was not run."""
    out = {}
    for key, m in results["models"].items():
        formats = (m.get("browser") or {}).get("webgpu")
        if not formats:
            continue
        row = {}
        for fmt, r in formats.items():
            if fmt == "backend_info":
                continue
            if "error" in r:
                row[fmt] = {"error": r["error"]}
            elif _timed(r):
                warm = (stats.value_interval(r["warm_blocks"]) if r.get("warm_blocks")
                        else {"estimate": r["warm_ms_median"], "low": None, "high": None})
                row[fmt] = {"cold_ms": r["cold_ms"], "warm_ms_median": r["warm_ms_median"],
                            "warm_ms_low": warm["low"], "warm_ms_high": warm["high"]}
        for other in ("graph", "onnx"):
            if _timed(formats.get("layers")) and _timed(formats.get(other)):
                interval = _warm_interval(formats["layers"], formats[other])
                row[f"layers_over_{other}"] = interval or {
                    "estimate": round(formats["layers"]["warm_ms_median"] / formats[other]["warm_ms_median"], 4),
                    "low": None, "high": None}
        out[key] = row
    return out


# ------------------------------------------------------------------------------------ formatting


def _kb(n):
    return "–" if n is None else f"{n / 1000:,.1f} kB"


def _metric(m, value):
    if value is None:
        return "–"
    unit = (m.get("metric") or {}).get("name")
    return f"{value:.3f} bpc" if unit == "bits_per_char" else f"{value * 100:.2f}%"


def _timed(entry):
    return bool(entry) and "warm_ms_median" in entry


def _ms(entry):
    if entry and "error" in entry:
        return "fails"
    return f"{entry['warm_ms_median']:.2f}" if _timed(entry) else "–"


def _verdict(value):
    return {"holds": "holds", "fails": "**fails**", "undecided": "*undecided*", None: "not measured"}[value]


def model_table(key, m):
    metric = m.get("metric")
    lines = [f"### {key}", ""]
    lines.append(f"Weights: {m['weights']}. Parameters: {m.get('parameters', 0):,}. "
                 + (f"Metric: {metric['name']} ({metric['unit']}, {metric['data']})." if metric else "No metric."))
    lines += ["", "| variant | raw | gzip | brotli | metric |", "|---|---:|---:|---:|---:|"]
    for q in QUANTIZATIONS:
        if q not in (m.get("bytes") or {}):
            continue
        sizes = m["bytes"][q]
        if sizes is None:
            lines.append(f"| {q} | – | – | – | not offered |")
            continue
        lines.append(f"| {q} | {_kb(sizes['raw'])} | {_kb(sizes['gzip'])} | {_kb(sizes['brotli'])} | "
                     f"{_metric(m, m['accuracy'].get(q))} |")
    if m.get("auto") and m["auto"].get("offered"):
        a = m["auto"]
        lines += ["", f"auto: {', '.join(f'{n} {d}' for d, n in a['tensors'].items())} tensors; validation drop "
                      f"{a['validation_drop_points']:.2f} points (limit {a['max_accuracy_drop_points']:g})."]
    if m.get("pruned"):
        p = m["pruned"]
        lines += ["", f"pruned: sparsity {p['settings']['sparsity']:g} per large kernel "
                      f"({(p.get('sparsity_of_all_parameters') or 0) * 100:.0f}% of all parameters), "
                      f"{p['settings']['quantize']}, fine-tuned {p.get('fine_tune_seconds') or 0:.0f}s."]
    e = m.get("export_seconds")
    if e:
        lines += ["", f"Export: ours {e['ours']:.1f} s, official {e['official']:.1f} s "
                      f"(SavedModel {e['official_parts_median']['saved_model_export']:.1f} s + converter "
                      f"{e['official_parts_median']['tensorflowjs_converter']:.1f} s), ratio {e['ratio']:.2f}, "
                      f"median of {e['runs']}."]
    browser = m.get("browser")
    if browser:
        lines += ["", "| backend | format | warm median ms | p10–p90 ms | cold ms (load + first) | max rel. error |",
                  "|---|---|---:|---:|---:|---:|"]
        for label, formats in browser.items():
            info = formats.get("backend_info", {})
            threads = f" ({info['threads']} thread{'s' if info['threads'] != 1 else ''})" if "threads" in info else ""
            for fmt, r in formats.items():
                if fmt == "backend_info":
                    continue
                if "error" in r:
                    lines.append(f"| {label}{threads} | {fmt} | fails to run: {r['error'][:160]} | | | |")
                    continue
                if "warm_ms_median" not in r:
                    continue
                extra = f", ORT {r['threads']} threads" if fmt == "onnx" else ""
                if fmt == "onnx" and r.get("execution_provider") == "webgpu":
                    extra = ", ORT WebGPU EP"
                lines.append(f"| {label}{threads} | {fmt}{extra} | {r['warm_ms_median']:.2f} | "
                             f"{r['warm_ms_p10']:.2f}–{r['warm_ms_p90']:.2f} | {r['cold_ms']:.0f} "
                             f"({r['load_ms']:.0f} + {r['first_ms']:.0f}) | {r['max_rel_error']:.1e} |")
    return "\n".join(lines)


def targets_table(results):
    """The targets, judged afresh from the measurements (the bootstrap is seeded, so the same numbers
    give the same intervals; results["targets"] is what the run itself printed)."""
    lines = ["| target | result | detail |", "|---|---|---|"]
    for name, t in targets(results).items():
        lines.append(f"| {t.get('limit', name)} | {_verdict(t.get('verdict'))} | {t['summary']} |")
    return "\n".join(lines)


def summary_table(results):
    """One row per model: the README's table."""
    lines = ["| model | params | float32 brotli | auto brotli | pruned brotli | metric float32 → auto / pruned "
             "| export ours / official s | "
             + " | ".join(f"{BACKEND_TITLES[b]} warm ms layers / graph" for b in BACKENDS) + " |",
             "|---|---:|---:|---:|---:|---|---:|" + "---:|" * len(BACKENDS)]
    for key, m in results["models"].items():
        b, a = m.get("bytes") or {}, m.get("accuracy") or {}
        auto_bytes = (b.get("auto") or {}).get("brotli")
        e = m.get("export_seconds")
        pruned = f" / {_metric(m, a['pruned'])}" if a.get("pruned") is not None else ""
        cells = [key, f"{m.get('parameters', 0):,}", _kb((b.get("none") or {}).get("brotli")), _kb(auto_bytes),
                 _kb((b.get("pruned") or {}).get("brotli")),
                 f"{_metric(m, a.get('none'))} → {_metric(m, a.get('auto'))}{pruned}" if a.get("none") is not None
                 else "–",
                 f"{e['ours']:.1f} / {e['official']:.1f}" if e else "–"]
        for backend in BACKENDS:
            r = (m.get("browser") or {}).get(backend) or {}
            cell = f"{_ms(r.get('layers'))} / {_ms(r.get('graph'))}"
            if "onnx" in r:
                cell += f" (ONNX {_ms(r['onnx'])})"
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _header(results):
    machine, settings = results["machine"], results["settings"]
    threads = next((m["browser"]["wasm"]["backend_info"].get("threads") for m in results["models"].values()
                    if (m.get("browser") or {}).get("wasm")), None)
    most = settings.get("max_warm_runs", settings["warm_runs"])
    warm = (f"median of at least {settings['warm_runs']} predictions (batch 1; as many as fit in "
            f"{settings.get('warm_budget_ms', 0) / 1000:g} s, up to {most}) "
            f"after at least {settings['warmup']} warm-up runs and {settings.get('warmup_ms', 0):g} ms")
    return (f"{results['date']}, {machine['cpus']} CPU cores, no GPU (WebGL: {machine['webgl']}), "
            f"1-minute load average {machine['load_average_at_start'][0]} at the start, "
            f"{machine.get('load_average_at_end', ['?'])[0]} at the end; Chromium {machine['chromium']}, "
            f"TF.js {machine['tfjs']} (WASM: {threads} thread{'' if threads == 1 else 's'}), "
            f"ONNX Runtime Web {machine['onnxruntime_web']}, "
            f"TensorFlow {machine['tensorflow']}, Keras {machine['keras']}. Warm: {warm}, in blocks of 10 "
            f"back-to-back predictions (the first untimed), formats in balanced turns {settings.get('pause_ms', 5):g} "
            "ms apart, over 3 fresh pages; "
            f"cold: load + first prediction in a fresh browser context. Bytes: {settings['bytes']}. "
            f"Export: wall time of fresh processes, imports included, median of {settings['export_runs']} "
            f"runs per CNN ({settings['export_runs_other']} for the others). Whole run: "
            f"{results.get('wall_seconds', 0) / 60:.1f} min.")


def notes(results):
    """What the numbers alone do not say, derived from them."""
    lines = []
    failures = {}
    for key, m in results["models"].items():
        for label, formats in (m.get("browser") or {}).items():
            for fmt, r in formats.items():
                if fmt != "backend_info" and "error" in r:
                    failures.setdefault((fmt, r["error"].split(". ")[0]), {}).setdefault(key, []).append(label)
    for (fmt, error), where in failures.items():
        # Where it failed: every pass the model was run in its format, or the passes named.
        tried = {tuple(label for label, formats in results["models"][key]["browser"].items() if fmt in formats)
                 for key in where}
        failed = {tuple(labels) for labels in where.values()}
        on = ("on every backend tried" if failed == tried
              else "on " + ", ".join(dict.fromkeys(label for labels in where.values() for label in labels)))
        runtime = (f"ONNX Runtime Web {results['machine'].get('onnxruntime_web')}" if fmt == "onnx"
                   else f"TF.js {results['machine']['tfjs']}")
        lines.append(f"- The {fmt} model of {', '.join(where)} fails in {runtime} {on}: \"{error}\".")
    wasm = next(((k, m["browser"]["wasm"]["backend_info"]) for k, m in results["models"].items()
                 if (m.get("browser") or {}).get("wasm")), None)
    if wasm and wasm[1].get("hardware_concurrency_shim"):
        info = wasm[1]
        lines.append(f"- TF.js WASM ran {info['threads']} threads (page cross-origin isolated: "
                     f"{info['crossOriginIsolated']}, threaded SIMD binary served). By itself tfjs-backend-wasm "
                     f"caps its pool at navigator.hardwareConcurrency / 2 ({info['hardwareConcurrency']} / 2 here, "
                     "so 1); the demo's set-up (web_demo/js/backend.js `WN.initWasm`), used by the bench page too, "
                     "reports twice the count while the backend initializes. `wasm_1thread` runs both runtimes "
                     "on one thread.")
    elif wasm and wasm[1].get("threads") is not None and wasm[1]["threads"] < (wasm[1].get("threads_requested") or 0):
        info = wasm[1]
        lines.append(f"- TF.js WASM was asked for {info['threads_requested']} threads and used {info['threads']} "
                     f"(page cross-origin isolated: {info['crossOriginIsolated']}).")
    return "\n".join(lines)


def webgpu_table(results):
    """WebGPU's columns (`webgpu` above): cold and warm per format, ratios with their 95% intervals; empty
    where the run has no WebGPU pass."""
    rows = webgpu(results)
    if not rows:
        return ""
    adapter = next(((m["browser"]["webgpu"].get("backend_info") or {}).get("adapter") for m in
                    results["models"].values() if (m.get("browser") or {}).get("webgpu")), None) or {}

    def cell(entry):
        if entry is None:
            return "–"
        if "error" in entry:
            return "fails (below)"
        interval = (f" [{entry['warm_ms_low']:.2f}, {entry['warm_ms_high']:.2f}]"
                    if entry.get("warm_ms_low") is not None else "")
        return f"{entry['warm_ms_median']:.2f}{interval} / {entry['cold_ms']:.0f}"

    def ratio(entry):
        if entry is None:
            return "–"
        return (f"{entry['estimate']:.3g} [{entry['low']:.3g}, {entry['high']:.3g}]" if entry.get("low") is not None
                else f"{entry['estimate']:.3g}")

    lines = [f"WebGPU in headless Chromium on SwiftShader's adapter (architecture "
             f"\"{adapter.get('architecture') or '?'}\": compute shaders on these CPU cores, so no GPU figures and no "
             "target): TF.js tfjs-backend-webgpu with the webnets package's repairs (as the demo runs it), and ONNX "
             "Runtime Web's WebGPU execution provider. Warm: median [95% interval] ms; cold: load + first "
             "prediction, ms; ratios of warm medians, paired by round, with their 95% intervals.", "",
             "| model | layers (ours) warm / cold ms | graph (official) warm / cold ms | ONNX Runtime Web WebGPU "
             "warm / cold ms | layers / graph | layers / ONNX |", "|---|---:|---:|---:|---:|---:|"]
    for key, row in rows.items():
        lines.append(f"| {key} | {cell(row.get('layers'))} | {cell(row.get('graph'))} | {cell(row.get('onnx'))} | "
                     f"{ratio(row.get('layers_over_graph'))} | {ratio(row.get('layers_over_onnx'))} |")
    return "\n".join(lines)


def _text_section(results, level=2):
    from . import text as text_bench

    return text_bench.markdown(results.get("text"), level)


def markdown(results):
    parts = ["# webnets benchmarks", "", "Generated by `make bench` (`python -m bench`) from results.json.", "",
             _header(results), "", "## Targets", "", targets_table(results), "", "## Summary", "",
             summary_table(results), "", notes(results), ""]
    if webgpu_table(results):
        parts += ["## WebGPU", "", webgpu_table(results), ""]
    parts += [_text_section(results), "", "## Per model", ""]
    for key, m in results["models"].items():
        parts += [model_table(key, m), ""]
    return "\n".join(parts)


def readme_section(results):
    return "\n".join([
        "Measured by `make bench` on this project's 2-core, GPU-less machine (software WebGL); full tables in "
        "`bench/results.md`, raw numbers in `bench/results.json`.", "",
        _header(results), "", targets_table(results), "", summary_table(results), "", notes(results), "",
        *([f"### WebGPU", "", webgpu_table(results), ""] if webgpu_table(results) else []),
        _text_section(results, level=3)]).rstrip()


def update_readme(path, results):
    """Rewrite the docs page at `path` (docs/benchmarks.md) between the bench markers (the layers table's
    pattern, exporter/layers/table.py)."""
    path = Path(path)
    text = path.read_text()
    pattern = re.compile(re.escape(README_START) + r"\n.*?\n" + re.escape(README_END), re.S)
    if not pattern.search(text):
        raise ValueError(f"{path} has no {README_START} ... {README_END} markers")
    path.write_text(pattern.sub(lambda _: f"{README_START}\n{readme_section(results)}\n{README_END}", text))


def readme_block(text):
    match = re.search(re.escape(README_START) + r"\n(.*?)\n" + re.escape(README_END), text, re.S)
    return match.group(1) if match else None


# ------------------------------------------------------------------------------------ chart


def chart(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    models = results["models"]
    keys = list(models)
    fig, axes = plt.subplots(1, 3, figsize=(18, 5.5))

    ax = axes[0]
    shown = [q for q in QUANTIZATIONS if any((models[k].get("bytes") or {}).get(q) for k in keys)]
    width = 0.8 / max(len(shown), 1)
    for i, q in enumerate(shown):
        values = [((models[k].get("bytes") or {}).get(q) or {}).get("brotli") or np.nan for k in keys]
        ax.bar(np.arange(len(keys)) + i * width, np.asarray(values, float) / 1000, width, label=q)
    ax.axhline(SIZE_LIMIT / 1000, color="k", linestyle="--", linewidth=0.8, label="0.5 MB")
    ax.set_yscale("log")
    ax.set_xticks(np.arange(len(keys)) + 0.4 - width / 2, keys, rotation=45, ha="right")
    ax.set_ylabel("kB over the wire (brotli 11)")
    ax.set_title("Model size by weight variant")
    ax.legend(fontsize=8)

    ax = axes[1]
    labels, ratios = [], []
    for k in keys:
        for backend in BACKENDS:
            r = (models[k].get("browser") or {}).get(backend) or {}
            if _timed(r.get("layers")) and _timed(r.get("graph")):
                labels.append(f"{k} {backend}")
                ratios.append(r["layers"]["warm_ms_median"] / r["graph"]["warm_ms_median"])
    colors = ["tab:green" if v <= LATENCY_RATIO_LIMIT else "tab:red" for v in ratios]
    ax.barh(np.arange(len(labels)), ratios, color=colors)
    ax.axvline(1.0, color="k", linewidth=0.8)
    ax.axvline(LATENCY_RATIO_LIMIT, color="k", linestyle="--", linewidth=0.8)
    ax.set_yticks(np.arange(len(labels)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("warm latency: ours (layers) / official (graph)")
    ax.set_title("Browser latency ratio (< 1: ours faster)")

    ax = axes[2]
    exported = [k for k in keys if models[k].get("export_seconds")]
    x = np.arange(len(exported))
    ax.bar(x - 0.2, [models[k]["export_seconds"]["ours"] for k in exported], 0.4, label="ours: exporter convert")
    ax.bar(x + 0.2, [models[k]["export_seconds"]["official"] for k in exported], 0.4,
           label="official: SavedModel + tensorflowjs_converter")
    ax.set_xticks(x, exported, rotation=45, ha="right")
    ax.set_ylabel("seconds (fresh processes, imports included)")
    ax.set_title("Export time")
    ax.legend(fontsize=8)

    fig.suptitle(f"webnets bench, {results['date']} ({results['machine']['cpus']} CPU cores, software WebGL)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_all(results, out):
    out = Path(out)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (out / "results.md").write_text(markdown(results) + "\n")
    chart(results, out / "results.png")


# ------------------------------------------------------------------------------------ schema


def check_schema(results):
    """Problems with a results dict (empty when it is well-formed and plausible)."""
    problems = []
    for key in ("date", "machine", "settings", "models", "targets"):
        if key not in results:
            problems.append(f"missing {key}")
    for name, m in results.get("models", {}).items():
        for q, sizes in (m.get("bytes") or {}).items():
            if sizes is None:
                continue
            # Quantized random weights barely compress, and brotli can then end a little above gzip.
            if sizes["raw"] > 4096 and not (sizes["gzip"] < sizes["raw"] and sizes["brotli"] < sizes["raw"]):
                problems.append(f"{name} {q}: compression implausible {sizes}")
            if q not in m["accuracy"]:
                problems.append(f"{name} {q}: bytes without accuracy")
        for label, formats in (m.get("browser") or {}).items():
            for fmt, r in formats.items():
                if fmt == "backend_info" or "error" in r:
                    continue
                for field in ("warm_ms_median", "cold_ms", "load_ms", "first_ms", "max_rel_error"):
                    if not isinstance(r.get(field), (int, float)) or r[field] < 0:
                        problems.append(f"{name} {label} {fmt}: {field}={r.get(field)!r}")
                if r.get("max_rel_error", 1) > BROWSER_BOUND:
                    problems.append(f"{name} {label} {fmt}: output differs from Keras ({r['max_rel_error']:.2e})")
        e = m.get("export_seconds")
        if e and not (e["ours"] > 0 and e["official"] > 0):
            problems.append(f"{name}: export seconds {e}")
    for name, t in results.get("targets", {}).items():
        if t.get("verdict") not in ("holds", "fails", "undecided", None) or "summary" not in t:
            problems.append(f"target {name}: {t}")
    return problems
