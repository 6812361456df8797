"""The bench machinery on one small real case (SqueezeNet demo, quick metric, one export run,
the TF.js CPU and WebGPU backends: WebGPU on SwiftShader, columns without a target); its intervals and verdicts (bench/stats.py) and the pooling of repeated
phases on numbers with a known answer; and the results on docs/benchmarks.md against
bench/results.json."""

import json
from pathlib import Path

import pytest

from bench import report
from exporter.browser.chromium import chromium_path
from exporter.parity.tolerances import FLOAT32_BOUND

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    from bench.cases import build_cases
    from bench.run import run

    if chromium_path() is None:
        pytest.skip("Chromium is not installed (make test installs it as root: apt-get install chromium)")
    work = tmp_path_factory.mktemp("bench-work")
    cases = build_cases(["squeezenet"], work, quick=True)
    settings = {"quick": True, "models": ["squeezenet"], "export_runs": 1, "export_runs_other": 1, "warm_runs": 3,
                "warmup": 1, "backends": ["cpu", "webgpu"], "prune": False, "onnx": False}
    return run(cases, work, settings, log=lambda message: None), work


def test_results_are_well_formed_and_plausible(small_run, tmp_path):
    results, work = small_run
    assert report.check_schema(results) == []
    m = results["models"]["squeezenet"]
    assert set(m["bytes"]) == {"none", "float16", "uint16", "uint8", "auto"}
    for q, sizes in m["bytes"].items():
        assert sizes["gzip"] < sizes["raw"] and sizes["brotli"] < sizes["raw"], q
        assert 0 <= m["accuracy"][q] <= 1, q

    def shard_bytes(q):
        return sum(p.stat().st_size for p in (work / "squeezenet" / f"variant-{q}").glob("group1-shard*"))

    # Kernels and biases alike: uint8 is a quarter of float32, float16 and uint16 a half, in the shards.
    assert 0.24 < shard_bytes("uint8") / shard_bytes("none") < 0.26
    assert 0.49 < shard_bytes("float16") / shard_bytes("none") < 0.51
    assert 0.49 < shard_bytes("uint16") / shard_bytes("none") < 0.51
    assert m["bytes"]["auto"]["raw"] < m["bytes"]["float16"]["raw"]
    # float16 rounding moves 256 quick test images by at most one.
    assert abs(m["accuracy"]["float16"] - m["accuracy"]["none"]) <= 1 / 256 + 1e-9

    e = m["export_seconds"]
    assert e["runs"] == 1 and 0 < e["ours"] < 120 and 0 < e["official"] < 300

    # WebGPU is measured as CPU is: the same pages, blocks and statistics.
    for backend in ("cpu", "webgpu"):
        timed = m["browser"][backend]
        assert timed["backend_info"]["backend"] == backend
        for fmt in ("layers", "graph"):
            # Blocks of 10 back-to-back predictions, the first untimed, over 3 fresh pages.
            assert timed[fmt]["warm_runs"] >= 3 and timed[fmt]["warm_runs"] % 9 == 0, (backend, fmt)
            assert len(timed[fmt]["warm_ms_page_medians"]) == timed[fmt]["warm_pages"] == 3
            assert 0 < timed[fmt]["warm_ms_median"] <= timed[fmt]["warm_ms_p90"]
            assert timed[fmt]["cold_ms"] >= timed[fmt]["load_ms"]
            assert timed[fmt]["max_rel_error"] <= FLOAT32_BOUND, (backend, fmt, timed[fmt]["max_rel_error"])

            assert len(timed[fmt]["warm_blocks"]) * 9 == timed[fmt]["warm_runs"]
        # One block per round for each format: the latency ratio's interval resamples the rounds as pairs.
        assert len(timed["layers"]["warm_blocks"]) == len(timed["graph"]["warm_blocks"])
    # TF.js ran on SwiftShader's WebGPU adapter, with the webnets package's repairs as the demo applies them.
    webgpu = m["browser"]["webgpu"]["backend_info"]
    assert webgpu["adapter"]["architecture"] == "swiftshader" and webgpu["webgpu_repairs"] == "applied"
    # Its columns: medians with 95% intervals, and the layers / graph ratio paired by round.
    columns = results["webgpu"]["squeezenet"]
    for fmt in ("layers", "graph"):
        entry = columns[fmt]
        assert entry["warm_ms_low"] <= entry["warm_ms_median"] <= entry["warm_ms_high"], entry
        assert entry["cold_ms"] == m["browser"]["webgpu"][fmt]["cold_ms"]
    ratio = columns["layers_over_graph"]
    assert ratio["low"] <= ratio["estimate"] <= ratio["high"]
    assert ratio["estimate"] == pytest.approx(
        m["browser"]["webgpu"]["layers"]["warm_ms_median"] / m["browser"]["webgpu"]["graph"]["warm_ms_median"],
        rel=1e-3)

    assert set(results["targets"]) == {"squeezenet_size", "latency_vs_graph", "export_time", "wasm_vs_onnx",
                                       "transformer_vs_onnx"}
    assert results["targets"]["wasm_vs_onnx"]["verdict"] is None  # WASM was not measured
    # Neither CPU nor WebGPU is a latency target's backend; one export run has no interval, so that
    # target cannot decide.
    assert results["targets"]["latency_vs_graph"]["verdict"] is None
    assert results["targets"]["latency_vs_graph"]["ratios"] == {}
    export = results["targets"]["export_time"]["ratios"]["squeezenet"]
    assert export["verdict"] == "undecided" and export["low"] is None
    assert export["estimate"] == pytest.approx(e["ours"] / e["official"], rel=1e-3)
    # The smallest variant within 1 point of float32's accuracy; float32 itself (~430 KB brotli, 0 points
    # lost) is under the 500,000-byte bound, so the target must hold, with a variant no larger than it.
    size = results["targets"]["squeezenet_size"]
    assert size["accuracy_loss_points"] <= 1.0 and size["brotli_bytes"] == m["bytes"][size["variant"]]["brotli"]
    assert size["brotli_bytes"] <= m["bytes"]["none"]["brotli"] < 500_000 and size["verdict"] == "holds"

    report.write_all(results, tmp_path)
    assert json.loads((tmp_path / "results.json").read_text())["models"]["squeezenet"]["bytes"] == m["bytes"]
    markdown = (tmp_path / "results.md").read_text()
    assert "### squeezenet" in markdown and "## WebGPU" in markdown
    summary = report.summary_table(results).splitlines()
    assert "WebGPU warm ms layers / graph" in summary[0]
    row = next(line for line in summary if line.startswith("| squeezenet |")).split(" | ")
    webgpu_cell = row[summary[0].split(" | ").index("WebGPU warm ms layers / graph")]
    assert webgpu_cell == (f"{m['browser']['webgpu']['layers']['warm_ms_median']:.2f} / "
                           f"{m['browser']['webgpu']['graph']['warm_ms_median']:.2f}")
    assert (tmp_path / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(not RESULTS.exists(), reason="bench/results.json is not committed")
def test_readme_benchmarks_section_matches_results():
    results = json.loads(RESULTS.read_text())
    block = report.readme_block((ROOT / "docs" / "benchmarks.md").read_text())
    assert block is not None, "docs/benchmarks.md lacks the <!-- bench:start --> ... <!-- bench:end --> markers"
    assert block.strip() == report.readme_section(results).strip(), (
        "docs/benchmarks.md's results are stale: regenerate them with "
        "`python -c \"import json; from bench import report; report.update_readme('docs/benchmarks.md', "
        "json.load(open('bench/results.json')))\"` or rerun `make bench`")
    assert report.check_schema(results) == []


def test_intervals_and_verdicts():
    import numpy as np

    from bench import stats

    rng = np.random.default_rng(0)
    # 40 rounds of 9 predictions; format a is 20% faster than b, with +-20% noise and a drift that
    # both share within a round (what pairing is for).
    drift = np.linspace(1, 1.5, 40)
    a = [0.8 * d * rng.normal(1, 0.2, 9) for d in drift]
    b = [d * rng.normal(1, 0.2, 9) for d in drift]
    interval = stats.ratio_interval(a, b)
    assert interval["low"] < interval["estimate"] < interval["high"] and interval["pairs"] == 40
    assert 0.7 < interval["low"] and interval["high"] < 0.9
    assert stats.verdict(interval, 0.9) == "holds" and stats.verdict(interval, 0.7) == "fails"
    assert stats.verdict(interval, interval["estimate"]) == "undecided"
    # An undecided interval: more pairs shrink it as 1/sqrt(n); the estimate says how many.
    judged = stats.judge(interval, interval["high"] - 0.01)
    more = judged["more_pairs"]
    assert judged["verdict"] == "undecided" and 0 < more
    twice = stats.ratio_interval(a + a, b + b)  # the same data twice: a quarter of the variance
    assert twice["high"] - twice["low"] < 0.8 * (interval["high"] - interval["low"])
    assert stats.pairs_to_decide({**interval, "estimate": 1.0}, 1.0) is None
    # ">=" targets: a throughput of about 500 against a floor of 300.
    throughput = stats.value_interval([480, 510, 495, 530, 505])
    assert stats.verdict(throughput, 300, at_most=False) == "holds"
    assert stats.verdict(throughput, 600, at_most=False) == "fails"
    assert stats.combine(["holds", "undecided"]) == "undecided" and stats.combine(["holds", "fails"]) == "fails"
    assert stats.combine([]) is None
    with pytest.raises(ValueError):
        stats.ratio_interval([1, 2], [1])


def test_repeat_pools_every_sample():
    from bench import browser, export_time

    def measured(blocks_layers, blocks_graph, cold):
        return {"layers": {**browser.warm_summary(blocks_layers), "cold_ms": cold, "load_ms": 1.0, "first_ms": 2.0,
                           "max_rel_error": 1e-7, "warmup_runs": 5, "warm_pages": 3, "warm_ms_page_medians": [1, 1, 1]},
                "graph": {"error": "Erfc is not supported"}, "_backend": {"backend": "wasm"}}

    first = measured([[1.0] * 9, [2.0] * 9], None, 10.0)
    second = measured([[3.0] * 9], None, 30.0)
    pooled = browser.pool(first, second)
    assert pooled["layers"]["warm_runs"] == 27 and pooled["layers"]["warm_ms_median"] == 2.0
    assert pooled["layers"]["cold_ms"] == 20.0 and pooled["layers"]["cold_ms_runs"] == [10.0, 30.0]
    assert pooled["layers"]["warm_pages"] == 6 and pooled["graph"] == {"error": "Erfc is not supported"}
    assert browser.pool(None, second) is second

    one = export_time.summarize([3.0, 3.2], [8.0, 8.4], [{"a": 1.0}, {"a": 2.0}])
    two = export_time.summarize([3.4], [9.0], [{"a": 3.0}])
    both = export_time.pool(one, two)
    assert both["ours_runs"] == [3.0, 3.2, 3.4] and both["official_runs"] == [8.0, 8.4, 9.0]
    assert both["ours"] == 3.2 and both["official"] == 8.4 and both["runs"] == 3
    assert both["official_parts_median"] == {"a": 2.0}


def test_webgpu_columns_on_known_numbers():
    """WebGPU's columns (bench/report.py `webgpu`, `webgpu_table`, `notes`) on numbers with a known answer:
    ours twice as fast as ONNX Runtime Web's WebGPU provider in every round; a graph model that fails is
    reported with its error, on WebGPU only; and no target is judged on WebGPU."""
    from bench import browser

    def timed(ms, cold):
        blocks = [[ms * (1 + 0.01 * i)] * 9 for i in range(12)]
        return {**browser.warm_summary(blocks), "cold_ms": cold, "load_ms": cold - ms, "first_ms": ms,
                "max_rel_error": 1e-7, "warmup_runs": 5, "warm_pages": 3, "warm_ms_page_medians": [ms] * 3}

    webgpu = {"layers": timed(10.0, 400.0), "graph": {"error": "Error: Cannot compute the outputs [Identity]"},
              "onnx": {**timed(20.0, 900.0), "execution_provider": "webgpu", "threads": 2},
              "backend_info": {"backend": "webgpu", "adapter": {"architecture": "swiftshader"}}}
    wasm = {"layers": timed(1.0, 50.0), "graph": timed(1.5, 60.0), "backend_info": {"backend": "wasm"}}
    results = {"machine": {"tfjs": "4.22.0", "onnxruntime_web": "1.30.0"}, "settings": {},
               "models": {"m": {"cnn": True, "browser": {"wasm": wasm, "webgpu": webgpu}}}}
    columns = report.webgpu(results)["m"]
    assert columns["layers_over_onnx"]["estimate"] == pytest.approx(0.5)
    assert columns["layers_over_onnx"]["low"] == pytest.approx(0.5) == columns["layers_over_onnx"]["high"]
    assert columns["graph"] == {"error": "Error: Cannot compute the outputs [Identity]"}
    assert "layers_over_graph" not in columns
    assert columns["layers"]["cold_ms"] == 400.0 and columns["onnx"]["cold_ms"] == 900.0
    layers = columns["layers"]
    assert 10.0 < layers["warm_ms_low"] <= layers["warm_ms_median"] <= layers["warm_ms_high"] < 11.1
    table = report.webgpu_table(results)
    assert f"| m | {layers['warm_ms_median']:.2f} [{layers['warm_ms_low']:.2f}, " in table and '"swiftshader"' in table
    assert "| fails (below) |" in table and "| 0.5 [0.5, 0.5] |" in table
    assert ('- The graph model of m fails in TF.js 4.22.0 on webgpu: "Error: Cannot compute the outputs '
            '[Identity]".') in report.notes(results)
    # Only WebGL and WASM are judged: WebGPU's 0.5 is a column, not a verdict.
    assert list(report.targets(results)["latency_vs_graph"]["ratios"]) == ["m wasm"]
    assert report.webgpu({"models": {"m": {"browser": {"wasm": wasm}}}}) == {}


def test_text_targets_judge_intervals_of_pooled_runs():
    """bench/text.py on numbers with a known answer: throughput far above its floor holds, a GRU step
    as slow as the LSTM's fails its 0.9 bound, and pooling two measurements keeps every sample."""
    from bench import text

    def measurement(gru_ms):
        def demo(rate):
            return {"wall_s": [120 / rate] * 3, "chars_per_s": [rate, rate * 1.01, rate * 0.99],
                    "step_ms_median": [1.0] * 3, "first_wall_s": 0.5, "mode": "step"}
        sequence = {"webnets_ms": [10.0, 11.0, 10.5], "tfjs_ms": [30.0, 31.0, 29.0], "max_abs_difference": 1e-6}
        passes = {label: {"backend": {}, "demo": {n: demo(500 if label.startswith("wasm") else 40) for n in text.MODELS},
                          "step": {"gru": {"ms": [gru_ms] * 20, "runs": 20, "ms_median": gru_ms},
                                   "lstm": {"ms": [1.0] * 20, "runs": 20, "ms_median": 1.0},
                                   "simple_rnn": {"ms": [0.5] * 20, "runs": 20, "ms_median": 0.5}},
                          "sequence": {n: dict(sequence) for n in text.MODELS}}
                  for label in ("wasm_2threads", "webgl")}
        return {"length": 120, "sequence": 96, "passes": passes}

    judged = text.targets(measurement(gru_ms=0.6))
    assert judged["text_throughput"]["verdict"] == "holds" and judged["text_demo_seconds"]["verdict"] == "holds"
    assert judged["gru_vs_lstm_step"]["verdict"] == "holds"
    assert judged["recurrent_cells_vs_tfjs"]["verdict"] == "holds"
    assert text.targets(measurement(gru_ms=1.0))["gru_vs_lstm_step"]["verdict"] == "fails"
    pooled = text.pool(measurement(0.6), measurement(0.8))
    step = pooled["passes"]["webgl"]["step"]["gru"]
    assert step["runs"] == 40 and step["ms_median"] == pytest.approx(0.7)
    assert len(pooled["passes"]["webgl"]["demo"]["lstm"]["chars_per_s"]) == 6
    assert text.targets(None) == {}
