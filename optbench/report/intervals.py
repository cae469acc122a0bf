"""Percentile bootstrap intervals for many cells at once (scipy.stats.bootstrap, vectorized).

Cells whose samples have the same sizes are stacked into one array per sample and bootstrapped in
one call along the last axis: scipy draws one set of resampling indices per call, shared by the
cells of that call, so each cell's interval is an ordinary percentile interval of its own runs.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
ELEMENTS_PER_BATCH = 4_000_000  # resampled values held at once, per sample

Statistic = Callable[..., np.ndarray]


def percentile_intervals(
    cells: Sequence[Sequence[np.ndarray]],
    statistic: Statistic,
    *,
    paired: bool,
    resamples: int,
    seed: int = 0,
) -> np.ndarray:
    """(low, high) per cell of `statistic(*samples, axis=-1)`; NaN where a sample has < 2 runs.

    `cells[i]` holds cell i's samples (1-D arrays); `paired` resamples them with one index set.
    Groups of equal-size cells are bootstrapped in ascending size order, each with `seed`."""
    out = np.full((len(cells), 2), np.nan)
    groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for i, samples in enumerate(cells):
        sizes = tuple(len(s) for s in samples)
        if min(sizes) >= 2:
            groups[sizes].append(i)
    for sizes, members in sorted(groups.items()):
        data = [np.stack([cells[i][k] for i in members]) for k in range(len(sizes))]
        batch = max(1, ELEMENTS_PER_BATCH // (len(members) * max(sizes)))
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # infinite statistics of resamples are values here
            result = stats.bootstrap(
                data,
                statistic,
                n_resamples=resamples,
                batch=batch,
                vectorized=True,
                paired=paired,
                axis=-1,
                confidence_level=CONFIDENCE,
                method="percentile",
                rng=seed,
            )
        low, high = result.confidence_interval
        out[members, 0] = low
        out[members, 1] = high
    return out
