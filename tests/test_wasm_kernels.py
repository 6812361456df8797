"""webnets' WebAssembly kernels for TF.js's wasm backend (js/wasm/kernels.c, js/src/kernels/index.js).

- BatchMatMul through webnets' SIMD GEMM matches TF.js's cpu backend and its stock wasm kernel (max
  |difference| / max |reference| <= 1e-5) on 80 random shapes: sizes 1, 3, 17, 63, 130 in every
  position, all four transpose pairs, shared batches, batches broadcast from either side or by trailing
  dims, ranks 2 to 4; every transposed or batched one ran webnets' kernel, the untransposed single
  products TF.js's XNNPACK path;
- gradients of a matmul (tf.grads) run through it too and match cpu's and the stock kernel's;
- the stock kernel still takes what webnets' does not cover: int32 (same error as before), and batch
  broadcasts that do not flatten to one batch ([2,1] x [1,3]);
- without WebAssembly SIMD (WASM_HAS_SIMD_SUPPORT false) nothing is instantiated and the stock kernel
  runs;
- the threaded binary runs on a shared memory shaped like TF.js's threaded build's, where the plain
  binary is refused;
- the fused attention kernel (WebnetsAttention: softmax(Q·Kᵀ·scale, masked)·V per head, grouped key/value
  heads, projections read in place at column offsets) matches the same computation composed from TF.js
  ops on cpu and on the stock wasm kernels, on 42 random shapes (lengths and head sizes 1, 3, 17, 63, 130 /
  1, 3, 16, 17, 64; keep masks broadcast every way, additive masks, causal, sliding windows, zeroed
  masked probabilities, fully hidden rows); on the cpu backend the layers do not see it;
- WebnetsMultiHeadAttention / GroupedQueryAttention and WebnetsLayerNormalization call their fused kernel
  once per call at inference and match TF.js's ops (cpu, stock wasm); they compose ops where it does not
  apply (scores returned, normalization over other axes) and while a tape records, and their gradients
  (every weight and the input) match cpu's and the stock kernels';
- Concat through webnets' copy is bit-exact against cpu and the stock kernel (float32, int32, ranks 1 to
  4, negative axes, empty inputs); bool goes to the stock kernel;
- the committed binaries own no memory (import env.memory, no data or start section) and are what the
  committed clang build gives (`node js/wasm/build.mjs --check`; skipped without clang).

All kernel cases run in one Node process (js/wasm/parity.mjs).
"""

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WASM_DIR = ROOT / "js" / "wasm"
EMBED = ROOT / "js" / "src" / "kernels" / "wasm-binary.js"
BOUND = 1e-5
ODD = {1, 3, 17, 63, 130}

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")


@pytest.fixture(scope="module")
def report():
    done = subprocess.run(["node", str(WASM_DIR / "parity.mjs"), "7"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def _failures(cases):
    return [c for c in cases if not (c["rel"] <= BOUND and c["relStock"] <= BOUND and c["sameLength"]
                                     and c["shape"] == c["cpuShape"] == c["stockShape"])]


def test_batch_matmul_matches_the_stock_kernel(report):
    cases = report["cases"]
    assert report["live"] is True and report["variant"] == "plain"
    assert len(cases) == 80
    # Every odd size in every dimension, every transpose pair, batches shared and broadcast both ways.
    for dim in ("m", "k", "n"):
        assert ODD <= {c[dim] for c in cases}, dim
    assert {(c["tA"], c["tB"]) for c in cases} == {(False, False), (False, True), (True, False), (True, True)}
    assert any(c["outerA"] == [1] and c["outerB"] == [5] for c in cases)
    assert any(c["outerA"] == [2, 3] and c["outerB"] == [] for c in cases)
    assert any(c["outerA"] == [2, 4] and c["outerB"] == [2, 4] for c in cases)
    assert any(c["outerA"] == [2, 3] and c["outerB"] == [3] for c in cases)  # trailing batch dims
    assert _failures(cases) == []
    assert report["stockBroadcastWrong"] == 0  # the two references agree
    # Each transposed or batched product ran webnets' kernel; the 5 untransposed single products ran
    # the stock kernel (XNNPACK there), by design.
    assert report["expected"] == {"products": 75, "xnnpack": 5}
    assert report["productCalls"] == {"webnets": 75, "stock": 5}


def test_gradients_run_through_the_kernel_and_match(report):
    grads = report["grads"]
    assert len(grads) == 4
    for g in grads:
        assert g["daShape"] == g["cpuDaShape"] and g["dbShape"] == g["cpuDbShape"], g
        assert g["da"]["rel"] <= BOUND and g["db"]["rel"] <= BOUND, g  # against cpu
        assert g["daStock"] <= BOUND and g["dbStock"] <= BOUND, g  # against the stock wasm kernel
    # Forward product plus the two gradient products per case, all on webnets' kernel.
    assert report["gradCalls"] == {"webnets": 12, "stock": 0}


def test_uncovered_cases_fall_back_to_the_stock_kernel(report):
    int32 = report["int32"]
    assert int32["stockCalls"] == 1 and int32["webnetsCalls"] == 0
    assert int32["error"] == int32["stockError"] == "BatchMatMul for non non-float32 tensors not yet supported."
    assert report["unflattened"] == {"stockCalls": 1, "webnetsCalls": 0}


def test_fused_attention_kernel_matches_tfjs_ops(report):
    attention = report["attention"]
    cases = attention["cases"]
    assert len(cases) == 42
    assert attention["calls"] == {"webnets": 42, "refused": 0}
    assert attention["onCpu"] is None  # another backend: the layers are not offered the kernel
    for dim, sizes in (("T", ODD), ("S", ODD), ("K", {1, 3, 16, 17, 64}), ("V", {1, 3, 16, 17, 64})):
        assert sizes <= {c[dim] for c in cases}, dim
    assert {c["mask"] for c in cases} == {"none", "value", "query", "full", "band", "heads", "additive"}
    assert any(c["joint"] for c in cases) and any(c["N"] > c["KV"] for c in cases)
    assert any(c["causal"] for c in cases) and any(c["window"] for c in cases) and any(c["zeroMasked"] for c in cases)
    bad = [c for c in cases if not (c["rel"] <= BOUND and c["relStock"] <= BOUND and c["finite"]
                                    and c["shape"] == c["cpuShape"])]
    assert bad == []


def test_layers_call_the_fused_kernels_at_inference_only(report):
    layers = {layer["id"]: layer for layer in report["layers"]}
    assert len(layers) == 21
    for layer in layers.values():
        name = "WebnetsLayerNorm" if layer["cls"] == "WebnetsLayerNormalization" else "WebnetsAttention"
        assert layer["calls"] == {"webnets": layer["expectedFused"], "refused": 0}, layer
        assert layer["gradCalls"] == {"webnets": 0, "refused": 0}, layer  # the tape records: ops
        assert layer["shape"] == layer["cpuShape"], layer
        assert layer["rel"] <= BOUND and layer["relStock"] <= BOUND, (name, layer)
        assert layer["gradRel"] <= BOUND and layer["gradRelStock"] <= BOUND, layer
    assert layers["scores-returned"]["expectedFused"] == 0 and layers["ln-axis-1"]["expectedFused"] == 0
    assert sum(layer["expectedFused"] for layer in layers.values()) == 18


def test_concat_copies_exactly(report):
    concat = report["concat"]
    assert concat["calls"] == {"webnets": 24, "stock": 0}
    assert {c["dtype"] for c in concat["cases"]} == {"float32", "int32"}
    assert any(c["axis"] < 0 for c in concat["cases"]) and any(0 in s for c in concat["cases"] for s in c["shapes"])
    assert all(c["exactCpu"] and c["exactStock"] and c["shape"] == c["cpuShape"] == c["stockShape"]
               for c in concat["cases"])
    assert concat["bool"] == {"calls": {"webnets": 0, "stock": 1}, "values": [1, 0, 0]}


def test_without_simd_the_stock_kernel_runs():
    done = subprocess.run(["node", str(WASM_DIR / "parity.mjs"), "--no-simd"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout) == {
        "live": False, "variant": None, "calls": {"webnets": 0, "stock": 1}, "allFour": True,
        # registered, but the module does not run: the fused kernel refuses, Concat falls back
        "attention": None, "attentionCalls": {"webnets": 0, "refused": 1},
        "concatCalls": {"webnets": 0, "stock": 1}, "concat": [1, 1, 1, 0, 1, 1, 1, 0]}


def test_threaded_binary_runs_on_shared_memory(report):
    threaded = report["threaded"]
    assert threaded["sharedBuffer"] is True
    assert threaded["threadedVsFloat64"]["rel"] <= BOUND and threaded["plainVsFloat64"]["rel"] <= BOUND
    assert "shared" in threaded["plainOnShared"]


def _sections(wasm):
    """(id, payload) of each section of a wasm binary."""
    assert wasm[:8] == b"\0asm\1\0\0\0"
    at, out = 8, []
    while at < len(wasm):
        section, at = wasm[at], at + 1
        size = shift = 0
        while True:
            byte, at = wasm[at], at + 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        out.append((section, wasm[at:at + size]))
        at += size
    return out


@pytest.mark.parametrize("name,embedded", [("kernels.wasm", "kernelsWasm"),
                                           ("kernels-threaded.wasm", "kernelsThreadedWasm")])
def test_binaries_own_no_memory_and_match_the_embed(name, embedded):
    wasm = (WASM_DIR / name).read_bytes()
    sections = dict(_sections(wasm))
    # No start (8), data (11) or data-count (12) section: nothing writes the backend's memory on load.
    assert not {8, 11, 12} & set(sections), sorted(sections)
    imports = sections[2]
    assert imports[0] == 1 and b"\x03env\x06memory\x02" in imports  # exactly one import: env.memory
    assert len(wasm) < 24_000
    text = EMBED.read_text()
    found = re.search(rf"export const {embedded} = '([A-Za-z0-9+/=]+)';", text)
    assert found and base64.b64decode(found.group(1)) == wasm


@pytest.mark.skipif(shutil.which("clang") is None or shutil.which("wasm-ld") is None,
                    reason="clang/lld are not installed (apt-get install clang lld)")
def test_committed_binaries_are_what_the_build_gives():
    done = subprocess.run(["node", str(WASM_DIR / "build.mjs"), "--check"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok:"), done.stdout
