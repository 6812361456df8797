"""The CDN's index.json: every published model, every version, every file's hashes.

    {"format": "webnets-cdn-index", "schema": 1, "updated": ...,
     "models": [{"name", "family", "task", "dataset", "latest",
                 "model": "squeezenet/1.4.0/model.json", "meta": ..., "script": ...,
                 "versions": {"1.4.0": {"published", "quantization", "parameter_count",
                                        "inputs", "outputs", "labels", "metrics", "bytes_total",
                                        "files": {"model.json": {"bytes", "sha256", "integrity"}, ...}}}}]}

`models` is a list with `name` / `model` / `meta` like the exporter's own
index.json, so the demo reads either; `model` and `meta` point at `latest`.
`integrity` is the Subresource Integrity string (sha384) a page passes to
fetch() so the browser itself refuses bytes that are not the published ones.
"""

import base64
import copy
import datetime
import hashlib
import json
import re

from .. import __version__
from ..errors import ExportError

FORMAT = "webnets-cdn-index"
SCHEMA = 1
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$")
# What a consumer needs to pick and feed a model without downloading meta.json.
_VERSION_FIELDS = ("quantization", "parameter_count", "inputs", "outputs", "labels", "metrics", "bytes_total",
                   "requires")
_MODEL_FIELDS = ("family", "task", "dataset")


def file_record(data):
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "integrity": "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()}


def check_version(text):
    if not _SEMVER.match(text or ""):
        raise ExportError(f"--version {text!r} is not a semantic version. Fix: use MAJOR.MINOR.PATCH, e.g. 1.4.0 "
                          "(a pre-release such as 1.4.0-rc.1 is allowed; it never becomes 'latest').")
    return text


def _sort_key(version):
    major, minor, patch, pre = _SEMVER.match(version).groups()
    # semver precedence: a release sorts after its pre-releases; numeric
    # pre-release parts compare as numbers and before alphanumeric ones.
    pre_key = (1,) if pre is None else (0, *[(0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")])
    return int(major), int(minor), int(patch), pre_key


def latest(versions):
    """The highest release; pre-releases only when there is nothing else."""
    releases = [v for v in versions if "-" not in v] or list(versions)
    return max(releases, key=_sort_key) if releases else None


def empty():
    return {"format": FORMAT, "schema": SCHEMA, "generated_by": f"webnets v{__version__}", "models": []}


def parse(data, url):
    """The remote index (bytes or None). Anything we did not write is refused, not overwritten."""
    if data is None:
        return empty()
    try:
        index = json.loads(data)
    except ValueError:
        index = None
    if not isinstance(index, dict) or index.get("format") != FORMAT or not isinstance(index.get("models"), list):
        raise ExportError(f"{url}/index.json exists but is not a webnets CDN index, so publishing there could "
                          "destroy someone else's file. Fix: publish to an empty prefix, or remove that file if it "
                          "is yours.")
    schema = index.get("schema", 0)
    if not isinstance(schema, int) or isinstance(schema, bool):
        _damaged(url, f"its schema is {str(schema)[:40]!r}, not a number")
    for model in index["models"]:
        _check_model_entry(model, url)
    if schema > SCHEMA:
        raise ExportError(f"{url}/index.json was written by a newer webnets (schema {index['schema']}). Fix: upgrade "
                          "webnets before publishing there.")
    return index


def _damaged(url, problem):
    raise ExportError(f"{url}/index.json is a webnets CDN index, but {problem}: it was damaged or edited by hand, "
                      "and publishing would build on it. Nothing was uploaded. Fix: restore it from the copy your "
                      "store keeps (versioning, a backup), or repair the entry; each version's files are still "
                      "there to re-hash.")


def _check_model_entry(model, url):
    """What with_version reads of an existing model entry: its name and its versions' files."""
    if not isinstance(model, dict) or not isinstance(model.get("name"), str):
        _damaged(url, f"a model entry has no name ({str(model)[:80]})")
    versions = model.get("versions")
    if not isinstance(versions, dict):
        _damaged(url, f"model {model['name'][:60]!r} has no versions object")
    for version, entry in versions.items():
        if not _SEMVER.match(version) or not isinstance(entry, dict) or not isinstance(entry.get("files"), dict):
            _damaged(url, f"model {model['name'][:60]!r} lists version {version[:40]!r} without a valid entry")


def version_entry(meta, files, published):
    entry = {key: meta[key] for key in _VERSION_FIELDS if key in meta}
    entry["published"] = published
    entry["files"] = files
    return entry


def with_version(index, name, version, meta, files, now=None):
    """A copy of `index` with `name@version` added. An existing entry is kept as it
    was (its files were just checked to be identical), so re-publishing changes nothing."""
    index = copy.deepcopy(index)
    models = {m["name"]: m for m in index["models"]}
    model = models.setdefault(name, {"name": name, "versions": {}})
    for key in _MODEL_FIELDS:
        if key in meta:
            model[key] = meta[key]
    if version not in model["versions"]:
        published = (now or datetime.datetime.now(datetime.timezone.utc)).isoformat(timespec="seconds")
        model["versions"][version] = version_entry(meta, files, published)
    top = model["latest"] = latest(model["versions"])
    model["model"] = f"{name}/{top}/model.json"
    model["meta"] = f"{name}/{top}/meta.json"
    if "model.js" in model["versions"][top]["files"]:
        model["script"] = f"{name}/{top}/model.js"
    index["models"] = sorted(models.values(), key=lambda m: m["name"])
    return index
