"""web_demo/models/index.json: the exported models, for the demo (and index.js, its file:// form)."""

import json
from pathlib import Path

from .. import __version__
from ..errors import ExportError
from ..output import file_lock, write_index_script, write_text_atomic
from ..output.validation import read_json

# meta.json keys an index row repeats, so the page can lay out its cards before any model loads.
_ROW_FIELDS = ("display_name", "family", "task", "dataset", "model", "meta", "parameter_count", "quantization",
               "bytes_total", "metrics", "requires")


def update_index(out_root, meta):
    """Add or replace one model's row in OUT/index.json (atomic rewrite), then index.js.

    Read, change and write happen under a lock (OUT/.index.json.lock): two exports of different
    models into one root at once would otherwise each write the index without the other's row."""
    out_root = Path(out_root)
    with file_lock(out_root / ".index.json.lock"):
        return _update_index(out_root, meta)


def _read_index(index_path):
    """The root's index.json, whose rows this export keeps: refused, not overwritten, when damaged (its other
    rows would be lost)."""
    fix = (f"repair {index_path} or move it away; the next export writes a new one, and each model's row comes "
           "back with its next export.")
    index = read_json(index_path, fix)
    models = index.get("models") if isinstance(index, dict) else None
    if not isinstance(models, list) or not all(isinstance(m, dict) and isinstance(m.get("name"), str) for m in models):
        raise ExportError(f"{index_path} is not an index of exported models (no list of rows with names), so adding "
                          f"this model to it would lose the others. The export itself is complete. Fix: {fix}")
    return index


def _update_index(out_root, meta):
    index_path = out_root / "index.json"
    index = _read_index(index_path) if index_path.exists() else {"models": []}
    files = {"model": f"{meta['name']}/model.json", "meta": f"{meta['name']}/meta.json"}
    entry = {"name": meta["name"], **{key: files[key] if key in files else meta.get(key) for key in _ROW_FIELDS}}
    models = [m for m in index.get("models", []) if m["name"] != entry["name"]] + [entry]
    index = {"generated_by": f"webnets v{__version__}", "models": sorted(models, key=lambda m: m["name"])}
    write_text_atomic(index_path, json.dumps(index, indent=1))
    write_index_script(out_root)
    return index
