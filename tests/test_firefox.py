"""The web demo opened from disk (file://) in a real headless Firefox: Debian's
firefox-esr driven over WebDriver BiDi by puppeteer-core (tests/firefox_driver.mjs).
No pref relaxes file access; Firefox's strict file-origin policy stays on. One page
load: every exported model is ready, on WebGL wherever the page can get a WebGL
context, reproduces its golden outputs, the panels render, and the console has no
errors. The full page is captured to tests/artifacts/firefox-file.png."""

import json
import shutil
import subprocess

import pytest

from exporter.browser.chromium import ROOT, WEB_DEMO, ensure_vendor
from exporter.parity.tolerances import BROWSER_BOUND, relative_error
from tests.browser import ARTIFACTS, FIREFOX_ENV, FIREFOX_PREFS, firefox_path, golden

pytestmark = pytest.mark.skipif(firefox_path() is None, reason="Firefox is not installed (apt-get install firefox-esr)")

INDEX = json.loads((WEB_DEMO / "models" / "index.json").read_text()) if (WEB_DEMO / "models" / "index.json").exists() else {"models": []}
NAMES = [m["name"] for m in INDEX["models"]]
DRIVER = ROOT / "tests" / "firefox_driver.mjs"
SCREENSHOT = ARTIFACTS / "firefox-file.png"
# What "the panels render" means: a top-5 list on every classifier card and
# generated characters beyond the prompt on every language-model card.
PANELS_RENDERED = """() => {
  const classifiers = document.querySelectorAll('#cards-images [data-model]').length;
  const texts = [...document.querySelectorAll('#cards-text .generated span:last-child')];
  return document.querySelectorAll('#cards-images .top5').length >= classifiers &&
    texts.length > 0 && texts.every((s) => s.textContent.length > 10);
}"""


@pytest.fixture(scope="module")
def firefox():
    """One page load in Firefox; the driver's report (see tests/firefox_driver.mjs)."""
    ensure_vendor()
    if shutil.which("node") is None or not (ROOT / "node_modules" / "puppeteer-core").is_dir():
        pytest.fail("puppeteer-core is missing: run `npm ci` (make setup does)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    job = {
        "executablePath": firefox_path(),
        "url": (WEB_DEMO / "index.html").as_uri(),
        "prefs": FIREFOX_PREFS,
        "env": FIREFOX_ENV,
        "viewport": [1280, 900],
        "inputs": {name: golden(name)["inputs"][0] for name in NAMES},
        "waitFor": PANELS_RENDERED,
        "waitTimeoutMs": 90_000,
        "screenshot": str(SCREENSHOT),
    }
    done = subprocess.run(["node", str(DRIVER)], input=json.dumps(job), capture_output=True, text=True, cwd=ROOT,
                          timeout=240)
    assert done.returncode == 0, f"firefox driver failed:\n{done.stderr[-4000:]}"
    return json.loads(done.stdout)


def test_the_page_ran_under_firefox_file_rules(firefox):
    # With the strict file-origin policy a page from disk may not fetch() its own files:
    # the demo must get by with <script> tags (models/index.js, model.js, wasm data: URLs).
    assert firefox["fileFetchRefused"], "fetch() of a file:// neighbour worked: file access was relaxed"


def test_every_model_ready_and_on_webgl_where_available(firefox):
    print(f"\n{firefox['version']}: WebGL context {firefox['webgl']!r}; models on {firefox['backend']}; "
          f"ms since launch {firefox['timings']}")
    assert set(firefox["models"]) == set(NAMES)
    for name, state in firefox["models"].items():
        assert state["state"] == "ready", f"{name}: {state}"
    backends = {state["backend"] for state in firefox["models"].values()}
    if firefox["webgl"] is not None:
        assert backends == {"webgl"}, f"WebGL ({firefox['webgl']}) is there but the models use {firefox['models']}"
        assert "WebGL" in firefox["status"], firefox["status"]
    else:
        assert backends <= {"wasm", "cpu"}, firefox["models"]
        assert "WebGL is unavailable" in firefox["status"], firefox["status"]
    assert sorted(firefox["cards"]) == sorted([name, "ready", firefox["models"][name]["backend"]] for name in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_golden_outputs_in_firefox(firefox, name):
    vectors = golden(name)
    outputs = firefox["outputs"][name]
    assert "error" not in outputs, f"{name}: {outputs}"
    assert outputs[0]["shape"] == vectors["outputs"][0]["shape"]
    error = relative_error(outputs[0]["data"], vectors["outputs"][0]["data"])
    assert error <= BROWSER_BOUND, f"{name} on {firefox['models'][name]['backend']}: relative error {error:.2e}"


def test_panels_render_and_the_page_is_captured(firefox):
    assert firefox["panelsRendered"], "the image and text panels did not show predictions in time"
    assert SCREENSHOT.stat().st_size > 50_000


def test_no_console_errors(firefox):
    errors = [text for kind, text in firefox["console"] if kind in ("error", "pageerror")]
    assert errors == []
