"""The fuzzer in `make test`: a few hundred seeded cases across every input kind, and every kept
regression case replayed. Each must convert (and verify) or end as one ExportError naming the fix,
with no partial output (tests/fuzz/kinds.py); `make fuzz` runs 1,000 per kind.
"""

import json

import pytest

from tests.fuzz.campaign import REGRESSIONS, replay, run_campaign
from tests.fuzz.kinds import KINDS, check_refusal

CASES_PER_KIND = 30  # x 7 kinds = 210 cases (+ the kept regressions), ~4 min here; `make fuzz` runs 1,000 per kind


@pytest.fixture(scope="module")
def reports(fuzz_seeds):
    return run_campaign(list(KINDS), CASES_PER_KIND, seed=2026, seed_root=fuzz_seeds, log=lambda *a: None)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_no_defect(reports, kind):
    report = reports[kind]
    assert report.cases == CASES_PER_KIND
    assert not report.defects, "\n\n".join(f"case {d['index']} ({d['note']}): {d['defect']}\n{d['detail']}"
                                           for d in report.defects)
    # The mutations reach past the first check: some cases still convert, others are refused.
    outcomes = " ".join(report.outcomes)
    assert "refused" in outcomes, report.summary()


def _kept():
    return sorted(p.parent for p in REGRESSIONS.glob("*/*/case.json"))


def test_regressions_replay_clean():
    folders = _kept()
    answers = replay(folders)
    failing = {str(f.relative_to(REGRESSIONS)): a for f, a in answers.items() if "defect" in a}
    assert not failing, json.dumps(failing, indent=1)[:6000]
    assert len(answers) == len(folders)


def test_refusal_rules_catch_bad_messages():
    # The oracle itself: a refusal without a fix, or reading as a crash, is a defect.
    assert check_refusal("model.json: bad shape. Fix: re-export it.") == []
    assert check_refusal("model.json: bad shape.") == ["the message names no fix"]
    assert "the message reads as a crash" in check_refusal("webnets failed unexpectedly. Fix: report it")
