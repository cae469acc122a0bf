"""The cv_results table with scikit-learn's keys and semantics, from one score per fit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata


def _masked(candidates: Sequence[Mapping[str, Any]]) -> dict[str, np.ma.MaskedArray]:
    """`param_<name>` masked arrays as GridSearchCV builds them (masked where a grid lacks it)."""
    found: dict[str, dict[int, Any]] = {}
    for index, params in enumerate(candidates):
        for name, value in params.items():
            found.setdefault(f"param_{name}", {})[index] = value
    out = {}
    for key, values in found.items():
        listed = list(values.values())
        try:
            array = np.array(listed)
        except ValueError:
            dtype = np.dtype(object)
        else:
            dtype = array.dtype if array.dtype.kind != "U" and array.ndim == 1 else object
        column = np.ma.MaskedArray(np.empty(len(candidates), dtype=dtype), mask=True)
        for index, value in values.items():
            column[index] = value
        out[key] = column
    return out


def _mean_std(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    means = np.average(array, axis=1)
    stds = np.sqrt(np.average((array - means[:, np.newaxis]) ** 2, axis=1))
    return means, stds


def rank(means: np.ndarray) -> np.ndarray:
    """Rank 1 is best; ties share the smallest rank; NaN (failed) scores rank last, tied."""
    if np.isnan(means).all():
        return np.ones_like(means, dtype=np.int32)
    filled = np.nan_to_num(means, nan=np.nanmin(means) - 1)
    return rankdata(-filled, method="min").astype(np.int32, copy=False)


def cv_results(
    candidates: Sequence[Mapping[str, Any]],
    test_scores: np.ndarray,
    fit_times: np.ndarray,
    score_times: np.ndarray,
    more: Mapping[str, Sequence[Any]] | None = None,
) -> dict[str, Any]:
    """GridSearchCV's `cv_results_` from (candidates × splits) score and time arrays."""
    n_candidates = len(candidates)
    scores = np.asarray(test_scores, dtype=np.float64).reshape(n_candidates, -1)
    results: dict[str, Any] = dict(more or {})
    for name, array in (("fit_time", fit_times), ("score_time", score_times)):
        mean, std = _mean_std(np.asarray(array, dtype=np.float64).reshape(scores.shape))
        results[f"mean_{name}"], results[f"std_{name}"] = mean, std
    results |= _masked(candidates)
    results["params"] = [dict(c) for c in candidates]
    for split in range(scores.shape[1]):
        results[f"split{split}_test_score"] = scores[:, split]
    mean, std = _mean_std(scores)
    results["mean_test_score"], results["std_test_score"] = mean, std
    results["rank_test_score"] = rank(mean)
    return results


def best_index(results: Mapping[str, Any]) -> int:
    """GridSearchCV's `best_index_`; for halving, the best of the last iteration."""
    if "iter" in results:
        iters = np.asarray(results["iter"])
        last = np.flatnonzero(iters == iters.max())
        means = np.asarray(results["mean_test_score"])[last]
        return int(last[0 if np.isnan(means).all() else np.nanargmax(means)])
    return int(np.asarray(results["rank_test_score"]).argmin())


def table(results: Mapping[str, Any]) -> pd.DataFrame:
    """cv_results as a DataFrame (masked parameters become NaN), as `pd.DataFrame(cv_results_)`."""
    return pd.DataFrame(dict(results))
