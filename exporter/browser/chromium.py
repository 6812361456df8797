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
# WebGPU on SwiftShader's Vulkan (adapter architecture "swiftshader"), added to the flags above; TF.js'
# WebGPU backend (`?backend=webgpu`) runs on it. Chromium exposes navigator.gpu only in a secure context
# (http://127.0.0.1 is one; file:// and data: URLs are not).
WEBGPU_FLAGS = ["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader"]
# getUserMedia gets Chromium's synthetic camera (a moving test pattern) without a permission prompt.
FAKE_CAMERA_FLAGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


# What a complete web_demo/vendor holds: tf.min.js is written last (vendor.mjs), so it stands for the
# files copied with it; a file added to vendor.mjs later is named here too, so an older copy is refreshed.
VENDOR_FILES = ("tf-backend-webgpu.min.js", "webnets.js", "tf.min.js")
# The webnets package's sources: vendor/webnets.js is built from them, and is stale once one is newer.
JS_SOURCES = ROOT / "js" / "src"


def chromium_path():
    """Debian's Chromium binary, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _vendor_current(vendor):
    """Every vendored file there, and vendor/webnets.js newer than the package sources it is built from
    (a checkout with edited js/src/ would otherwise test yesterday's package)."""
    if not all((vendor / name).exists() for name in VENDOR_FILES):
        return False
    if not JS_SOURCES.is_dir():
        return True
    built = (vendor / "webnets.js").stat().st_mtime
    return all(path.stat().st_mtime <= built for path in JS_SOURCES.rglob("*.js"))


def ensure_vendor():
    """TF.js copied from node_modules into web_demo/vendor (what `make vendor` does).

    vendor.mjs writes tf.min.js last, each file renamed into place, so tf.min.js present means the
    copy is complete. Several processes (test workers, a benchmark) may ask at once: under an flock
    on vendor/.lock one runs vendor.mjs, the others wait and then find it done. A vendor dir copied
    before a file joined the list (the WebGPU backend) lacks that file and is copied again, and one whose
    webnets.js is older than js/src/ is built and copied again."""
    vendor = WEB_DEMO / "vendor"
    if _vendor_current(vendor):
        return
    with file_lock(vendor / ".lock"):
        if _vendor_current(vendor):
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
