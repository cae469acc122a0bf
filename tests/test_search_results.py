"""cv_results equals what scikit-learn's GridSearchCV builds from the same scores (golden)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from optbench.runners.search import results, space
from sklearn.base import BaseEstimator
from sklearn.model_selection import GridSearchCV, KFold, ParameterGrid

N_SAMPLES, N_SPLITS = 30, 3
GRID = {"init": ["uniform", "zero", "normal"], "batch_size": [128, 512]}
# (init, batch_size) -> split scores; a tie at the top, and a failed fit ("zero", 512).
SCORES = {
    ("uniform", 128): (0.91, 0.92, 0.93),
    ("uniform", 512): (0.90, 0.94, 0.91),
    ("zero", 128): (0.11, 0.10, 0.12),
    ("zero", 512): None,
    ("normal", 128): (0.93, 0.91, 0.92),
    ("normal", 512): (0.5, 0.6, 0.7),
}


class LookupEstimator(BaseEstimator):
    """Scores come from SCORES by parameters and fold (X holds the row numbers)."""

    def __init__(self, init="uniform", batch_size=128):
        self.init, self.batch_size = init, batch_size

    def fit(self, X, y):
        if SCORES[(self.init, self.batch_size)] is None:
            raise ValueError("this fit fails")
        return self

    def score(self, X, y):
        fold = int(X[0, 0]) // (N_SAMPLES // N_SPLITS)
        return SCORES[(self.init, self.batch_size)][fold]


def sklearn_results() -> dict:
    X = np.arange(N_SAMPLES).reshape(-1, 1)
    y = np.arange(N_SAMPLES) % 2
    search = GridSearchCV(LookupEstimator(), GRID, cv=KFold(N_SPLITS), refit=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
    return search.cv_results_


def ours() -> dict:
    candidates = space.candidates(space.parse(GRID), "grid")
    scores = np.array(
        [SCORES[(c["init"], c["batch_size"])] or (np.nan,) * N_SPLITS for c in candidates]
    )
    times = np.ones_like(scores)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return results.cv_results(candidates, scores, times, times)


def test_keys_in_gridsearchcv_order():
    assert list(ours()) == list(sklearn_results())


@pytest.mark.parametrize(
    "key",
    [
        "params",
        "param_init",
        "param_batch_size",
        "split0_test_score",
        "split1_test_score",
        "split2_test_score",
        "mean_test_score",
        "std_test_score",
        "rank_test_score",
    ],
)
def test_values_equal_gridsearchcv(key):
    theirs, mine = sklearn_results()[key], ours()[key]
    if key == "params":
        assert mine == theirs
    elif key.startswith("param_"):
        assert mine.dtype == theirs.dtype
        assert list(mine) == list(theirs)
        np.testing.assert_array_equal(np.ma.getmaskarray(mine), np.ma.getmaskarray(theirs))
    else:
        assert mine.dtype == theirs.dtype
        np.testing.assert_array_equal(mine, theirs)


def test_ties_share_the_smallest_rank_and_failed_fits_rank_last():
    mine = ours()
    by_params = dict(zip(map(lambda p: (p["init"], p["batch_size"]), mine["params"]),
                         mine["rank_test_score"], strict=True))  # fmt: skip
    assert by_params[("uniform", 128)] == by_params[("normal", 128)] == 1
    assert by_params[("uniform", 512)] == 3
    assert by_params[("zero", 512)] == 6
    assert np.isnan(mine["mean_test_score"][list(by_params).index(("zero", 512))])


def test_best_index_is_the_first_of_the_best_rank():
    mine = ours()
    best = results.best_index(mine)
    assert mine["params"][best] == {"batch_size": 128, "init": "uniform"}


def test_masked_parameters_when_grids_differ():
    grids = [{"init": ["zero"]}, {"init": ["uniform"], "batch_size": [7]}]
    candidates = list(ParameterGrid(grids))
    mine = results.cv_results(candidates, np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2)))
    assert list(np.ma.getmaskarray(mine["param_batch_size"])) == [True, False]


def test_halving_best_is_the_best_of_the_last_iteration():
    table = {"iter": np.array([0, 0, 0, 1]), "mean_test_score": np.array([0.9, 0.5, 0.8, 0.85])}
    table["rank_test_score"] = results.rank(table["mean_test_score"])
    assert results.best_index(table) == 3
