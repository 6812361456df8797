"""What an export directory holds, as a browser downloads it."""

import json
from pathlib import Path

from ..runtime import required_scripts


def model_files(model_dir, requires=None) -> dict:
    """{file name: bytes} of everything a browser downloads for the model: model.json, its shards and
    the scripts it requires (webnets-layers.js, plugins' JS files).

    `requires`: those scripts' file names; None: what meta.json `requires` lists (without a meta.json,
    the webnets runtime where it is there)."""
    model_dir = Path(model_dir)
    data = json.loads((model_dir / "model.json").read_text())
    files = ["model.json"] + [p for group in data["weightsManifest"] for p in group["paths"]]
    files += list(required_scripts(model_dir) if requires is None else requires)
    return {f: (model_dir / f).stat().st_size for f in files}

