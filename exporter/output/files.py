"""What an export directory holds, as a browser downloads it."""

import json
from pathlib import Path


def model_files(model_dir) -> dict:
    """{file name: bytes} of everything a browser downloads for the model: model.json and its shards."""
    model_dir = Path(model_dir)
    data = json.loads((model_dir / "model.json").read_text())
    files = ["model.json"] + [p for group in data["weightsManifest"] for p in group["paths"]]
    return {f: (model_dir / f).stat().st_size for f in files}
