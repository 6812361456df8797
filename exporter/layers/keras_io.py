"""Load a Keras model file safely, turning every way it can fail into a clear error.

Never runs code from the file unless asked: `.keras` files load with
safe_mode=True (Lambda layers holding Python bytecode are refused), and
custom classes are never imported from a file. Nor does a file make webnets allocate more than
it holds: its config is read as data first and each layer's weights counted (budget.py), and a
config that declares more weights than the file stores, or more than max_params, is refused
before Keras builds anything.
"""

import json
import re
import zipfile
from pathlib import Path

from ..errors import ExportError
from .budget import check_budget, estimate_or_refuse
from .h5_probe import probe_h5, probe_keras_weights
from .user_code import missing_module_hint

_H5_MAGIC = b"\x89HDF\r\n\x1a\n"
_ZIP_MAGIC = b"PK\x03\x04"
# A config this large is not a model a person saved (keras.applications' largest is 1 MB), and
# parsing it would take gigabytes by itself.
_MAX_CONFIG_BYTES = 64 * 1024 * 1024
_WEIGHT_MEMBERS = ("model.weights.h5", "model.weights.npz")  # where Keras 3 keeps a .keras file's weights


def sniff_format(path):
    """'keras', 'h5' or 'saved_model' from the file's content, or an ExportError."""
    path = Path(path)
    if not path.exists():
        raise ExportError(f"'{path}' does not exist. Fix: check the path; webnets reads .keras and .h5 files "
                          "(and SavedModel directories with --format graph).")
    if path.is_dir():
        if (path / "saved_model.pb").exists():
            return "saved_model"
        raise ExportError(f"'{path}' is a directory but not a TensorFlow SavedModel (no saved_model.pb). "
                          "Fix: pass a .keras or .h5 file, or a SavedModel directory with --format graph.")
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(_ZIP_MAGIC):
        return "keras"
    if head == _H5_MAGIC:
        return "h5"
    raise ExportError(f"'{path}' is neither a Keras 3 .keras archive nor a Keras .h5 file (its first bytes are "
                      f"{head[:8]!r}). Fix: save the model with model.save('model.keras').")


def load_keras_model(path, unsafe=False, max_params=None):
    """Load a .keras / .h5 model without compiling it.

    max_params: refuse a config declaring more parameters than this (None: budget.DEFAULT_MAX_PARAMS)."""
    path = Path(path)
    kind = sniff_format(path)
    if kind == "saved_model":
        raise ExportError(f"'{path}' is a SavedModel; the layers format needs the Keras model. Fix: pass the "
                          ".keras file, or use --format graph to convert the SavedModel.")
    if kind == "keras":
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                bad = archive.testzip()
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, ValueError) as error:  # NotImplementedError: "zip file version 14.8"
            raise ExportError(f"'{path}' is a damaged .keras archive ({error}); it was probably truncated while "
                              "copying or saving. Fix: save the model again.") from error
        if bad is not None or "config.json" not in names:
            raise ExportError(f"'{path}' is a zip file but not a complete .keras model "
                              f"({'corrupt member ' + bad if bad else 'no config.json'}). Fix: save the model again "
                              "with model.save('model.keras').")
    # HDF5 allocates what damaged headers declare, and can loop on them: Keras' reads (and the config check's)
    # are rehearsed first in a child under a memory and time limit.
    if kind == "h5":
        probe_h5(path)
    elif kind == "keras":
        probe_keras_weights(path)
    check_model_file(path, kind, max_params)
    import keras  # slow import: only when a model is really loaded

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=not unsafe)
    except Exception as error:  # Keras raises many types; all mean "cannot load"
        raise ExportError(_explain_load_error(path, error, unsafe)) from error


def check_model_file(path, kind=None, max_params=None):
    """Refuse a .keras / .h5 file whose config declares more weights than the file holds, or more
    than max_params, reading only its config and the weights' size (nothing is extracted or built).
    A config that is not JSON is left to Keras, which explains it."""
    path = Path(path)
    kind = kind or sniff_format(path)
    if kind == "keras":
        with zipfile.ZipFile(path) as archive:
            _check_config_size(path, archive.getinfo("config.json").file_size)
            members = {i.filename: i.file_size for i in archive.infolist()}
            weights = next((name for name in _WEIGHT_MEMBERS if name in members), None)
            try:
                config = json.loads(archive.read("config.json"))
            except ValueError:
                return
        held = members[weights] if weights else 0
        label = f"its weights file {weights}" if weights else "the archive (it has no model.weights.h5)"
    elif kind == "h5":
        import h5py

        try:
            with h5py.File(path, "r") as f:
                text = f.attrs.get("model_config")
        except OSError:
            return  # not readable: Keras explains that
        if not isinstance(text, (str, bytes)):
            return  # a weights-only file, or a model_config that is not text: Keras explains either
        _check_config_size(path, len(text))
        try:
            config = json.loads(text)
        except ValueError:
            return
        held, label = path.stat().st_size, "the whole .h5 file"
    else:
        return
    refuse_beyond_int32(path, config)
    budget = estimate_or_refuse(config, lambda why: (
        f"'{path}': its model config could not be read as data ({why}), so its size cannot be checked before "
        "Keras builds it. Fix: save the model again with model.save('model.keras'); if Keras loads the file "
        "and webnets still refuses it, report it."))
    check_budget(budget, path, weights_bytes=held, weights_label=label, max_params=max_params)


# Layer options TensorFlow passes to its kernels as int32 attributes: a larger value aborts the process
# in TensorFlow's C++ ("Attr ksize has value 10000000000 out of range for an int32"), not an exception.
_INT32_OPTIONS = frozenset((
    "pool_size", "strides", "kernel_size", "dilation_rate", "size", "cropping", "padding", "output_padding",
    "target_shape", "dims", "groups", "filters", "units", "depth_multiplier", "input_dim", "output_dim",
    "num_heads", "key_dim", "value_dim", "length", "n"))


def refuse_beyond_int32(path, config):
    """Refuse a config (as data) whose kernel-attribute options exceed int32; `path` names its file."""
    def ints(value):
        if isinstance(value, bool):
            return []
        if isinstance(value, int):
            return [value]
        if isinstance(value, (list, tuple)):
            return [i for v in value for i in ints(v)]
        return []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _INT32_OPTIONS and any(abs(i) > 2 ** 31 - 1 for i in ints(value)):
                    name = node.get("name", "?")
                    raise ExportError(f"'{path}': layer '{name}' sets {key} = {str(value)[:60]}, beyond the 32-bit "
                                      "integers TensorFlow's kernels take (it would abort the process, not fail). "
                                      "Fix: save the model again from the code that built it; convert only files "
                                      "you trust.")
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)


def _check_config_size(path, size):
    if size > _MAX_CONFIG_BYTES:
        raise ExportError(f"'{path}': its model config is {size:,} bytes, more than the {_MAX_CONFIG_BYTES:,} a "
                          "model config takes, so it was not read. Fix: save the model again with "
                          "model.save('model.keras'); convert only files you trust.")


def _file_layers(path):
    """(name, class_name, module, registered_name) of every object the file's config names, read as data only."""
    try:
        if sniff_format(path) == "keras":
            with zipfile.ZipFile(path) as archive:
                config = json.loads(archive.read("config.json"))
        else:
            import h5py

            with h5py.File(path, "r") as f:
                config = json.loads(f.attrs["model_config"])
    except Exception:  # unreadable config: the caller falls back to Keras' message
        return []
    found = []

    def walk(node):
        if isinstance(node, dict):
            if "class_name" in node and isinstance(node.get("config"), dict) and "name" in node["config"]:
                found.append((str(node["config"]["name"]), str(node["class_name"]),
                               node.get("module") if isinstance(node.get("module"), str) else "",
                               node.get("registered_name") if isinstance(node.get("registered_name"), str) else ""))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return found


def _explain_load_error(path, error, unsafe):
    text = str(error).strip().replace("\n", " ")
    layers = _file_layers(path)
    lambdas = [name for name, class_name, *_ in layers if class_name == "Lambda"]
    if lambdas or ("safe_mode" in text and not unsafe):
        named = ", ".join(f"'{n}'" for n in lambdas) or "(name unknown)"
        return (f"Layer {named} (Lambda) in '{path}' holds Python code. webnets does not run code from model "
                "files unless you pass --unsafe, and even then TF.js cannot run a Lambda. Fix: replace the Lambda "
                "with built-in layers and save again.")
    foreign = [(name, class_name, missing_module_hint(module, registered))
               for name, class_name, module, registered in layers
               if (module and not module.startswith("keras")) or (registered and ">" in registered
                                                                   and not registered.startswith("keras>"))]
    located = re.search(r"Could not locate (?:class|function) '([^']+)'", text)
    if foreign or located:
        return _unimported_classes(path, foreign, located.group(1) if located else None)
    if isinstance(error, (OSError, EOFError)) or "truncated" in text.lower() or "unable to" in text.lower():
        return (f"'{path}' could not be read as a Keras model ({type(error).__name__}: {text[:300]}); the file is "
                "probably truncated or damaged. Fix: save the model again.")
    return (f"Keras could not load '{path}' ({type(error).__name__}: {text[:400]}). Fix: check that it was "
            "saved by Keras 3 (model.save('model.keras')) or Keras 2 (.h5) and loads with keras.saving.load_model.")


def _unimported_classes(path, foreign, located):
    """The error for a file whose classes come from modules that were not imported."""
    what = ", ".join(f"'{n}' ({c})" for n, c, _ in foreign[:6]) + (" and more" if len(foreign) > 6 else "")
    modules = sorted({hint for *_, hint in foreign if hint})
    if modules:
        imports = " ".join(f"--import {m}" for m in modules)
        fix = (f"if you trust that code, pass {imports} (Python: exporter.convert(..., imports={modules!r})); "
               "webnets then traces layers written in keras.ops, or uses a translator registered for them.")
        origin = f"from the module(s) {', '.join(modules)}, which were not imported"
    else:
        fix = ("if you trust that code, pass --import with the module that defines these classes (Python: "
               "exporter.convert(..., imports=['my_module'])), or rebuild the model from built-in Keras layers.")
        origin = "from a module that was not imported"
    subject = f"names classes that are not part of Keras: {what}," if foreign else f"names the class '{located}',"
    return (f"'{path}' {subject} {origin}. webnets never imports code because a model file names it. "
            f"Fix: {fix}")
