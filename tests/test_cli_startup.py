"""What `convert` costs before it converts anything: the layers route imports neither the official
weight writer's TensorFlow file API nor the optional libraries TensorFlow and Keras import whenever
they are installed (JAX, pandas, scikit-learn), and still writes a verified export."""

import re
import subprocess
import sys
from pathlib import Path

import keras
import pytest

ROOT = Path(__file__).resolve().parents[1]
UNUSED = ("jax", "pandas", "sklearn")


def _imported(stderr):
    """Top-level packages loaded, from a `python -X importtime` log: a package's microseconds summed
    over its modules. An import that found None in sys.modules is logged too, at a few µs."""
    spent = {}
    for m in re.finditer(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", stderr):
        top = m.group(2).split(".")[0]
        spent[top] = spent.get(top, 0) + int(m.group(1))
    return {name for name, us in spent.items() if us > 1000}


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("startup") / "small.keras"
    keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2)]).save(path)
    return path


@pytest.mark.parametrize("unsafe", [False, True])
def test_convert_skips_the_optional_imports_unless_user_code_may_run(model_file, tmp_path, unsafe):
    # --debug: the import log goes to stderr, which the CLI otherwise holds back while TensorFlow loads.
    argv = [sys.executable, "-X", "importtime", "-m", "exporter", "--debug", "convert", str(model_file),
            str(tmp_path / "out")]
    proc = subprocess.run(argv + (["--unsafe"] if unsafe else []), cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "-> OK" in proc.stdout
    imported = _imported(proc.stderr)
    assert "tensorflow" in imported and "keras" in imported
    if unsafe:
        assert "jax" in imported  # TensorFlow imports it when it is installed; nothing held it back
    else:
        assert not imported & set(UNUSED), imported & set(UNUSED)
