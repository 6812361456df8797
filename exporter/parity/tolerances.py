"""How far TF.js may be from Keras: one error measure and the named bounds every check uses.

The measure is relative to the output's scale, not per element: max |actual -
expected| over max |expected|. Softmax probabilities near 0 and logits near 0
would make a per-element ratio meaningless, while a scale-relative bound still
catches a wrong layer (errors of order 1) and passes float rounding (1e-7..1e-5).
web_demo/js/models.js `WN.relativeError` computes the same measure in the page
(tests/test_browser.py checks the two agree).
"""

from typing import Sequence

import numpy as np

__all__ = ["FLOAT32_BOUND", "BROWSER_BOUND", "PAGE_INTEGRITY_BOUND", "relative_error", "max_relative_error"]

# TF.js (Node, WASM or CPU) vs Keras, float32; a quantized export vs Keras run with the
# dequantized weights. Float rounding of a deep CNN reaches ~1e-6; a wrong option, 1e-1.
FLOAT32_BOUND = 1e-4
# Golden vectors re-run in a real browser: WebGL computes in float32 on SwiftShader and most
# GPUs, but its kernels sum in other orders and use their own exp/tanh approximations.
BROWSER_BOUND = 1e-3
# The demo page's own check when a model loads (meta.json golden["bound"]): it must catch a
# corrupt or mismatched download, and pass on GPUs whose WebGL only renders to float16.
PAGE_INTEGRITY_BOUND = 1e-2


def relative_error(actual, expected) -> float:
    """max |actual - expected| / max |expected| for one output (inf if the shapes differ). Text outputs
    (StringLookup(invert=True)) compare exactly: 0 when every string matches, else inf."""
    if np.asarray(actual).dtype.kind in "USO" or np.asarray(expected).dtype.kind in "USO":
        return _text_error(actual, expected)
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    if actual.shape != expected.shape:
        return float("inf")
    if expected.size == 0:
        return 0.0
    return float(np.max(np.abs(actual - expected))) / max(float(np.max(np.abs(expected))), 1e-12)


def max_relative_error(actual: Sequence, expected: Sequence) -> float:
    """The worst `relative_error` over a model's outputs (inf if their number differs)."""
    if len(actual) != len(expected):
        return float("inf")
    return max((relative_error(a, e) for a, e in zip(actual, expected)), default=0.0)


def _text_error(actual, expected):
    def texts(array):
        array = np.asarray(array)
        return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in array.reshape(-1).tolist()], array.shape

    (a, a_shape), (e, e_shape) = texts(actual), texts(expected)
    return 0.0 if a_shape == e_shape and a == e else float("inf")
