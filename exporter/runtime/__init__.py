"""webnets-layers.js: webnets' own TF.js layer classes, and which exports need them.

tfjs-layers 4.22 lacks layers Keras 3 users write (attention, GRU with reset_after,
GroupNormalization, half-pixel bilinear resizing, ...). TF.js loads any class a page
registers with `tf.serialization.registerClass` before `tf.loadLayersModel`, so webnets
ships them: `webnets-layers.js` in this directory, one plain script for a page or Node. It is
generated, not edited: js/build.mjs builds it (and webnets-tokenizers.js) with esbuild from the
ES modules in js/src/layers/ (js/src/tokenizers/), one per concern, where the documented code lives;
`make js` rebuilds both, and tests/test_js_build.py checks the committed copies are that build.
Translators emit these classes by name; every class is called `Webnets<Name>`, so none
shadows a tfjs built-in. An export whose model.json names one gets a copy of the file
beside model.json and a `requires` entry (with its sha256) in meta.json; the Node parity
runner, `verify`, `publish`, model.js and the demo load it first. A plugin's JS file (a user's
TF.js classes, exporter/plugins.py) follows the same contract and travels the same way, listed
after webnets-layers.js.
"""

import hashlib
import json
from pathlib import Path

__all__ = ["RUNTIME_FILE", "RUNTIME_NAME", "CLASS_PREFIX", "webnets_classes", "requires_entry", "runtime_bytes",
           "required_scripts", "SCRIPT_OF_CLASS", "runtime_scripts"]

RUNTIME_NAME = "webnets-layers.js"
RUNTIME_FILE = Path(__file__).resolve().parent / RUNTIME_NAME
CLASS_PREFIX = "Webnets"


def webnets_classes(model_json) -> set:
    """The webnets class names a model.json (or any part of its topology) uses."""
    found = set()

    def walk(value):
        if isinstance(value, dict):
            for key in ("class_name", "activation", "recurrent_activation"):  # layers, and activations by name
                name = value.get(key)
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


# webnets classes defined in another script of this directory than webnets-layers.js: class -> file.
# (webnets-tokenizers.js: keras-hub's tokenizers, usable without TF.js too.)
SCRIPT_OF_CLASS = {"WebnetsTokenizer": "webnets-tokenizers.js"}
SCRIPT_OF_CLASS.update(dict.fromkeys(("WebnetsStartEndPacker", "WebnetsMultiSegmentPacker"), "webnets-tokenizers.js"))


def runtime_scripts(model_json) -> list:
    """(file name, bytes) of the webnets scripts a model.json needs, in load order: webnets-layers.js when
    it names a class defined there, then the other scripts of SCRIPT_OF_CLASS whose classes it names."""
    classes = webnets_classes(model_json)
    names = [RUNTIME_NAME] if classes - set(SCRIPT_OF_CLASS) else []
    names += sorted({SCRIPT_OF_CLASS[c] for c in classes & set(SCRIPT_OF_CLASS)})
    return [(name, (RUNTIME_FILE.parent / name).read_bytes()) for name in names]


def requires_entry(data=None, name=RUNTIME_NAME) -> dict:
    """meta.json's record of a script an export carries: webnets-layers.js, or a plugin's JS file
    (exporter/plugins.py) of that file `name`, which travels the same way."""
    data = runtime_bytes() if data is None else data
    return {"file": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def required_scripts(model_dir) -> list:
    """The file names of the scripts an export directory's model needs, in load order: those meta.json
    `requires` (none without a meta.json), after webnets-layers.js where a copy is there."""
    model_dir = Path(model_dir)
    meta = model_dir / "meta.json"
    names = [r["file"] for r in json.loads(meta.read_text()).get("requires", [])] if meta.is_file() else []
    if (model_dir / RUNTIME_NAME).is_file() and RUNTIME_NAME not in names:
        names.insert(0, RUNTIME_NAME)
    return names
