"""The pinned dependencies install and import together in one process, at the pinned versions."""

import importlib
import json
import re
import subprocess
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pins():
    """{distribution: version} of every `name==version` dependency in pyproject.toml (test extras too)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    return dict(re.match(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^;\s]+)", r).groups() for r in requirements)


def test_installed_versions_are_the_pinned_ones():
    pins = _pins()
    assert {"tensorflow", "keras", "tensorflowjs", "numpy", "h5py"} <= set(pins)
    installed = {name: metadata.version(name) for name in pins}
    assert installed == pins


def test_pinned_stack_imports_together():
    import h5py
    import keras
    import numpy
    import tensorflow as tf

    from exporter import official  # tensorflowjs, quietly

    pins = _pins()
    assert (tf.__version__, keras.__version__, numpy.__version__, h5py.__version__) == (
        pins["tensorflow"], pins["keras"], pins["numpy"], pins["h5py"])
    assert official.version == pins["tensorflowjs"]
    importlib.import_module("tensorflowjs.converters.tf_saved_model_conversion_v2")


def test_tfjs_pinned_in_lock_file():
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/@tensorflow/tfjs"]["version"] == "4.22.0"
    version = subprocess.run(["node", "-e", "console.log(require('@tensorflow/tfjs/package.json').version)"],
                             cwd=ROOT, capture_output=True, text=True)
    assert version.stdout.strip() == "4.22.0"
