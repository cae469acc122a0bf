"""Wilcoxon signed-rank p-values of many cells at once, each equal to `scipy.stats.wilcoxon(d)`.

scipy's `method="auto"` picks, per call, an exact null distribution (no ties, no zeros, n ≤ 50),
an exact permutation test (ties or zeros, n ≤ 13) or the normal approximation. Called on a
stack of cells it would pick once for all of them, so the choice is made here per cell, as
scipy would make it, and cells of equal size and choice go to scipy in one vectorized call.
The permutation case (scipy's slowest: tens of milliseconds a cell) runs as one
`scipy.stats.permutation_test` over all 2^n sign flips with a vectorized statistic.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from scipy import stats

EXACT_MAX = 50  # scipy: above this, "auto" is the normal approximation
PERMUTATION_MAX = 13  # scipy: 2**13 sign flips fit its 9999 resamples, so the test is exact


def method_of(d: np.ndarray) -> str:
    """The method scipy's `wilcoxon(d, method="auto")` uses for these differences."""
    if d.size > EXACT_MAX:
        return "asymptotic"
    nonzero = np.abs(d[d != 0])
    if nonzero.size == d.size and np.unique(nonzero).size == nonzero.size:
        return "exact"
    return "permutation" if d.size <= PERMUTATION_MAX else "asymptotic"


def signed_rank_sum(d: np.ndarray, axis: int = -1) -> np.ndarray:
    """Wilcoxon's R+ with zeros dropped (scipy's zero_method="wilcox"), along `axis`."""
    d = np.moveaxis(d, axis, -1)
    magnitude = np.where(d == 0, np.nan, np.abs(d))
    ranks = stats.rankdata(magnitude, axis=-1, nan_policy="omit")
    return np.nansum(np.where(d > 0, ranks, 0.0), axis=-1)


def wilcoxon_many(cells: Sequence[np.ndarray]) -> np.ndarray:
    """Two-sided p of the signed-rank test of each cell's paired differences."""
    out = np.full(len(cells), np.nan)
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)
    for i, d in enumerate(cells):
        groups[len(d), method_of(d)].append(i)
    for (_, method), members in sorted(groups.items()):
        stack = np.stack([cells[i] for i in members]).astype(float)
        if method == "permutation":
            p = stats.permutation_test(
                (stack,),
                signed_rank_sum,
                permutation_type="samples",
                vectorized=True,
                n_resamples=np.inf,
                alternative="two-sided",
                axis=-1,
            ).pvalue
        else:
            p = stats.wilcoxon(stack, axis=-1, method=method).pvalue
        out[members] = p
    return out
