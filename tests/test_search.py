"""Search studies end to end on a small MNIST subset, resume, halving, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner
from optbench.runners.mnist import plugin as mnist_plugin
from optbench.runners.search import halving, mnist_fits, space
from optbench.runners.search import search as search_module
from optbench.runners.search import study as studies
from optbench.runners.search.search import plan, run_search, summary
from optbench.runners.search.study import SearchStudy
from scipy import stats
from sklearn.base import BaseEstimator
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import HalvingGridSearchCV, KFold

from optbench.cli import main
from optbench.errors import OptbenchError
from optbench.store import load_results

SMALL = {"subset": 600, "batch_size": 64}


@pytest.fixture(autouse=True)
def data_and_quiet(mnist_dir, monkeypatch):
    monkeypatch.setenv("OPTBENCH_DATA", str(mnist_dir))
    monkeypatch.setenv(mnist_plugin.QUIET_ENV, "1")


def small_study(**search) -> SearchStudy:
    data = {
        "optimizer": "rmsprop",
        "options": SMALL,
        "space": {"initializer": ["glorot_uniform", "zero"], "epochs": [1, 2]},
    }
    return SearchStudy.from_dict(data | {"search": search} if search else data)


def test_grid_order_is_parameter_grid_order():
    grid = space.candidates(space.parse({"b": [1, 2], "a": ["x", "y"]}), "grid")
    assert grid == [{"a": "x", "b": 1}, {"a": "x", "b": 2}, {"a": "y", "b": 1}, {"a": "y", "b": 2}]


def test_random_search_is_seeded_and_draws_from_scipy_distributions():
    parsed = space.parse(
        {"learning_rate": {"distribution": "loguniform", "low": 1e-4, "high": 1e-1},
         "initializer": ["zero", "uniform"]}
    )  # fmt: skip
    first = space.candidates(parsed, "random", n_iter=5, random_state=3)
    assert first == space.candidates(parsed, "random", n_iter=5, random_state=3)
    assert first != space.candidates(parsed, "random", n_iter=5, random_state=4)
    assert all(1e-4 <= c["learning_rate"] <= 1e-1 for c in first)
    assert isinstance(parsed[0]["learning_rate"].dist, type(stats.loguniform(1, 2).dist))


def test_small_search_ranks_zero_last_refits_and_resumes(tmp_path, monkeypatch):
    monkeypatch.setattr(search_module, "TRAINING_LANES", 1)
    outcome = run_search(small_study(), tmp_path)
    results = outcome.cv_results
    assert results["params"] == [
        {"epochs": 1, "initializer": "glorot_uniform"},
        {"epochs": 1, "initializer": "zero"},
        {"epochs": 2, "initializer": "glorot_uniform"},
        {"epochs": 2, "initializer": "zero"},
    ]
    assert outcome.best_params == {"epochs": 2, "initializer": "glorot_uniform"}
    assert list(results["rank_test_score"][[1, 3]]) == [3, 3]  # zero weights: no learning, a tie
    zero = results["mean_test_score"][[1, 3]]
    assert np.all((zero > 0.05) & (zero < 0.2))
    assert 0.5 < outcome.refit_test_score <= 1.0
    assert set(results["members_together"]) == {6}
    assert outcome.ran == 13
    runs = load_results(tmp_path).runs
    assert len(runs) == 13 and set(runs["runner"]) == {"search"}
    again = run_search(small_study(), tmp_path)
    assert (again.ran, again.skipped) == (0, 12)
    np.testing.assert_array_equal(again.cv_results["mean_test_score"], results["mean_test_score"])


def test_two_lanes_cut_one_program_by_members_and_change_no_score(tmp_path, monkeypatch):
    """With fewer programs than lanes, the biggest batch is cut into whole members (a member's
    1- and 2-epoch fits stay together) trained side by side: same scores, 3 members each."""
    monkeypatch.setattr(search_module, "TRAINING_LANES", 1)
    alone = run_search(small_study(), tmp_path / "one-lane").cv_results
    monkeypatch.setattr(search_module, "TRAINING_LANES", 2)
    side_by_side = run_search(small_study(), tmp_path / "two-lanes").cv_results
    assert set(side_by_side["members_together"]) == {3}
    for k in range(3):
        np.testing.assert_array_equal(
            side_by_side[f"split{k}_test_score"], alone[f"split{k}_test_score"]
        )
    assert len(load_results(tmp_path / "two-lanes").runs) == 13  # 12 fits and the refit


def test_shuffle_fold_shares_each_folds_order_and_keeps_default_keys(tmp_path, monkeypatch):
    """`shuffle = "fold"`: fit keys say so (default keys are unchanged), every fold's members
    share one minibatch order whatever the lanes, and a halving rung keeps the setting."""
    from optbench.runners.search import fits

    default = plan(small_study()).fits[0][0]
    shared = plan(small_study(shuffle="fold")).fits[0][0]
    assert fits.shuffle_of(default) == "member" and "search.shuffle" not in default.opts
    assert fits.shuffle_of(shared) == "fold" and shared.key != default.key
    assert fits.shuffle_of(halving._with_budget(shared, "epochs", 3)) == "fold"
    monkeypatch.setattr(search_module, "TRAINING_LANES", 1)
    one_lane = run_search(small_study(shuffle="fold"), tmp_path / "one").cv_results
    monkeypatch.setattr(search_module, "TRAINING_LANES", 2)
    two_lanes = run_search(small_study(shuffle="fold"), tmp_path / "two").cv_results
    own = run_search(small_study(), tmp_path / "own").cv_results
    for k in range(3):
        np.testing.assert_array_equal(
            one_lane[f"split{k}_test_score"], two_lanes[f"split{k}_test_score"]
        )
    good = [0, 2]  # glorot_uniform at 1 and 2 epochs: another order gives other scores
    assert not np.array_equal(one_lane["mean_test_score"][good], own["mean_test_score"][good])


def test_split_keeps_a_members_epoch_fits_together():
    plan_ = plan(small_study())
    batch = [s for row in plan_.fits for s in row]
    halves = mnist_fits.split(batch, 2)
    assert [len(h) for h in halves] == [6, 6]
    member = {s.key: mnist_fits._seed_of(s) for s in batch}
    assert not {member[s.key] for s in halves[0]} & {member[s.key] for s in halves[1]}
    assert mnist_fits.split(batch, 5) == [h for h in mnist_fits.split(batch, 5) if h]
    assert len(mnist_fits.split(batch, 10)) == 6


class EpochLookup(BaseEstimator):
    """Scores depend on the configuration, the epochs given and the fold."""

    def __init__(self, c=0, epochs=1):
        self.c, self.epochs = c, epochs

    def fit(self, X, y):
        return self

    def score(self, X, y):
        fold = int(X[0, 0]) // 10
        return math.sin(7 * self.c + 3 * self.epochs + fold) / (1 + self.c % 3)


@pytest.mark.parametrize("aggressive", [False, True])
def test_halving_keeps_what_halvinggridsearchcv_keeps(aggressive):
    grid = {"c": list(range(10))}
    candidates = space.candidates(space.parse(grid), "grid")
    model = EpochLookup()

    def evaluate(indices, n_resources):
        scores = np.array(
            [[model.set_params(c=candidates[i]["c"], epochs=n_resources).score(
                np.array([[10 * k]]), None) for k in range(3)] for i in indices]
        )  # fmt: skip
        return scores, np.zeros_like(scores), np.zeros_like(scores)

    ours = halving.search(candidates, evaluate, 3, 1, 9, aggressive)
    X, y = np.arange(30).reshape(-1, 1), np.arange(30) % 2
    theirs = HalvingGridSearchCV(
        model, grid, factor=3, resource="epochs", min_resources=1, max_resources=9,
        aggressive_elimination=aggressive, cv=KFold(3), refit=False,
    ).fit(X, y).cv_results_  # fmt: skip
    for key in ("iter", "n_resources", "params", "mean_test_score", "rank_test_score"):
        np.testing.assert_array_equal(np.asarray(ours[key]), np.asarray(theirs[key]), key)
    assert list(ours)[:2] == ["iter", "n_resources"]


def test_halving_schedule_follows_sklearn():
    assert halving.schedule(8, 3, "exhaust", 20, False) == (6, [6, 18])
    assert halving.schedule(27, 3, 1, 9, False) == (1, [1, 3, 9])
    assert halving.schedule(27, 3, 1, 3, True) == (1, [1, 1, 1, 3])


def test_halving_search_continues_survivors_and_stores_every_rung(tmp_path):
    study = SearchStudy.from_dict(
        {"optimizer": "rmsprop", "options": SMALL, "epochs": 3,
         "space": {"initializer": ["glorot_uniform", "zero", "he_uniform"]},
         "search": {"strategy": "halving", "factor": 3, "min_resources": 1}}
    )  # fmt: skip
    outcome = run_search(study, tmp_path)
    results = outcome.cv_results
    assert list(results["iter"]) == [0, 0, 0, 1]
    assert list(results["n_resources"]) == [1, 1, 1, 3]
    assert list(results["members_together"]) == [9, 9, 9, 3]
    printed = summary(outcome)
    assert list(printed.columns[:3]) == ["rank", "iter", "n_resources"]
    assert outcome.best_params["initializer"] != "zero"
    grid = run_search(
        SearchStudy.from_dict(
            {
                "optimizer": "rmsprop",
                "options": SMALL,
                "epochs": 3,
                "space": {"initializer": [outcome.best_params["initializer"]]},
                "search": {},
            }
        ),
        tmp_path / "grid",
    )
    assert results["mean_test_score"][3] == pytest.approx(grid.best_score, abs=1e-6)


def test_halving_resumed_after_an_interruption_reads_finished_rungs_and_scores_the_same(
    tmp_path, monkeypatch
):
    study = SearchStudy.from_dict(
        {"optimizer": "rmsprop", "options": SMALL, "epochs": 3,
         "space": {"initializer": ["glorot_uniform", "zero", "he_uniform"]},
         "search": {"strategy": "halving", "factor": 3, "min_resources": 1}}
    )  # fmt: skip
    whole = run_search(study, tmp_path / "whole")
    train = mnist_fits.continue_group

    def interrupted(specs, previous, progress=None):
        if previous is not None:  # the second rung: the process dies here
            raise KeyboardInterrupt
        return train(specs, previous, progress)

    monkeypatch.setattr(mnist_fits, "continue_group", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_search(study, tmp_path / "resumed")
    monkeypatch.setattr(mnist_fits, "continue_group", train)
    resumed = run_search(study, tmp_path / "resumed")
    assert (whole.skipped, whole.ran) == (0, 9 + 3 + 1), "two rungs and the refit"
    assert (resumed.skipped, resumed.ran) == (9, 3 + 1), "rung 0 read back, rung 1 trained"
    assert list(resumed.cv_results["n_resources"]) == [1, 1, 1, 3]
    np.testing.assert_allclose(
        resumed.cv_results["mean_test_score"], whole.cv_results["mean_test_score"], atol=1e-6
    )
    assert resumed.best_params == whole.best_params


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"space": {}}, "the search space is empty"),
        ({"space": {"initializer": []}}, "parameter 'initializer' has an empty list"),
        ({"space": {"frobnicate": [1]}}, "unknown search parameter 'frobnicate'"),
        ({"space": {"batch_size": ["big"]}}, "batch_size must be a positive integer, got 'big'"),
        ({"space": {"initializer": ["glorot"]}}, "unknown initializer 'glorot'"),
        ({"space": {"learning_rate": ["fast"]}}, "learning_rate"),
        ({"search": {"cv": 1}}, "cv must have at least 2 folds, got n_splits=1"),
        ({"search": {"cv": 601}}, "cv has 601 folds but the data has only 600 samples"),
        ({"space": {"learning_rate": {"distribution": "loguniform", "low": 0, "high": 1}},
          "search": {"strategy": "random", "n_iter": 2}}, "loguniform needs low > 0"),
        ({"space": {"learning_rate": {"distribution": "gamma", "a": 1}},
          "search": {"strategy": "random", "n_iter": 2}}, "unknown distribution 'gamma'"),
        ({"space": {"learning_rate": {"distribution": "loguniform", "low": 1e-3, "high": 1}}},
         "distributions need strategy 'random'"),
        ({"search": {"strategy": "halving", "min_resources": 5}, "epochs": 2},
         "min_resources=5 is larger than max_resources=2"),
        ({"search": {"strategy": "halving"}, "space": {"epochs": [1, 2]}},
         "halving allocates 'epochs' itself"),
        ({"search": {"strategy": "bayes"}}, "unknown strategy 'bayes'"),
        ({"options": SMALL | {"early_stopping": 3}},
         "a search trains without callbacks; unset early_stopping (got early_stopping=3)"),
        ({"optimizer": "bfgs"}, "bfgs"),
        ({"runner": "nonesuch"}, "the search runner wraps mnist, landscape; got runner 'nonesuch'"),
        ({"runner": "landscape", "problem": "beale", "optimizer": "sgd"},
         "unknown search parameter 'subset': not a budget field, an option of runner 'landscape'"),
        ({"search": {"folds": 3}}, "unknown [search] key(s) ['folds']"),
        ({"search": {"shuffle": "candidate"}},
         "shuffle must be one of 'member', 'fold', got 'candidate'"),
        ({"search": {"shuffle": "fold", "backend": "keras"}},
         'shuffle = "fold" (one minibatch order per fold) applies to the mnist runner with the '
         "jax backend, not runner 'mnist' with backend 'keras'"),
        ({"runner": "landscape", "problem": "beale", "optimizer": "sgd", "options": {},
          "space": {"learning_rate": [0.1]}, "search": {"shuffle": "fold"}},
         "not runner 'landscape' with backend 'jax'"),
    ],
)  # fmt: skip
def test_bad_input_is_an_error_before_training(data, message):
    base = {"optimizer": "rmsprop", "options": SMALL, "space": {"initializer": ["zero"]}}
    with pytest.raises(OptbenchError) as caught:
        plan(SearchStudy.from_dict(base | data))
    assert message in str(caught.value)


def test_cli_runs_a_study_file_and_exits_2_on_bad_input(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(
        'optimizer = "rmsprop"\nepochs = 1\n[options]\nsubset = 300\nbatch_size = 64\n'
        '[search]\ncv = 2\n[space]\ninitializer = ["zero", "glorot_uniform"]\n'
    )
    result = CliRunner().invoke(main, ["search", str(path), "--out", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 0, result.output
    assert "best_params: {'initializer': 'glorot_uniform'}" in result.output
    assert "rank_test_score" in result.output and "refit on all training images" in result.output
    bad = CliRunner().invoke(main, ["search", str(path), "--strategy", "random"])
    assert bad.exit_code == 2
    assert "random search needs n_iter" in bad.output


def test_builtin_seed_grids_expand_as_the_seed():
    grid1, grid2 = studies.load("seed-grid1"), studies.load("seed-grid2")
    assert grid1.cv == {"splitter": "kfold", "n_splits": 3, "shuffle": False, "random_state": None}
    assert len(space.candidates(space.parse(grid1.space), "grid")) == 8
    points = space.candidates(space.parse(grid2.space), "grid")
    assert len(points) == 8 and points[0] == {
        "batch_size": 128, "epochs": 10, "initializer": "glorot_uniform"
    }  # fmt: skip
    listing = CliRunner().invoke(main, ["studies"])
    assert "seed-grid1" in listing.output and "seed-grid2" in listing.output


def test_landscape_search_scores_success_rates_over_seeded_starts(tmp_path):
    from optbench import registry
    from optbench.spec import RunSpec

    study = SearchStudy.from_dict(
        {"runner": "landscape", "problem": "beale", "optimizer": "sgd", "steps": 300,
         "space": {"learning_rate": [0.001, 0.01], "momentum": [0.0, 0.9]}, "search": {"cv": 6}}
    )  # fmt: skip
    outcome = run_search(study, tmp_path)
    results = outcome.cv_results
    assert set(results["members_together"]) == {24} and not outcome.study.refit
    landscape = registry.runner("landscape")
    for i, params in enumerate(results["params"]):
        hp = {"learning_rate": params["learning_rate"], "momentum": params["momentum"]}
        runs = [RunSpec("landscape", "beale", "sgd", hp, 0, k, {"steps": 300}) for k in range(6)]
        rows = landscape.run(runs).rows
        assert results["mean_test_score"][i] == pytest.approx(rows["status"].eq("converged").mean())
        assert results["median_final_gap"][i] == pytest.approx(np.median(rows["f_gap"]))
    best_rank = np.flatnonzero(results["rank_test_score"] == 1)
    gaps = np.nan_to_num(results["median_final_gap"][best_rank], nan=np.inf)
    assert outcome.best_index == best_rank[np.argmin(gaps)]


def test_landscape_halving_reruns_survivors_with_more_steps(tmp_path):
    """Halving over steps on Beale: rung budgets as HalvingGridSearchCV's, each rung's scores
    those of plain landscape runs at its budget, survivors the best of the rung before."""
    from optbench import registry
    from optbench.spec import RunSpec

    study = SearchStudy.from_dict(
        {"runner": "landscape", "problem": "beale", "optimizer": "adam", "steps": 270,
         "space": {"learning_rate": [0.0001, 0.001, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]},
         "search": {"strategy": "halving", "cv": 4, "factor": 3, "min_resources": 30}}
    )  # fmt: skip
    assert study.halving_resource == "steps"
    outcome = run_search(study, tmp_path / "search")
    results = outcome.cv_results
    assert list(results["n_resources"]) == [30] * 9 + [90] * 3 + [270]
    assert list(results["iter"]) == [0] * 9 + [1] * 3 + [2]
    landscape = registry.runner("landscape")
    for i, params in enumerate(results["params"]):
        steps = int(results["n_resources"][i])
        runs = [RunSpec("landscape", "beale", "adam", {"learning_rate": params["learning_rate"]},
                        0, k, {"steps": steps}) for k in range(4)]  # fmt: skip
        rows = landscape.run(runs).rows
        assert results["mean_test_score"][i] == rows["status"].eq("converged").mean()
        assert results["median_final_gap"][i] == pytest.approx(np.median(rows["f_gap"]), rel=1e-12)
    for itr in (1, 2):
        before = np.flatnonzero(results["iter"] == itr - 1)
        now = np.flatnonzero(results["iter"] == itr)
        kept = {results["params"][i]["learning_rate"] for i in now}
        order = halving.top_k(results["mean_test_score"][before], len(kept))
        assert kept == {results["params"][before[j]]["learning_rate"] for j in order}
    assert outcome.best_index == 12
    rerun = run_search(study, tmp_path / "search")
    assert rerun.ran == 0 and rerun.skipped == 9 * 4 + 3 * 4 + 4


def test_landscape_halving_refuses_epochs():
    with pytest.raises(OptbenchError, match="halving's resource for runner 'landscape' must be "
                                            "'steps', got 'epochs'"):  # fmt: skip
        SearchStudy.from_dict(
            {"runner": "landscape", "problem": "beale", "optimizer": "adam", "steps": 90,
             "space": {"learning_rate": [0.01, 0.1]},
             "search": {"strategy": "halving", "resource": "epochs"}}
        )  # fmt: skip
