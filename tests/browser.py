"""Shared pieces of the browser tests: headless Chromium (Debian's, set up by
exporter/browser/chromium.py, which the bench shares) driven by Playwright, with
TF.js's WebGL backend on SwiftShader; headless Firefox (Debian's firefox-esr)
driven by puppeteer-core (tests/firefox_driver.mjs), WebGL on Mesa's llvmpipe; a
plain loopback HTTP server; the golden vectors."""

import contextlib
import functools
import http.server
import json
import shutil

from exporter.browser.chromium import CHROMIUM_FLAGS, ROOT, WEB_DEMO, chromium_path, ensure_vendor
from exporter.browser.serve import in_background

ARTIFACTS = ROOT / "tests" / "artifacts"


# Firefox without a GPU or a display: its startup GL probe (glxtest) needs an X
# or Wayland server, finds none, and so WebGL is blocklisted; force-enabled plus
# MOZ_WEBGL_FORCE_EGL gives WebGL 2 on Mesa's llvmpipe through EGL.
# strict_origin_policy=true is Firefox's own default: puppeteer's test profile
# turns it off ("local documents have access to all other local documents"),
# which would hide exactly the file:// problems the Firefox test is for.
FIREFOX_PREFS = {"security.fileuri.strict_origin_policy": True, "webgl.force-enabled": True}
FIREFOX_ENV = {"MOZ_WEBGL_FORCE_EGL": "1"}


@contextlib.contextmanager
def chromium(*flags):
    """Debian's headless Chromium under Playwright, with the demo's vendored TF.js in place; `flags`
    added to the WebGL-on-SwiftShader ones (a fake camera, say). The browser every page test drives."""
    import playwright.sync_api as playwright

    ensure_vendor()
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=[*CHROMIUM_FLAGS, *flags], headless=True)
        try:
            yield browser
        finally:
            browser.close()


def firefox_path():
    return shutil.which("firefox-esr") or shutil.which("firefox")


def golden(name):
    """The golden input/output vectors in web_demo/models/<name>/meta.json."""
    return json.loads((WEB_DEMO / "models" / name / "meta.json").read_text())["golden"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


def serve(directory):
    """Serve `directory` on 127.0.0.1 (random port) as a plain static server; yields the base URL."""
    return in_background(functools.partial(_QuietHandler, directory=str(directory)))


class Page:
    """A loaded demo page with its console messages."""

    def __init__(self, browser, url, viewport=(1280, 900)):
        self.page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        self.console = []
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.console.append(("pageerror", str(e))))
        # "domcontentloaded": from file:// the page adds a <script> per model (megabytes of base64),
        # which hold back the "load" event; webnets.ready below is what says the models are up.
        self.page.goto(url, wait_until="domcontentloaded", timeout=120_000)
        self.models = self.page.evaluate("window.webnets.ready", None)

    def errors(self):
        return [text for kind, text in self.console if kind in ("error", "pageerror")]

    def predict(self, name, golden_input):
        return self.page.evaluate("([name, input]) => window.webnets.predict(name, input)", [name, golden_input])

    def close(self):
        self.page.close()
