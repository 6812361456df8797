"""What an export directory holds, as a browser downloads it."""

import json
from pathlib import Path

from ..runtime import RUNTIME_NAME

RUNTIME_FILES = (RUNTIME_NAME,)


def model_files(model_dir) -> dict:
    """{file name: bytes} of everything a browser downloads for the model: model.json, its shards and
    the webnets runtime when the model needs it."""
    model_dir = Path(model_dir)
    data = json.loads((model_dir / "model.json").read_text())
    files = ["model.json"] + [p for group in data["weightsManifest"] for p in group["paths"]]
    files += [name for name in RUNTIME_FILES if (model_dir / name).is_file()]
    return {f: (model_dir / f).stat().st_size for f in files}
