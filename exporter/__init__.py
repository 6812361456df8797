"""webnets exporter: Keras 3 -> TensorFlow.js layers models, verified in TF.js.

Python API:

    import exporter
    exporter.convert("model.keras", "out/", quantize="uint8")   # -> meta dict (out/meta.json)
    exporter.verify("out/")                                     # -> ParityReport
    from exporter.plugins import translator                     # your own layers: a translator + a JS class

Layout, one subpackage per pipeline stage:

    cli.py       the command line: one handler per subcommand
    zoo/         `export MODEL`: train or load a zoo model (models/), prune, convert, index.json
    pipeline/    `convert`: one model through the stages below into a verified directory, meta.json
    layers/      load a Keras file safely; translate its topology to tfjs-layers (translators/)
    optimize/    rewrites of the translated topology: fold BatchNorm, drop no-ops, merge activations
    quantize/    the quantization request, resolved per model; --quantize auto; the shard writer
    parity/      run the export in TF.js under Node and compare with Keras; `verify`; tolerances
    output/      atomic export directories, model.js for file:// pages, transfer sizes
    publish/     exported models -> a CDN origin (fsspec), index.json with SRI hashes
    browser/     serving the demo cross-origin isolated; headless Chromium for tests and bench
    runtime/     webnets-layers.js (webnets' own TF.js layer classes), webnets-tokenizers.js, and which exports need them
    text/        keras-hub tokenizers -> the specs webnets-tokenizers.js runs (vocabularies, merges, normalizers)
    plugins.py   the public plugin API: a user's translator and TF.js class (layers/plugins.py holds the mechanics)
    weights.py   where an exported weight lives in Keras, and Keras run with other values for it
    official.py  the official tensorflowjs package (writer, quantizer, graph converter)
    errors.py    ExportError: every failure a user can cause, with its fix

Imports run one way, top to bottom: cli -> zoo -> pipeline -> (layers, optimize, quantize,
parity, output) -> (weights, text) -> official, runtime, errors; publish and browser need only errors;
plugins.py, which users import, reads layers.
tests/test_layout.py holds every module to it. `models/` (the zoo's architectures, data and training) never imports `exporter/`;
`exporter/zoo` is the one place that imports `models/`.
"""

import importlib
import os

__version__ = "0.1.0"

# TensorFlow prints pages of C++ start-up chatter on import; none of it helps a
# person converting a model and it buries the one-paragraph errors. Set before
# anything imports TensorFlow; an explicit user setting wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
# TensorFlow turns its oneDNN kernels on by default only on some CPUs (Intel); without them the
# CPU has no channels_first convolution, so the Keras reference of a channels_first model fails
# to run (measured on an AMD EPYC: "Conv2D op currently only supports the NHWC tensor format").
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

# name -> the module defining it. Imported on first use (PEP 562), so `import exporter` and the
# CLI's option checks stay fast: `convert` pulls in Keras and TensorFlow.
_PUBLIC = {
    "convert": "exporter.pipeline",
    "export_keras_model": "exporter.pipeline",
    "verify": "exporter.parity",
    "ParityReport": "exporter.parity",
    "QuantizeRequest": "exporter.quantize",
    "Quantization": "exporter.quantize",
    "export_model": "exporter.zoo",
    "ExportError": "exporter.errors",
    "UnsupportedLayerError": "exporter.errors",
    "ParityError": "exporter.errors",
    "plugins": "exporter.plugins",  # the module itself: exporter.plugins.translator, ...
}
__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name in _PUBLIC:
        module = importlib.import_module(_PUBLIC[name])
        return module if _PUBLIC[name] == f"exporter.{name}" else getattr(module, name)
    raise AttributeError(f"module 'exporter' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
