"""Headless Chromium for the checks that need a real browser (the browser tests, the benchmark).

Debian's Chromium, driven by Playwright with `executable_path`: Playwright's own
browser download needs internet. WebGL without a GPU comes from ANGLE on
SwiftShader; the remaining flags keep Chromium from reaching for the network,
which would otherwise fail its connections many at a time on a closed machine.
"""

import shutil
import subprocess
from pathlib import Path

from ..errors import ExportError
from ..output.atomic import file_lock

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
    """TF.js copied from node_modules into web_demo/vendor (what `make vendor` does).

    vendor.mjs writes tf.min.js last, each file renamed into place, so tf.min.js present means the
    copy is complete. Several processes (test workers, a benchmark) may ask at once: under an flock
    on vendor/.lock one runs vendor.mjs, the others wait and then find it done."""
    vendor = WEB_DEMO / "vendor"
    if (vendor / "tf.min.js").exists():
        return
    with file_lock(vendor / ".lock"):
        if (vendor / "tf.min.js").exists():
            return
        try:
            result = subprocess.run(["node", str(WEB_DEMO / "vendor.mjs")], cwd=ROOT, capture_output=True, text=True)
        except FileNotFoundError:
            raise ExportError(f"Copying TF.js into {vendor} needs Node.js, and `node` is not on PATH. Fix: install "
                              "Node.js (18 or later), then `npm ci` and `make vendor`.") from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise ExportError(f"Copying TF.js into {vendor} failed (node web_demo/vendor.mjs exited {result.returncode}: "
                          f"{last}). Fix: run `npm ci` in {ROOT} so node_modules holds TF.js, then `make vendor`.")
