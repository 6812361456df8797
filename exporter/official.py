"""The official `tensorflowjs` package (its weight writer, quantizer and graph converter).

Its `__init__` imports every converter, and with them tf_keras and TensorFlow
Decision Forests: 0.6 s on every `convert`, and TF-DF prints an advertisement
on stdout (corrupting machine-readable output) unless told not to. The layers
route only needs the weight reader and the quantizer, which import numpy alone,
so the package is registered without running its `__init__`, and the graph
converters and the weight writer load on first use
(`official.tf_saved_model_conversion_v2`, `official.write_weights`).
A later `import tensorflowjs` elsewhere in the process gets the same package,
whose missing attributes (`converters`, ...) import on first access.
"""

import importlib
import importlib.util
import os
import sys
import types

os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")

_CONVERTERS = {"keras_h5_conversion", "tf_saved_model_conversion_v2"}


def _package_without_init():
    if "tensorflowjs" in sys.modules:
        return sys.modules["tensorflowjs"]
    spec = importlib.util.find_spec("tensorflowjs")
    if spec is None:
        raise ImportError("the tensorflowjs package is not installed; `make setup` installs the pinned one")
    package = types.ModuleType("tensorflowjs")
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__, package.__file__, package.__package__ = spec, spec.origin, "tensorflowjs"
    # PEP 562: `tensorflowjs.converters` etc. import on first access, as the real __init__ would have.
    package.__getattr__ = lambda name: importlib.import_module(f"tensorflowjs.{name}")
    sys.modules["tensorflowjs"] = package
    package.__version__ = importlib.import_module("tensorflowjs.version").version
    return package


version = _package_without_init().__version__

from tensorflowjs import quantization, read_weights  # noqa: E402,F401


def __getattr__(name):
    if name in _CONVERTERS:
        return importlib.import_module(f"tensorflowjs.converters.{name}")
    if name == "write_weights":
        # It imports TensorFlow (for its file API alone); exporter.quantize.shards writes the same
        # files without it, and the tests compare the two.
        return importlib.import_module("tensorflowjs.write_weights")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
