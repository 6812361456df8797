"""webnets-layers.js: webnets' own TF.js layer classes, and which exports need them.

tfjs-layers 4.22 lacks layers Keras 3 users write (attention, GRU with reset_after,
GroupNormalization, half-pixel bilinear resizing, ...). TF.js loads any class a page
registers with `tf.serialization.registerClass` before `tf.loadLayersModel`, so webnets
ships them: `webnets-layers.js` in this directory, one plain script (no build step).
Translators emit these classes by name; every class is called `Webnets<Name>`, so none
shadows a tfjs built-in. An export whose model.json names one gets a copy of the file
beside model.json and a `requires` entry (with its sha256) in meta.json; the Node parity
runner, `verify`, `publish`, model.js and the demo load it first.
"""

import hashlib
from pathlib import Path

__all__ = ["RUNTIME_FILE", "RUNTIME_NAME", "CLASS_PREFIX", "webnets_classes", "requires_entry", "runtime_bytes"]

RUNTIME_NAME = "webnets-layers.js"
RUNTIME_FILE = Path(__file__).resolve().parent / RUNTIME_NAME
CLASS_PREFIX = "Webnets"


def webnets_classes(model_json) -> set:
    """The webnets class names a model.json (or any part of its topology) uses."""
    found = set()

    def walk(value):
        if isinstance(value, dict):
            name = value.get("class_name")
            if isinstance(name, str) and name.startswith(CLASS_PREFIX):
                found.add(name)
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(model_json.get("modelTopology", model_json))
    return found


def runtime_bytes() -> bytes:
    return RUNTIME_FILE.read_bytes()


def requires_entry(data=None) -> dict:
    """meta.json's record of the runtime file an export carries."""
    data = runtime_bytes() if data is None else data
    return {"file": RUNTIME_NAME, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
