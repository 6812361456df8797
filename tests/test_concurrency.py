"""Two processes at once: the caches and outputs they share stay whole.

- The Fashion-MNIST copy into an empty KERAS_HOME (models/data/fashion_mnist.py), three
  processes released together by a barrier: all succeed, every file equals its source.
- Two `export squeezenet --quick` on an empty KERAS_HOME and checkpoint directory: both succeed,
  the checkpoint is trained once (the other waits on its lock and loads it), both exports verified.
- Two `convert` into one OUT_DIR: with --force both exit 0; without, one exits 0 and the other
  gets the one-paragraph "already exists" error; the directory is always one whole export
  (meta.json lists exactly the files there), never a mix of the two.
- atomic_directory in one process, step by step: a second writer does not remove the first's
  temporary directory, whichever lands second replaces (or is refused), nothing is left behind.
- web_demo/vendor.mjs run twice at once, and ensure_vendor from two threads.
- A cache that cannot be written (KERAS_HOME, the checkpoint directory) is a one-paragraph error.

About two and a half minutes on two busy cores: the two exports about 60 s, the converts 50 s, the
rest 35 s.
"""

import hashlib
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from exporter.output.atomic import OutputExistsError, atomic_directory
from models.data import fashion_mnist

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 900  # seconds for one CLI run when other tests keep the two cores busy


def cli_env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update({"TF_CPP_MIN_LOG_LEVEL": "3", "TFDF_DISABLE_WELCOME_MESSAGE": "1", "CI": "1"}, **extra)
    return env


def start_together(commands, logs, **env):
    """Popen every command at once (output to its log file); returns the processes."""
    processes = []
    for command, log in zip(commands, logs):
        with open(log, "w") as out:
            processes.append(subprocess.Popen([sys.executable, "-m", "exporter", *map(str, command)], cwd=REPO,
                                              env=cli_env(**env), stdout=out, stderr=subprocess.STDOUT))
    return processes


def wait_all(processes):
    try:
        return [process.wait(timeout=TIMEOUT) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def hidden_temporaries(directory):
    return sorted(p.name for p in Path(directory).iterdir() if ".tmp-" in p.name or ".old-" in p.name)


def one_paragraph_error(text):
    assert "Traceback" not in text and "failed unexpectedly" not in text, text[-3000:]


# --------------------------------------------------------------------------- the dataset copy


def _seed_after(barrier, keras_home):
    os.environ["KERAS_HOME"] = str(keras_home)
    barrier.wait(timeout=60)
    from models.data import fashion_mnist as data

    data.seed_keras_cache()


@pytest.mark.skipif(not fashion_mnist.DEBIAN_DIR.exists(), reason="the Debian package dataset-fashion-mnist is absent")
def test_three_processes_copy_the_dataset_into_an_empty_cache_at_once(tmp_path):
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(3)
    workers = [spawn.Process(target=_seed_after, args=(barrier, tmp_path / "keras")) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]
    cache = tmp_path / "keras" / "datasets" / "fashion-mnist"
    for name in fashion_mnist.FILES:
        assert sha256(cache / name) == sha256(fashion_mnist.DEBIAN_DIR / name), name
    assert hidden_temporaries(cache) == []


# --------------------------------------------------------------------------- one index, two writers


def _index_row_after(barrier, root, name):
    from exporter.zoo.index import update_index

    barrier.wait(timeout=60)
    for version in range(20):  # many read-change-write rounds, so that unlocked ones would interleave
        update_index(root, {"name": name, "parameter_count": version})


def test_two_exports_into_one_root_keep_both_index_rows(tmp_path):
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(2)
    workers = [spawn.Process(target=_index_row_after, args=(barrier, tmp_path, name)) for name in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    rows = json.loads((tmp_path / "index.json").read_text())["models"]
    assert [(row["name"], row["parameter_count"]) for row in rows] == [("a", 19), ("b", 19)]


# --------------------------------------------------------------------------- two exports


@pytest.mark.skipif(not fashion_mnist.DEBIAN_DIR.exists(), reason="the Debian package dataset-fashion-mnist is absent")
def test_two_exports_at_once_train_the_checkpoint_once(tmp_path):
    """Empty KERAS_HOME, empty checkpoint directory: one process trains, the other waits on the
    checkpoint's lock and loads what the first saved; both exports pass parity."""
    logs = [tmp_path / f"export{i}.log" for i in range(2)]
    processes = start_together([["export", "squeezenet", "--quick", "--out", tmp_path / f"web{i}"] for i in range(2)],
                               logs, KERAS_HOME=str(tmp_path / "keras"),
                               WEBNETS_CHECKPOINT_DIR=str(tmp_path / "checkpoints"))
    codes = wait_all(processes)
    texts = [log.read_text(errors="replace") for log in logs]
    assert codes == [0, 0], [text[-3000:] for text in texts]
    trained = [text for text in texts if "squeezenet: training the demo model" in text]
    loaded = [text for text in texts if "squeezenet: using the cached checkpoint" in text]
    assert len(trained) == 1 and len(loaded) == 1, texts
    assert "another process is training or saving this checkpoint" in loaded[0]
    record = json.loads((tmp_path / "checkpoints" / "squeezenet.json").read_text())
    for index in range(2):
        meta = json.loads((tmp_path / f"web{index}" / "squeezenet" / "meta.json").read_text())
        assert meta["parity"]["passed"]
        assert meta["training"]["weights_sha256"] == record["weights_sha256"]  # the same checkpoint, both
    assert hidden_temporaries(tmp_path / "checkpoints") == []
    cache = tmp_path / "keras" / "datasets" / "fashion-mnist"
    assert all(sha256(cache / name) == sha256(fashion_mnist.DEBIAN_DIR / name) for name in fashion_mnist.FILES)


@pytest.mark.parametrize("cache", ["KERAS_HOME", "WEBNETS_CHECKPOINT_DIR"])
def test_a_cache_that_cannot_be_written_is_one_paragraph(tmp_path, cache):
    """A cache directory under a regular file (as root, permissions would not stop the write): the
    dataset copy or the checkpoint lock fails with its fix, not a traceback."""
    (tmp_path / "file").write_text("not a directory")
    env = {"KERAS_HOME": str(tmp_path / "keras"), "WEBNETS_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
           cache: str(tmp_path / "file" / "cache")}
    if cache == "KERAS_HOME" and not fashion_mnist.DEBIAN_DIR.exists():
        pytest.skip("the Debian package dataset-fashion-mnist is absent")
    log = tmp_path / "export.log"
    (code,) = wait_all(start_together([["export", "squeezenet", "--quick", "--out", tmp_path / "web"]], [log], **env))
    text = " ".join(log.read_text(errors="replace").split())
    assert code == 1, text
    one_paragraph_error(text)
    expected = "could not be copied from" if cache == "KERAS_HOME" else "cannot be written"
    assert expected in text and "Fix:" in text, text
    assert not (tmp_path / "web").exists()


# --------------------------------------------------------------------------- two converts into one OUT_DIR


@pytest.fixture(scope="module")
def two_models(tmp_path_factory):
    """Two models of one size (so that the two converts take about as long), whose exports differ in
    their files, so that a mix would show: one is written in many shards, the other in one."""
    import keras

    root = tmp_path_factory.mktemp("models")
    for name in ("many", "one"):
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(256, name="dense")], name=name)
        model.save(root / f"{name}.keras")
    return [(root / "many.keras", ["--shard-size", "8K"]), (root / "one.keras", [])]


def whole_export_problems(out):
    """Why OUT_DIR is not one complete export: meta.json must list exactly the other files there,
    with their sizes, and model.json's manifest must name exactly its shards."""
    meta = json.loads((out / "meta.json").read_text())
    model = json.loads((out / "model.json").read_text())
    present = {p.name: p.stat().st_size for p in out.iterdir() if p.name != "meta.json"}
    shards = {path for group in model["weightsManifest"] for path in group["paths"]}
    problems = []
    if meta["bytes"] != present:
        problems.append(f"meta.json lists {sorted(meta['bytes'])}, the directory holds {sorted(present)}")
    if shards | {"model.json"} != set(present):
        problems.append(f"model.json names {sorted(shards)}, the directory holds {sorted(present)}")
    if model["modelTopology"]["model_config"]["config"]["name"] != meta["name"]:
        problems.append("model.json and meta.json are of different models")
    return problems


@pytest.mark.parametrize("force", [True, False], ids=["force", "no-force"])
def test_two_converts_into_one_directory_leave_one_whole_export(tmp_path, two_models, force):
    out = tmp_path / "out"
    logs = [tmp_path / f"convert{i}.log" for i in range(2)]
    commands = [["convert", src, out, *options, *(["--force"] if force else [])] for src, options in two_models]
    codes = wait_all(start_together(commands, logs))
    texts = [log.read_text(errors="replace") for log in logs]
    for text in texts:
        one_paragraph_error(text)
    if force:
        assert codes == [0, 0], texts
    else:
        assert sorted(codes) == [0, 1], texts
        # Told at the start (the other had landed by then) or, usually, when its own directory was
        # ready to land (test_without_replace_the_second_landing_is_refused_clearly: that moment).
        refused = " ".join(texts[codes.index(1)].split())
        assert "already exists" in refused and "Fix: pass --force" in refused, refused
    assert whole_export_problems(out) == []
    assert hidden_temporaries(tmp_path) == []


# --------------------------------------------------------------------------- atomic_directory, step by step


def test_a_second_writer_leaves_the_first_writers_temporary_alone(tmp_path):
    target = tmp_path / "out"
    abandoned = tmp_path / ".out.tmp-12345-killed"  # as a kill -9 leaves it: no one holds its lock
    abandoned.mkdir()
    with atomic_directory(target, replace=True) as first:
        (first / "a.txt").write_text("first")
        assert not abandoned.exists()  # cleaned up by the first writer
        with atomic_directory(target, replace=True) as second:
            assert first.exists() and (first / "a.txt").read_text() == "first"  # still the first's
            (second / "b.txt").write_text("second")
        assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"]  # the later landing replaced it whole
    assert hidden_temporaries(tmp_path) == []


def test_without_replace_the_second_landing_is_refused_clearly(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(OutputExistsError, match="already exists.*Fix: pass --force"):
        with atomic_directory(target) as first:
            (first / "a.txt").write_text("first")
            with atomic_directory(target) as second:
                (second / "b.txt").write_text("second")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]  # the first to land, untouched
    assert hidden_temporaries(tmp_path) == []


# --------------------------------------------------------------------------- the vendored TF.js


@pytest.fixture
def demo_copy(tmp_path):
    """web_demo/vendor.mjs in a directory of its own beside node_modules and the JS package's sources
    (vendor.mjs builds the package first), so the repository's web_demo/vendor is not touched."""
    (tmp_path / "web_demo").mkdir()
    shutil.copy(REPO / "web_demo" / "vendor.mjs", tmp_path / "web_demo")
    shutil.copy(REPO / "package.json", tmp_path)
    shutil.copytree(REPO / "js", tmp_path / "js", ignore=shutil.ignore_patterns("dist"))
    (tmp_path / "node_modules").symlink_to(REPO / "node_modules")
    return tmp_path


def vendored_problems(root):
    vendor = root / "web_demo" / "vendor"
    sources = {"tf.min.js": "tfjs/dist/tf.min.js",
               "tf-backend-wasm.min.js": "tfjs-backend-wasm/dist/tf-backend-wasm.min.js",
               "tfjs-backend-wasm.wasm": "tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm"}
    problems = [name for name, source in sources.items()
                if sha256(vendor / name) != sha256(REPO / "node_modules" / "@tensorflow" / source)]
    if sha256(vendor / "webnets.js") != sha256(root / "js" / "dist" / "webnets.js"):
        problems.append("webnets.js")
    return problems + hidden_temporaries(vendor) + hidden_temporaries(root / "js" / "dist")


def test_two_vendor_copies_at_once(demo_copy):
    script = demo_copy / "web_demo" / "vendor.mjs"
    runs = [subprocess.Popen(["node", str(script)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert vendored_problems(demo_copy) == []


def test_ensure_vendor_from_two_threads_runs_node_once(demo_copy, monkeypatch):
    from exporter.browser import chromium

    monkeypatch.setattr(chromium, "WEB_DEMO", demo_copy / "web_demo")
    monkeypatch.setattr(chromium, "ROOT", demo_copy)
    runs, real_run = [], subprocess.run

    def counted(*args, **kwargs):
        runs.append(args)
        return real_run(*args, **kwargs)

    monkeypatch.setattr(chromium.subprocess, "run", counted)
    errors = []

    def ensure():
        try:
            chromium.ensure_vendor()
        except Exception as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=ensure) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and len(runs) == 1
    assert vendored_problems(demo_copy) == []
