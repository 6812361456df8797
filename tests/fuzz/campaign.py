"""A fuzzing campaign: seeded cases of each input kind, run in a worker process that may die.

The parent makes no case itself; it asks a worker (`python -m tests.fuzz.campaign --worker`, one
TensorFlow import for many cases) to mutate and run case N of a kind, and watches it: a worker that
exits (a segfault in a parser, an abort), stops answering (a hang) or grows past the memory limit
(a bomb) is a defect of that case, and a fresh worker goes on with the next. A defect's case file is
copied to tests/fuzz/regressions/<kind>/<name>/, where tests/test_fuzz.py replays it for good.
"""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["run_campaign", "replay", "case_rng", "REGRESSIONS", "Report"]

REPO_ROOT = Path(__file__).resolve().parents[2]
REGRESSIONS = Path(__file__).with_name("regressions")
CASE_TIMEOUT_S = 240  # the slowest honest case (a graph conversion verified in Node) takes ~3 s
MEMORY_LIMIT_BYTES = 3 * 2 ** 30  # TensorFlow + Keras + one small model stay near 1 GiB


def case_rng(seed, kind, index):
    """The random stream of one case: the same (seed, kind, index) always makes the same case."""
    return random.Random(f"{seed}:{kind}:{index}")


@dataclass
class Report:
    kind: str
    outcomes: dict = field(default_factory=dict)  # outcome string -> count
    defects: list = field(default_factory=list)  # dicts: index, note, defect, detail, saved
    seconds: float = 0.0

    @property
    def cases(self):
        return sum(self.outcomes.values()) + len(self.defects)

    def summary(self):
        counts = ", ".join(f"{n} {o}" for o, n in sorted(self.outcomes.items(), key=lambda kv: -kv[1]))
        return (f"{self.kind}: {self.cases} cases in {self.seconds:.0f} s, {len(self.defects)} defect(s); {counts}")


# ---------------------------------------------------------------- worker side

def make_case(seed_root, kind_name, seed, index, case_dir):
    """Write case `index` of a kind into case_dir. -> (case path, what the mutation did)."""
    from .kinds import KINDS
    from .seeds import SEED_FILES

    kind = KINDS[kind_name]
    rng = case_rng(seed, kind_name, index)
    seed_path = Path(seed_root) / SEED_FILES[kind.seeds[rng.randrange(len(kind.seeds))]]
    case, note = kind.mutate(seed_path, rng, case_dir)
    return case, f"{seed_path.name}: {note}"


def _run_one(seed_root, kind_name, seed, index, work_root):
    """Make case `index` of a kind and run it. -> {"outcome"} or {"defect", "detail"} (+ note, case)."""
    import keras

    from .kinds import KINDS, Defect

    folder = Path(work_root) / f"{kind_name}-{index}"
    case_dir, work = folder / "case", folder / "work"
    case_dir.mkdir(parents=True)
    work.mkdir()
    try:
        case, note = make_case(seed_root, kind_name, seed, index, case_dir)
    except Exception as error:  # noqa: BLE001 - the fuzzer's own bug: reported as such, never as webnets'
        return {"defect": "fuzzer", "detail": "".join(traceback.format_exception(error))[-3000:]}
    result = {"note": note, "case": str(case), "case_dir": str(case_dir)}
    result.update(_run_case(KINDS[kind_name], case, work, Defect))
    keras.backend.clear_session()  # a long campaign must not accumulate models
    return result


def _run_case(kind, case, work, defect_type):
    try:
        return {"outcome": kind.run(case, work)}
    except defect_type as defect:
        return {"defect": "rule broken", "detail": str(defect)}
    except Exception as error:  # noqa: BLE001 - anything but an ExportError is the defect being looked for
        return {"defect": type(error).__name__, "detail": "".join(traceback.format_exception(error))[-6000:]}


def _worker(seed_root, work_root):
    """Answer one JSON line per request line: {"kind", "seed", "index"} -> the case's result."""
    for line in sys.stdin:
        request = json.loads(line)
        if "replay" in request:
            from .kinds import KINDS, Defect

            work = Path(tempfile.mkdtemp(dir=work_root))
            answer = _run_case(KINDS[request["kind"]], Path(request["replay"]), work, Defect)
        else:
            answer = _run_one(seed_root, request["kind"], request["seed"], request["index"], work_root)
        print(json.dumps(answer), flush=True)


# ---------------------------------------------------------------- parent side

def _rss(pid):
    """Memory of a process and its children (the Node runner included), in bytes: their proportional set
    sizes (Pss), so that pages a forked child still shares with its parent count once, not twice (VmRSS
    counted a 760 MB worker again for each child it had just forked, and read 3.4 GiB under load)."""
    total = 0
    pending = [pid]
    while pending:
        p = pending.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as rollup:
                total += next(int(line.split()[1]) * 1024 for line in rollup if line.startswith("Pss:"))
            with open(f"/proc/{p}/task/{p}/children") as children:
                pending += [int(c) for c in children.read().split()]
        except (OSError, StopIteration):
            pass
    return total


class _Worker:
    def __init__(self, seed_root, work_root):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fuzz.campaign", "--worker", str(seed_root), str(work_root)],
            cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
        self.stderr = []
        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True).start()

    def ask(self, request):
        """The worker's answer, or a defect when it dies, hangs or grows past the memory limit."""
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        answer = {}
        reader = threading.Thread(target=lambda: answer.update(line=self.proc.stdout.readline()), daemon=True)
        reader.start()
        started, peak = time.monotonic(), 0
        while reader.is_alive():
            reader.join(0.2)
            peak = max(peak, _rss(self.proc.pid))
            if peak > MEMORY_LIMIT_BYTES:
                self.kill()
                return {"defect": "memory", "detail": f"the worker grew past {peak / 2 ** 30:.1f} GiB"}
            if time.monotonic() - started > CASE_TIMEOUT_S:
                self.kill()
                return {"defect": "hang", "detail": f"no answer after {CASE_TIMEOUT_S} s"}
        if not answer.get("line"):
            self.proc.wait()
            return {"defect": "crash", "detail": f"the worker exited with {self.proc.returncode}: "
                                                 + "".join(self.stderr)[-3000:]}
        return json.loads(answer["line"])

    def kill(self):
        """The worker and whatever it started (a Node runner spinning on a case would outlive it)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _strip_runtime_scripts(folder, note):
    """webnets' own scripts (200 kB each) are kept out of a saved case unless the mutation edited them
    (the note names the file it edited): replay puts today's copies back. -> the names stripped."""
    from exporter.runtime import RUNTIME_FILE

    stripped = []
    for script in sorted(folder.rglob("webnets-*.js")):
        name = str(script.relative_to(folder))
        if (RUNTIME_FILE.parent / script.name).is_file() and script.name not in (note or ""):
            stripped.append(name)
            script.unlink()
    return stripped


def _restore_runtime_scripts(folder, names):
    from exporter.runtime import RUNTIME_FILE

    for name in names:
        shutil.copyfile(RUNTIME_FILE.parent / Path(name).name, folder / name)


def _save(kind, seed, index, answer, seed_root):
    """Keep a defect's case as a regression test (the mutated file itself, and what went wrong). A worker
    that crashed, hung or blew up left no answer naming its case: the case is made again here."""
    folder = REGRESSIONS / kind / f"seed{seed}-case{index}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    if answer.get("case_dir") and Path(answer["case"]).exists():
        # Everything the mutator wrote (a meta.json case is a model inside its exports root).
        shutil.copytree(answer["case_dir"], folder, dirs_exist_ok=True)
        case = folder / Path(answer["case"]).relative_to(answer["case_dir"])
    else:
        case, answer["note"] = make_case(seed_root, kind, seed, index, folder)
    record = {"kind": kind, "seed": seed, "index": index, "case": str(case.relative_to(folder)),
              "note": answer.get("note"), "defect": answer["defect"], "detail": answer["detail"][-2000:],
              "runtime_scripts": _strip_runtime_scripts(folder, answer.get("note"))}
    (folder / "case.json").write_text(json.dumps(record, indent=1))
    return str(folder)


def run_campaign(kinds, cases, seed=0, seed_root=None, save=False, log=print, start=0):
    """Run `cases` cases of each kind (numbered from `start`). -> {kind: Report}. save: keep defects as
    regression tests.

    A crash, hang or memory defect replaces the case's answer (the worker could not give one); for
    those the case is re-made (same seed, same index) to keep it."""
    from .seeds import build_seeds

    reports = {}
    with tempfile.TemporaryDirectory(prefix="webnets-fuzz-") as tmp:
        seed_root = Path(seed_root or Path(tmp) / "seeds")
        build_seeds(seed_root)
        work_root = Path(tmp) / "work"
        work_root.mkdir()
        worker = _Worker(seed_root, work_root)
        try:
            for kind in kinds:
                report = reports[kind] = Report(kind)
                started = time.monotonic()
                for index in range(start, start + cases):
                    answer = worker.ask({"kind": kind, "seed": seed, "index": index})
                    if "defect" in answer:
                        if answer["defect"] in ("crash", "hang", "memory"):
                            worker = _Worker(seed_root, work_root)
                        entry = {"index": index, **{k: answer.get(k) for k in ("note", "defect", "detail")}}
                        if save:
                            entry["saved"] = _save(kind, seed, index, answer, seed_root)
                        report.defects.append(entry)
                        log(f"  DEFECT {kind} case {index}: {answer.get('note')}: {answer['defect']}\n"
                            f"    {answer['detail'].strip().splitlines()[-1][:400]}")
                    else:
                        report.outcomes[answer["outcome"]] = report.outcomes.get(answer["outcome"], 0) + 1
                    for leftover in work_root.iterdir():
                        shutil.rmtree(leftover, ignore_errors=True)
                report.seconds = time.monotonic() - started
                log(report.summary())
        finally:
            worker.kill()
    return reports


def replay(folders):
    """Run kept regression cases again, in one worker. -> {folder: the answer ({"outcome"} or {"defect"})}."""
    answers = {}
    with tempfile.TemporaryDirectory(prefix="webnets-fuzz-") as tmp:
        worker = _Worker(Path(tmp) / "no-seeds", tmp)
        try:
            for folder in map(Path, folders):
                record = json.loads((folder / "case.json").read_text())
                shutil.copytree(folder, Path(tmp) / folder.name, ignore=shutil.ignore_patterns("case.json"))
                case = Path(tmp) / folder.name / record["case"]
                _restore_runtime_scripts(Path(tmp) / folder.name, record.get("runtime_scripts", []))
                answers[folder] = answer = worker.ask({"kind": record["kind"], "replay": str(case)})
                if answer.get("defect") in ("crash", "hang", "memory"):
                    worker = _Worker(Path(tmp) / "no-seeds", tmp)
        finally:
            worker.kill()
    return answers


if __name__ == "__main__" and sys.argv[1:2] == ["--worker"]:
    _worker(sys.argv[2], sys.argv[3])
