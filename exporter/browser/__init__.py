"""The web demo's side of the exporter: serving it cross-origin isolated, and the headless browser
the tests and the benchmark drive it with.

    serve.py     `serve DIR` / `make demo`: COOP + COEP, so TF.js WASM runs threaded
    chromium.py  Debian's headless Chromium with WebGL on SwiftShader: flags, lookup, vendored TF.js
"""
