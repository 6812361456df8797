"""The files of an export, read as untrusted input: meta.json, model.json's topology, index.json.

`verify`, `import` and `publish` read exports that may come from anywhere (a download, a CDN, a
colleague's disk). Everything they use is checked here for type and shape first, so a damaged or
hostile file ends as one ExportError naming the file, the field and the fix, never as a KeyError deep
inside, a Node process that loops on a cyclic graph, or a script loaded from outside the directory.
"""

import json
import math
import re
from pathlib import Path

from ..errors import ExportError

__all__ = ["read_json", "check_meta", "check_golden", "check_topology", "check_file_name", "shard_names", "MAX_JSON_BYTES"]

MAX_JSON_BYTES = 64 * 1024 * 1024  # a model.json of a large model is a few MB; meta.json a few hundred kB
MAX_GOLDEN_VALUES = 50_000_000  # meta.json keeps a couple of samples; this is far above any real one
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")
DTYPES = ("float32", "int32", "bool", "string")


def _refuse(where, problem, fix):
    raise ExportError(f"{where}: {problem} Fix: {fix}")


def read_json(path, fix, what=None):
    """A JSON file's content; a missing, unreadable, oversized or invalid file is refused naming `fix`."""
    path = Path(path)
    what = what or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            _refuse(what, f"is {size} bytes, more than the {MAX_JSON_BYTES >> 20} MiB such a file can need.", fix)
        return json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        _refuse(what, f"cannot be read as JSON ({type(error).__name__}: {str(error)[:200]}).", fix)


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_file_name(name, where, fix, what="script", suffix=""):
    """A file (or model) named by an export's JSON must be a plain name beside it: a path could make the
    runner, a page or publish read or load something from anywhere."""
    # "./model.weights.bin" is how TF.js' browser download names its shard: the same file beside model.json.
    plain = name[2:] if isinstance(name, str) and name.startswith("./") else name
    if not isinstance(plain, str) or not _PLAIN_NAME.match(plain) or not plain.endswith(suffix):
        _refuse(where, f"names the {what} {str(name)[:80]!r}, which is not a plain {suffix or 'file'} name beside "
                "model.json.", fix)
    return name


def shard_names(model_json, where, fix):
    """The shard file names of model.json's weightsManifest, each a plain name."""
    manifest = model_json.get("weightsManifest") if isinstance(model_json, dict) else None
    if not isinstance(manifest, list) or not all(isinstance(g, dict) and isinstance(g.get("paths"), list)
                                                 for g in manifest):
        _refuse(where, "model.json's weightsManifest is not a list of {paths, weights} groups.", fix)
    return [check_file_name(p, where, fix, what="weight shard") for group in manifest for p in group["paths"]]


def check_golden(golden, where, fix):
    """meta.json `golden`: inputs and outputs, each {shape, dtype?, data} with len(data) == prod(shape)."""
    if not isinstance(golden, dict):
        _refuse(where, "meta.json's golden vectors are not an object of inputs and outputs.", fix)
    batch = None
    for side in ("inputs", "outputs"):
        entries = golden.get(side)
        if not isinstance(entries, list) or not entries:
            _refuse(where, f"meta.json's golden {side} are not a non-empty list.", fix)
        for i, entry in enumerate(entries):
            label = f"meta.json's golden {side}[{i}]"
            if not isinstance(entry, dict):
                _refuse(where, f"{label} is not an object.", fix)
            # Inputs name their dtype (the runner feeds it); outputs only when they are strings.
            shape, data = entry.get("shape"), entry.get("data")
            dtype = entry.get("dtype") if side == "inputs" else entry.get("dtype", "float32")
            if not isinstance(shape, list) or not shape or not all(_is_count(d) for d in shape):
                _refuse(where, f"{label} has no valid shape ({str(shape)[:80]}).", fix)
            if dtype not in DTYPES:
                _refuse(where, f"{label} has the dtype {str(dtype)[:40]!r}; webnets writes one of {', '.join(DTYPES)}.",
                        fix)
            size = math.prod(shape)
            if size > MAX_GOLDEN_VALUES or not isinstance(data, list) or len(data) != size:
                _refuse(where, f"{label} declares the shape {shape} ({size} values) but holds "
                        f"{len(data) if isinstance(data, list) else 'no list of'} values.", fix)
            kind = str if dtype == "string" else (int, float)
            if not all(isinstance(v, kind) and not isinstance(v, bool) for v in data):
                _refuse(where, f"{label} holds values that are not {'strings' if dtype == 'string' else 'numbers'}.",
                        fix)
            if side == "inputs":
                if batch is not None and shape[0] != batch:
                    _refuse(where, f"meta.json's golden inputs disagree on the number of samples ({batch} and "
                            f"{shape[0]}).", fix)
                batch = shape[0]
    if batch == 0:
        _refuse(where, "meta.json's golden inputs hold no sample.", fix)
    return golden


def check_meta(meta, where, fix):
    """The fields of meta.json that verify and publish use, by type; `golden` in full where present."""
    if not isinstance(meta, dict):
        _refuse(where, "meta.json is not a JSON object.", fix)
    for key in ("name", "format", "quantization"):
        if key in meta and not isinstance(meta[key], str):
            _refuse(where, f"meta.json's {key!r} is {str(meta[key])[:60]!r}, not a string.", fix)
    if meta.get("format", "layers") not in ("layers", "graph"):
        _refuse(where, f"meta.json's format is {meta['format'][:40]!r}; webnets writes 'layers' or 'graph'.", fix)
    for key in ("inputs", "outputs"):
        entries = meta.get(key, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("name"), str)
                                                    for e in entries):
            _refuse(where, f"meta.json's {key} are not a list of {{name, shape, dtype}} objects.", fix)
    requires = meta.get("requires", [])
    if not isinstance(requires, list) or not all(isinstance(r, dict) for r in requires):
        _refuse(where, "meta.json's requires is not a list of {file, sha256} objects.", fix)
    for entry in requires:
        check_file_name(entry.get("file"), where, fix, suffix=".js")
    for key in ("bytes", "metrics"):
        if key in meta and not isinstance(meta[key], dict):
            _refuse(where, f"meta.json's {key!r} is not an object.", fix)
    if "golden" in meta:
        check_golden(meta["golden"], where, fix)
        for key in ("inputs", "outputs"):
            # A graph export lists no outputs (a SavedModel's signature names them); where listed, they agree.
            if meta.get(key) and len(meta[key]) != len(meta["golden"][key]):
                _refuse(where, f"meta.json lists {len(meta[key])} model {key} but golden vectors for "
                        f"{len(meta['golden'][key])}.", fix)
    return meta


# ---- model.json's layers topology (the Keras 2 form TF.js reads) ----

def _model_config(topology):
    """{class_name, config} of the top-level model in a modelTopology."""
    config = topology.get("model_config", topology) if isinstance(topology, dict) else None
    return config


def _layer_list(model, where, fix):
    config = model.get("config")
    if model.get("class_name") == "Sequential":
        layers = config.get("layers") if isinstance(config, dict) else config
    else:
        layers = config.get("layers") if isinstance(config, dict) else None
    if not isinstance(layers, list) or not all(isinstance(layer, dict) for layer in layers):
        _refuse(where, f"the {model.get('class_name')!s:.40} model's layers are not a list of layer objects.", fix)
    return layers


def _ref(value):
    """(layer name, node index, tensor index) of an inbound reference or output_layers entry, else None."""
    if isinstance(value, dict) and "args" not in value:
        return None
    if not isinstance(value, list) or len(value) < 3:
        return None
    name, node, tensor = value[:3]
    if isinstance(name, str) and _is_count(node) and _is_count(tensor):
        return name, node, tensor
    return None


def _check_model(model, where, fix, depth):
    if depth > 32:
        _refuse(where, "model.json nests models more than 32 deep.", fix)
    if not isinstance(model, dict) or not isinstance(model.get("class_name"), str):
        _refuse(where, "model.json's topology has no model {class_name, config}.", fix)
    layers = _layer_list(model, where, fix)
    names = []
    for layer in layers:
        # A Functional model's layers are found by their own "name" (TF.js' loader waits forever for a layer
        # it cannot find by it); a Sequential's by their config's.
        name = (layer.get("config") or {}).get("name") if isinstance(layer.get("config"), dict) else None
        name = name if model.get("class_name") == "Sequential" else layer.get("name")
        if not isinstance(layer.get("class_name"), str) or not isinstance(name, str):
            _refuse(where, f"model.json has a layer without a class_name and a name ({str(layer)[:80]}).", fix)
        if not isinstance(layer.get("config"), dict):
            _refuse(where, f"layer {name!r} in model.json has no config object.", fix)
        if layer["config"].get("name", name) != name:
            # TF.js builds the layer under its config's name and wires it by the entry's: two names for one
            # layer leave a node it waits for forever.
            _refuse(where, f"layer {name!r} in model.json is named {str(layer['config']['name'])[:60]!r} in its "
                    "config; the two names must agree.", fix)
        for key in ("batch_input_shape", "batch_shape"):
            shape = layer["config"].get(key)
            if shape is not None and (not isinstance(shape, list) or not all(d is None or _is_count(d) for d in shape)):
                _refuse(where, f"layer {name!r} in model.json declares the input shape {str(shape)[:80]}, which is "
                        "not a list of sizes (or null).", fix)
        names.append(name)
        if layer["class_name"] in ("Model", "Functional", "Sequential"):
            _check_model(layer, where, fix, depth + 1)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        _refuse(where, f"model.json names two layers {duplicates[0]!r}; layer names must be unique.", fix)
    if model["class_name"] == "Sequential":
        return
    # Functional: every inbound reference names an existing node of a layer, and the nodes form no cycle
    # (TF.js' loader loops forever on one). A shared layer's later node may take a layer listed after it,
    # so the order of the list proves nothing; the node graph is checked instead.
    inbound_of = {}
    for layer, name in zip(layers, names):
        inbound = layer.get("inbound_nodes", [])
        if not isinstance(inbound, list):
            _refuse(where, f"layer {name!r} in model.json: inbound_nodes is not a list.", fix)
        inbound_of[name] = inbound
    counts = {name: max(len(inbound), 1 if layer["class_name"] == "InputLayer" else 0)
              for (name, inbound), layer in zip(inbound_of.items(), layers)}
    depends = {}
    for name, inbound in inbound_of.items():
        for index, node in enumerate(inbound):
            refs = node.get("args", [node]) if isinstance(node, dict) else node
            if not isinstance(refs, list) or not refs:
                _refuse(where, f"layer {name!r} in model.json: an inbound node is not a non-empty list of references "
                        "(TF.js' loader waits forever for a node without inputs).", fix)
            depends[(name, index)] = []
            for value in refs:
                ref = _ref(value)
                if ref is None:
                    _refuse(where, f"layer {name!r} in model.json: the inbound reference {str(value)[:80]} is not "
                            "[layer name, node index, tensor index, kwargs].", fix)
                if ref[1] >= counts.get(ref[0], 0):
                    _refuse(where, f"layer {name!r} in model.json takes {ref[0]!r} (node {ref[1]}), which the model "
                            "does not define: the graph is cut.", fix)
                depends[(name, index)].append(ref[:2])
    _refuse_cycles(depends, where, fix)
    nodes = counts
    config = model.get("config")
    for key in ("input_layers", "output_layers"):
        entries = config.get(key) if isinstance(config, dict) else None
        if not isinstance(entries, list) or not entries:
            _refuse(where, f"model.json's {key} is not a non-empty list.", fix)
        for value in entries:
            ref = _ref(value)
            if ref is None or ref[1] >= nodes.get(ref[0], 0):
                _refuse(where, f"model.json's {key} names {str(value)[:80]}, which is not a layer of the model.", fix)


def _refuse_cycles(depends, where, fix):
    """Kahn's algorithm over the nodes: what cannot be ordered lies on a cycle."""
    waiting = {node: sum(1 for ref in refs if ref in depends) for node, refs in depends.items()}
    users = {}
    for node, refs in depends.items():
        for ref in refs:
            users.setdefault(ref, []).append(node)
    ready = [node for node, count in waiting.items() if count == 0]
    while ready:
        for user in users.get(ready.pop(), []):
            waiting[user] -= 1
            if waiting[user] == 0:
                ready.append(user)
    stuck = {node for node, count in waiting.items() if count > 0}
    if stuck:
        # Stuck nodes lie on a cycle or after one; walking back through stuck inputs must revisit a node
        # of the cycle itself, the one to name.
        node, seen = min(stuck), []
        while node not in seen:
            seen.append(node)
            node = next(ref for ref in depends[node] if ref in stuck)
        cycle = [n for n, _ in seen[seen.index(node):]]
        _refuse(where, f"model.json's graph has a cycle through layer {cycle[0]!r} (via {', '.join(map(repr, cycle[1:4])) or 'itself'}): "
                "a layer's input depends on its own output.", fix)


def check_topology(model_json, where, fix):
    """model.json's modelTopology: layer objects with unique names, and (Functional) inbound references that
    name earlier layers' nodes, so TF.js and the importer can build it without looping or guessing."""
    if not isinstance(model_json, dict) or not isinstance(model_json.get("modelTopology"), dict):
        _refuse(where, "model.json has no modelTopology object.", fix)
    if model_json.get("format") == "graph-model":
        return model_json  # a GraphDef: TF.js' graph loader reads it node by node, and refuses what it cannot
    _check_model(_model_config(model_json["modelTopology"]), where, fix, 0)
    return model_json
