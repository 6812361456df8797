"""The web demo in a real browser: headless Chromium with TF.js on WebGL, from
disk (file://, no flags relaxing file access) and over http as `make demo`
serves it (exporter/browser/serve.py, cross-origin isolated). Every exported model loads
on WebGL and reproduces its golden outputs; on WASM the served page runs the
threaded binary; the maze agent reaches the goal; WebGL switched off falls back
visibly; a missing or corrupt shard breaks only its own card. Screenshots of
each panel go to tests/artifacts/."""

import json
import shutil

import pytest

from exporter.browser.chromium import CHROMIUM_FLAGS, NO_WEBGL_FLAGS, WEB_DEMO, chromium_path, ensure_vendor
from exporter.browser.serve import serving
from exporter.parity.tolerances import BROWSER_BOUND, relative_error
from tests.browser import ARTIFACTS, Page, golden, serve

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(chromium_path() is None, reason="Chromium is not installed (apt-get install chromium)")

INDEX = json.loads((WEB_DEMO / "models" / "index.json").read_text()) if (WEB_DEMO / "models" / "index.json").exists() else {"models": []}
NAMES = [m["name"] for m in INDEX["models"]]


@pytest.fixture(scope="module")
def pw():
    ensure_vendor()
    with playwright.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(pw):
    browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS, headless=True)
    yield browser
    browser.close()


@pytest.fixture(scope="module", params=["file", "http"])
def page(request, browser, http_base):
    url = (WEB_DEMO / "index.html").as_uri() if request.param == "file" else f"{http_base}/index.html"
    # autoplay=0: the text panel generates when a test asks it to (test_panels_render_and_are_captured),
    # not while every other test runs on the same WebGL context.
    loaded = Page(browser, url + "?autoplay=0&maze_ms=30")
    loaded.origin = request.param
    yield loaded
    loaded.close()


def test_the_demo_has_all_models():
    assert {"alexnet", "googlenet", "resnet", "squeezenet", "simple_rnn", "lstm", "gru", "dqn"} <= set(NAMES)


def test_every_model_ready_on_webgl(page):
    assert set(page.models) == set(NAMES)
    for name, state in page.models.items():
        assert state["state"] == "ready", f"{name}: {state}"
        assert state["backend"] == "webgl", f"{name}: {state}"
    cards = page.page.eval_on_selector_all("[data-model]", "cards => cards.map(c => [c.dataset.model, c.dataset.state, c.dataset.backend])")
    assert sorted(cards) == sorted([name, "ready", "webgl"] for name in NAMES)
    assert "WebGL" in page.page.inner_text("#backend-status")


@pytest.mark.parametrize("name", NAMES)
def test_golden_outputs_in_the_browser(page, name):
    vectors = golden(name)
    outputs = page.predict(name, vectors["inputs"][0])
    assert outputs[0]["shape"] == vectors["outputs"][0]["shape"]
    error = relative_error(outputs[0]["data"], vectors["outputs"][0]["data"])
    assert error <= BROWSER_BOUND, f"{name} on {page.origin}: relative error {error:.2e}"


def test_maze_agent_reaches_the_goal(page):
    status = page.page.locator("#maze-status")
    for start in ([1, 1], [5, 3], [7, 1]):  # far corner, middle, bottom-left
        page.page.evaluate("start => window.WN.maze.reset(start)", start)
        page.page.click("#maze-play")
        page.page.wait_for_function("() => ['goal', 'timeout'].includes(document.querySelector('#maze-status').dataset.outcome)",
                                    timeout=60_000)
        assert status.get_attribute("data-outcome") == "goal", status.inner_text()
        # the DQN card reports the final decision and the episode's outcome
        assert "goal reached" in page.page.inner_text("[data-model='dqn'] .result")


def test_panels_render_and_are_captured(page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # image panel shows a top-5 list per classifier
    classifiers = sum(m["task"] == "image-classification" for m in INDEX["models"])
    page.page.wait_for_function(f"() => document.querySelectorAll('#cards-images .top5').length >= {classifiers}",
                                timeout=60_000)
    # text panel: "Continue the text" generates characters beyond the prompt in every card
    page.page.evaluate("document.getElementById('text-length').value = '20'")
    page.page.click("#text-generate")
    writers = sum(m["task"] == "text-generation" for m in INDEX["models"])
    page.page.wait_for_function(
        "n => { const added = [...document.querySelectorAll('#cards-text .generated span:last-child')];"
        " return added.length === n && added.every(s => s.textContent.length >= 20); }", arg=writers,
        timeout=180_000)
    for panel in ("panel-images", "panel-text", "panel-agents"):
        page.page.locator(f"#{panel}").screenshot(path=str(ARTIFACTS / f"{page.origin}-{panel}.png"))
        assert (ARTIFACTS / f"{page.origin}-{panel}.png").stat().st_size > 10_000


def test_no_console_errors(page):
    assert page.errors() == []


@pytest.mark.parametrize("origin", ["make demo", "file"])
def test_wasm_runs_threaded_when_served_by_make_demo(browser, http_base, origin):
    """`make demo` makes the page cross-origin isolated, so TF.js WASM runs its threaded SIMD binary with
    min(4, cores) threads (on 2 cores too, where TF.js alone would take 1); from disk it runs one thread and
    says how to get more. Every model still reproduces its golden outputs on WASM."""
    url = f"{http_base}/index.html" if origin == "make demo" else (WEB_DEMO / "index.html").as_uri()
    page = Page(browser, url + "?backend=wasm")
    try:
        cores = page.page.evaluate("navigator.hardwareConcurrency")
        wasm = page.page.evaluate("WN.backend.wasm")
        status = page.page.inner_text("#backend-status")
        assert {state["backend"] for state in page.models.values()} == {"wasm"}, page.models
        if origin == "make demo":
            assert wasm["crossOriginIsolated"] and wasm["multithread_support"] and wasm["simd_support"], wasm
            assert wasm["threads"] == min(4, cores), wasm
            assert f"({min(4, cores)} thread" in status, status
        else:
            assert not wasm["multithread_support"] and "one thread" in status and "make demo" in status, status
        for name in NAMES:
            vectors = golden(name)
            outputs = page.predict(name, vectors["inputs"][0])
            error = relative_error(outputs[0]["data"], vectors["outputs"][0]["data"])
            assert error <= BROWSER_BOUND, f"{name} on WASM from {origin}: relative error {error:.2e}"
        assert page.errors() == []
    finally:
        page.close()


def test_phone_width_has_no_horizontal_scroll(browser, http_base):
    narrow = Page(browser, f"{http_base}/index.html", viewport=(375, 800))
    try:
        width = narrow.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375
        narrow.page.screenshot(path=str(ARTIFACTS / "phone.png"), full_page=False)
    finally:
        narrow.close()


def test_without_webgl_the_page_falls_back_and_says_so(pw):
    browser = pw.chromium.launch(executable_path=chromium_path(), args=NO_WEBGL_FLAGS, headless=True)
    try:
        page = Page(browser, (WEB_DEMO / "index.html").as_uri())
        status = page.page.inner_text("#backend-status")
        assert "WebGL is unavailable" in status, status
        backends = {state["backend"] for state in page.models.values()}
        assert backends == {"wasm"}, page.models
        assert all(state["state"] == "ready" for state in page.models.values()), page.models
    finally:
        browser.close()


def test_missing_or_corrupt_shard_breaks_only_that_card(browser, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(WEB_DEMO, site, ignore=shutil.ignore_patterns("model.js"))
    missing, corrupt = NAMES[0], NAMES[1]
    for shard in (site / "models" / missing).glob("*.bin"):
        shard.unlink()
    shard = next((site / "models" / corrupt).glob("*.bin"))
    data = bytearray(shard.read_bytes())
    data[: len(data) // 2] = bytes(len(data) // 2)  # zero the first half: same size, wrong numbers
    shard.write_bytes(bytes(data))
    with serve(site) as base:
        page = Page(browser, f"{base}/index.html")
        try:
            for name, state in page.models.items():
                expected = "error" if name in (missing, corrupt) else "ready"
                assert state["state"] == expected, f"{name}: {state}"
            card_text = page.page.inner_text(f"[data-model='{corrupt}']")
            assert "golden outputs" in card_text
            assert "Could not load" in page.page.inner_text(f"[data-model='{missing}']")
        finally:
            page.close()


# Records every layout shift from the first paint on (Chromium's Layout
# Instability API, the basis of the CLS web vital).
LAYOUT_SHIFTS = """
window.__shifts = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (!entry.hadRecentInput) {
      window.__shifts.push({value: entry.value, at: entry.startTime,
        nodes: entry.sources.map((s) => s.node && (s.node.id || s.node.className || s.node.nodeName))});
    }
  }
}).observe({type: 'layout-shift', buffered: true});
"""


@pytest.mark.parametrize("viewport", [(1280, 900), (375, 800)])
def test_no_layout_jump_while_models_load(browser, http_base, viewport):
    """Cumulative layout shift from first paint until every model is ready stays
    under 0.1, the web-vitals threshold for "good"."""
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    try:
        page.add_init_script(LAYOUT_SHIFTS)
        page.goto(f"{http_base}/index.html?autoplay=0")
        page.evaluate("window.webnets.ready")
        page.wait_for_timeout(500)
        shifts = page.evaluate("window.__shifts")
        total = sum(s["value"] for s in shifts)
        assert total < 0.1, shifts
    finally:
        page.close()


def test_keyboard_alone_picks_an_image_and_plays_the_maze(browser, http_base):
    """Tab/Enter only: pick the 'Trouser' test image and see every classifier
    say so; start the maze agent."""
    page = Page(browser, f"{http_base}/index.html?autoplay=0&maze_ms=10")
    try:
        keyboard = page.page.keyboard
        focused = ""
        for _ in range(60):
            keyboard.press("Tab")
            focused = page.page.evaluate("document.activeElement.title || document.activeElement.id")
            if focused.endswith(": Trouser"):
                break
        assert focused.endswith(": Trouser"), focused
        keyboard.press("Enter")
        page.page.wait_for_function(
            "() => [...document.querySelectorAll('#cards-images .top5 li:first-child')]"
            ".every(li => li.textContent.startsWith('Trouser'))", timeout=30_000)
        for _ in range(60):
            keyboard.press("Tab")
            if page.page.evaluate("document.activeElement.id") == "maze-play":
                break
        keyboard.press("Enter")
        page.page.wait_for_function("() => document.querySelector('#maze-status').dataset.outcome === 'goal'",
                                    timeout=60_000)
    finally:
        page.close()


@pytest.fixture(scope="module")
def quiet_page(browser, http_base):
    """The served page without the text panel's autoplay, for the checks of the page's own code."""
    loaded = Page(browser, f"{http_base}/index.html?autoplay=0")
    yield loaded
    loaded.close()


def test_the_page_measures_errors_as_python_does(quiet_page):
    """WN.relativeError (the page's integrity check) is exporter/parity/tolerances.py's measure."""
    pairs = [([1.0, 2.0, 3.0], [1.0, 2.5, 3.0]), ([0.0, 1e-9], [1e-6, 0.0]), ([-4.0, 0.5], [-3.0, 0.25]),
             ([1.0, 2.0], [1.0, 2.0, 3.0])]
    for actual, expected in pairs:
        page_error = quiet_page.page.evaluate("([a, e]) => WN.relativeError(a, e)", [actual, expected])
        python_error = relative_error(actual, expected)
        assert (page_error is None and python_error == float("inf")) or page_error == pytest.approx(python_error), \
            (actual, expected, page_error, python_error)


def test_a_failed_prediction_frees_its_tensors(quiet_page):
    """A prediction that throws (here: an input of the wrong shape) leaves no tensor behind."""
    leaked = quiet_page.page.evaluate("""async () => {
        const before = tf.memory().numTensors;
        let message = null;
        try { await window.webnets.predict('squeezenet', {shape: [1, 3], data: [1, 2, 3]}); }
        catch (error) { message = String(error.message || error); }
        return {message, leaked: tf.memory().numTensors - before};
    }""")
    assert leaked["message"] and leaked["leaked"] == 0, leaked


def test_a_slow_earlier_classification_never_replaces_a_newer_one(quiet_page):
    """Pick image A, then image B while a classifier is still busy with A (its answer held back
    1.5 s): every card ends showing its answer for B."""
    page = quiet_page.page
    page.evaluate("""() => {
        const original = WN.predict;
        let held = false;
        WN.predict = async (record, input, options) => {
            const result = await original(record, input, options);
            if (record.name === 'alexnet' && !held) {
                held = true;
                await new Promise((resolve) => setTimeout(resolve, 1500));
            }
            return result;
        };
        window.__restorePredict = () => { WN.predict = original; };
    }""")
    try:
        buttons = page.locator("#image-samples button")
        buttons.nth(5).click()  # Sandal
        page.wait_for_timeout(400)  # past the 120 ms debounce: A's classification is running
        buttons.nth(1).click()  # Trouser
        page.wait_for_timeout(2500)  # A's held answer for alexnet has arrived by now
        shown = page.evaluate("""async () => {
            const preview = document.getElementById('draw-preview').getContext('2d');
            const rgba = preview.getImageData(0, 0, 28, 28).data;
            const data = [];
            for (let i = 0; i < 28 * 28; i++) data.push(Math.round(0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]));
            const out = {};
            for (const card of document.querySelectorAll('#cards-images [data-model]')) {
                const name = card.dataset.model;
                const [probs] = await window.webnets.predict(name, {shape: [1, 28, 28, 1], data});
                const labels = (await (await fetch(`models/${name}/meta.json`)).json()).labels;
                out[name] = [card.querySelector('.top5 li span').textContent,
                             labels[probs.data.indexOf(Math.max(...probs.data))]];
            }
            return out;
        }""")
        assert shown and all(on_card == for_b for on_card, for_b in shown.values()), shown
    finally:
        page.evaluate("window.__restorePredict()")


def test_cartpole_agent_balances_with_the_exported_dynamics(quiet_page):
    """The page simulates CartPole with the constants meta.json carries (read from gymnasium at export)."""
    page = quiet_page.page
    page.click("#cartpole-play")
    page.wait_for_function("() => /fell|Balanced/.test(document.querySelector('#cartpole-status').textContent)",
                           timeout=120_000)
    assert "Balanced for all 500 steps" in page.inner_text("#cartpole-status")


def test_scripts_loaded_out_of_order_name_the_missing_file(browser, tmp_path):
    """index.html without js/backend.js: models.js stops at once, naming the file it needs."""
    html = (WEB_DEMO / "index.html").read_text()
    broken = html.replace('<script src="js/backend.js"></script>\n', "").replace("<head>", '<head>\n<base href="/">')
    assert broken != html
    (tmp_path / "index.html").write_text(broken)
    with serving({"/": WEB_DEMO, "/broken/": tmp_path}) as base:
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{base}/broken/index.html")
        page.wait_for_timeout(500)
        page.close()
    assert any("web_demo/js/models.js needs js/backend.js loaded before it" in e for e in errors), errors


def _python_sample(probs, temperature, u):
    """The page's sampler (web_demo/js/text.js `sample`) in Python: softmax(log(p) / T), then the
    first index where the running sum reaches u * total, for the page's own draw u."""
    import numpy as np

    logits = np.log(np.maximum(np.asarray(probs, np.float64), 1e-12)) / temperature
    weights = np.exp(logits - logits.max())
    r = u * weights.sum()
    for i, w in enumerate(weights):
        r -= w
        if r <= 0:
            return i
    return len(weights) - 1


_KERAS_FROM_EXPORT = {}


def _keras_language_model(name):
    from exporter.zoo.export import keras_from_export

    if name not in _KERAS_FROM_EXPORT:
        _KERAS_FROM_EXPORT[name] = keras_from_export(name, WEB_DEMO / "models")[0]
    return _KERAS_FROM_EXPORT[name]


def test_text_generates_with_carried_state_as_keras_and_the_python_sampler(page):
    """120 characters from every language model with its step model (state carried, the prompt fed
    once): the probabilities at every step are Keras' for the whole text so far, the characters are
    what the Python sampler draws from them, and each card shows its characters per second."""
    import numpy as np

    writers = sorted(m["name"] for m in INDEX["models"] if m["task"] == "text-generation")
    page.page.evaluate("document.getElementById('text-length').value = '120'; "
                       "document.getElementById('text-temperature').value = '0.8'")
    page.page.evaluate("window.webnets.textRuns && Object.keys(window.webnets.textRuns)"
                       ".forEach(k => delete window.webnets.textRuns[k])")
    page.page.click("#text-generate")
    page.page.wait_for_function(
        "names => names.every(n => (window.webnets.textRuns[n] || {next: []}).next.length === 120) "
        "&& !document.getElementById('text-generate').disabled", arg=writers, timeout=240_000)
    runs = page.page.evaluate("window.webnets.textRuns")
    for name in writers:
        run = runs[name]
        assert run["mode"] == "step", f"{name}: generated without its step model"
        assert [_python_sample(p, 0.8, u) for p, u in zip(run["probs"], run["draws"])] == run["next"], name
        ids = np.asarray(run["prompt"] + run["next"][:-1], np.int32)[None]
        expected = np.asarray(_keras_language_model(name)(ids))[0, len(run["prompt"]) - 1:]
        error = float(np.abs(np.asarray(run["probs"]) - expected).max())
        assert error <= BROWSER_BOUND, (name, error)
        labels = json.loads((WEB_DEMO / "models" / name / "meta.json").read_text())["labels"]
        shown = page.page.inner_text(f"[data-model='{name}'] .generated span:last-child")
        assert shown == "".join("?" if labels[i] == "\ufffd" else labels[i] for i in run["next"])
        assert "characters/s" in page.page.inner_text(f"[data-model='{name}'] .rate")
        print(f"{page.origin} {name}: {run['charsPerSecond']:.1f} chars/s (median step {run['stepMsMedian']:.1f} ms), "
              f"prompt {run['promptMs']:.0f} ms, 120 characters in {run['wallMs'] / 1000:.1f} s, "
              f"max |p - Keras| {error:.1e}")
