"""Resource limits before allocation (exporter/layers/budget.py): a model file cannot make webnets
allocate more than it holds.

A 30 kB .keras file whose config.json declares Dense(units=10**9) made Keras allocate 24 GB
while building the model, before it read a weight; safe_mode stops code, not memory. The config
is now read as data first and refused when it declares more weights than the file stores or
than --max-params; the TF.js importer refuses a manifest that disagrees with its shard sizes, or
layers that declare more than the manifest. Every model of the coverage and keras-hub corpora
passes the check, so no legitimate model is refused.

About 50 s on two cores (three subprocess conversions); the keras.applications beyond a slice of
two run under the `corpus` marker (`pytest -m corpus tests/test_resource_limits.py`, 8 min).
"""

import functools
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import zipfile

import h5py
import keras
import numpy as np
import pytest

import exporter
from exporter.cli import build_parser
from exporter.errors import ExportError
from exporter.importer import import_model
from exporter.importer.reader import read_model
from exporter.layers.budget import DEFAULT_MAX_PARAMS, DEFAULT_MAX_TENSOR, estimate_model
from exporter.layers.keras_io import check_model_file, load_keras_model
from exporter.parity.runtime import REPO_ROOT

from .coverage_corpus import APPLICATIONS, EXAMPLES, HUB, TRACED

L = keras.layers
QUIET = dict(log=lambda *_: None)
GB = 1024**3
# Run a command as a child of a fresh Python and print the child's peak RSS: RUSAGE_CHILDREN of
# the test process itself would also count every earlier child of this pytest session.
PEAK_RSS = """
import resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=300)
sys.stderr.write(proc.stderr)
print(proc.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
"""


def run_measured(*args):
    """(exit code, stderr, peak RSS in bytes) of `python -m exporter ARGS` in a subprocess."""
    proc = subprocess.run([sys.executable, "-c", PEAK_RSS, sys.executable, "-m", "exporter", *map(str, args)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=400,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    code, peak = proc.stdout.split()
    return int(code), " ".join(proc.stderr.replace("-\n", "-").split()), int(peak)


def _tiny():
    numbers, tokens = keras.Input((5,), name="numbers"), keras.Input((3,), dtype="int32", name="tokens")
    outputs = [L.Dense(7, name="dense")(numbers), L.Embedding(10, 4, name="embedding")(tokens)]
    return keras.Model([numbers, tokens], outputs)


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny") / "tiny.keras"
    _tiny().save(path)
    return path


def mutate(src, dst, edit):
    """A copy of the .keras file `src` whose config.json `edit(config)` changed: what an attacker
    (or a damaged copy) does; everything else in the archive stays as it was."""
    with zipfile.ZipFile(src) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(dst, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return dst


def layer_config(config, name):
    return next(layer for layer in config["config"]["layers"] if layer["name"] == name)


def dense_bomb(config):
    layer_config(config, "dense")["config"]["units"] = 10**9


def embedding_bomb(config):
    layer_config(config, "embedding")["config"].update(input_dim=10**9, output_dim=10**3)


# ------------------------------------------------------------------------------------ convert


@pytest.mark.parametrize("bomb, message", [
    (dense_bomb, r"layer 'dense' \(Dense\) alone 6,000,000,000: units 1,000,000,000 x 5 input features\), at "
                 r"least 12,000,000,\d+ bytes even stored as float16, but its weights file model.weights.h5 holds "
                 r"only [\d,]+ bytes\. .*24.0 GB before a single weight is read.*Fix: save the model again"),
    (embedding_bomb, r"layer 'embedding' \(Embedding\) alone 1,000,000,000,000: input_dim 1,000,000,000 x "
                     r"output_dim 1,000\).*holds only [\d,]+ bytes.*Fix: save the model again"),
], ids=["dense_1e9_units", "embedding_1e9_x_1e3"])
def test_a_bomb_file_is_refused_under_1_gb(tiny_file, tmp_path, bomb, message):
    bombed = mutate(tiny_file, tmp_path / "bomb.keras", bomb)
    assert bombed.stat().st_size < 30_000
    code, stderr, peak = run_measured("convert", bombed, tmp_path / "out")
    assert code == 1, stderr
    assert stderr.startswith(f"error: '{bombed}': its config declares at least")
    assert re.search(message, stderr), stderr
    assert peak < GB, f"peak RSS {peak / 2**20:.0f} MiB"
    assert not (tmp_path / "out").exists()


def test_max_params_refuses_before_loading_and_reaches_the_loader(tiny_file, tmp_path):
    # 7 x 5 + 7 (Dense) + 10 x 4 (Embedding) = 82 parameters
    with pytest.raises(ExportError, match=r"at least 82 parameters \(layer 'dense' \(Dense\) alone 42: units 7 x 5 "
                                          r"input features\), more than the limit of 81 \(--max-params\)\..*Fix: "
                                          r"if you trust the file .* raise the limit \(--max-params 82\)"):
        exporter.convert(tiny_file, tmp_path / "out", max_params=81, verify=False, **QUIET)
    assert not (tmp_path / "out").exists()
    assert load_keras_model(tiny_file, max_params=82).count_params() == 82


def test_the_cli_option_parses_counts():
    parse = build_parser().parse_args
    assert parse(["convert", "a.keras", "out"]).max_params is None  # the default, DEFAULT_MAX_PARAMS
    assert parse(["convert", "a.keras", "out", "--max-params", "5e9"]).max_params == 5_000_000_000
    assert parse(["convert", "a.keras", "out", "--max-params", "123"]).max_params == 123
    for bad in ("0", "1.5", "lots"):
        with pytest.raises(SystemExit):
            parse(["convert", "a.keras", "out", "--max-params", bad])


def test_a_huge_input_is_refused_as_a_tensor_per_sample(tiny_file, tmp_path):
    """No weights, but one sample would not fit: the verification run would allocate it."""
    def huge_input(config):
        layer_config(config, "numbers")["config"]["batch_shape"] = [None, 10**5, 10**5]

    bombed = mutate(tiny_file, tmp_path / "wide.keras", huge_input)
    with pytest.raises(ExportError, match=r"layer 'numbers' \(InputLayer\) makes a tensor of 10,000,000,000 values "
                                          r"per sample \(shape 100,000 x 100,000\), more than the limit of "
                                          r"16,777,216 \(--max-params\).*Fix:"):
        check_model_file(bombed)


def test_a_bomb_without_build_config_is_sized_from_the_graph(tiny_file, tmp_path):
    """Without build_config (Keras 2 files have none), the input size comes from the InputLayer."""
    def wide_input_no_build_config(config):
        layer_config(config, "numbers")["config"]["batch_shape"] = [None, 10**6]
        dense = layer_config(config, "dense")
        del dense["build_config"]
        dense["config"]["units"] = 1000
        dense["inbound_nodes"][0]["args"][0]["config"]["shape"] = [None, 5]  # a lie: Keras uses the graph

    bombed = mutate(tiny_file, tmp_path / "graph.keras", wide_input_no_build_config)
    with pytest.raises(ExportError, match=r"alone 1,000,001,000: units 1,000 x 1,000,000 input features"):
        check_model_file(bombed)


def test_an_archive_without_weights_and_an_h5_bomb(tmp_path):
    model = keras.Sequential([keras.Input((5,)), L.Dense(3, name="head")])
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as src, zipfile.ZipFile(tmp_path / "bare.keras", "w") as dst:
        dst.writestr("config.json", src.read("config.json"))
    with pytest.raises(ExportError, match=r"but the archive \(it has no model.weights.h5\) holds only 0 bytes"):
        check_model_file(tmp_path / "bare.keras")
    model.save(tmp_path / "m.h5")  # the legacy format: the config is an attribute of the .h5 file
    check_model_file(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r+") as f:
        config = json.loads(f.attrs["model_config"])
        config["config"]["layers"][-1]["config"]["units"] = 10**9
        f.attrs["model_config"] = json.dumps(config)
    with pytest.raises(ExportError, match=r"layer 'head' \(Dense\) alone 6,000,000,000.* but the whole .h5 file "
                                          r"holds only [\d,]+ bytes"):
        load_keras_model(tmp_path / "m.h5")


def test_malformed_configs_never_crash_the_estimate(tiny_file):
    """Garbage in any config value (strings for sizes, negative, fractional or huge numbers, layers
    where none belong) is data like any other: the estimate never raises on it."""
    rng = np.random.default_rng(0)
    junk = ["x", -5, 0, 1.5, 1e9, None, [1, [2]], {"a": 1}, True, 10**400, [None, "y"], [0, 0, 0],
            {"class_name": "Dense", "config": {"units": 10**9}}]
    original = json.loads(zipfile.ZipFile(tiny_file).read("config.json"))
    paths = []

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, path + [k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, path + [i])
        paths.append(path)

    walk(original, [])
    for _ in range(2000):
        config = json.loads(json.dumps(original))
        for _ in range(rng.integers(1, 4)):
            path = paths[rng.integers(len(paths))]
            node = config
            try:
                for key in path[:-1]:
                    node = node[key]
                if path:
                    node[path[-1]] = json.loads(json.dumps(junk[rng.integers(len(junk))]))
            except (KeyError, IndexError, TypeError):  # an earlier edit replaced a parent
                pass
        estimate_model(config)


def test_a_deeply_nested_config_is_refused(tiny_file, tmp_path):
    def nest(config):
        inner = {"class_name": "Dense", "config": {"name": "bottom", "units": 3}}
        for depth in range(100):
            inner = {"class_name": "Wrapper", "config": {"name": f"w{depth}", "layer": inner}}
        config["config"]["layers"].append(inner)

    with pytest.raises(ExportError, match=r"nested more than 64 levels deep"):
        check_model_file(mutate(tiny_file, tmp_path / "deep.keras", nest))


# ------------------------------------------------------------------------------------ no legitimate model is refused


def strip_shapes(node, tensors=True):
    """The config as a Keras 2 file has it (no build_config, no tensor shapes), or Keras 3's .h5
    (tensors=False: no build_config, tensor shapes kept)."""
    if isinstance(node, dict):
        node.pop("build_config", None)
        if tensors and node.get("class_name") == "__keras_tensor__":
            node["config"]["shape"] = None
        for value in node.values():
            strip_shapes(value, tensors)
    elif isinstance(node, list):
        for value in node:
            strip_shapes(value, tensors)
    return node


def weight_values(model):
    return sum(int(np.prod(v.shape)) for v in model.weights)


def check_corpus_entry(entry, tmp_path, exact):
    """The saved file passes; the estimate never exceeds Keras' own count (it is a lower bound),
    also when sized from the graph alone; for keras.applications it is Keras' count (exact=True)."""
    keras.utils.set_random_seed(0)
    model = entry.build()
    path = tmp_path / f"{entry.name}.keras"
    model.save(path)
    check_model_file(path)
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    actual = weight_values(model)
    estimate = estimate_model(config)
    assert estimate.params <= actual
    assert estimate.largest_tensor[0] <= DEFAULT_MAX_TENSOR
    assert estimate_model(strip_shapes(json.loads(json.dumps(config)), tensors=False)).params <= actual
    assert estimate_model(strip_shapes(config)).params <= actual
    if exact:
        assert estimate.params >= 0.999 * actual  # LayerScale gammas etc. are not counted (ConvNeXt)
    keras.backend.clear_session()


SLICE = [e for e in APPLICATIONS if e.name in ("VGG16", "MobileNetV3Small")]


@pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`")
@pytest.mark.parametrize("entry", EXAMPLES + HUB + TRACED + SLICE, ids=lambda e: e.name)
def test_every_corpus_model_passes(entry, tmp_path):
    check_corpus_entry(entry, tmp_path, exact=entry in SLICE)


@pytest.mark.corpus
@pytest.mark.parametrize("entry", [e for e in APPLICATIONS if e not in SLICE], ids=lambda e: e.name)
def test_every_application_passes(entry, tmp_path):
    check_corpus_entry(entry, tmp_path, exact=True)


# ------------------------------------------------------------------------------------ import


@pytest.fixture(scope="module")
def tfjs_exports(tmp_path_factory):
    """A webnets export of a small model, float32 and uint8."""
    root = tmp_path_factory.mktemp("tfjs")
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 6, 2))
    x = L.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    model = keras.Model(inputs, L.Dense(3, name="head")(L.Flatten()(x)))
    exporter.export_keras_model(model, root / "float32", verify=False, **QUIET)
    exporter.export_keras_model(model, root / "uint8", quantize="uint8", verify=False, **QUIET)
    return root, weight_values(model)


def copy_export(src, dst, edit=None):
    dst.mkdir()
    for path in src.iterdir():
        (dst / path.name).write_bytes(path.read_bytes())
    if edit is not None:
        model_json = json.loads((dst / "model.json").read_text())
        edit(model_json)
        (dst / "model.json").write_text(json.dumps(model_json))
    return dst


def manifest_weight(model_json, suffix):
    return next(w for group in model_json["weightsManifest"] for w in group["weights"] if w["name"].endswith(suffix))


def test_legitimate_exports_read_float32_and_quantized(tfjs_exports):
    root, values = tfjs_exports
    for name in ("float32", "uint8"):
        tfjs = read_model(root / name)
        assert sum(a.size for a in tfjs.weights.values()) == values
    assert read_model(root / "uint8").quantized


def test_a_manifest_bomb_is_refused_under_1_gb(tfjs_exports, tmp_path):
    bombed = copy_export(tfjs_exports[0] / "float32", tmp_path / "bomb",
                         lambda m: manifest_weight(m, "head/kernel").update(shape=[10**9, 3]))
    code, stderr, peak = run_measured("import", bombed, tmp_path / "out.keras", "--no-verify")
    assert code == 1, stderr
    assert re.search(r"the weights manifest declares 12,000,000,\d+ bytes of weights \(the sum of each weight's "
                     r"shape x its dtype's size\) but the shard files group1-shard1of1.bin hold [\d,]+ bytes.*"
                     r"Fix: re-download or re-export the model", stderr), stderr
    assert peak < GB, f"peak RSS {peak / 2**20:.0f} MiB"
    assert not (tmp_path / "out.keras").exists()



def test_quantized_shapes_and_truncated_shards_are_checked(tfjs_exports, tmp_path):
    grown = copy_export(tfjs_exports[0] / "uint8", tmp_path / "grown",
                        lambda m: manifest_weight(m, "conv/kernel").update(shape=[3, 3, 2, 400]))
    with pytest.raises(ExportError, match=r"declares [\d,]+ bytes of weights .* hold [\d,]+ bytes"):
        read_model(grown)
    truncated = copy_export(tfjs_exports[0] / "uint8", tmp_path / "truncated")
    shard = next(truncated.glob("*.bin"))
    shard.write_bytes(shard.read_bytes()[:-1])
    with pytest.raises(ExportError, match=r"hold [\d,]+ bytes: model.json does not describe these shards"):
        read_model(truncated)
    bad = copy_export(tfjs_exports[0] / "float32", tmp_path / "bad",
                      lambda m: manifest_weight(m, "head/bias").update(shape=[-3]))
    with pytest.raises(ExportError, match=r"no valid shape in the manifest \(\[-3\]\)"):
        read_model(bad)


def test_a_topology_bomb_is_refused_before_any_layer_is_built(tfjs_exports, tmp_path):
    """The manifest matches its shards, but a layer config declares 10**9 units."""
    def units(model_json):
        layers = model_json["modelTopology"]["model_config"]["config"]["layers"]
        next(layer for layer in layers if layer["name"] == "head")["config"]["units"] = 10**9

    bombed = copy_export(tfjs_exports[0] / "float32", tmp_path / "topology", units)
    with pytest.raises(ExportError, match=r"its layer configs declare at least [\d,]+ weight values \(layer 'head' "
                                          r"\(Dense\) alone 65,000,000,000: units 1,000,000,000 x 64 input "
                                          r"features\), but the weights manifest holds only 271\..*Fix:"):
        import_model(bombed, tmp_path / "out.keras", verify=False, **QUIET)


def test_import_max_params(tfjs_exports, tmp_path):
    with pytest.raises(ExportError, match=r"declares 271 values, more than the limit of 100 .*max_params=271"):
        import_model(tfjs_exports[0] / "float32", tmp_path / "out.keras", verify=False, max_params=100, **QUIET)
    summary = import_model(tfjs_exports[0] / "float32", tmp_path / "out.keras", verify=False, max_params=271, **QUIET)
    assert summary["params"] == 271


def test_import_cli_takes_max_params(tfjs_exports, tmp_path, capsys):
    from exporter.cli import main

    out = tmp_path / "cli.keras"
    assert main(["import", str(tfjs_exports[0] / "float32"), str(out), "--no-verify", "--max-params", "100"]) == 1
    said = " ".join(capsys.readouterr().err.split())  # the CLI wraps the paragraph
    assert "more than the limit of 100 (--max-params N" in said and "pass --max-params 271" in said
    assert not out.exists()


def test_a_download_stops_at_the_size_the_manifest_declares(tfjs_exports, tmp_path):
    """From a URL, a shard larger than its manifest declares is cut off while downloading."""
    served = copy_export(tfjs_exports[0] / "float32", tmp_path / "served")
    shard = next(served.glob("*.bin"))
    shard.write_bytes(shard.read_bytes() + bytes(5 * 2**20))  # 5 MB more than declared
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    (tmp_path / "work").mkdir()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/served/"
        with pytest.raises(ExportError, match=r"group1-shard1of1.bin is larger than the weights manifest declares "
                                              r"for its group \(1,084 bytes\), so the download was stopped"):
            read_model(url, work=tmp_path / "work")
    finally:
        server.shutdown()
        server.server_close()
    assert (tmp_path / "work" / shard.name).stat().st_size <= 2**20  # one chunk at most was kept


def test_an_oversized_config_is_not_parsed(tiny_file, tmp_path):
    def pad(config):
        config["padding"] = "x" * (65 * 2**20)

    with pytest.raises(ExportError, match=r"its model config is [\d,]+ bytes, more than the 67,108,864 a model "
                                          r"config takes"):
        check_model_file(mutate(tiny_file, tmp_path / "padded.keras", pad))
