"""Bad input gets a clear error and nothing half-written; conversion is atomic.

Every case runs the real CLI (`python -m exporter ...`) as a subprocess, the way
a person (or CI) runs it, and checks the error contract the README states:

- exit code non-zero (1: an input error, not the "webnets failed unexpectedly" path),
- stderr has no traceback (unless --debug), names the problem and says "Fix:",
- OUT_DIR is not created (or, when it existed, is byte-for-byte unchanged),
- no hidden temp siblings (`.NAME.tmp-*`, `.NAME.old-*`) are left behind,
- code in a model file is never run: a Lambda whose body writes a marker file is
  refused without the marker ever appearing.

The atomicity test kills `convert --force` with SIGKILL at many moments and checks
that OUT_DIR is always either the complete old export or the complete new one.

The model files are built once per module; each CLI call costs ~4 s of TensorFlow
start-up, so the module takes about two and a half minutes.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from exporter.parity.tolerances import FLOAT32_BOUND

REPO = Path(__file__).resolve().parents[1]
CLI_TIMEOUT = 180


# --------------------------------------------------------------------------- helpers

def cli_env():
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")
    return env


def run_cli(*args, timeout=CLI_TIMEOUT):
    """Run `python -m exporter ARGS` from the repository root; returns CompletedProcess (text)."""
    return subprocess.run([sys.executable, "-m", "exporter", *map(str, args)], cwd=REPO, env=cli_env(),
                          capture_output=True, text=True, timeout=timeout)


def convert_cmd(src, out, *extra):
    return [sys.executable, "-m", "exporter", "convert", str(src), str(out), *map(str, extra)]


def leftovers(out):
    """Hidden temp siblings an interrupted or failed run could leave beside OUT_DIR."""
    out = Path(out)
    return sorted(p.name for p in out.parent.glob(f".{out.name}.tmp-*")) + \
        sorted(p.name for p in out.parent.glob(f".{out.name}.old-*"))


def snapshot(directory):
    """{relative path: bytes (files) or None (directories)} of everything under directory."""
    directory = Path(directory)
    return {p.relative_to(directory).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(directory.rglob("*"))}


def show(result):
    return f"exit code {result.returncode}\n--- stderr ---\n{result.stderr}\n--- stdout ---\n{result.stdout[-2000:]}"


def assert_refused(result, out, *names, unchanged=None):
    """The common contract of every refusal (see the module docstring).

    names: strings the error must contain (the layer, option or file it is about).
    unchanged: a snapshot OUT_DIR must still match (when it existed before), else OUT_DIR must not exist.
    """
    out = Path(out)
    assert result.returncode != 0, "the CLI exited 0 on bad input\n" + show(result)
    assert "Traceback" not in result.stderr, "a traceback leaked to stderr without --debug\n" + show(result)
    assert result.returncode == 1, ("exit code should be 1 (input error); 2 means the failure hit the 'webnets "
                                    "failed unexpectedly' catch-all instead of a specific message\n" + show(result))
    for name in names:
        assert name in result.stderr, f"the error does not name {name!r}\n" + show(result)
    assert "Fix:" in result.stderr, "the error does not say how to fix it ('Fix:')\n" + show(result)
    if unchanged is None:
        assert not out.exists(), f"{out} was created by a failed run: {sorted(os.listdir(out))}"
    else:
        assert out.is_dir(), f"the existing {out} was removed"
        assert snapshot(out) == unchanged, f"the existing {out} was modified"
    assert not leftovers(out), f"temp siblings left beside {out}: {leftovers(out)}"


def error_paragraph_problems(stderr):
    """Why stderr is not exactly one readable paragraph (empty list when it is)."""
    text = stderr.strip()
    problems = []
    if not text.startswith("error:"):
        problems.append("it does not start with 'error:' (other output comes first)")
    if "\n\n" in text:
        problems.append("it has more than one paragraph")
    noise = [line for line in text.splitlines()
             if line.startswith(("E0000", "W0000", "I0000", "WARNING:", "WARNING: All log")) or ".cc:" in line]
    if noise:
        problems.append(f"it contains {len(noise)} lines of log noise, e.g. {noise[0][:120]!r}")
    return problems


def weights_bytes(manifest):
    sizes = {"float32": 4, "int32": 4, "float16": 2, "uint16": 2, "uint8": 1, "bool": 1}
    return sum(int(np.prod(w["shape"], dtype=np.int64)) * sizes[w["dtype"]]
               for group in manifest for w in group["weights"])


def complete_export_problems(out):
    """Why OUT_DIR is not a complete layers export (empty list when it is)."""
    out = Path(out)
    try:
        model_json = json.loads((out / "model.json").read_text())
        manifest = model_json["weightsManifest"]
    except (OSError, ValueError, KeyError) as error:
        return [f"model.json unreadable: {type(error).__name__}: {error}"]
    problems = []
    paths = [p for group in manifest for p in group["paths"]]
    missing = [p for p in paths if not (out / p).is_file()]
    if missing:
        problems.append(f"shards named in weightsManifest are missing: {missing}")
    else:
        total = sum((out / p).stat().st_size for p in paths)
        if total != weights_bytes(manifest):
            problems.append(f"shards hold {total} bytes, the manifest's weights need {weights_bytes(manifest)}")
    try:
        json.loads((out / "meta.json").read_text())
    except (OSError, ValueError) as error:
        problems.append(f"meta.json missing or unreadable: {error}")
    extra = set(snapshot(out)) - {"model.json", "meta.json", *paths}
    if extra:
        problems.append(f"unexpected files: {sorted(extra)}")
    return problems


# --------------------------------------------------------------------------- fixtures

class Files:
    """The model files of this module (built once)."""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    import keras

    root = tmp_path_factory.mktemp("error_inputs")
    f = Files()
    f.root = root
    keras.utils.set_random_seed(0)

    small = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, name="d1")], name="small")
    f.small = root / "small.keras"
    small.save(f.small)
    f.small_h5 = root / "small.h5"
    small.save(f.small_h5)

    # A Lambda whose Python body leaves a marker file if it is ever executed.
    f.lambda_marker = root / "LAMBDA_BODY_RAN"
    body = eval(f"lambda x: (open({str(f.lambda_marker)!r}, 'w').write('ran'), x * 2.0)[1]")  # noqa: S307
    inp = keras.Input((4,))
    with_lambda = keras.Model(inp, keras.layers.Lambda(body, name="my_lambda")(inp), name="with_lambda")
    f.lambda_keras = root / "lambda.keras"
    with_lambda.save(f.lambda_keras)
    f.lambda_h5 = root / "lambda.h5"
    with_lambda.save(f.lambda_h5)
    f.lambda_marker.unlink()  # building the model ran the body once, here in the test process

    class MyCustomLayer(keras.layers.Layer):  # deliberately not registered
        def call(self, x):
            return x * 3.0

    inp = keras.Input((4,))
    f.custom = root / "custom.keras"
    keras.Model(inp, MyCustomLayer(name="my_custom")(inp)).save(f.custom)

    inp = keras.Input((5, 3))
    f.gru = root / "gru.keras"
    # Keras 3's hard_sigmoid (x/6 + 0.5) is not TF.js's (0.2x + 0.5), and a cell's activation cannot be split off.
    keras.Model(inp, keras.layers.GRU(4, recurrent_activation="hard_sigmoid", name="my_gru")(inp)).save(f.gru)

    # A Keras 2 style (legacy HDF5) model, saved by Keras 3's model.save('m.h5').
    inp = keras.Input((8,))
    hidden = keras.layers.Dense(16, activation="relu", name="hidden")(inp)
    legacy = keras.Model(inp, keras.layers.Dense(4, activation="softmax", name="probs")(hidden), name="legacy")
    f.legacy_h5 = root / "legacy.h5"
    legacy.save(f.legacy_h5)

    # The "different, larger" model of the atomicity test (~42 MB, 11 shards).
    big = keras.Sequential([keras.Input((1024,))] + [keras.layers.Dense(1024, name=f"big{i}") for i in range(10)],
                           name="big")
    f.big = root / "big.keras"
    big.save(f.big)

    f.text = root / "notes.keras"
    f.text.write_text("These are my notes, not a model.\n" * 10)
    f.truncated = root / "truncated.keras"
    data = f.small.read_bytes()
    f.truncated.write_bytes(data[: len(data) // 2])
    f.truncated_h5 = root / "truncated.h5"
    data = f.small_h5.read_bytes()
    f.truncated_h5.write_bytes(data[: len(data) // 2])
    f.no_config = root / "no_config.keras"
    with zipfile.ZipFile(f.small) as src, zipfile.ZipFile(f.no_config, "w") as dst:
        for name in src.namelist():
            if name != "config.json":
                dst.writestr(name, src.read(name))
    return f


_results = {}


def refusal(case, files, tmp_path_factory):
    """Run (once) and return (result, out) for the named refusal case."""
    if case not in _results:
        out = tmp_path_factory.mktemp(f"out_{case}") / "out"
        src, extra = {
            "missing": (files.root / "does_not_exist.keras", []),
            "gru": (files.gru, []),
            "lambda": (files.lambda_keras, []),
        }[case]
        if case == "lambda":
            files.lambda_marker.unlink(missing_ok=True)
        _results[case] = (run_cli("convert", src, out, *extra), out)
    return _results[case]


# --------------------------------------------------------------------------- refusals: files

def test_missing_file(files, tmp_path_factory):
    result, out = refusal("missing", files, tmp_path_factory)
    assert_refused(result, out, "does_not_exist.keras")


def test_text_file_renamed_keras(files, tmp_path):
    out = tmp_path / "out"
    assert_refused(run_cli("convert", files.text, out), out, "notes.keras")


def test_truncated_keras(files, tmp_path):
    out = tmp_path / "out"
    assert_refused(run_cli("convert", files.truncated, out), out, "truncated.keras")


def test_keras_zip_without_config(files, tmp_path):
    out = tmp_path / "out"
    assert_refused(run_cli("convert", files.no_config, out), out, "no_config.keras", "config.json")


def test_truncated_h5(files, tmp_path):
    out = tmp_path / "out"
    assert_refused(run_cli("convert", files.truncated_h5, out), out, "truncated.h5")


# --------------------------------------------------------------------------- refusals: code in model files

def test_lambda_refused_in_safe_mode_without_running_it(files, tmp_path_factory):
    result, out = refusal("lambda", files, tmp_path_factory)
    assert not files.lambda_marker.exists(), "the Lambda's Python code was EXECUTED while loading in safe mode"
    assert_refused(result, out, "lambda.keras", "Lambda", "--unsafe")


def test_lambda_refusal_names_the_layer(files, tmp_path_factory):
    """The contract says the error names the layer; the name is in config.json, readable without running code."""
    result, out = refusal("lambda", files, tmp_path_factory)
    assert not files.lambda_marker.exists(), "the Lambda's Python code was EXECUTED while loading in safe mode"
    assert_refused(result, out, "my_lambda")


def test_lambda_in_h5_refused_without_running_it(files, tmp_path):
    files.lambda_marker.unlink(missing_ok=True)
    out = tmp_path / "out"
    result = run_cli("convert", files.lambda_h5, out)
    assert not files.lambda_marker.exists(), "the Lambda's Python code was EXECUTED while loading an .h5 file"
    assert_refused(result, out, "lambda.h5", "Lambda")


def test_lambda_with_unsafe_still_refused(files, tmp_path):
    out = tmp_path / "out"
    result = run_cli("convert", files.lambda_keras, out, "--unsafe")
    # --unsafe allows Keras to rebuild the Lambda (its body may run: the user said they trust the file),
    # but TF.js cannot run Python, so the export must still be refused, naming the layer.
    assert_refused(result, out, "my_lambda", "Lambda", "TF.js")


def test_unregistered_custom_layer(files, tmp_path):
    out = tmp_path / "out"
    result = run_cli("convert", files.custom, out)
    assert_refused(result, out, "custom.keras", "MyCustomLayer")


# --------------------------------------------------------------------------- refusals: layers and options

def test_gru_with_keras_hard_sigmoid(files, tmp_path_factory):
    result, out = refusal("gru", files, tmp_path_factory)
    assert_refused(result, out, "my_gru", "GRU", "hard_sigmoid")


def test_quantize_unknown_dtype(files, tmp_path):
    out = tmp_path / "out"
    assert_refused(run_cli("convert", files.small, out, "--quantize", "int4"), out, "int4", "--quantize")


def test_quantize_pattern_matching_no_weight(files, tmp_path):
    out = tmp_path / "out"
    result = run_cli("convert", files.small, out, "--quantize", "uint8=conv*/kernel")
    assert_refused(result, out, "conv*/kernel")


# --------------------------------------------------------------------------- OUT_DIR handling

def _existing_out(tmp_path):
    out = tmp_path / "out"
    (out / "nested").mkdir(parents=True)
    (out / "model.json").write_text('{"old": true}')
    (out / "group1-shard1of1.bin").write_bytes(bytes(range(256)) * 3)
    (out / "nested" / "keep.txt").write_text("precious")
    return out


def test_existing_out_dir_without_force_is_untouched(files, tmp_path):
    out = _existing_out(tmp_path)
    before = snapshot(out)
    result = run_cli("convert", files.small, out)
    assert_refused(result, out, str(out), "--force", unchanged=before)


def test_existing_out_dir_with_force_is_replaced(files, tmp_path):
    out = _existing_out(tmp_path)
    result = run_cli("convert", files.small, out, "--force")
    assert result.returncode == 0, show(result)
    assert "Traceback" not in result.stderr, show(result)
    assert not (out / "nested").exists(), "old content survived --force"
    assert json.loads((out / "model.json").read_text()).get("format") == "layers-model"
    assert complete_export_problems(out) == []
    assert not leftovers(out), f"temp siblings left beside {out}: {leftovers(out)}"


# --------------------------------------------------------------------------- message form

@pytest.mark.parametrize("position", ["after", "before"])
def test_debug_shows_traceback(files, tmp_path, position):
    out = tmp_path / "out"
    src = files.root / "does_not_exist.keras"
    args = ["convert", src, out, "--debug"] if position == "after" else ["--debug", "convert", src, out]
    result = run_cli(*args)
    assert result.returncode != 0, show(result)
    assert "Traceback" in result.stderr, "--debug did not show the traceback\n" + show(result)
    assert "does_not_exist.keras" in result.stderr and "Fix:" in result.stderr, show(result)
    assert not out.exists() and not leftovers(out)


@pytest.mark.parametrize("case", ["missing", "gru"])
def test_stderr_is_exactly_one_paragraph(files, tmp_path_factory, case):
    """'Exit non-zero with one readable paragraph on stderr': nothing else, no TensorFlow log lines."""
    result, _ = refusal(case, files, tmp_path_factory)
    assert result.returncode != 0
    problems = error_paragraph_problems(result.stderr)
    assert not problems, "stderr is not one readable paragraph: " + "; ".join(problems) + "\n" + show(result)


# --------------------------------------------------------------------------- legacy .h5 converts with parity

def _check_export_matches_keras(out, h5):
    import keras

    from exporter.parity.compare import golden_arrays

    assert complete_export_problems(out) == []
    meta = json.loads((out / "meta.json").read_text())
    parity = meta["parity"]
    assert parity["passed"] and parity["max_rel_error"] <= parity["bound"] == FLOAT32_BOUND, parity
    # Independently of the exporter's own report: the golden vectors are what Keras predicts for this file.
    inputs, outputs = golden_arrays(meta["golden"])
    expected = keras.saving.load_model(h5, compile=False).predict(inputs[0], verbose=0)
    np.testing.assert_allclose(outputs[0], expected, rtol=1e-5, atol=1e-6)
    assert not leftovers(out)


def test_legacy_h5_converts_with_parity(files, tmp_path):
    out = tmp_path / "out"
    result = run_cli("convert", files.legacy_h5, out)
    assert result.returncode == 0, show(result)
    assert "Traceback" not in result.stderr, show(result)
    _check_export_matches_keras(out, files.legacy_h5)


def test_keras2_tf_keras_h5_converts_with_parity(files, tmp_path):
    """A file written by Keras 2 itself (tf_keras), when that package is installed."""
    h5 = tmp_path / "keras2.h5"
    script = textwrap.dedent(f"""
        import tf_keras as k
        k.utils.set_random_seed(0)
        m = k.Sequential([k.layers.Dense(16, activation="relu", input_shape=(8,), name="hidden"),
                          k.layers.Dense(4, activation="softmax", name="probs")])
        m.save({str(h5)!r})
    """)
    made = subprocess.run([sys.executable, "-c", script], env=cli_env(), capture_output=True, text=True,
                          timeout=CLI_TIMEOUT)
    if made.returncode != 0 and "No module named 'tf_keras'" in made.stderr:
        pytest.skip("tf_keras is not installed")
    assert made.returncode == 0, made.stderr[-3000:]
    out = tmp_path / "out"
    result = run_cli("convert", h5, out)
    assert result.returncode == 0, show(result)
    assert "Traceback" not in result.stderr, show(result)
    _check_export_matches_keras(out, h5)


# --------------------------------------------------------------------------- atomicity under kill -9

def _wait_for_new_temp(proc, out, before, deadline):
    """Poll until convert's temp dir appears beside out (or the process ends); returns the time or None."""
    while time.monotonic() < deadline and proc.poll() is None:
        if set(leftovers(out)) - before:
            return time.monotonic()
        time.sleep(0.002)
    return None


def test_kill_9_leaves_old_or_complete_new(files, tmp_path):
    root = tmp_path
    out = root / "out"

    # The old complete export, and a pristine copy to restore it from between kills.
    result = run_cli("convert", files.small, out)
    assert result.returncode == 0, show(result)
    old = snapshot(out)
    assert complete_export_problems(out) == []
    pristine = root / "pristine_old"
    shutil.copytree(out, pristine)

    # Measure a full conversion of the big model (and its reference output): total time, and when the
    # temp dir appears / the result lands, to aim most kills at the window where files are being written.
    reference = root / "reference"
    started = time.monotonic()
    proc = subprocess.Popen(convert_cmd(files.big, reference), cwd=REPO, env=cli_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    temp_seen = _wait_for_new_temp(proc, reference, set(), started + CLI_TIMEOUT)
    while proc.poll() is None and not reference.exists():
        time.sleep(0.002)
    landed = time.monotonic()
    stderr = proc.communicate(timeout=CLI_TIMEOUT)[1]
    total = time.monotonic() - started
    assert proc.returncode == 0, stderr
    assert temp_seen is not None, "never saw convert's temp directory beside OUT_DIR"
    assert complete_export_problems(reference) == []
    new = snapshot(reference)
    window = max(landed - temp_seen, 0.05)

    schedule = [("after start", d) for d in np.linspace(0.5, total, 4)[:3]]  # spread over the whole run
    schedule += [("after temp dir appeared", d) for d in np.linspace(0.0, window * 1.3, 7)]
    outcomes = []
    for label, delay in schedule:
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(pristine, out)
        assert snapshot(out) == old
        before = set(leftovers(out))
        start = time.monotonic()
        proc = subprocess.Popen(convert_cmd(files.big, out, "--force"), cwd=REPO, env=cli_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            if label == "after start":
                anchor = start
            else:
                anchor = _wait_for_new_temp(proc, out, before, start + CLI_TIMEOUT)
            if anchor is not None:
                while proc.poll() is None and time.monotonic() < anchor + delay:
                    time.sleep(0.001)
            killed = proc.poll() is None
            if killed:
                # SIGKILL the converter and its children (the TF.js node process): its own session.
                os.killpg(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(timeout=60)
        at = time.monotonic() - start
        assert out.is_dir(), f"kill at {at:.2f}s ({label} +{delay:.2f}s): OUT_DIR vanished"
        now = snapshot(out)
        if now == old:
            state = "old"
        else:
            problems = complete_export_problems(out)
            assert not problems, f"kill at {at:.2f}s ({label} +{delay:.2f}s): OUT_DIR is neither the old export " \
                                 f"nor a complete new one: {problems}; files {sorted(now)}"
            differing = [k for k in new if k != "meta.json" and now.get(k) != new[k]]
            assert not differing and set(now) == set(new), \
                f"kill at {at:.2f}s: OUT_DIR is complete but differs from a clean conversion in {differing}"
            state = "new"
        outcomes.append((f"{label} +{delay:.2f}s", round(at, 2), "killed" if killed else "finished", state))

    print("\nkill schedule (full run %.2fs, temp dir at %.2fs, result at %.2fs):" %
          (total, temp_seen - started, landed - started))
    for outcome in outcomes:
        print("  ", outcome)
    in_window = [o for o in outcomes[3:] if o[2] == "killed"]
    assert len(in_window) >= 3, f"too few kills landed while the temp dir existed: {outcomes}"

    # A stale temp sibling (as a kill leaves) is cleaned up by the next successful conversion.
    stale = root / f".{out.name}.tmp-stale0000"
    stale.mkdir(exist_ok=True)
    (stale / "group1-shard1of11.bin").write_bytes(b"\0" * 1000)
    assert leftovers(out)
    result = run_cli("convert", files.big, out, "--force")
    assert result.returncode == 0, show(result)
    assert complete_export_problems(out) == []
    assert not leftovers(out), f"stale temp siblings survived a successful convert: {leftovers(out)}"
