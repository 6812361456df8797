"""`publish SRC_ROOT DEST_URL --version X.Y.Z`: exported models -> a CDN origin.

Layout at DEST_URL:  <model>/<version>/{model.json, shards, meta.json, model.js, [webnets-layers.js, plugin .js]}
                     index.json  (every model and version, with sha256 + SRI per file)

The rules that make a CDN safe to pin:
  * order: shards and the scripts meta.json `requires` (webnets-layers.js, plugins' JS files), then
    model.json / meta.json / model.js, then index.json, so
    no reader ever sees a file that names one not yet uploaded;
  * a published version is immutable: identical bytes are skipped (a re-run is
    a no-op), different bytes are refused before anything is written;
  * everything is read back and its sha256 checked before index.json moves;
  * index.json is written last, conditionally where the store supports it
    (S3 If-Match), so a crash or a concurrent publish leaves a valid index and
    running the same command again completes the job.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from . import cdn_index
from ..errors import ExportError
from ..output.validation import check_file_name, check_meta, read_json, shard_names
from .object_store import IMMUTABLE, SHORT_LIVED, ConflictingWrite, open_store

INDEX = "index.json"
_INDEX_ATTEMPTS = 5
# Upload order within a version: weights first, then the files that name them.
_ENTRY_POINTS = ("model.json", "meta.json", "model.js")


@dataclass
class PlannedFile:
    model: str
    name: str
    source: Path
    record: dict
    state: str = "upload"  # upload | same | conflict
    remote_sha256: str = None

    @property
    def phase(self):
        return 1 if self.name in _ENTRY_POINTS else 0


@dataclass
class Plan:
    version: str
    url: str
    files: list
    metas: dict  # model -> meta.json
    extra_remote: list = field(default_factory=list)  # (model, name) in the version dir but not in the export

    def rel(self, f):
        return f"{f.model}/{self.version}/{f.name}"

    def count(self, state):
        return sum(f.state == state for f in self.files)

    @property
    def conflicts(self):
        return [f for f in self.files if f.state == "conflict"]


def local_exports(src_root, only=None):
    """{model: (meta, [(file name, path)])} for the exports listed in SRC_ROOT/index.json."""
    src_root = Path(src_root)
    index_path = src_root / "index.json"
    if not index_path.exists():
        raise ExportError(f"'{src_root}' has no index.json, so it is not a directory of exported models. Fix: pass "
                          "the directory `export` writes to (web_demo/models), after `make export-all`.")
    fix = ("export the models again into that directory (make export-all), which rewrites index.json; or repair "
           "the file: {\"models\": [{\"name\": ...}, ...]}.")
    index = read_json(index_path, fix)
    models = index.get("models") if isinstance(index, dict) else None
    if not isinstance(models, list) or not all(isinstance(m, dict) for m in models):
        raise ExportError(f"{index_path} has no list of models, so it is not the index `export` writes. Fix: {fix}")
    names = [check_file_name(m.get("name"), str(index_path), fix, what="model") for m in models]
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise ExportError(f"--model {', '.join(unknown)}: not in {index_path}. Fix: use one of {', '.join(names)}.")
        names = [n for n in names if n in only]
    exports = {}
    for name in names:
        exports[name] = _export_files(src_root / name, name)
    return exports


def _export_files(model_dir, name):
    fix = f"export '{name}' again (make export MODEL={name}, or `webnets convert` into that directory)."
    meta = check_meta(read_json(model_dir / "meta.json", fix), f"'{model_dir}'", fix)
    model_json = read_json(model_dir / "model.json", fix)
    if "golden" not in meta:
        raise ExportError(f"'{model_dir}' was exported without the TF.js parity check (no golden vectors in "
                          "meta.json); webnets publishes only verified models. Fix: export it again without "
                          "--no-verify.")
    shards = shard_names(model_json, f"'{model_dir}'", fix)
    # The scripts go up before model.json, which needs them (phase 0 with the shards).
    required = [r["file"] for r in meta.get("requires", [])]
    files = shards + required + [n for n in _ENTRY_POINTS if (model_dir / n).exists()]
    missing = [f for f in files if not (model_dir / f).is_file()]
    if missing:
        raise ExportError(f"'{model_dir}' (model.json, meta.json) names {', '.join(missing)}, which is missing. Publishing it "
                          f"would ship a model that cannot load. Fix: export '{name}' again.")
    return meta, [(f, model_dir / f) for f in files]


def make_plan(exports, store, version):
    """Compare every local file with what the store already holds under this version."""
    files, extra = [], []
    for model, (_meta, entries) in exports.items():
        remote = set(store.list(f"{model}/{version}"))
        for name, path in entries:
            planned = PlannedFile(model, name, path, cdn_index.file_record(path.read_bytes()))
            if name in remote:
                data = store.read(f"{model}/{version}/{name}")
                planned.remote_sha256 = cdn_index.file_record(data)["sha256"] if data is not None else None
                planned.state = "same" if planned.remote_sha256 == planned.record["sha256"] else "conflict"
            files.append(planned)
        local_names = {name for name, _ in entries}
        extra += [(model, name) for name in sorted(remote - local_names) if not name.startswith(".")]
    return Plan(version, store.url, files, {m: meta for m, (meta, _) in exports.items()}, extra)


def describe(plan):
    """The plan as lines a person reads before (or instead of) publishing."""
    lines = [f"publish {len(plan.metas)} model(s) as version {plan.version} to {plan.url}:"]
    for f in sorted(plan.files, key=lambda f: (f.phase, f.model, f.name)):
        lines.append(f"  {f.state:<8} {plan.rel(f):<52} {f.record['bytes']:>11,} B")
    for model, name in plan.extra_remote:
        lines.append(f"  conflict {model}/{plan.version}/{name:<40} (published, but not in this export)")
    upload = [f for f in plan.files if f.state == "upload"]
    lines.append(f"  {len(upload)} file(s) to upload ({sum(f.record['bytes'] for f in upload):,} B), "
                 f"{plan.count('same')} already published with identical bytes, "
                 f"{len(plan.conflicts) + len(plan.extra_remote)} conflict(s); then {INDEX}")
    return "\n".join(lines)


def _refuse_conflicts(plan):
    if not plan.conflicts and not plan.extra_remote:
        return
    shown = [f"{plan.rel(f)} (published sha256 {f.remote_sha256[:12]}…, local {f.record['sha256'][:12]}…)"
             for f in plan.conflicts[:4]]
    shown += [f"{m}/{plan.version}/{n} (published, not in this export)" for m, n in plan.extra_remote[:4]]
    models = sorted({f.model for f in plan.conflicts} | {m for m, _ in plan.extra_remote})
    raise ExportError(
        f"Version {plan.version} of {', '.join(models)} is already published with different content: "
        f"{'; '.join(shown)}. A published version is immutable (apps that pinned it must keep getting the same "
        "bytes), so nothing was uploaded. Fix: publish these models under a new version, e.g. --version "
        f"{_next_patch(plan.version)}.")


def _next_patch(version):
    major, minor, patch = version.split("-")[0].split(".")
    return f"{major}.{minor}.{int(patch) + 1}"


def _upload(plan, store, log):
    from tqdm import tqdm

    todo = sorted((f for f in plan.files if f.state == "upload"), key=lambda f: (f.phase, f.model, f.name))
    with tqdm(total=sum(f.record["bytes"] for f in todo), unit="B", unit_scale=True, desc="upload",
              disable=not todo, leave=False) as progress:
        for f in todo:
            store.write(plan.rel(f), f.source.read_bytes(), IMMUTABLE)
            progress.update(f.record["bytes"])
    if todo:
        log(f"uploaded {len(todo)} file(s), {sum(f.record['bytes'] for f in todo):,} B")


def _read_back(plan, store):
    # Files in state "same" were downloaded and hashed by make_plan moments ago.
    for f in (f for f in plan.files if f.state == "upload"):
        data = store.read(plan.rel(f))
        got = cdn_index.file_record(data)["sha256"] if data is not None else "nothing"
        if got != f.record["sha256"]:
            raise ExportError(f"Read-back check failed: {plan.url}/{plan.rel(f)} holds sha256 {got[:16]}…, not the "
                              f"uploaded {f.record['sha256'][:16]}…. The previous index.json is still in force. "
                              "Fix: check the store (a proxy or a lifecycle rule rewriting objects?) and run the "
                              "same command again.")


def _files_by_model(plan):
    files = {}
    for f in plan.files:
        files.setdefault(f.model, {})[f.name] = f.record
    return files


def _comparable(index):
    return {k: v for k, v in index.items() if k not in ("updated", "generated_by")}


def _publish_index(plan, store, log):
    """Add this version to index.json; retried when a concurrent publish moved it."""
    import datetime

    files = _files_by_model(plan)
    for _ in range(_INDEX_ATTEMPTS):
        before_bytes, token = store.read_versioned(INDEX)
        before = cdn_index.parse(before_bytes, plan.url)
        after = before
        for model, meta in plan.metas.items():
            after = cdn_index.with_version(after, model, plan.version, meta, files[model])
        if _comparable(after) == _comparable(before):
            log(f"{INDEX} already lists {plan.version} of every model: unchanged")
            return before
        after["generated_by"] = cdn_index.empty()["generated_by"]
        after["updated"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        data = json.dumps(after, indent=1, sort_keys=True).encode()
        try:
            store.write(INDEX, data, SHORT_LIVED, expect=token)
        except ConflictingWrite:
            log(f"{INDEX} changed while publishing (another publish?); merging again")
            continue
        if store.read(INDEX) != data:
            raise ExportError(f"Read-back check failed for {plan.url}/{INDEX}: it does not hold what was just "
                              "written (a concurrent writer without conditional writes?). Fix: run the same command "
                              "again; the versions it lists are complete.")
        log(f"{INDEX} updated: {', '.join(plan.metas)} @ {plan.version}")
        return after
    raise ExportError(f"{plan.url}/{INDEX} kept changing during {_INDEX_ATTEMPTS} attempts to update it. The "
                      "versioned files are uploaded and verified. Fix: run the same command again when the other "
                      "publisher has finished.")


def publish(src_root, dest_url, version, *, endpoint_url=None, dry_run=False, only=None, log=print):
    """Publish SRC_ROOT's exports as `version`. Returns the plan (and index, unless dry_run)."""
    cdn_index.check_version(version)
    exports = local_exports(src_root, only)
    store = open_store(dest_url, endpoint_url)
    plan = make_plan(exports, store, version)
    if dry_run:
        log(describe(plan))
        _refuse_conflicts(plan)
        log("dry run: nothing was uploaded")
        return plan, None
    _refuse_conflicts(plan)
    if store.headers_note():
        log(f"note: {store.headers_note()}")
    _upload(plan, store, log)
    _read_back(plan, store)
    index = _publish_index(plan, store, log)
    log(f"published {len(plan.metas)} model(s) as {version} at {store.url}: {plan.count('upload')} file(s) "
        f"uploaded, {plan.count('same')} already there; every file read back and its sha256 checked")
    return plan, index
