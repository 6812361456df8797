"""The pinned dependencies install and import together in one process."""

import importlib
import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_pinned_stack_imports_together():
    import tensorflow as tf
    import keras
    import numpy
    import h5py

    from exporter import official  # tensorflowjs, quietly

    assert tf.__version__ == "2.19.0"
    assert keras.__version__.startswith("3.")
    assert official.version == "4.22.0"
    assert numpy.__version__.startswith("2.1")
    assert h5py.__version__
    importlib.import_module("tensorflowjs.converters.tf_saved_model_conversion_v2")


def test_tfjs_pinned_in_lock_file():
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/@tensorflow/tfjs"]["version"] == "4.22.0"
    version = subprocess.run(["node", "-e", "console.log(require('@tensorflow/tfjs/package.json').version)"],
                             cwd=ROOT, capture_output=True, text=True)
    assert version.stdout.strip() == "4.22.0"
