"""`python -m exporter serve` (what `make demo` runs): a real server process, read over HTTP.

The headers are what make the page cross-origin isolated (threaded WASM); the
browser side of that is tests/test_browser.py::test_wasm_runs_threaded_when_served_by_make_demo.
"""

import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from exporter.browser.serve import ISOLATION_HEADERS, SHARING_HEADERS
from exporter.browser.chromium import ensure_vendor

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def server():
    process = subprocess.Popen([sys.executable, "-m", "exporter", "serve", "web_demo", "--port", "0"], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)/index\.html", line)
        assert match, (line, process.stderr.read() if process.poll() is not None else "")
        yield match.group(1), process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers, response.read()


@pytest.mark.parametrize("path, content_type", [
    ("/index.html", "text/html"),
    ("/js/backend.js", "text/javascript"),
    ("/models/squeezenet/model.json", "application/json"),
    ("/models/squeezenet/group1-shard1of1.bin", "application/octet-stream"),
    ("/vendor/tfjs-backend-wasm-threaded-simd.wasm", "application/wasm"),
])
def test_files_come_with_the_isolation_headers(server, path, content_type):
    base, _ = server
    if path.startswith("/vendor/"):
        ensure_vendor()
    status, headers, body = fetch(base + path)
    assert status == 200 and body == (REPO / "web_demo" / path.lstrip("/")).read_bytes()
    assert headers["Content-Type"].startswith(content_type)
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"
    assert headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert headers["Cache-Control"] == "no-cache"


def test_nothing_outside_the_directory_is_served(server):
    base, _ = server
    for path in ("/../pyproject.toml", "/%2e%2e/pyproject.toml", "/models/../../Makefile"):
        with pytest.raises(urllib.error.HTTPError) as error:
            fetch(base + path)
        assert error.value.code == 404, path


def test_ctrl_c_stops_it_cleanly(server):
    _, process = server
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err
    # The request log reaches the terminal (the capture of TensorFlow's noise is not around `serve`).
    assert '"GET /index.html HTTP/1.1" 200' in err, err


def test_bad_directory_and_busy_port_are_one_paragraph(tmp_path):
    result = subprocess.run([sys.executable, "-m", "exporter", "serve", str(tmp_path)], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "has no index.html" in result.stderr and "Traceback" not in result.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "exporter", "serve", "--port", str(port)], cwd=REPO,
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "DEMO_PORT" in result.stderr and "Traceback" not in result.stderr


def test_static_host_headers_file_matches_the_server():
    """web_demo/_headers (Cloudflare Pages / Netlify) sends what `make demo` sends for isolation."""
    lines = [line.strip() for line in (REPO / "web_demo" / "_headers").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "/*"
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert headers == {**ISOLATION_HEADERS, "Cross-Origin-Resource-Policy": SHARING_HEADERS["Cross-Origin-Resource-Policy"]}
