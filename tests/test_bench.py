"""The bench machinery on one small real case (SqueezeNet demo, quick metric, one export run,
the TF.js CPU backend), and the README's Benchmarks section against bench/results.json."""

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
                "warmup": 1, "backends": ["cpu"], "prune": False, "onnx": False}
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

    cpu = m["browser"]["cpu"]
    for fmt in ("layers", "graph"):
        # Blocks of 10 back-to-back predictions, the first untimed, over 3 fresh pages.
        assert cpu[fmt]["warm_runs"] >= 3 and cpu[fmt]["warm_runs"] % 9 == 0
        assert len(cpu[fmt]["warm_ms_page_medians"]) == cpu[fmt]["warm_pages"] == 3
        assert 0 < cpu[fmt]["warm_ms_median"] <= cpu[fmt]["warm_ms_p90"]
        assert cpu[fmt]["cold_ms"] >= cpu[fmt]["load_ms"]
        assert cpu[fmt]["max_rel_error"] <= FLOAT32_BOUND

    assert set(results["targets"]) == {"squeezenet_size", "latency_vs_graph", "export_time", "wasm_vs_onnx"}
    assert results["targets"]["wasm_vs_onnx"]["holds"] is None  # WASM was not measured
    # The smallest variant within 1 point of float32's accuracy; float32 itself (~430 KB brotli, 0 points
    # lost) is under the 500,000-byte bound, so the target must hold, with a variant no larger than it.
    size = results["targets"]["squeezenet_size"]
    assert size["accuracy_loss_points"] <= 1.0 and size["brotli_bytes"] == m["bytes"][size["variant"]]["brotli"]
    assert size["brotli_bytes"] <= m["bytes"]["none"]["brotli"] < 500_000 and size["holds"] is True

    report.write_all(results, tmp_path)
    assert json.loads((tmp_path / "results.json").read_text())["models"]["squeezenet"]["bytes"] == m["bytes"]
    assert "### squeezenet" in (tmp_path / "results.md").read_text()
    assert (tmp_path / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(not RESULTS.exists(), reason="bench/results.json is not committed")
def test_readme_benchmarks_section_matches_results():
    results = json.loads(RESULTS.read_text())
    block = report.readme_block((ROOT / "README.md").read_text())
    assert block is not None, "README.md lacks the <!-- bench:start --> ... <!-- bench:end --> markers"
    assert block.strip() == report.readme_section(results).strip(), (
        "README's Benchmarks section is stale: regenerate it with "
        "`python -c \"import json; from bench import report; report.update_readme('README.md', "
        "json.load(open('bench/results.json')))\"` or rerun `make bench`")
    assert report.check_schema(results) == []
