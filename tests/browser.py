"""Shared pieces of the browser tests: headless Chromium (Debian's) driven by
Playwright, with TF.js's WebGL backend on SwiftShader, and a loopback HTTP server."""

import contextlib
import functools
import http.server
import shutil
import subprocess
import threading
from pathlib import Path

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


@contextlib.contextmanager
def serve(directory):
    """Serve `directory` on 127.0.0.1 (random port); yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


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
