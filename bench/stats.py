"""Ratios with 95% confidence intervals, and verdicts that say when the data cannot decide.

Two runs of the same code on this 2-core machine once disagreed on three of four targets: WebGL
warm latencies spread +-20% between p10 and p90, and a margin of a few percent is inside that.
So every ratio the bench reports is a paired bootstrap interval, and a target

- holds when the whole interval meets it (its upper bound, for a "<= limit" target),
- fails when the whole interval misses it,
- is undecided otherwise, with an estimate of how many more paired samples would decide it.

Pairs are what the bench already measures side by side: the rounds of the browser series (every
format's block of back-to-back predictions, within milliseconds of each other, bench/page/bench.js
`warm`), the alternating runs of the export commands, the interleaved runs of the text bench.
Resampling whole pairs keeps what drifted between them (machine load, thermal state) out of the
ratio.
"""

import math

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 2000
_SEED = 20261203  # fixed: the same numbers give the same interval in every report


def ratio_interval(numerator, denominator, *, statistic=np.median, confidence=CONFIDENCE, resamples=RESAMPLES):
    """statistic(numerator) / statistic(denominator) with a paired bootstrap interval.

    numerator, denominator: sequences of the same length, one entry per pair; an entry is a number
        (one run) or a sequence of numbers (a block of predictions), and resampling keeps blocks whole.
    Returns {"estimate", "low", "high", "confidence", "pairs"}.
    """
    a = [np.atleast_1d(np.asarray(x, float)) for x in numerator]
    b = [np.atleast_1d(np.asarray(x, float)) for x in denominator]
    if len(a) != len(b) or not a:
        raise ValueError(f"ratio_interval needs paired, non-empty samples (got {len(a)} and {len(b)})")
    point = float(statistic(np.concatenate(a)) / statistic(np.concatenate(b)))
    rng = np.random.default_rng(_SEED)
    n = len(a)
    ratios = np.empty(resamples)
    for r in range(resamples):
        pick = rng.integers(0, n, n)
        ratios[r] = statistic(np.concatenate([a[i] for i in pick])) / statistic(np.concatenate([b[i] for i in pick]))
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(ratios, [tail, 100 - tail])
    return {"estimate": round(point, 4), "low": round(float(low), 4), "high": round(float(high), 4),
            "confidence": confidence, "pairs": n}


def value_interval(samples, *, statistic=np.median, confidence=CONFIDENCE, resamples=RESAMPLES):
    """statistic(samples) with a bootstrap interval (samples: one number, or one block, per run)."""
    return ratio_interval(samples, [1.0] * len(samples), statistic=statistic, confidence=confidence,
                          resamples=resamples)


def verdict(interval, limit, *, at_most=True):
    """"holds" / "fails" / "undecided" for a target `ratio <= limit` (at_most) or `ratio >= limit`."""
    low, high = interval["low"], interval["high"]
    if at_most:
        return "holds" if high <= limit else ("fails" if low > limit else "undecided")
    return "holds" if low >= limit else ("fails" if high < limit else "undecided")


def pairs_to_decide(interval, limit):
    """About how many more pairs would make an undecided interval clear `limit`, assuming its width
    shrinks as 1/sqrt(pairs); None where the estimate sits on the limit (no number of pairs decides)."""
    point, n = interval["estimate"], interval["pairs"]
    gap = abs(point - limit)
    if gap == 0:
        return None
    # the half-width on the side that faces the limit
    half = (interval["high"] - point) if point < limit else (point - interval["low"])
    if half <= gap:
        return 0
    return max(1, math.ceil(n * (half / gap) ** 2) - n)


def judge(interval, limit, *, at_most=True):
    """The interval with its verdict against `limit`, and for an undecided one the pairs it lacks."""
    out = {**interval, "limit": limit, "verdict": verdict(interval, limit, at_most=at_most)}
    if out["verdict"] == "undecided":
        out["more_pairs"] = pairs_to_decide(interval, limit)
    return out


def combine(verdicts):
    """One verdict for a target made of several: it fails if any fails, holds only if all hold."""
    verdicts = list(verdicts)
    if not verdicts:
        return None
    if "fails" in verdicts:
        return "fails"
    return "holds" if all(v == "holds" for v in verdicts) else "undecided"


def describe(judged):
    """'1.02 [0.98, 1.06]' and, where undecided, how many more pairs would decide it."""
    text = f"{judged['estimate']:.3g} [{judged['low']:.3g}, {judged['high']:.3g}]"
    if judged.get("verdict") == "undecided":
        more = judged.get("more_pairs")
        text += (" undecided: the estimate sits on the limit" if more is None
                 else f" undecided: about {more} more pairs would decide it")
    return text
