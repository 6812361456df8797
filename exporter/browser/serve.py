"""`serve DIR`: the static server behind `make demo` (and the bench page), cross-origin isolated.

Browsers give a page SharedArrayBuffer, and with it TF.js's threaded WASM binary,
only when the page is cross-origin isolated: its response carries
`Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy:
require-corp`. Python's http.server sends neither, so a demo served with it runs
WASM on one thread. Under COEP every subresource must opt in: same-origin files
do, and the models a page loads from a CDN opt in through CORS (the CDN must
send Access-Control-Allow-Origin, which the publish notes ask for anyway).

The files served here also send `Cross-Origin-Resource-Policy: cross-origin`
and `Access-Control-Allow-Origin: *`, so an isolated app on another local port
can load the models from this server, and `Cache-Control: no-cache`, so a
re-exported model is picked up on reload (revalidated, not re-downloaded).
"""

import contextlib
import functools
import http.server
import threading
from pathlib import Path

from ..errors import ExportError

ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
}
SHARING_HEADERS = {
    "Cross-Origin-Resource-Policy": "cross-origin",
    "Access-Control-Allow-Origin": "*",
}
# mimetypes reads /etc/mime.types, which may lack these: a .wasm served as octet-stream
# cannot be compiled with WebAssembly.instantiateStreaming, and .mjs must be JavaScript.
CONTENT_TYPES = {".wasm": "application/wasm", ".mjs": "text/javascript", ".js": "text/javascript",
                 ".json": "application/json", ".bin": "application/octet-stream"}


class IsolatedHandler(http.server.SimpleHTTPRequestHandler):
    """Serves `mounts` ({URL prefix: directory}, longest prefix first) with the isolation headers."""

    mounts = {}
    quiet = False
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **CONTENT_TYPES}

    def translate_path(self, path):
        clean = path.split("?", 1)[0].split("#", 1)[0]
        for prefix, directory in sorted(self.mounts.items(), key=lambda kv: -len(kv[0])):
            if clean.startswith(prefix):
                root = Path(directory).resolve()
                # SimpleHTTPRequestHandler's own translation (it drops '..' and decodes %xx),
                # applied to the part after the prefix.
                self.directory = str(root)
                return super().translate_path("/" + clean[len(prefix):])
        return str(Path(self.directory) / "__no_such_mount__")

    def end_headers(self):
        for name, value in {**ISOLATION_HEADERS, **SHARING_HEADERS, "Cache-Control": "no-cache"}.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, *args):
        if not self.quiet:
            super().log_message(*args)


def serving(mounts, host="127.0.0.1", port=0, quiet=True):
    """Serve {URL prefix: directory} in a background thread; yields the base URL (port 0: any free port)."""
    return in_background(_handler(mounts, quiet), host, port)


@contextlib.contextmanager
def in_background(handler, host="127.0.0.1", port=0):
    """Serve with any http.server handler class in a background thread; yields the base URL."""
    server = _listening(handler, host, port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def serve_forever(directory, host="127.0.0.1", port=8000):
    """`python -m exporter serve`: serve `directory` until interrupted."""
    directory = Path(directory)
    if not (directory / "index.html").is_file():
        raise ExportError(f"'{directory}' has no index.html to serve. Fix: pass the demo directory "
                          "(web_demo, the default) or another folder with an index.html.")
    server = _listening(_handler({"/": directory}, quiet=False), host, port)
    print(f"webnets demo: http://{host}:{server.server_address[1]}/index.html  (cross-origin isolated: "
          "threaded WASM; Ctrl-C stops)", flush=True)
    with server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:  # the normal way to stop a dev server, not an error
            print("stopped", flush=True)


def _handler(mounts, quiet):
    """A handler serving {URL prefix: directory} with the isolation headers."""
    handler = type("Handler", (IsolatedHandler,), {"mounts": dict(mounts), "quiet": quiet})
    return functools.partial(handler, directory=str(next(iter(mounts.values()))))


def _listening(handler, host, port):
    try:
        return http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as error:
        raise ExportError(f"cannot listen on {host}:{port} ({error.strerror or error}). Fix: pick a free port, "
                          "e.g. `make demo DEMO_PORT=8001` or `python -m exporter serve --port 8001`.") from None
