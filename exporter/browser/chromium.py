"""Headless Chromium for the checks that need a real browser (the browser tests, the benchmark).

Debian's Chromium, driven by Playwright with `executable_path`: Playwright's own
browser download needs internet. WebGL without a GPU comes from ANGLE on
SwiftShader; the remaining flags keep Chromium from reaching for the network,
which would otherwise fail its connections many at a time on a closed machine.
"""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB_DEMO = ROOT / "web_demo"

CHROMIUM_FLAGS = [
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist",
    "--no-sandbox", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
# A machine without usable WebGL: no 3D APIs at all.
NO_WEBGL_FLAGS = ["--disable-3d-apis", "--disable-gpu", "--disable-software-rasterizer", "--no-sandbox",
                  "--disable-background-networking", "--disable-component-update", "--no-first-run"]
# getUserMedia gets Chromium's synthetic camera (a moving test pattern) without a permission prompt.
FAKE_CAMERA_FLAGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


def chromium_path():
    """Debian's Chromium binary, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def ensure_vendor():
    """TF.js copied from node_modules into web_demo/vendor (what `make vendor` does)."""
    if not (WEB_DEMO / "vendor" / "tf.min.js").exists():
        subprocess.run(["node", str(WEB_DEMO / "vendor.mjs")], check=True, cwd=ROOT)
