"""Convergence bands: per (landscape, setting) the quartiles of f_gap at each recorded step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

GAP_FLOOR = 1e-16


@dataclass(frozen=True)
class Band:
    """One setting on one landscape: quartile curves over `steps`, or (for methods that record
    no curve) one point, its median evaluations and median final gap."""

    setting: str
    q1: np.ndarray | None = None
    median: np.ndarray | None = None
    q3: np.ndarray | None = None
    point: tuple[float, float] | None = None


def gap_matrix(curves: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """f_gap curves as runs × steps; a run that stopped early keeps its last gap (converged)
    or +inf (diverged) for the steps after it."""
    gaps = curves[curves["name"].eq("f_gap")]
    if gaps.empty:
        return pd.DataFrame()
    matrix = gaps.pivot_table(index="run_key", columns="step", values="value", aggfunc="first")
    status = runs.set_index("run_key")["status"].reindex(matrix.index)
    diverged = status.eq("diverged").to_numpy()
    filled = matrix.ffill(axis=1)
    filled[diverged] = matrix[diverged].fillna(np.inf)
    return filled


def bands(
    runs: pd.DataFrame, gaps: pd.DataFrame, settings: Sequence[str]
) -> tuple[np.ndarray, dict[str, list[Band]]]:
    """The steps (as evaluations, step + 1) and, per landscape label, one band per setting in
    `settings` order; run keys are matched to curve rows once, by position."""
    steps = gaps.columns.to_numpy(dtype=float) + 1
    values = np.clip(gaps.to_numpy(dtype=float), GAP_FLOOR, None)
    chosen = runs[runs["setting"].isin(settings)]
    row = gaps.index.get_indexer(chosen["run_key"].astype(object).to_numpy())
    gap = chosen["f_gap"].astype(float).to_numpy()
    fev = chosen["n_fev"].astype(float).to_numpy()
    cells = chosen.groupby(["problem_label", "setting"], sort=False).indices
    order = {s: i for i, s in enumerate(settings)}
    out: dict[str, list[Band]] = {}
    for problem in sorted({p for p, _ in cells}):
        found = sorted((s for p, s in cells if p == problem), key=order.__getitem__)
        out[problem] = [
            _band(setting, row, values, gap, fev, cells[problem, setting]) for setting in found
        ]
    return steps, out


def _band(
    setting: str,
    row: np.ndarray,
    values: np.ndarray,
    gap: np.ndarray,
    fev: np.ndarray,
    positions: np.ndarray,
) -> Band:
    rows = row[positions]
    rows = rows[rows >= 0]
    if rows.size:
        q1, median, q3 = np.nanquantile(values[rows], [0.25, 0.5, 0.75], axis=0, method="nearest")
        return Band(setting, q1, median, q3)
    final = float(np.clip(_median(gap[positions]), GAP_FLOOR, 1e300))
    return Band(setting, point=(_median(fev[positions]), final))


def _median(values: np.ndarray) -> float:
    """The median of the values that are not NaN (NaN when none is)."""
    kept = values[~np.isnan(values)]
    return float(np.median(kept)) if kept.size else float("nan")
