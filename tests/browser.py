"""Shared pieces of the browser tests: headless Chromium (Debian's) driven by
Playwright, with TF.js's WebGL backend on SwiftShader; headless Firefox (Debian's
firefox-esr) driven by puppeteer-core (tests/firefox_driver.mjs), WebGL on Mesa's
llvmpipe; a loopback HTTP server; the golden-vector comparison."""

import functools
import http.server
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np

from exporter.serve import in_background

ROOT = Path(__file__).resolve().parent.parent
WEB_DEMO = ROOT / "web_demo"
ARTIFACTS = ROOT / "tests" / "artifacts"

# WebGL without a GPU: ANGLE on SwiftShader. The rest keeps Chromium from
# reaching for the network, which this machine does not have.
CHROMIUM_FLAGS = [
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist",
    "--no-sandbox", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
# A machine without usable WebGL: no 3D APIs at all.
NO_WEBGL_FLAGS = ["--disable-3d-apis", "--disable-gpu", "--disable-software-rasterizer", "--no-sandbox",
                  "--disable-background-networking", "--disable-component-update", "--no-first-run"]


def chromium_path():
    return shutil.which("chromium") or shutil.which("chromium-browser")


# Firefox without a GPU or a display: its startup GL probe (glxtest) needs an X
# or Wayland server, finds none, and so WebGL is blocklisted; force-enabled plus
# MOZ_WEBGL_FORCE_EGL gives WebGL 2 on Mesa's llvmpipe through EGL.
# strict_origin_policy=true is Firefox's own default: puppeteer's test profile
# turns it off ("local documents have access to all other local documents"),
# which would hide exactly the file:// problems the Firefox test is for.
FIREFOX_PREFS = {"security.fileuri.strict_origin_policy": True, "webgl.force-enabled": True}
FIREFOX_ENV = {"MOZ_WEBGL_FORCE_EGL": "1"}


def firefox_path():
    return shutil.which("firefox-esr") or shutil.which("firefox")


# Worst absolute difference over the largest expected magnitude, the bound the
# browser checks hold every model to (the page's own integrity check uses 1e-2).
GOLDEN_BOUND = 1e-3


def golden(name):
    """The golden input/output vectors in web_demo/models/<name>/meta.json."""
    return json.loads((WEB_DEMO / "models" / name / "meta.json").read_text())["golden"]


def relative_error(actual, expected):
    actual = np.asarray(actual, np.float64)
    expected = np.asarray(expected, np.float64)
    return float(np.max(np.abs(actual - expected)) / max(np.max(np.abs(expected)), 1e-12))


def ensure_vendor():
    """TF.js copied from node_modules (what `make vendor` does)."""
    if not (WEB_DEMO / "vendor" / "tf.min.js").exists():
        subprocess.run(["node", str(WEB_DEMO / "vendor.mjs")], check=True, cwd=ROOT)


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
        self.page.goto(url)
        self.models = self.page.evaluate("window.webnets.ready", None)

    def errors(self):
        return [text for kind, text in self.console if kind in ("error", "pageerror")]

    def predict(self, name, golden_input):
        return self.page.evaluate("([name, input]) => window.webnets.predict(name, input)", [name, golden_input])

    def close(self):
        self.page.close()
