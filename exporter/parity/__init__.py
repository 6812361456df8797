"""Parity: run the exported model in the real TF.js runtime and compare with Keras.

    tolerances.py  the error measure and the named bounds (Node, browser, in-page check)
    compare.py     sample inputs, the Keras reference, the parity report, golden vectors
    runtime.py     the Node runner (node/run_tfjs.mjs): TF.js on WASM, or CPU; numbers and strings in and out
    texts.py       sample texts for models that take strings
    directory.py   `verify DIR|URL`: re-run a finished export's golden vectors
"""

from .directory import verify
from .compare import ParityReport
from .tolerances import BROWSER_BOUND, FLOAT32_BOUND, PAGE_INTEGRITY_BOUND, max_relative_error, relative_error

__all__ = ["verify", "ParityReport", "FLOAT32_BOUND", "BROWSER_BOUND", "PAGE_INTEGRITY_BOUND", "relative_error",
           "max_relative_error"]
