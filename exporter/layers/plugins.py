"""Plugins: a user's translator plus the JavaScript file defining the TF.js classes it emits.

A layer that cannot be traced (Python control flow on tensor values, an op TF.js lacks) needs both
halves from its author: a Python translator (Keras layer -> TfjsLayer pieces, as webnets' own
translators write them) and a TF.js layer class. `plugin_translator` registers the first in webnets'
registry, keyed by the class's registered Keras name, and records the second (`PluginScript`).
An export whose model.json names a plugin's class carries its JS file exactly as it carries
webnets-layers.js: beside model.json, in meta.json `requires`, inside model.js, registered by the
parity runner before tf.loadLayersModel, published with its SRI hash, loaded by the demo.

Installed plugins announce themselves through the entry point group `webnets.translators`; they
are imported once, before the first translation (`load_installed`), never at `import exporter`.

The public face of this module is exporter/plugins.py.
"""

import importlib.metadata
import inspect
import re
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import ExportError
from ..runtime import CLASS_PREFIX, RUNTIME_NAME
from .translators import TRANSLATORS
from .translators.registry import register

__all__ = ["ENTRY_POINT_GROUP", "PluginScript", "plugin_translator", "load_installed", "plugin_scripts"]

ENTRY_POINT_GROUP = "webnets.translators"
# Files an export directory (or a published version) already holds under these names.
_RESERVED_FILES = {RUNTIME_NAME, "model.js", "index.js"}
_JS_NAME = re.compile(r"^[A-Za-z_$][\w$]*$")


@dataclass(frozen=True)
class PluginScript:
    """The JS file of a plugin translator: `path` (absolute), the TF.js `classes` it defines that the
    translator emits, and the `key` (registered Keras name) of the translator."""

    path: Path
    classes: tuple
    key: str


def plugin_translator(key, *, js, becomes, note="", call_tensors=None):
    """Register a plugin translator (exporter.plugins.translator documents the arguments)."""
    key = _checked_key(key)
    classes = _checked_classes(key, becomes)

    def decorate(function):
        script = PluginScript(_script_path(js, function), classes, key)
        _check_script_name(key, script.path)
        _check_classes_free(script)
        previous = TRANSLATORS.get(key)
        if previous is not None:
            if not _same_plugin(previous, function, script):
                raise ExportError(
                    f"Two plugins register a translator for {key!r}: {_describe(previous.function)} and "
                    f"{_describe(function)}. Fix: keep one of them (uninstall the other plugin, or drop one "
                    "@translator).")
            del TRANSLATORS[key]  # the same plugin imported again (importlib.reload): its newer code wins
        register(key, becomes=", ".join(classes), note=note, call_tensors=call_tensors)(function)
        TRANSLATORS[key] = replace(TRANSLATORS[key], script=script)
        return function

    return decorate


def _checked_key(key):
    """The registered Keras name of a user's class; built-in classes (and their names) are refused."""
    if not isinstance(key, str) or not key.strip():
        raise ExportError(f"@translator({key!r}): the key must be the registered Keras name of your layer class, "
                          "e.g. 'my_package>RMSNorm'. Fix: pass keras.saving.get_registered_name(YourLayer).")
    key = key.strip()
    package = re.split(r"[>.]", key, maxsplit=1)[0]
    if (">" not in key and "." not in key) or package == "keras":
        raise ExportError(
            f"@translator({key!r}): {key!r} names a built-in Keras class (or no registered class at all). Plugins "
            "extend webnets, they never replace its own translators. Fix: translate your own layer class, keyed by "
            "its registered name: @keras.saving.register_keras_serializable(package='my_package') on the class, "
            "then @translator('my_package>ClassName', ...).")
    existing = TRANSLATORS.get(key)
    if existing is not None and existing.script is None:
        raise ExportError(f"@translator({key!r}): webnets already translates {key!r} itself, and plugins never "
                          "replace webnets' own translators. Fix: export the model without the plugin.")
    return key


def _checked_classes(key, becomes):
    classes = (becomes,) if isinstance(becomes, str) else tuple(becomes or ())
    if not classes:
        raise ExportError(f"@translator({key!r}): becomes= must name the TF.js class(es) your JS file defines "
                          "and the translator emits, e.g. becomes='MyPackageRMSNorm'.")
    for name in classes:
        if not isinstance(name, str) or not _JS_NAME.match(name):
            raise ExportError(f"@translator({key!r}): becomes={name!r} is not a JavaScript class name. Fix: name "
                              "the class your JS file registers, e.g. 'MyPackageRMSNorm'.")
        owner = "webnets" if name.startswith(CLASS_PREFIX) else "TF.js" if _is_tfjs_builtin(name) else None
        if owner is not None:
            raise ExportError(
                f"@translator({key!r}): becomes={name!r} is the name of a {owner} class, and TF.js keeps one class "
                "per name, so yours would replace it in every page that loads your file. Fix: give your TF.js "
                "class a name of its own, e.g. prefixed with your package's.")
    return classes


def _is_tfjs_builtin(name):
    """tfjs-layers names its classes as Keras does; a plugin class of such a name would shadow one."""
    import keras

    return inspect.isclass(getattr(keras.layers, name, None))


def _script_path(js, function):
    """`js` as an absolute path; a relative one is read from the directory of the translator's module."""
    path = Path(js).expanduser()
    if not path.is_absolute():
        try:
            path = Path(inspect.getfile(function)).resolve().parent / path
        except TypeError:  # defined interactively: no module file
            path = Path.cwd() / path
    return path.resolve()


def _check_script_name(key, path):
    if path.suffix != ".js" or path.name in _RESERVED_FILES:
        raise ExportError(f"@translator({key!r}): js={str(path)!r}: the file travels beside model.json under its own "
                          f"name, which must end in .js and be none of {', '.join(sorted(_RESERVED_FILES))}. "
                          "Fix: rename the file, e.g. my_package_layers.js.")


def _check_classes_free(script):
    for info in TRANSLATORS.values():
        other = info.script
        if other is None or other.key == script.key or other.path == script.path:
            continue
        shared = sorted(set(other.classes) & set(script.classes))
        if shared:
            raise ExportError(f"@translator({script.key!r}): TF.js class {shared[0]!r} is already defined by "
                              f"{other.path} (for {other.key!r}), and a page holds one class per name. Fix: name "
                              "the classes of different files differently.")


def _same_plugin(info, function, script):
    return (info.script is not None and info.script.path == script.path
            and _describe(info.function) == _describe(function))


def _describe(function):
    return f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', function)}"


# ---- installed plugins (entry points) ----

_loaded = False


def load_installed(force=False):
    """Import every installed plugin (entry point group `webnets.translators`) once; returns their names.

    An entry point names a module (importing it registers its translators) or a function taking no
    arguments that registers them. `force`: look again (a plugin installed into a running process).
    """
    global _loaded
    if _loaded and not force:
        return []
    names = []
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        _load_entry_point(entry)
        names.append(entry.name)
    _loaded = True
    return names


def _load_entry_point(entry):
    try:
        loaded = entry.load()
        if callable(loaded) and not inspect.isclass(loaded) and not inspect.ismodule(loaded):
            loaded()
    except ExportError as error:
        raise ExportError(f"The webnets plugin {entry.name!r} ({_where(entry)}) failed to load: {error}") from error
    except Exception as error:  # the plugin's own code raised: name it, with its message
        raise ExportError(
            f"The webnets plugin {entry.name!r} ({_where(entry)}) failed to load: {type(error).__name__}: {error}. "
            f"Fix: check that `python -c 'import {entry.value.split(':')[0]}'` works, reinstall the plugin, or "
            "uninstall it.") from error


def _where(entry):
    dist = getattr(entry, "dist", None)
    source = f" of the distribution {dist.metadata['Name']}" if dist is not None else ""
    return f"entry point '{entry.name} = {entry.value}' in group {ENTRY_POINT_GROUP}{source}"


# ---- what an export needs ----

def plugin_scripts(model_json):
    """The plugin JS files a model.json needs (paths, sorted by file name), each checked: it exists,
    it names every class of its that model.json uses, and no two share a file name."""
    used = _class_names(model_json.get("modelTopology", model_json))
    needed = {}  # path -> the classes of its that model.json uses
    for info in TRANSLATORS.values():
        script = info.script
        if script is not None and used & set(script.classes):
            needed.setdefault(script.path, set()).update(used & set(script.classes))
    _check_distinct_names(needed)
    for path, classes in needed.items():
        _check_script(path, sorted(classes))
    return sorted(needed, key=lambda p: (p.name, str(p)))


def _class_names(value):
    if isinstance(value, dict):
        found = {value["class_name"]} if isinstance(value.get("class_name"), str) else set()
        return found.union(*(_class_names(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_class_names(v) for v in value))
    return set()


def _check_distinct_names(needed):
    by_name = {}
    for path in needed:
        by_name.setdefault(path.name, []).append(path)
    for name, paths in sorted(by_name.items()):
        if len(paths) > 1:
            raise ExportError(
                f"The model needs two different plugin files named {name!r}: {' and '.join(map(str, sorted(paths)))}. "
                "An export keeps the files it needs side by side under their own names (a page loads them from "
                "there), so they cannot share one. Fix: rename one of the files (and its translator's js=).")


def _check_script(path, classes):
    if not path.is_file():
        raise ExportError(f"The model uses TF.js class(es) {', '.join(classes)}, which a plugin's translator emits "
                          f"from {path}, and that file does not exist. Fix: install the plugin's JS file there (or "
                          "correct js= in its @translator; a relative path is read from the translator's module).")
    text = path.read_text(encoding="utf-8", errors="replace")
    missing = [name for name in classes if not re.search(rf"""(['"`]){re.escape(name)}\1""", text)]
    if missing:
        raise ExportError(
            f"{path} does not name the TF.js class {missing[0]!r}, which model.json uses (its translator says "
            f"becomes={missing[0]!r}). Fix: define it there as webnets-layers.js does: a class with "
            f"`static className = '{missing[0]}'`, registered with tf.serialization.registerClass in the file's "
            "register(tf), which a page's classic script runs on the global tf and Node calls as "
            "require(file).register(tf).")
    if not re.search(r"\bregister\b", text):
        raise ExportError(f"{path} defines no register function, which Node's parity check calls "
                          "(require(file).register(tf)). Fix: follow the contract of webnets-layers.js "
                          "(docs/own-layers.md): module.exports = {register} and, in a page, register on "
                          "the global tf.")
