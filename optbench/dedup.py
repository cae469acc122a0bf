"""One row per run key: what a study folder promises however often a run was stored."""

from __future__ import annotations

import numpy as np
import pandas as pd


def one_row_per_key(runs: pd.DataFrame, complete: np.ndarray | None = None) -> pd.DataFrame:
    """The rows of `runs` with one per `run_key`, in their order: the first complete result;
    a key with no complete result keeps its first result with lost curves, else its latest
    error. `complete[i]` says whether row i's curves are intact (all are, when None)."""
    if "run_key" not in runs or runs["run_key"].is_unique:
        return runs
    n = len(runs)
    position = np.arange(n)
    error = runs["status"].eq("error").to_numpy() if "status" in runs else np.zeros(n, bool)
    incomplete = np.zeros(n, bool) if complete is None else ~np.asarray(complete, bool)
    tier = np.where(error, 2, np.where(incomplete, 1, 0))
    order = np.lexsort((np.where(error, -position, position), tier))
    first = ~pd.Series(runs["run_key"].to_numpy()[order]).duplicated().to_numpy()
    return runs.iloc[np.sort(order[first])].reset_index(drop=True)
