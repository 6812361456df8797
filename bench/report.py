"""results.json -> the targets, results.md, results.png and the README's Benchmarks section.

Everything here reads only the results dict, so the README section can be checked
against a committed results.json (tests/test_bench.py) without re-running anything.
"""

import json
import re
from pathlib import Path

from exporter.parity.tolerances import BROWSER_BOUND

QUANTIZATIONS = ("none", "float16", "uint16", "uint8", "auto", "pruned")
BACKENDS = ("webgl", "wasm", "cpu")
SIZE_LIMIT = 500_000  # bytes: the SqueezeNet paper's "<0.5MB", as brotli transfer
ACCURACY_LOSS_LIMIT = 1.0  # points
LATENCY_RATIO_LIMIT = 1.05
EXPORT_RATIO_LIMIT = 0.5
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"
# The ONNX comparison: the "wasm" pass, where both runtimes run 2 threads (TF.js set up as the
# demo does it, web_demo/js/backend.js); "wasm_1thread" shows what the threads buy.
ONNX_TARGET_PASS = "wasm"


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


def targets(results):
    """{name: {"holds": bool | None, "summary": str, ...}}; None where the run did not measure it."""
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
        out["squeezenet_size"] = {
            "holds": bool(best and best[0] <= SIZE_LIMIT),
            "limit": f"brotli <= {SIZE_LIMIT:,} bytes with <= {ACCURACY_LOSS_LIMIT:g} point accuracy loss",
            "variant": best and best[1], "brotli_bytes": best and best[0],
            "accuracy_loss_points": best and round(best[2], 3),
            "summary": (f"smallest within {ACCURACY_LOSS_LIMIT:g} point: {best[1]}, {best[0]:,} bytes brotli, "
                        f"{best[2]:.2f} points of accuracy lost" if best else "no variant within the accuracy limit"),
        }
    else:
        out["squeezenet_size"] = {"holds": None, "summary": "SqueezeNet demo not measured"}

    ratios, missing = {}, []
    for key, m in _cnns(results).items():
        for backend in ("webgl", "wasm"):
            b = (m.get("browser") or {}).get(backend) or {}
            if _timed(b.get("layers")) and _timed(b.get("graph")):
                ratio = b["layers"]["warm_ms_median"] / b["graph"]["warm_ms_median"]
                ratios.setdefault(key, {})[backend] = round(ratio, 3)
            else:
                missing.append(f"{key}/{backend}")
    worst = max(((r, k, b) for k, rs in ratios.items() for b, r in rs.items()), default=None)
    out["latency_vs_graph"] = {
        "holds": None if not ratios else all(r <= LATENCY_RATIO_LIMIT for rs in ratios.values() for r in rs.values()),
        "limit": f"layers warm median / graph warm median <= {LATENCY_RATIO_LIMIT} on WebGL and WASM, every CNN",
        "ratios": ratios, "not_measured": missing,
        "summary": f"worst {worst[1]} {worst[2]} {worst[0]:.3f}" if worst else "not measured",
    }

    export = {k: m["export_seconds"]["ratio"] for k, m in _cnns(results).items() if m.get("export_seconds")}
    worst = max(((r, k) for k, r in export.items()), default=None)
    out["export_time"] = {
        "holds": None if not export else all(r <= EXPORT_RATIO_LIMIT for r in export.values()),
        "limit": f"export_seconds ours / official <= {EXPORT_RATIO_LIMIT}, every CNN",
        "ratios": export,
        "summary": f"worst {worst[1]} {worst[0]:.3f}" if worst else "not measured",
    }

    onnx, other_passes = {}, {}
    for key, m in models.items():
        for label, formats in (m.get("browser") or {}).items():
            if not (label.startswith("wasm") and _timed(formats.get("onnx")) and _timed(formats.get("layers"))):
                continue
            row = {"layers_ms": formats["layers"]["warm_ms_median"], "onnx_ms": formats["onnx"]["warm_ms_median"],
                   "ratio": round(formats["layers"]["warm_ms_median"] / formats["onnx"]["warm_ms_median"], 3),
                   "tfjs_threads": formats.get("backend_info", {}).get("threads"),
                   "ort_threads": formats["onnx"].get("threads")}
            if label == ONNX_TARGET_PASS:
                onnx[key] = row
            else:
                other_passes.setdefault(key, {})[label] = row
    out["wasm_vs_onnx"] = {
        "holds": None if not onnx else all(v["ratio"] <= 1.0 for v in onnx.values()),
        "limit": "SqueezeNet and the transformer text classifier: TF.js WASM layers warm median <= ONNX Runtime "
                 "Web WASM, same page, both at 2 threads",
        "models": onnx,
        "other_thread_settings": other_passes,
        "summary": "; ".join(
            f"{k} {v['layers_ms']:.2f} vs {v['onnx_ms']:.2f} ms ({v['ratio']:.2f}x; other thread settings: "
            + ", ".join(f"TF.js {o['tfjs_threads']} / ORT {o['ort_threads']}: {o['ratio']:.2f}x"
                        for o in other_passes.get(k, {}).values()) + ")"
            for k, v in onnx.items()) or "not measured",
    }
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


def _holds(value):
    return {True: "holds", False: "**fails**", None: "not measured"}[value]


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
                lines.append(f"| {label}{threads} | {fmt}{extra} | {r['warm_ms_median']:.2f} | "
                             f"{r['warm_ms_p10']:.2f}–{r['warm_ms_p90']:.2f} | {r['cold_ms']:.0f} "
                             f"({r['load_ms']:.0f} + {r['first_ms']:.0f}) | {r['max_rel_error']:.1e} |")
    return "\n".join(lines)


def targets_table(results):
    lines = ["| target | result | detail |", "|---|---|---|"]
    for name, t in results["targets"].items():
        lines.append(f"| {t.get('limit', name)} | {_holds(t['holds'])} | {t['summary']} |")
    return "\n".join(lines)


def summary_table(results):
    """One row per model: the README's table."""
    lines = ["| model | params | float32 brotli | auto brotli | pruned brotli | metric float32 → auto / pruned "
             "| export ours / official s | WebGL warm ms layers / graph | WASM warm ms layers / graph "
             "| CPU warm ms layers / graph |",
             "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
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
        lines.append(f"- The {fmt} model of {', '.join(where)} fails in TF.js {results['machine']['tfjs']} on every "
                     f"backend tried: \"{error}\".")
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


def markdown(results):
    parts = ["# webnets benchmarks", "", "Generated by `make bench` (`python -m bench`) from results.json.", "",
             _header(results), "", "## Targets", "", targets_table(results), "", "## Summary", "",
             summary_table(results), "", notes(results), "", "## Per model", ""]
    for key, m in results["models"].items():
        parts += [model_table(key, m), ""]
    return "\n".join(parts)


def readme_section(results):
    return "\n".join([
        "Measured by `make bench` on this project's 2-core, GPU-less machine (software WebGL); full tables in "
        "[bench/results.md](bench/results.md), raw numbers in `bench/results.json`.", "",
        _header(results), "", targets_table(results), "", summary_table(results), "", notes(results)])


def update_readme(path, results):
    """Rewrite the README between the bench markers (the layers table's pattern, exporter/layers/table.py)."""
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
        if t.get("holds") not in (True, False, None) or "summary" not in t:
            problems.append(f"target {name}: {t}")
    return problems
