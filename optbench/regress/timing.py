"""Time verdicts: ratio of medians, a one-sided Mann-Whitney U test, a Hodges-Lehmann interval."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from optbench.regress.settings import Settings
from optbench.regress.verdict import (
    ADVISORY,
    FASTER,
    HARD_FAIL,
    INCONCLUSIVE,
    OK,
    REGRESSION,
    Finding,
)


@dataclass(frozen=True)
class RatioInterval:
    """Hodges-Lehmann estimate of head/base time and its distribution-free confidence interval."""

    estimate: float
    low: float
    high: float


def hodges_lehmann(base: np.ndarray, head: np.ndarray, confidence: float) -> RatioInterval:
    """The median of all pairwise log-ratios head_i/base_j and the Moses interval around it."""
    logs = np.sort(np.subtract.outer(np.log(head), np.log(base)).ravel())
    m, n = len(base), len(head)
    z = stats.norm.ppf(0.5 + confidence / 2)
    k = math.floor(m * n / 2 - z * math.sqrt(m * n * (m + n + 1) / 12))
    low, high = (logs[k], logs[-k - 1]) if 0 <= k < len(logs) // 2 else (logs[0], logs[-1])
    return RatioInterval(*np.exp([np.median(logs), low, high]))


def pair_ratios(
    base_blocks: Sequence[Sequence[float]], head_blocks: Sequence[Sequence[float]]
) -> tuple[float, ...]:
    """Median head/base time of each interleaved block pair (base 1 with head 1, ...); none
    unless both sides ran the same number (two or more) of blocks."""
    if len(base_blocks) != len(head_blocks) or len(base_blocks) < 2:
        return ()
    pairs = zip(base_blocks, head_blocks, strict=True)
    return tuple(float(np.median(h) / np.median(b)) for b, h in pairs if len(b) and len(h))


def _seconds(value: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if abs(value) >= scale or unit == "us":
            return f"{value / scale:.3g}{unit}"
    return f"{value:g} s"


def judge_time(
    name: str,
    base_rounds: tuple[float, ...],
    head_rounds: tuple[float, ...],
    settings: Settings,
    *,
    advisory: bool = False,
    speed: float = 1.0,
    pairs: Sequence[float] = (),
    other_cpu: bool = False,
) -> Finding:
    """The time verdict of one benchmark; `speed` (head/base calibration time) normalises head's
    rounds for another machine and `advisory` makes only the hard limit fail, the wider
    `cross_model_hard_ratio` when `other_cpu` (the CPU models differ). With `pairs` (the
    ratios of interleaved block pairs) a slowdown is a regression only when every pair shows it:
    rounds of one block share the machine's state of the moment, so pooled rounds alone
    overstate the evidence when the machine's speed drifts between blocks."""
    base = np.asarray(base_rounds, dtype=float)
    head = np.asarray(head_rounds, dtype=float) / speed
    if not np.all(np.isfinite(head)) or np.any(head <= 0):
        return Finding(name, "time", _seconds(np.median(base)), "nan", "-", None, REGRESSION,
                       "a round of head is not a finite time")  # fmt: skip
    base_median, head_median = float(np.median(base)), float(np.median(head))
    ratio = head_median / base_median
    interval = hodges_lehmann(base, head, settings.confidence)
    few = min(len(base), len(head)) < settings.min_rounds
    p = _mann_whitney(head, base, "greater")
    text = f"{ratio:.2f} [{interval.low:.2f}, {interval.high:.2f}]"
    above_floor = (head_median - base_median) * 1e3 > settings.floor_ms
    hard = (
        settings.cross_model_hard_ratio
        if other_cpu
        else settings.advisory_hard_ratio
        if advisory
        else settings.hard_ratio
    )
    verdict, why = OK, ""
    if above_floor and ratio > hard and min(pairs, default=ratio) <= hard:
        verdict = INCONCLUSIVE
        why = (
            f"median {ratio:.2f}x base, above the hard limit {hard:g}x, but not in every "
            f"interleaved block pair ({_listed(pairs)})"
        )
    elif above_floor and ratio > hard:
        verdict, why = HARD_FAIL, f"median {ratio:.2f}x base, above the hard limit {hard:g}x"
    elif above_floor and ratio > 1 + settings.threshold:
        if advisory:
            verdict, why = (
                ADVISORY,
                (
                    "another CPU model: time is advisory"
                    if other_cpu
                    else "another machine or the committed baseline: time is advisory"
                ),
            )
        elif few:
            verdict, why = INCONCLUSIVE, f"fewer than {settings.min_rounds} rounds a side"
        elif p is None or p >= settings.alpha:
            verdict, why = INCONCLUSIVE, f"slower but not significant (p >= {settings.alpha:g})"
        elif min(pairs, default=ratio) <= 1 + settings.threshold:
            verdict = INCONCLUSIVE
            why = (
                f"p={p:.2g}, but not {settings.threshold:.0%} slower in every interleaved block "
                f"pair ({_listed(pairs)})"
            )
        else:
            verdict = REGRESSION
            why = f"{ratio - 1:+.0%} and Mann-Whitney p={p:.2g} < {settings.alpha:g}"
            why += f", in every block pair ({_listed(pairs)})" if pairs else ""
    elif (base_median - head_median) * 1e3 > settings.floor_ms and ratio < 1 / (
        1 + settings.threshold
    ):
        faster_p = _mann_whitney(head, base, "less")
        if not few and faster_p < settings.alpha:
            verdict, why = FASTER, f"{1 / ratio:.2f}x faster, p={faster_p:.2g}"
    return Finding(
        name, "time", _seconds(base_median), _seconds(head_median), text, p, verdict, why
    )


def _listed(ratios: Sequence[float]) -> str:
    return ", ".join(f"{r:.2f}" for r in ratios)


def _mann_whitney(head: np.ndarray, base: np.ndarray, alternative: str) -> float:
    """One-sided p of head's rounds being larger ('greater') or smaller ('less') than base's."""
    return float(stats.mannwhitneyu(head, base, alternative=alternative).pvalue)
