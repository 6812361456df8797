"""Seeded mutators: one per shape of input (bytes, JSON, HDF5, zip archive, directory).

Each takes a `random.Random` and returns the mutated thing plus a short description of what it
did, so a failing case says how it was made. The mutations are the ones a hostile upload or a
damaged download produces: keys dropped or retyped, class names swapped, shapes and dtypes made
absurd, layer references left dangling, archives truncated, weight bytes flipped.
"""

import io
import json
import zipfile

import h5py
import numpy as np

__all__ = ["mutate_bytes", "mutate_json", "mutate_json_text", "mutate_h5", "mutate_keras_archive"]

# Values a mutated JSON field may take: wrong types, edge numbers, hostile strings.
PALETTE = (
    None, True, False, 0, -1, 1, 3, 2 ** 31, 2 ** 63, 10 ** 12, -10 ** 9, 1.5, -0.0, float("nan"), float("inf"),
    "", "x", "float64", "string", "int8", "bool", "complex64", "../../outside", "/etc/passwd", "é😀\u202e",
    "x" * 300, [], [None], [-1, 0], [10 ** 9, 10 ** 9], [[1, 2], [3]], {}, {"class_name": "Nope", "config": {}},
    {"module": 7, "class_name": None, "config": []},
)
CLASS_NAMES = ("Dense", "Conv2D", "Functional", "Sequential", "InputLayer", "Lambda", "Nope", "Model",
               "LSTM", "Add", "Concatenate", "BatchNormalization", "Reshape", "TFOpLambda", "__import__")


def _paths(node, prefix=()):
    """Every path into a JSON tree, the root included."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, prefix + (index,))


def _get(node, path):
    for step in path:
        node = node[step]
    return node


def _values(node, key):
    """Every value stored under `key` anywhere in the tree (class names, layer names)."""
    return [_get(node, p) for p in _paths(node) if p and p[-1] == key]


def _retyped(value, rng):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return rng.choice([str(value), [value], -value if value else -1, value * 10 ** 6, None])
    if isinstance(value, str):
        return rng.choice([0, [value], {value: value}, value.upper(), value[: len(value) // 2]])
    if isinstance(value, list):
        return rng.choice([{str(i): v for i, v in enumerate(value)}, value[:1], value * 3, value[::-1]])
    if isinstance(value, dict):
        return rng.choice([list(value.values()), list(value), None])
    return rng.choice(PALETTE)


def _one_json_edit(doc, rng):
    paths = [p for p in _paths(doc) if p]
    if not paths:
        return rng.choice(PALETTE), "root replaced"
    op = rng.choice(("drop", "replace", "retype", "retype", "shape", "class", "name", "list", "list"))
    if op == "shape":
        # A list of ints is a shape, an axis list or a kernel size: make one dimension absurd.
        lists = [p for p in paths if isinstance(_get(doc, p), list) and _get(doc, p)
                 and all(isinstance(v, (int, type(None))) and not isinstance(v, bool) for v in _get(doc, p))]
        if lists:
            path = rng.choice(lists)
            target = _get(doc, path)
            i = rng.randrange(len(target))
            target[i] = rng.choice([0, -1, -7, 10 ** 6, 10 ** 10, 2 ** 40, None, 1.5, "3"])
            return doc, f"shape {path}[{i}] = {target[i]!r}"
        op = "replace"
    if op in ("class", "name"):
        key = "class_name" if op == "class" else "name"
        found = [p for p in paths if p[-1] == key]
        if found:
            path = rng.choice(found)
            pool = list(CLASS_NAMES) if op == "class" else [v for v in _values(doc, "name") if isinstance(v, str)]
            pool += ["missing_layer", ""]
            _get(doc, path[:-1])[path[-1]] = value = rng.choice(pool)
            return doc, f"{key} {path} = {value!r}"
        op = "replace"
    path = rng.choice(paths)
    parent, key = _get(doc, path[:-1]), path[-1]
    if op == "drop":
        del parent[key]
        return doc, f"dropped {path}"
    if op == "list":
        lists = [p for p in paths if isinstance(_get(doc, p), list) and _get(doc, p)]
        if lists:
            path = rng.choice(lists)
            target = _get(doc, path)
            how = rng.choice(("duplicate", "remove", "reverse", "empty"))
            if how == "duplicate":
                target.append(target[rng.randrange(len(target))])
            elif how == "remove":
                target.pop(rng.randrange(len(target)))
            elif how == "reverse":
                target.reverse()
            else:
                target.clear()
            return doc, f"list {path} {how}"
    value = _retyped(parent[key], rng) if op == "retype" else rng.choice(PALETTE)
    parent[key] = value
    return doc, f"{op} {path} = {str(value)[:40]!r}"


def mutate_json(doc, rng, edits=None):
    """1-3 edits of a parsed JSON document (mutated in place where it can be). -> (doc, description)."""
    notes = []
    for _ in range(edits or rng.choice((1, 1, 1, 2, 3))):
        doc, note = _one_json_edit(doc, rng)
        notes.append(note)
    return doc, "; ".join(notes)


def mutate_json_text(text, rng):
    """A JSON file's text: mostly structured edits, sometimes the bytes themselves (truncated, invalid UTF-8)."""
    if rng.random() < 0.15:
        data, note = mutate_bytes(text.encode() if isinstance(text, str) else text, rng)
        return data, "bytes: " + note
    doc, note = mutate_json(json.loads(text), rng)
    return json.dumps(doc).encode(), note


def mutate_bytes(data, rng):
    """Flip bits, overwrite a range, truncate, cut, insert or repeat a chunk. -> (bytes, description)."""
    data = bytearray(data)
    n = len(data)
    op = rng.choice(("flip", "flip", "overwrite", "truncate", "cut", "insert", "repeat")) if n else "insert"
    if op == "flip":
        count = rng.choice((1, 2, 8, 64))
        for _ in range(count):
            i = rng.randrange(n)
            data[i] ^= 1 << rng.randrange(8)
        return bytes(data), f"flipped {count} bit(s)"
    start = rng.randrange(n) if n else 0
    size = rng.choice((1, 4, 16, 256, 4096))
    if op == "overwrite":
        data[start:start + size] = bytes(rng.randrange(256) for _ in range(min(size, n - start)))
    elif op == "truncate":
        del data[start:]
    elif op == "cut":
        del data[start:start + size]
    elif op == "insert":
        data[start:start] = bytes(rng.randrange(256) for _ in range(size))
    else:
        data[start:start] = data[start:start + size]
    return bytes(data), f"{op} at {start} ({size} bytes)"


def _datasets(h5):
    found = []
    h5.visititems(lambda name, obj: found.append(name) if isinstance(obj, h5py.Dataset) else None)
    return found


def mutate_h5(path, rng):
    """Structural edits of an HDF5 file in place: a weight's shape, dtype or presence; junk attributes;
    for a legacy Keras .h5 model, its model_config JSON. -> description."""
    with h5py.File(path, "r+") as h5:
        if "model_config" in h5.attrs and rng.random() < 0.5:
            raw = h5.attrs["model_config"]
            raw = raw.decode() if isinstance(raw, bytes) else raw
            data, note = mutate_json_text(raw, rng)
            h5.attrs["model_config"] = data.decode("utf-8", "replace").replace("\x00", "")  # HDF5 strings end at NUL
            return "model_config " + note
        names = _datasets(h5)
        op = rng.choice(("shape", "dtype", "delete", "values", "attr", "extra")) if names else "extra"
        if op == "attr":
            target = h5[rng.choice(names)] if names and rng.random() < 0.5 else h5
            key = rng.choice(list(target.attrs) or ["junk"])
            target.attrs[key] = rng.choice([b"\xff\xfe", "x", -1, np.arange(3)])
            return f"attr {target.name}:{key}"
        if op == "extra":
            h5.create_dataset(f"junk_{rng.randrange(100)}", data=np.zeros((2, 3), "float32"))
            return "extra dataset"
        name = rng.choice(names)
        old = h5[name][()]
        del h5[name]
        if op == "delete":
            return f"deleted {name}"
        if op == "shape":
            shape = list(np.shape(old)) or [1]
            i = rng.randrange(len(shape))
            shape[i] = rng.choice([0, 1, shape[i] + 1, shape[i] * 2])
            if rng.random() < 0.3:
                shape.append(2)
            h5.create_dataset(name, data=np.zeros(shape, "float32"))
            return f"shape {name} -> {shape}"
        if op == "dtype":
            dtype = rng.choice(("int8", "float64", "float16", "bool", "S4"))
            h5.create_dataset(name, data=np.asarray(old).astype(dtype) if dtype != "S4" else np.full(np.shape(old), b"ab"))
            return f"dtype {name} -> {dtype}"
        values = np.asarray(old, "float32").copy()
        values.flat[rng.randrange(max(values.size, 1)) if values.size else 0:] = rng.choice(
            [np.nan, np.inf, 1e38, 0.0]) if values.size else 0
        h5.create_dataset(name, data=values)
        return f"values {name}"


def mutate_keras_archive(data, rng, scratch):
    """A .keras zip: its config.json or metadata.json edited, its weights file edited (structure or bytes),
    a member dropped or added, or the archive's own bytes damaged. -> (bytes, description)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {info.filename: archive.read(info.filename) for info in archive.infolist()}
    roll = rng.random()
    if roll < 0.12:
        mutated, note = mutate_bytes(data, rng)
        return mutated, "archive " + note
    if roll < 0.55:
        members["config.json"], note = mutate_json_text(members["config.json"], rng)
        note = "config.json " + note
    elif roll < 0.62:
        members["metadata.json"], note = mutate_json_text(members.get("metadata.json", b"{}"), rng)
        note = "metadata.json " + note
    elif roll < 0.82:
        weights = scratch / "weights.h5"
        weights.write_bytes(members["model.weights.h5"])
        try:
            note = "weights " + mutate_h5(weights, rng)
            members["model.weights.h5"] = weights.read_bytes()
        finally:
            weights.unlink()
    elif roll < 0.92:
        members["model.weights.h5"], note = mutate_bytes(members["model.weights.h5"], rng)
        note = "weights bytes " + note
    else:
        name = rng.choice(sorted(members))
        if rng.random() < 0.5:
            del members[name]
            note = f"member {name} dropped"
        else:
            members[rng.choice(["assets/x.txt", "../evil.txt", "config.json.bak"])] = b"junk"
            note = "member added"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue(), note
