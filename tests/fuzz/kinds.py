"""The input kinds webnets reads, each with its seeds, its mutator and the calls that read it.

A kind's `run(case, work)` feeds one mutated case to every webnets entry point that reads that kind
of input and returns what each did ("converted", "refused"). A refusal must be an ExportError whose
message names the problem and the fix, and must leave no output behind (or the previous state
intact). Anything else (another exception, a half-written directory, an index changed by a failed
publish) is raised as a `Defect`; the campaign records it and keeps the case as a regression test.
"""

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import mutate as m

__all__ = ["KINDS", "Kind", "Defect", "check_refusal"]

QUIET = dict(log=lambda *a, **k: None)


class Defect(Exception):
    """webnets mishandled a case: not a crash, but a rule broken (message, partial output, changed state)."""


def check_refusal(message):
    """What is wrong with a refusal's message, if anything: it must be one paragraph naming the fix."""
    problems = []
    if "fix" not in message.lower():
        problems.append("the message names no fix")
    if "failed unexpectedly" in message or "Traceback (most recent call last)" in message:
        problems.append("the message reads as a crash")
    if len(message) > 4000:
        problems.append(f"the message is {len(message)} characters long")
    return problems


def _leftovers(folder, before):
    return sorted(p.name for p in folder.iterdir() if p.name not in before) if folder.exists() else []


def attempt(label, call, work, outputs=(), unchanged=()):
    """Run one entry point; "converted" or "refused", or a Defect for a refusal that broke a rule.

    outputs: paths that must not exist after a refusal; unchanged: files whose bytes must survive it."""
    from exporter.errors import ExportError

    before = {p.name for p in work.iterdir()}
    kept = {Path(p): Path(p).read_bytes() for p in unchanged if Path(p).exists()}
    try:
        call()
        return f"{label}:converted"
    except ExportError as error:
        problems = check_refusal(str(error))
        problems += [f"partial output {p}" for p in outputs if Path(p).exists()]
        problems += [f"temporary files left: {left}" for left in [_leftovers(work, before)] if left]
        problems += [f"{p} changed by a refused call" for p, data in kept.items()
                     if not p.exists() or p.read_bytes() != data]
        if problems:
            raise Defect(f"{label}: {'; '.join(problems)}. The message was: {error}") from error
        return f"{label}:refused"


# ---- mutators: (seed path, rng, case folder) -> (case path, description) ----

def _copy(seed, case_dir):
    target = case_dir / seed.name
    (shutil.copytree if seed.is_dir() else shutil.copyfile)(seed, target)
    return target


def _mutate_file(path, rng, how):
    data, note = how(path.read_bytes(), rng)
    path.write_bytes(data)
    return note


def _keras_archive(seed, rng, case_dir):
    case = case_dir / seed.name
    data, note = m.mutate_keras_archive(seed.read_bytes(), rng, case_dir)
    case.write_bytes(data)
    return case, note


def _h5(seed, rng, case_dir):
    case = _copy(seed, case_dir)
    if rng.random() < 0.3:
        return case, "bytes " + _mutate_file(case, rng, m.mutate_bytes)
    try:
        return case, m.mutate_h5(case, rng)
    except OSError:  # h5py refused the edit itself: damage the bytes instead
        shutil.copyfile(seed, case)
        return case, "bytes " + _mutate_file(case, rng, m.mutate_bytes)


def _file_in(folder, rng, weights):
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return rng.choices(files, weights=[weights(p) for p in files])[0]


def _damage_folder(case, rng, json_weight, bytes_weight):
    """Edit one file of a folder: JSON files structurally, others' bytes; sometimes drop or add a file."""
    roll = rng.random()
    if roll < 0.08:
        victim = _file_in(case, rng, lambda p: 1)
        victim.unlink()
        return f"deleted {victim.relative_to(case)}"
    if roll < 0.11:
        extra = case / rng.choice(["junk.bin", "model.json.bak", "variables/junk"])
        extra.parent.mkdir(exist_ok=True)
        extra.write_bytes(b"\x00junk")
        return "added a file"
    victim = _file_in(case, rng, lambda p: json_weight(p) if p.suffix == ".json" else bytes_weight(p))
    how = m.mutate_json_text if victim.suffix == ".json" else m.mutate_bytes
    return f"{victim.relative_to(case)}: " + _mutate_file(victim, rng, how)


def _savedmodel(seed, rng, case_dir):
    case = _copy(seed, case_dir)
    return case, _damage_folder(case, rng, lambda p: 1, lambda p: 3 if p.name == "saved_model.pb" else 1)


def _tfjs(seed, rng, case_dir):
    # model.json most (its topology and manifest), then the shards and the runtime script; meta.json
    # has a kind of its own.
    case = _copy(seed, case_dir)
    weights = {"model.json": 12, "meta.json": 0}
    return case, _damage_folder(case, rng, lambda p: weights.get(p.name, 1),
                                lambda p: 4 if p.suffix == ".bin" else 1)


def _exports_root(seed, rng, case_dir):
    """A whole exports root (two models + index.json) with one model's meta.json edited. -> that model's folder."""
    root = case_dir / "exports"
    shutil.copytree(seed.parent, root)
    meta = root / seed.name / "meta.json"
    return meta.parent, f"{seed.name}/meta.json " + _mutate_file(meta, rng, m.mutate_json_text)


def _indexes(seed, rng, case_dir):
    """The exports root and the CDN tree published from it; one of their index.json files edited."""
    shutil.copytree(seed.parent / "exports", case_dir / "exports")
    shutil.copytree(seed, case_dir / "cdn")
    which = rng.choice(["exports", "cdn"])
    return case_dir, f"{which}/index.json " + _mutate_file(case_dir / which / "index.json", rng, m.mutate_json_text)


def _teach(seed, rng, case_dir):
    case = _copy(seed, case_dir)
    weights = {"model.json": 6, "labels.json": 2}
    return case, _damage_folder(case, rng, lambda p: weights.get(p.name, 1), lambda p: 3)


# ---- what reads each kind ----

def _convert(fmt="layers"):
    def run(case, work):
        import exporter

        out = work / "out"
        return attempt("convert", lambda: exporter.convert(case, out, format=fmt, **QUIET), work, [out])
    return run


def _import_and_verify(case, work):
    import exporter
    from exporter.importer import import_model

    out = work / "out.keras"
    results = [attempt("import", lambda: import_model(case, out, **QUIET), work, [out])]
    if (case / "meta.json").exists() or not (case / "weights.bin").exists():  # a Teach download has no meta.json
        results.append(attempt("verify", lambda: exporter.verify(case), work))
    return " ".join(results)


def _verify_and_publish(model_dir, work):
    """verify the model whose meta.json was edited; publish the root holding it (and its sibling)."""
    import exporter
    from exporter.publish import publish

    cdn = work / "cdn"
    return " ".join([attempt("verify", lambda: exporter.verify(model_dir), work),
                     attempt("publish", lambda: publish(model_dir.parent, f"file://{cdn}", "1.0.0", **QUIET), work,
                             [cdn / "index.json"])])


def _publish_and_index(case, work):
    from exporter.publish import publish
    from exporter.zoo.index import update_index

    exports, cdn = case / "exports", case / "cdn"
    results = [attempt("publish", lambda: publish(exports, f"file://{cdn}", "1.0.1", **QUIET), work,
                       unchanged=[cdn / "index.json"])]
    # What `export` does after each model: read the root's index.json and add its row.
    meta = {"name": "extra", "parameter_count": 1}
    results.append(attempt("zoo index", lambda: update_index(exports, meta), work,
                           unchanged=[exports / "index.json"]))
    return " ".join(results)


@dataclass(frozen=True)
class Kind:
    name: str
    seeds: tuple  # names in seeds.SEED_FILES
    mutate: Callable
    run: Callable


KINDS = {k.name: k for k in (
    Kind("keras", ("cnn.keras", "mlp.keras", "rnn.keras"), _keras_archive, _convert()),
    Kind("h5", ("cnn.h5", "mlp.h5"), _h5, _convert()),
    Kind("savedmodel", ("mlp.savedmodel",), _savedmodel, _convert("graph")),
    Kind("tfjs", ("cnn.tfjs", "rnn.tfjs"), _tfjs, _import_and_verify),
    Kind("meta", ("cnn.tfjs", "rnn.tfjs"), _exports_root, _verify_and_publish),
    Kind("index", ("published",), _indexes, _publish_and_index),
    Kind("teach", ("teach",), _teach, _import_and_verify),
)}
