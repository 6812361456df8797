"""web_demo/models/index.json: the exported models, for the demo (and index.js, its file:// form)."""

import json
from pathlib import Path

from .. import __version__
from ..output import file_lock, write_index_script, write_text_atomic

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


def _update_index(out_root, meta):
    index_path = out_root / "index.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else {"models": []}
    files = {"model": f"{meta['name']}/model.json", "meta": f"{meta['name']}/meta.json"}
    entry = {"name": meta["name"], **{key: files[key] if key in files else meta.get(key) for key in _ROW_FIELDS}}
    models = [m for m in index.get("models", []) if m["name"] != entry["name"]] + [entry]
    index = {"generated_by": f"webnets v{__version__}", "models": sorted(models, key=lambda m: m["name"])}
    write_text_atomic(index_path, json.dumps(index, indent=1))
    write_index_script(out_root)
    return index
