"""Read a TF.js layers model (model.json + weight shards) from a directory or an http(s) URL.

Quantized shards (uint8 / uint16 affine, float16) are dequantized with the official reader
(`exporter/quantize/shards.py` read_dequantized), giving the float32 values TF.js computes with.

Nothing is allocated from what model.json merely declares: the manifest's shapes must add up to
the shard files' sizes byte for byte (downloads stop at the declared size), and the layer
configs may not declare more weights than the manifest holds (exporter/layers/budget.py), before
any shard is read or any layer built.
"""

import json
import math
import shutil
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ExportError
from ..layers.budget import DEFAULT_MAX_PARAMS, check_budget, estimate_or_refuse, human_bytes
from ..layers.keras_io import refuse_beyond_int32
from ..output.validation import MAX_JSON_BYTES, check_file_name, check_topology
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


# Bytes per stored value: TF.js' dtypes, and the quantized ones (quantization.dtype) that replace them.
_ITEM_BYTES = {"float32": 4, "int32": 4, "bool": 1, "complex64": 8, "uint8": 1, "uint16": 2, "float16": 2}
_STRING_LENGTH_BYTES = 4  # a string value is its uint32 length, then its bytes
_MAX_MODEL_JSON_BYTES = MAX_JSON_BYTES  # one limit for every export JSON webnets reads (output/validation.py)
_CHUNK = 1 << 20


def _refuse(source, problem, fix):
    raise ExportError(f"{source}: {problem} Nothing was written. Fix: {fix}")


def _count(value):
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _declared(source, model_json):
    """[(shard paths, bytes the group's weights take, whether strings make that a minimum)] and the
    number of values the manifest declares, from model.json alone; a malformed manifest is refused."""
    manifest = model_json.get("weightsManifest")
    fix = "re-download or re-export the model; model.json must be the one written with its shards."
    if not isinstance(manifest, list) or not all(isinstance(g, dict) for g in manifest):
        _refuse(source, "model.json's weightsManifest is not a list of weight groups.", fix)
    groups, values = [], 0
    for group in manifest:
        paths, weights = group.get("paths", []), group.get("weights", [])
        if not (isinstance(paths, list) and all(isinstance(p, str) for p in paths) and isinstance(weights, list)):
            _refuse(source, "a weightsManifest group has no list of shard paths and weights.", fix)
        size, strings = 0, False
        for weight in weights:
            shape = weight.get("shape") if isinstance(weight, dict) else None
            name = str(weight.get("name") if isinstance(weight, dict) else weight)[:80]
            if not isinstance(shape, list) or any(_count(d) is None for d in shape):
                _refuse(source, f"the weight {name!r} has no valid shape in the manifest ({str(shape)[:80]}).", fix)
            if not isinstance(weight.get("name"), str):
                _refuse(source, f"a weight of the manifest has no name ({name!r}).", fix)
            quantization = weight.get("quantization")
            # A quantized weight is stored as its quantization dtype (uint8, uint16, float16).
            stored = quantization if isinstance(quantization, dict) and quantization else weight
            dtype = stored.get("dtype")
            count = math.prod(shape)
            values += count
            if dtype == "string":
                strings, size = True, size + count * _STRING_LENGTH_BYTES
            elif isinstance(dtype, str) and dtype in _ITEM_BYTES:
                size += count * _ITEM_BYTES[dtype]
            else:
                _refuse(source, f"the weight {name!r} has the dtype {str(dtype)[:40]!r}, which TF.js does not store.",
                        fix)
        groups.append((paths, size, strings))
    return groups, values


def _check_shard_sizes(source, groups, directory):
    """Each group's shards hold exactly the bytes its weights' shapes and dtypes declare."""
    for paths, declared, strings in groups:
        held = sum((directory / path).stat().st_size for path in paths)
        if held != declared and not (strings and held > declared):
            names = ", ".join(paths[:3]) + (" ..." if len(paths) > 3 else "")
            at_least = "at least " if strings else ""
            _refuse(source, f"the weights manifest declares {at_least}{declared:,} bytes of weights (the sum of "
                    f"each weight's shape x its dtype's size) but the shard files {names} hold "
                    f"{held:,} bytes: model.json does not describe these shards (damaged, truncated or tampered "
                    "with), so none of it was read.",
                    "re-download or re-export the model; model.json and its shards must come from the same save.")


def _download(url, work):
    """Fetch model.json and its shards into `work`; returns the parsed model.json. No download goes
    past the size model.json declares (shards) or _MAX_MODEL_JSON_BYTES (model.json)."""
    base = url.rstrip("/")
    if base.endswith("model.json"):
        base = base[: -len("model.json")].rstrip("/")

    def get(name, target_file, limit, what):
        target = f"{base}/{urllib.parse.quote(name)}"
        try:
            with urllib.request.urlopen(target, timeout=60) as response, open(target_file, "wb") as out:
                written = 0
                while chunk := response.read(_CHUNK):
                    written += len(chunk)
                    if written > limit:
                        _refuse(url, f"{target} is larger than {what} ({limit:,} bytes), so the download was "
                                "stopped.", "re-export the model; model.json and its shards must come from the "
                                "same save.")
                    out.write(chunk)
            return written
        except ExportError:
            raise
        except Exception as error:  # noqa: BLE001 - any network failure is the user's to fix
            _refuse(url, f"downloading {target} failed ({error}).",
                    "check the URL (it should be the directory holding model.json) and that it is reachable.")

    get("model.json", work / "model.json", _MAX_MODEL_JSON_BYTES, "a model.json can be")
    model_json = _parse(url, work / "model.json")
    _model_config(url, model_json)  # a graph model or a non-model is refused before its shards are fetched
    groups, _ = _declared(url, model_json)
    for paths, declared, strings in groups:
        left = declared + (_MAX_MODEL_JSON_BYTES if strings else 0)  # a string's length is its own
        for path in paths:
            _check_shard_name(url, path)
            left -= get(path, work / path, left, "the weights manifest declares for its group")
    return model_json


def _check_shard_name(source, path):
    check_file_name(path, source, "use a model whose shards lie beside model.json (TF.js and webnets write them "
                    "there).", what="weight shard")


def _parse(source, path):
    size = Path(path).stat().st_size
    if size > _MAX_MODEL_JSON_BYTES:
        _refuse(source, f"model.json is {size:,} bytes, more than the {_MAX_MODEL_JSON_BYTES:,} a layers model's "
                "topology and manifest take, so it was not read.", "re-export the model.")
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


def read_model(source, work=None, max_params=None) -> TfjsModel:
    """Read model.json and every weight from a directory (or its model.json) or an http(s) URL.

    work: a directory for downloaded files (URLs only; a temp dir the caller removes).
    max_params: refuse a model declaring more values than this (None: budget.DEFAULT_MAX_PARAMS)."""
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
    check_topology(model_json, text, "re-download or re-export the model; model.json must be the file TF.js or "
                   "a converter wrote, unchanged.")
    refuse_beyond_int32(text, config)  # TensorFlow aborts the process on such an attribute
    manifest = model_json["weightsManifest"]
    groups, values = _declared(text, model_json)
    for paths, _, _ in groups:
        for path in paths:
            _check_shard_name(text, path)
            if not (directory / path).is_file():
                _refuse(text, f"the weight shard {path!r} named in model.json is missing.",
                        "copy every file the weightsManifest names beside model.json.")
    _check_shard_sizes(text, groups, directory)
    _check_budget(text, config, values, max_params)
    try:
        weights = read_dequantized(manifest, directory)
    except Exception as error:  # noqa: BLE001 - a corrupt shard is the user's file, not a bug
        _refuse(text, f"the weight shards do not match model.json's manifest ({type(error).__name__}: {error}).",
                "re-download or re-export the model; every shard must be complete.")
    order = [w["name"] for group in manifest for w in group.get("weights", [])]
    quantized = {w["name"]: w["quantization"]["dtype"] for group in manifest for w in group.get("weights", [])
                 if isinstance(w.get("quantization"), dict) and w["quantization"]}  # _declared checked its dtype
    return TfjsModel(text, directory, model_json, config, weights, order, quantized, _labels(model_json, directory))


def _check_budget(source, config, values, max_params):
    """The manifest within max_params, and the layer configs declaring no more weights than it holds
    (Keras would allocate what the configs declare when the layers are built)."""
    limit = DEFAULT_MAX_PARAMS if max_params is None else int(max_params)
    option = "--max-params N, or import_model(..., max_params=N)"
    if values > limit:
        _refuse(source, f"the weights manifest declares {values:,} values, more than the limit of {limit:,} "
                f"({option}); as float32 they take {human_bytes(values * 4)}.",
                f"if you trust the model and this machine has the memory, pass --max-params {values} "
                f"(max_params={values}).")
    budget = estimate_or_refuse(config, lambda why: (
        f"{source}: model.json's topology could not be read as data ({why}). Nothing was written. Fix: "
        "re-export the model; if TF.js loads it and webnets still refuses it, report it."))
    largest = budget.largest()
    if budget.params > values:
        _refuse(source, f"its layer configs declare at least {budget.params:,} weight values (layer '{largest.name}' "
                f"({largest.class_name}) alone {largest.params:,}: {largest.basis}), but the weights manifest holds "
                f"only {values:,}. model.json does not describe its own weights (damaged or tampered with), and "
                f"building its layers would allocate {human_bytes(budget.params * 4)}, so none was built.",
                "re-download or re-export the model; model.json must be the one written with its shards.")
    check_budget(budget, source, max_params=limit, option=option)


def _labels(model_json, directory):
    """The class names a Teach download carries: model.json's userDefinedMetadata (TF.js saves it
    with the model), else the labels.json written beside it. None for models without any."""
    def field(value, key):
        return value.get(key) if isinstance(value, dict) else None

    labels = field(field(model_json.get("userDefinedMetadata"), "webnets"), "labels")
    if labels is None and (directory / "labels.json").is_file():
        try:
            labels = field(json.loads((directory / "labels.json").read_bytes()), "labels")
        except ValueError:
            labels = None  # an unrelated labels.json: the model itself is still importable
    if isinstance(labels, list) and all(isinstance(label, (str, int, float)) for label in labels):
        return [str(label) for label in labels]
    return None
