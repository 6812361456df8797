"""python -m tests.fuzz [--kind K ...] [--cases N] [--seed S] [--save]: a fuzzing campaign (`make fuzz`).

Prints one line per kind (cases, defects, outcomes) and each defect as it is found; exits 1 on any
defect. --save keeps each defect's case under tests/fuzz/regressions/ for tests/test_fuzz.py.
"""

import argparse
import json
import sys

from .campaign import run_campaign
from .kinds import KINDS


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--kind", action="append", choices=sorted(KINDS), help="an input kind (default: all)")
    parser.add_argument("--cases", type=int, default=1000, help="cases per kind (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="the campaign's seed: case N of a kind is reproducible")
    parser.add_argument("--start", type=int, default=0, help="number the cases from here (resume a campaign)")
    parser.add_argument("--seeds-dir", help="build (or reuse) the seed files here instead of a temporary folder")
    parser.add_argument("--save", action="store_true", help="keep each defect's case as a regression test")
    parser.add_argument("--json", help="write the reports here")
    args = parser.parse_args(argv)
    reports = run_campaign(args.kind or list(KINDS), args.cases, args.seed, args.seeds_dir, args.save,
                           start=args.start)
    if args.json:
        with open(args.json, "w") as out:
            json.dump({k: {"cases": r.cases, "outcomes": r.outcomes, "defects": r.defects, "seconds": r.seconds}
                       for k, r in reports.items()}, out, indent=1)
    defects = sum(len(r.defects) for r in reports.values())
    print(f"{sum(r.cases for r in reports.values())} cases, {defects} defect(s)")
    return 1 if defects else 0


if __name__ == "__main__":
    sys.exit(main())
