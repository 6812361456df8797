"""The web demo in a real browser: headless Chromium with TF.js on WebGL, from
disk (file://, no flags relaxing file access) and over http as `make demo`
serves it (exporter/serve.py, cross-origin isolated). Every exported model loads
on WebGL and reproduces its golden outputs; on WASM the served page runs the
threaded binary; the maze agent reaches the goal; WebGL switched off falls back
visibly; a missing or corrupt shard breaks only its own card. Screenshots of
each panel go to tests/artifacts/."""

import json
import shutil

import pytest

from exporter.serve import serving
from tests.browser import (ARTIFACTS, CHROMIUM_FLAGS, GOLDEN_BOUND, NO_WEBGL_FLAGS, WEB_DEMO, Page, chromium_path,
                           ensure_vendor, golden, relative_error, serve)

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


@pytest.fixture(scope="module")
def http_base():
    with serving({"/": WEB_DEMO}) as base:  # what `make demo` runs
        yield base


@pytest.fixture(scope="module", params=["file", "http"])
def page(request, browser, http_base):
    url = (WEB_DEMO / "index.html").as_uri() if request.param == "file" else f"{http_base}/index.html"
    loaded = Page(browser, url + "?maze_ms=30")
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
    assert error <= GOLDEN_BOUND, f"{name} on {page.origin}: relative error {error:.2e}"


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
    # text panel has generated characters beyond the prompt
    page.page.wait_for_function(
        "() => [...document.querySelectorAll('#cards-text .generated span:last-child')].every(s => s.textContent.length > 10)",
        timeout=120_000)
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
            assert error <= GOLDEN_BOUND, f"{name} on WASM from {origin}: relative error {error:.2e}"
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
