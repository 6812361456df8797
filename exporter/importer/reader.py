"""Read a TF.js layers model (model.json + weight shards) from a directory or an http(s) URL.

Quantized shards (uint8 / uint16 affine, float16) are dequantized with the official reader
(`exporter/quantize/shards.py` read_dequantized), giving the float32 values TF.js computes with.
"""

import json
import shutil
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ExportError
from ..parity.runtime import is_url
from ..quantize.shards import read_dequantized

__all__ = ["TfjsModel", "read_model"]


@dataclass
class TfjsModel:
    source: str  # the directory or URL given
    directory: Path  # where model.json and the shards lie on this machine
    model_json: dict
    model_config: dict  # {class_name, config} of the top-level model
    weights: dict  # tfjs weight name -> float32/int32 array (dequantized)
    weight_order: list  # weight names in manifest order
    quantized: dict = field(default_factory=dict)  # weight name -> stored dtype, for quantized ones
    labels: list = None  # class names, where the model carries them (a Teach download); else None


def _refuse(source, problem, fix):
    raise ExportError(f"{source}: {problem} Nothing was written. Fix: {fix}")


def _download(url, work):
    """Fetch model.json and its shards into `work`; returns the parsed model.json."""
    base = url.rstrip("/")
    if base.endswith("model.json"):
        base = base[: -len("model.json")].rstrip("/")
    def get(name):
        target = f"{base}/{urllib.parse.quote(name)}"
        try:
            with urllib.request.urlopen(target, timeout=60) as response:
                return response.read()
        except Exception as error:  # noqa: BLE001 - any network failure is the user's to fix
            _refuse(url, f"downloading {target} failed ({error}).",
                    "check the URL (it should be the directory holding model.json) and that it is reachable.")
    (work / "model.json").write_bytes(get("model.json"))
    model_json = _parse(url, work / "model.json")
    for group in (model_json.get("weightsManifest") if isinstance(model_json, dict) else None) or []:
        for path in group.get("paths", []):
            if "/" in path or path.startswith("."):
                _refuse(url, f"the weights manifest names the shard {path!r} outside the model directory.",
                        "serve a model whose shards lie beside model.json.")
            (work / path).write_bytes(get(path))
    return model_json


def _parse(source, path):
    try:
        return json.loads(Path(path).read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        _refuse(source, f"model.json is not JSON ({error}).", "point at a TF.js layers model (model.json + shards).")


def _model_config(source, model_json):
    if not isinstance(model_json, dict):
        _refuse(source, "model.json is not a TF.js model (it is not a JSON object).",
                "point at the model.json that `model.save` or a converter wrote.")
    fmt = model_json.get("format")
    topology = model_json.get("modelTopology")
    if fmt == "graph-model" or isinstance(topology, dict) and "node" in topology:
        _refuse(source, "this is a TF.js graph model (format 'graph-model', for tf.loadGraphModel): it holds a "
                "TensorFlow graph, not Keras layers, so there is no layer configuration to rebuild a Keras model from.",
                "import the layers-format export of the same model (tf.loadLayersModel's model.json, e.g. "
                "`webnets convert` without --format graph, or `model.save` from TF.js).")
    if not isinstance(topology, dict) or "weightsManifest" not in model_json:
        _refuse(source, "model.json is not a TF.js layers model (it has no modelTopology and weightsManifest).",
                "point at the model.json that tf.LayersModel.save, `webnets convert` or tensorflowjs_converter "
                "(--output_format tfjs_layers_model) wrote.")
    if fmt not in (None, "layers-model"):
        _refuse(source, f"model.json has format {fmt!r}, not 'layers-model'.", "import a TF.js layers model.")
    config = topology.get("model_config", topology)  # converters wrap it; tf.LayersModel.save does not
    if not isinstance(config, dict) or "class_name" not in config:
        _refuse(source, "model.json's modelTopology has no model configuration (class_name/config).",
                "point at a complete TF.js layers model.")
    return config


def read_model(source, work=None) -> TfjsModel:
    """Read model.json and every weight from a directory (or its model.json) or an http(s) URL.

    work: a directory for downloaded files (URLs only; a temp dir the caller removes)."""
    text = str(source)
    if is_url(text):
        if work is None:
            work = Path(tempfile.mkdtemp(prefix="webnets-import-"))
        directory = Path(work)
        model_json = _download(text, directory)
    else:
        json_path = Path(text)
        if json_path.is_dir():
            json_path = json_path / "model.json"
        directory = json_path.parent
        if json_path.name != "model.json" and json_path.is_file():
            _refuse(text, "the model file must be called model.json (TF.js' loaders and webnets' check read that "
                    "name beside the shards).", "rename it to model.json, or pass its directory.")
        if not json_path.is_file():
            _refuse(text, "there is no model.json here.", "pass the directory (or URL) holding model.json and its "
                    "weight shards.")
        model_json = _parse(text, json_path)
    config = _model_config(text, model_json)
    manifest = model_json["weightsManifest"]
    for group in manifest:
        for path in group.get("paths", []):
            if not (directory / path).is_file():
                _refuse(text, f"the weight shard {path!r} named in model.json is missing.",
                        "copy every file the weightsManifest names beside model.json.")
    try:
        weights = read_dequantized(manifest, directory)
    except Exception as error:  # noqa: BLE001 - a corrupt shard is the user's file, not a bug
        _refuse(text, f"the weight shards do not match model.json's manifest ({type(error).__name__}: {error}).",
                "re-download or re-export the model; every shard must be complete.")
    order = [w["name"] for group in manifest for w in group.get("weights", [])]
    quantized = {w["name"]: w["quantization"]["dtype"] for group in manifest for w in group.get("weights", [])
                 if w.get("quantization")}
    return TfjsModel(text, directory, model_json, config, weights, order, quantized, _labels(model_json, directory))


def _labels(model_json, directory):
    """The class names a Teach download carries: model.json's userDefinedMetadata (TF.js saves it
    with the model), else the labels.json written beside it. None for models without any."""
    meta = (model_json.get("userDefinedMetadata") or {}).get("webnets") or {}
    labels = meta.get("labels")
    if labels is None and (directory / "labels.json").is_file():
        try:
            labels = json.loads((directory / "labels.json").read_text()).get("labels")
        except (ValueError, AttributeError):
            labels = None  # an unrelated labels.json: the model itself is still importable
    return [str(label) for label in labels] if isinstance(labels, list) else None
