"""The plugin API (exporter/plugins.py): a user's translator and TF.js class, for a layer tracing cannot
express, travelling with every export as webnets-layers.js does.

The plugin is a real one, in tests/plugin_example/: Clamp01Where (clip(x * gain, 0, upper), a trainable
gain, a call() that branches in Python on tensor values), its translator, and clamp.js. The model also
holds a LayerNormalization (WebnetsLayerNormalization), so its export needs both scripts.
"""

import base64
import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import exporter.layers.plugins as plugin_mechanics
from exporter import export_keras_model, verify
from exporter.browser.chromium import WEB_DEMO, ensure_vendor
from exporter.browser.serve import serving
from exporter.errors import ExportError, UnsupportedLayerError
from exporter.layers import TRANSLATORS, translate_model
from exporter.parity.compare import keras_outputs, sample_inputs
from exporter.parity.tolerances import BROWSER_BOUND, FLOAT32_BOUND, max_relative_error
from exporter.pipeline import write_layers_model
from exporter.plugins import ConfigReader, translator
from exporter.publish import publish
from exporter.runtime import RUNTIME_FILE, RUNTIME_NAME
from exporter.zoo.index import update_index
from tests import fit_helper
from tests.browser import Page, chromium

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = Path(__file__).with_name("plugin_example")
PLUGIN_JS = EXAMPLE / "clamp.js"
NAME = "clamp_model"
UPPER = 0.8


def quiet(*_):
    pass


@pytest.fixture(scope="module")
def plugin():
    """tests/plugin_example/clamp.py imported (which registers its translator); unregistered afterwards,
    so no other test module sees a plugin."""
    module = importlib.import_module("tests.plugin_example.clamp")
    yield module
    TRANSLATORS.pop(module.KEY, None)
    sys.modules.pop("tests.plugin_example.clamp", None)


@pytest.fixture
def scratch_keys():
    """Translators a test registers are removed after it."""
    before = set(TRANSLATORS)
    yield
    for key in set(TRANSLATORS) - before:
        del TRANSLATORS[key]


def clamp_model(plugin, seed=0):
    """Dense -> LayerNormalization (a webnets class) -> Clamp01Where (the plugin's) -> Dense, on sequences."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((4, 6))
    x = keras.layers.LayerNormalization()(keras.layers.Dense(5)(inputs))
    clamp = plugin.Clamp01Where(upper=UPPER, name="clamp")
    outputs = keras.layers.Dense(3)(clamp(x))
    clamp.gain.assign(np.random.default_rng(seed + 1).uniform(0.5, 1.5, 5).astype("float32"))  # loads by name
    return keras.Model(inputs, outputs, name=NAME)


def export(plugin, out_dir, backend="wasm"):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WEBNETS_TFJS_BACKEND", backend)
        return export_keras_model(clamp_model(plugin), out_dir, script=True, log=quiet)


@pytest.fixture(scope="module")
def exported(plugin, tmp_path_factory):
    """(export root holding index.json, the export's meta) — parity checked on WASM by the export itself."""
    root = tmp_path_factory.mktemp("plugin-exports")
    meta = export(plugin, root / NAME)
    update_index(root, {**meta, "display_name": NAME})
    return root, meta


# ---- parity ----

def test_the_layer_clips_at_both_bounds_so_parity_tests_both(plugin):
    model = clamp_model(plugin)
    clamp = model.get_layer("clamp")
    values = keras_outputs(keras.Model(model.input, clamp.output), sample_inputs(model))[0]
    assert np.sum(values == 0.0) >= 5 and np.sum(values == np.float32(UPPER)) >= 5
    assert np.sum((values > 0) & (values < UPPER)) >= 5


def test_parity_on_wasm(exported):
    parity = exported[1]["parity"]
    assert parity["tfjs_backend"] == "wasm"
    assert parity["max_rel_error"] <= FLOAT32_BOUND, parity


def test_parity_on_cpu(plugin, tmp_path):
    parity = export(plugin, tmp_path / NAME, backend="cpu")["parity"]
    assert parity["tfjs_backend"] == "cpu"
    assert parity["max_rel_error"] <= FLOAT32_BOUND, parity


def test_without_the_plugin_the_layer_is_refused_as_untraceable(plugin, monkeypatch):
    monkeypatch.delitem(TRANSLATORS, plugin.KEY)
    with pytest.raises(UnsupportedLayerError, match=r"(?s)Clamp01Where.*docs/own-layers.md"):
        translate_model(clamp_model(plugin))


# ---- the file travels as webnets-layers.js does ----

def _record(data, name):
    return {"file": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def test_the_plugin_file_is_copied_and_required_after_the_runtime(exported):
    root, meta = exported
    copy = root / NAME / PLUGIN_JS.name
    assert copy.read_bytes() == PLUGIN_JS.read_bytes()
    assert meta["requires"] == [_record(RUNTIME_FILE.read_bytes(), RUNTIME_NAME),
                                _record(PLUGIN_JS.read_bytes(), PLUGIN_JS.name)]
    assert meta["bytes"][PLUGIN_JS.name] == len(PLUGIN_JS.read_bytes())  # a browser downloads it with the model
    assert json.loads((root / NAME / "meta.json").read_text())["requires"] == meta["requires"]


def test_model_js_carries_the_plugin_after_the_runtime(exported):
    text = (exported[0] / NAME / "model.js").read_text()
    runtime_at, plugin_at = text.find(RUNTIME_FILE.read_text()), text.find(PLUGIN_JS.read_text())
    assert 0 < runtime_at < plugin_at < text.find("window.webnetsModels")


def test_model_js_registers_the_plugin_class_in_a_page_like_context(exported):
    """model.js as a page runs it (a classic script after tf.min.js, on the global tf): the class is registered."""
    model_js = json.dumps(str(exported[0] / NAME / "model.js"))
    script = ("globalThis.tf = require('@tensorflow/tfjs'); globalThis.window = globalThis;"
              f"require('vm').runInThisContext(require('fs').readFileSync({model_js}, 'utf8'));"
              "const map = tf.serialization.SerializationMap.getMap().classNameMap;"
              "console.log(JSON.stringify(['Clamp01Where', 'WebnetsLayerNormalization'].map((n) => n in map)));")
    proc = subprocess.run(["node", "-e", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [True, True], proc.stderr[-2000:]


def test_verify_registers_the_plugin(exported):
    report = verify(exported[0] / NAME)
    assert report.max_rel_error <= FLOAT32_BOUND


def test_verify_names_a_missing_plugin_file(exported, tmp_path):
    shutil.copytree(exported[0] / NAME, tmp_path / NAME)
    (tmp_path / NAME / PLUGIN_JS.name).unlink()
    with pytest.raises(ExportError, match=r"needs clamp\.js .*Fix:"):
        verify(tmp_path / NAME)


def test_publish_uploads_the_plugin_with_its_sri_hash_and_verify_loads_it_by_url(exported, tmp_path):
    root, meta = exported
    dest = tmp_path / "cdn"
    publish(root, dest.as_uri(), "1.0.0", log=quiet)
    data = PLUGIN_JS.read_bytes()
    assert (dest / NAME / "1.0.0" / PLUGIN_JS.name).read_bytes() == data
    version = json.loads((dest / "index.json").read_text())["models"][0]["versions"]["1.0.0"]
    assert version["files"][PLUGIN_JS.name] == {
        "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
        "integrity": "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()}
    assert version["requires"] == meta["requires"]
    with serving({"/": dest}) as base:  # TF.js in Node fetches both scripts by URL, as a page would
        assert verify(f"{base}/{NAME}/1.0.0").max_rel_error <= FLOAT32_BOUND


# ---- training ----

def test_one_sgd_step_in_tfjs_matches_keras(plugin, tmp_path):
    """The gain is a TF.js weight (addWeight): model.fit moves it as Keras' SGD step does."""
    model = clamp_model(plugin)
    inputs = sample_inputs(model, batch=4)
    targets = [np.random.default_rng(2).standard_normal((4, 4, 3)).astype("float32")]
    tf.config.run_functions_eagerly(True)  # Keras trains the layer's Python `if` eagerly only
    try:
        step = fit_helper.fit_step(model, inputs, targets, tmp_path)
    finally:
        tf.config.run_functions_eagerly(False)
    assert step.weights == 7  # two Dense kernels and biases, gamma and beta, the gain
    assert step.change > 1e-4
    assert step.error <= FLOAT32_BOUND, f"{step.worst}: relative error {step.error:.2e}"


# ---- refusals ----

def _layer_class(name):
    """A user's layer class registered as 'webnets_test_plugins>name'."""
    cls = type(name, (keras.layers.Layer,), {"call": lambda self, x: x * 2.0,
                                             "compute_output_shape": lambda self, shape: shape})
    return keras.saving.register_keras_serializable(package="webnets_test_plugins")(cls)


def _passthrough(class_name):
    def translate(layer, config):
        return ConfigReader(layer, config).ignore(*config).finish(class_name)  # the refusals come later

    return translate


def _model(*layer_classes):
    inputs = keras.Input((3,))
    x = keras.layers.Dense(2)(inputs)
    for cls in layer_classes:
        x = cls()(x)
    return keras.Model(inputs, x)


def _write(model, out_dir):
    out_dir.mkdir(parents=True)
    return write_layers_model(model, out_dir, log=quiet)


def _js(path, class_name):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("module.exports = {register(tf) { class C extends tf.layers.Layer { static className = "
                    f"'{class_name}'; }} tf.serialization.registerClass(C); }}}};\n")
    return path


@pytest.mark.parametrize("key", ["Dense", "LayerNormalization", "keras>Dense", "keras.layers.Dense"])
def test_a_builtin_class_key_is_refused(key, tmp_path, scratch_keys):
    with pytest.raises(ExportError, match=r"built-in Keras class.*never replace.*Fix:"):
        translator(key, js=_js(tmp_path / "x.js", "TmpX"), becomes="TmpX")(_passthrough("TmpX"))


def test_a_library_class_webnets_translates_is_refused(tmp_path, scratch_keys):
    key = next(k for k, info in TRANSLATORS.items() if ">" in k and info.script is None)  # keras-hub's
    with pytest.raises(ExportError, match="already translates"):
        translator(key, js=_js(tmp_path / "x.js", "TmpX"), becomes="TmpX")(_passthrough("TmpX"))


@pytest.mark.parametrize("becomes, word", [("Dense", "name of a TF.js class"),
                                           ("WebnetsThing", "name of a webnets class"),
                                           ("not a name", "not a JavaScript class name")])
def test_a_class_name_tfjs_or_webnets_holds_is_refused(becomes, word, tmp_path, scratch_keys):
    with pytest.raises(ExportError, match=word):
        translator("webnets_test_plugins>Named", js=_js(tmp_path / "x.js", "TmpX"), becomes=becomes)


@pytest.mark.parametrize("file_name", ["model.js", RUNTIME_NAME, "layers.txt"])
def test_a_file_name_an_export_reserves_is_refused(file_name, tmp_path, scratch_keys):
    with pytest.raises(ExportError, match=r"must end in \.js.*Fix: rename"):
        translator("webnets_test_plugins>Reserved", js=tmp_path / file_name, becomes="TmpReserved")(
            _passthrough("TmpReserved"))


def test_a_missing_js_file_is_refused_at_export(tmp_path, scratch_keys):
    cls = _layer_class("MissingJs")
    translator(keras.saving.get_registered_name(cls), js=tmp_path / "nowhere.js", becomes="TmpMissingJs")(
        _passthrough("TmpMissingJs"))
    with pytest.raises(ExportError, match=r"TmpMissingJs.*nowhere\.js.*does not exist"):
        _write(_model(cls), tmp_path / "out")


def test_js_that_does_not_name_the_class_is_refused_at_export(tmp_path, scratch_keys):
    cls = _layer_class("Unnamed")
    js = _js(tmp_path / "unnamed.js", "SomethingElse")
    translator(keras.saving.get_registered_name(cls), js=js, becomes="TmpUnnamed")(_passthrough("TmpUnnamed"))
    with pytest.raises(ExportError, match=r"does not name the TF\.js class 'TmpUnnamed'.*static className"):
        _write(_model(cls), tmp_path / "out")


def test_two_plugin_files_with_one_name_are_refused_at_export(tmp_path, scratch_keys):
    first, second = _layer_class("SameNameA"), _layer_class("SameNameB")
    translator(keras.saving.get_registered_name(first), js=_js(tmp_path / "a" / "same.js", "TmpA"),
               becomes="TmpA")(_passthrough("TmpA"))
    translator(keras.saving.get_registered_name(second), js=_js(tmp_path / "b" / "same.js", "TmpB"),
               becomes="TmpB")(_passthrough("TmpB"))
    _write(_model(first), tmp_path / "one")  # alone, each is fine
    with pytest.raises(ExportError, match=r"two different plugin files named 'same\.js'.*Fix: rename"):
        _write(_model(first, second), tmp_path / "both")


def test_a_second_plugin_for_one_key_is_refused(tmp_path, scratch_keys):
    translator("webnets_test_plugins>Twice", js=_js(tmp_path / "one.js", "TmpOne"), becomes="TmpOne")(
        _passthrough("TmpOne"))
    with pytest.raises(ExportError, match="Two plugins register a translator"):
        translator("webnets_test_plugins>Twice", js=_js(tmp_path / "two.js", "TmpTwo"), becomes="TmpTwo")(
            lambda layer, config: None)


def test_importing_a_plugin_again_replaces_its_translator(plugin):
    """importlib.reload (a notebook re-running its cell): the same plugin's newer code, not a conflict."""
    before = TRANSLATORS[plugin.KEY]
    importlib.reload(plugin)
    after = TRANSLATORS[plugin.KEY]
    assert after is not before and after.script == before.script == plugin_mechanics.PluginScript(
        PLUGIN_JS.resolve(), ("Clamp01Where",), plugin.KEY)


# ---- installed plugins: entry points ----

def _installed_plugin(root, module, source, dist="webnets-demo-plugin"):
    """A module and its dist-info (entry point group webnets.translators) in `root`, as pip installs them."""
    (root / f"{module}.py").write_text(source)
    info = root / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[webnets.translators]\n{module} = {module}\n")


PLUGIN_SOURCE = """
from exporter.plugins import ConfigReader, translator

@translator("webnets_ep_demo>Thing", js="thing.js", becomes="EpDemoThing")
def thing(layer, config):
    return ConfigReader(layer, config).finish("EpDemoThing")
"""


def test_installed_plugins_load_before_the_first_translation(tmp_path, monkeypatch, scratch_keys):
    _installed_plugin(tmp_path, "webnets_ep_demo", PLUGIN_SOURCE)
    _js(tmp_path / "thing.js", "EpDemoThing")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(plugin_mechanics, "_loaded", False)  # as in a fresh process
    monkeypatch.delitem(sys.modules, "webnets_ep_demo", raising=False)
    assert "webnets_ep_demo" not in sys.modules
    _write(_model(), tmp_path / "out")  # any first translation
    info = TRANSLATORS["webnets_ep_demo>Thing"]
    assert info.script.path == tmp_path.resolve() / "thing.js" and info.script.classes == ("EpDemoThing",)
    assert plugin_mechanics.load_installed() == []  # once
    sys.modules.pop("webnets_ep_demo", None)


def test_import_exporter_loads_no_plugin(tmp_path):
    _installed_plugin(tmp_path, "webnets_ep_demo", PLUGIN_SOURCE)
    proc = subprocess.run([sys.executable, "-c", "import sys, exporter; print('webnets_ep_demo' in sys.modules)"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])})
    assert proc.stdout.strip() == "False", proc.stderr[-2000:]


def test_a_plugin_that_fails_to_load_is_named(tmp_path, monkeypatch):
    _installed_plugin(tmp_path, "webnets_ep_broken", "raise RuntimeError('no GPU found')\n", dist="broken-plugin")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ExportError, match=r"'webnets_ep_broken = webnets_ep_broken'.*webnets\.translators"
                                          r".*broken-plugin.*RuntimeError: no GPU found.*Fix:"):
        plugin_mechanics.load_installed(force=True)
    monkeypatch.delitem(sys.modules, "webnets_ep_broken", raising=False)


# ---- the demo's loader, in headless Chromium ----

@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def test_the_demo_loader_loads_a_plugin_export_over_http(exported, browser, tmp_path):
    """meta.json `requires` -> webnets-layers.js, then clamp.js, as scripts before tf.loadLayersModel."""
    ensure_vendor()
    site = tmp_path / "site"
    shutil.copytree(WEB_DEMO, site, ignore=shutil.ignore_patterns("models"))
    shutil.copytree(exported[0], site / "models")
    with serving({"/": site}) as base:
        page = Page(browser, f"{base}/index.html?autoplay=0")
        try:
            state = page.models[NAME]
            assert state["state"] == "ready", (state, page.errors())
            golden = exported[1]["golden"]
            outputs = page.predict(NAME, golden["inputs"][0])
            error = max_relative_error([o["data"] for o in outputs], [g["data"] for g in golden["outputs"]])
            assert error <= BROWSER_BOUND, f"{state['backend']}: relative error {error:.2e}"
        finally:
            page.close()
