"""The web demo in a real browser: headless Chromium with TF.js on WebGL, from
disk (file://, no flags relaxing file access) and over http. Every exported
model loads on WebGL and reproduces its golden outputs; the maze agent reaches
the goal; WebGL switched off falls back visibly; a missing or corrupt shard
breaks only its own card. Screenshots of each panel go to tests/artifacts/."""

import json
import shutil

import numpy as np
import pytest

from tests.browser import (ARTIFACTS, CHROMIUM_FLAGS, NO_WEBGL_FLAGS, WEB_DEMO, Page, chromium_path, ensure_vendor,
                           serve)

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(chromium_path() is None, reason="Chromium is not installed (apt-get install chromium)")

INDEX = json.loads((WEB_DEMO / "models" / "index.json").read_text()) if (WEB_DEMO / "models" / "index.json").exists() else {"models": []}
NAMES = [m["name"] for m in INDEX["models"]]
GOLDEN_BOUND = 1e-3


def golden(name):
    return json.loads((WEB_DEMO / "models" / name / "meta.json").read_text())["golden"]


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
    with serve(WEB_DEMO) as base:
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
    expected = np.asarray(vectors["outputs"][0]["data"], np.float64)
    actual = np.asarray(outputs[0]["data"], np.float64)
    assert outputs[0]["shape"] == vectors["outputs"][0]["shape"]
    error = np.max(np.abs(actual - expected)) / max(np.max(np.abs(expected)), 1e-12)
    assert error <= GOLDEN_BOUND, f"{name} on {page.origin}: relative error {error:.2e}"


def test_maze_agent_reaches_the_goal(page):
    status = page.page.locator("#maze-status")
    for start in ([1, 1], [5, 3], [7, 1]):  # far corner, middle, bottom-left
        page.page.evaluate("start => window.WN.maze.reset(start)", start)
        page.page.click("#maze-play")
        page.page.wait_for_function("() => ['goal', 'timeout'].includes(document.querySelector('#maze-status').dataset.outcome)",
                                    timeout=60_000)
        assert status.get_attribute("data-outcome") == "goal", status.inner_text()


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
