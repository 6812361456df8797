"""Hand-made hostile exports, one per rule the readers hold (exporter/output/validation.py): each is
refused quickly with one paragraph, where TF.js would loop forever, or a path would reach outside the
export. The fuzzer (tests/test_fuzz.py) finds such files by chance; these pin the worst ones down.
"""

import json
import shutil
import time

import pytest

import exporter
from exporter.errors import ExportError
from exporter.importer import import_model
from exporter.publish import publish

QUIET = dict(log=lambda *a, **k: None)


@pytest.fixture
def cnn(fuzz_seeds, tmp_path):
    """A copy of a verified export (model.json, shard, meta.json) and its exports root."""
    root = tmp_path / "exports"
    shutil.copytree(fuzz_seeds / "exports", root)
    return root / "cnn"


def _edit(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _layers(model_json):
    return model_json["modelTopology"]["model_config"]["config"]["layers"]


def test_cyclic_graph_is_refused_not_looped_on(cnn, tmp_path):
    # The stem convolution takes the output of the layer after it: TF.js' loader would spin forever.
    def cycle(data):
        layers = _layers(data)
        stem = next(layer for layer in layers if layer["name"] == "stem")
        stem["inbound_nodes"] = [[["left", 0, 0, {}]]]
    _edit(cnn / "model.json", cycle)
    started = time.monotonic()
    for call in (lambda: exporter.verify(cnn), lambda: import_model(cnn, tmp_path / "out.keras", **QUIET)):
        with pytest.raises(ExportError, match="cycle through layer '(left|stem)'.*Fix:"):
            call()
    assert time.monotonic() - started < 30
    assert not (tmp_path / "out.keras").exists()


def test_duplicate_layer_names_are_refused(cnn):
    _edit(cnn / "model.json", lambda data: _layers(data)[4]["config"].update(name="stem") or
          _layers(data)[4].update(name="stem"))
    with pytest.raises(ExportError, match="names two layers 'stem'"):
        exporter.verify(cnn)


def test_required_script_outside_the_export_is_refused(cnn, tmp_path):
    # meta.json `requires` is loaded as code by the runner and by pages: never a path.
    _edit(cnn / "meta.json", lambda meta: meta.update(requires=[{"file": "../../evil.js", "sha256": "0"}]))
    with pytest.raises(ExportError, match="'../../evil.js', which is not a plain .js name"):
        exporter.verify(cnn)
    with pytest.raises(ExportError, match="evil.js"):
        publish(cnn.parent, f"file://{tmp_path / 'cdn'}", "1.0.0", **QUIET)
    assert not (tmp_path / "cdn" / "index.json").exists()


def test_shard_path_outside_the_export_is_refused(cnn, tmp_path):
    outside = tmp_path / "secret.bin"
    shard = next(cnn.glob("*.bin"))
    shutil.copyfile(shard, outside)
    _edit(cnn / "model.json", lambda data: data["weightsManifest"][0].update(paths=["../../secret.bin"]))
    with pytest.raises(ExportError, match="weight shard '../../secret.bin', which is not a plain"):
        import_model(cnn, tmp_path / "out.keras", **QUIET)
    with pytest.raises(ExportError, match="secret.bin"):
        publish(cnn.parent, f"file://{tmp_path / 'cdn'}", "1.0.0", **QUIET)


def test_golden_vectors_that_disagree_with_their_shape(cnn):
    _edit(cnn / "meta.json", lambda meta: meta["golden"]["inputs"][0].update(shape=[1, 8, 10 ** 10, 3]))
    with pytest.raises(ExportError, match=r"golden inputs\[0\] declares the shape \[1, 8, 10000000000, 3\]"):
        exporter.verify(cnn)


def test_a_damaged_cdn_index_is_kept_not_built_on(fuzz_seeds, tmp_path):
    cdn = tmp_path / "cdn"
    shutil.copytree(fuzz_seeds / "cdn", cdn)
    _edit(cdn / "index.json", lambda index: index["models"][0]["versions"].update({"1.0.0": "gone"}))
    before = (cdn / "index.json").read_bytes()
    with pytest.raises(ExportError, match="lists version '1.0.0' without a valid entry.*Fix:"):
        publish(fuzz_seeds / "exports", f"file://{cdn}", "1.0.1", **QUIET)
    assert (cdn / "index.json").read_bytes() == before


def test_a_damaged_saved_model_is_explained(fuzz_seeds, tmp_path):
    saved = tmp_path / "sm"
    shutil.copytree(fuzz_seeds / "mlp.savedmodel", saved)
    index = saved / "variables" / "variables.index"
    index.write_bytes(index.read_bytes()[:40])
    with pytest.raises(ExportError, match="could not be read as a SavedModel: TensorFlow says .*Fix: export it again"):
        exporter.convert(saved, tmp_path / "out", format="graph", **QUIET)
    assert not (tmp_path / "out").exists()


def test_an_h5_whose_headers_declare_gigabytes_stays_small(tmp_path):
    # 4 overwritten bytes of a 30 kB legacy .h5 (a fuzzer case): HDF5 reserved 3.7 GB reading it in the
    # converter. The read is rehearsed in a child under a memory limit; the converter stays at its usual size.
    from tests.fuzz.campaign import REGRESSIONS
    from tests.test_resource_limits import run_measured

    bomb = REGRESSIONS / "h5" / "seed21-case295" / "mlp.h5"
    code, stderr, peak = run_measured("convert", bomb, tmp_path / "out")
    assert code == 1 and "HDF5 data" in stderr and "Fix:" in stderr, stderr
    assert peak < 1 << 30, f"peak RSS {peak / 2 ** 20:.0f} MiB"
    assert not (tmp_path / "out").exists()
