"""The optuna strategy: TPE asked in batches, each batch trained together, every fit stored (a
rerun resumes), pruning on the per-epoch curve, cv_results, bad input and the missing extra."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from optbench.runners.mnist import plugin as mnist_plugin
from optbench.runners.search import landscape_fits, optuna_settings, optuna_space
from optbench.runners.search.search import SearchOutcome, plan, run_search, summary
from optbench.runners.search.study import SearchStudy

from optbench.cli import main
from optbench.errors import OptbenchError
from optbench.store import load_results

optuna = pytest.importorskip("optuna")

LR = {"distribution": "loguniform", "low": 1e-3, "high": 1.0}
# sgd on the sphere f = Σx² steps x ← (1 − 2·lr)·x; in 10 steps only lr near 0.5 reaches the
# target from every start (measured: 0.35 ≤ lr ≤ 0.63 succeed), so the optimum band is known.
BAND = (0.3, 0.7)


def landscape_study(**search: Any) -> SearchStudy:
    """sgd's learning rate on the sphere, 4 seeded starts as folds."""
    settings = {"strategy": "optuna", "cv": 4, "n_trials": 10, "trials_per_batch": 4} | search
    return SearchStudy.from_dict(
        {"runner": "landscape", "problem": "sphere", "optimizer": "sgd", "steps": 10,
         "space": {"learning_rate": LR}, "search": settings}
    )  # fmt: skip


def mnist_study(**search: Any) -> SearchStudy:
    """Initializer × sgd learning rate on the small MNIST-format set, 3 epochs, 2 folds."""
    settings = {
        "strategy": "optuna", "cv": 2, "n_trials": 8, "trials_per_batch": 4,
        "pruner": {"name": "median", "n_startup_trials": 2},
    } | search  # fmt: skip
    return SearchStudy.from_dict(
        {"optimizer": "sgd", "epochs": 3, "options": {"batch_size": 64},
         "space": {"initializer": ["glorot_uniform", "zero"], "learning_rate": LR | {"high": 0.5}},
         "search": settings}
    )  # fmt: skip


@pytest.fixture
def small_data(small_mnist, monkeypatch) -> Path:
    monkeypatch.setenv("OPTBENCH_DATA", str(small_mnist))
    monkeypatch.setenv(mnist_plugin.QUIET_ENV, "1")
    return small_mnist


@pytest.fixture(scope="module")
def pruned_search(small_mnist, tmp_path_factory) -> tuple[SearchOutcome, Path]:
    """One MNIST optuna search with a median pruner, run once for the tests below."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPTBENCH_DATA", str(small_mnist))
        patch.setenv(mnist_plugin.QUIET_ENV, "1")
        out = tmp_path_factory.mktemp("optuna-mnist")
        return run_search(mnist_study(), out, quiet=True), out


def test_space_maps_lists_and_scipy_distributions_to_optuna():
    space = optuna_space.parse(
        {"initializer": ["zero", "uniform"], "widths": [[64, 64], [128]], "learning_rate": LR,
         "momentum": {"distribution": "uniform", "low": 0.0, "high": 0.9},
         "batch_size": {"distribution": "randint", "low": 32, "high": 129}}
    )  # fmt: skip
    dists = space.distributions
    assert dists["initializer"] == optuna.distributions.CategoricalDistribution(["zero", "uniform"])
    assert dists["learning_rate"] == optuna.distributions.FloatDistribution(1e-3, 1.0, log=True)
    assert dists["momentum"] == optuna.distributions.FloatDistribution(0.0, 0.9)
    assert dists["batch_size"] == optuna.distributions.IntDistribution(32, 128)  # high exclusive
    assert dists["widths"].choices == ("(64, 64)", "(128,)")
    low, high = space.probes()
    assert low == {"initializer": "zero", "widths": (64, 64), "learning_rate": 1e-3,
                   "momentum": 0.0, "batch_size": 32}  # fmt: skip
    assert high["widths"] == (128,) and high["batch_size"] == 128


def test_trials_asked_equal_n_trials_in_batches_trained_together(tmp_path):
    outcome = run_search(landscape_study(), tmp_path, quiet=True)
    results = outcome.cv_results
    assert len(results["params"]) == 10
    assert list(results["optuna_trial"]) == list(range(10))
    assert set(results["optuna_state"]) == {"COMPLETE"}
    # batches of 4, 4 and 2 trials × 4 starts, each batch one landscape program
    assert list(results["members_together"]) == [16] * 8 + [8] * 2
    assert outcome.ran == 40 and outcome.skipped == 0 and not outcome.study.refit
    np.testing.assert_allclose(results["optuna_value"], results["mean_test_score"])
    keys = list(results)
    assert (
        keys.index("rank_test_score") < keys.index("members_together") < keys.index("optuna_trial")
    )
    assert list(summary(outcome).columns[:3]) == ["rank", "trial", "state"]
    again = run_search(landscape_study(), tmp_path, quiet=True)
    assert (again.ran, again.skipped) == (0, 40)
    assert again.cv_results["params"] == results["params"]


def test_same_random_state_same_trials_and_scores(tmp_path):
    first = run_search(landscape_study(random_state=3), tmp_path / "a", quiet=True).cv_results
    second = run_search(landscape_study(random_state=3), tmp_path / "b", quiet=True).cv_results
    other = run_search(landscape_study(random_state=4), tmp_path / "c", quiet=True).cv_results
    assert first["params"] == second["params"]
    np.testing.assert_array_equal(first["mean_test_score"], second["mean_test_score"])
    np.testing.assert_array_equal(first["split3_test_score"], second["split3_test_score"])
    assert first["params"] != other["params"]


def test_tpe_concentrates_near_the_known_optimum(tmp_path):
    guided, sampled = [], []
    for seed in range(5):
        study = landscape_study(n_trials=40, trials_per_batch=8, random_state=seed)
        outcome = run_search(study, tmp_path / f"tpe{seed}", quiet=True)
        assert BAND[0] <= outcome.best_params["learning_rate"] <= BAND[1]
        assert outcome.best_score == 1.0
        lr = np.array([p["learning_rate"] for p in outcome.cv_results["params"]])
        guided.append(np.mean((lr[16:] > BAND[0]) & (lr[16:] < BAND[1])))
        random = SearchStudy.from_dict(
            {"runner": "landscape", "problem": "sphere", "optimizer": "sgd", "steps": 10,
             "space": {"learning_rate": LR},
             "search": {"strategy": "random", "n_iter": 40, "cv": 4, "random_state": seed}}
        )  # fmt: skip
        drawn = run_search(random, tmp_path / f"random{seed}", quiet=True).cv_results
        lr = np.array([p["learning_rate"] for p in drawn["params"]])
        sampled.append(np.mean((lr[16:] > BAND[0]) & (lr[16:] < BAND[1])))
    # the loguniform prior puts 12 % of its mass in the band; TPE's later trials put ≥ 30 %
    assert np.mean(guided) >= 0.3 and np.mean(sampled) <= 0.2
    assert np.mean(guided) >= 2 * np.mean(sampled)


def test_a_failed_fit_fails_its_trial_and_ranks_last(tmp_path, monkeypatch):
    real = landscape_fits.run_fits

    def failing(specs):
        result = real(specs)
        bad = result.rows["hp.learning_rate"] > 0.5
        result.rows.loc[bad, "test_score"] = np.nan
        result.rows.loc[bad, "status"] = "error"
        return result

    monkeypatch.setattr(landscape_fits, "run_fits", failing)
    results = run_search(landscape_study(), tmp_path, quiet=True).cv_results
    lr = np.array([p["learning_rate"] for p in results["params"]])
    failed = results["optuna_state"] == "FAIL"
    assert failed.any() and np.array_equal(failed, lr > 0.5)
    assert np.isnan(results["mean_test_score"][failed]).all()
    assert (results["rank_test_score"][failed] == results["rank_test_score"].max()).all()
    assert np.isnan(results["optuna_value"][failed]).all()


def test_mnist_batch_trains_in_one_program_and_prunes_on_the_epoch_curve(pruned_search):
    outcome, _ = pruned_search
    results = outcome.cv_results
    states = results["optuna_state"]
    assert len(states) == 8 and set(states) == {"COMPLETE", "PRUNED"}
    assert list(results["members_together"][:4]) == [8] * 4  # 4 trials × 2 folds, one program
    pruned = states == "PRUNED"
    # pruned after epoch 1, below the median of the completed trials there: zero initializers
    assert list(results["optuna_epochs"][pruned]) == [1] * int(pruned.sum())
    assert {p["initializer"] for p in np.array(results["params"])[pruned]} == {"zero"}
    assert (results["optuna_epochs"][~pruned] == 3).all()
    assert np.isnan(results["mean_test_score"][pruned]).all()
    assert (results["rank_test_score"][pruned] > results["rank_test_score"][~pruned].max()).all()
    assert (results["optuna_value"][pruned] < 0.2).all()  # the last value each reported
    assert outcome.best_params["initializer"] == "glorot_uniform"
    assert outcome.best_score > 0.9 and 0.5 < outcome.refit_test_score <= 1.0
    assert results["mean_fit_time"][pruned].max() < results["mean_fit_time"][~pruned].min()


def test_pruned_search_stores_a_row_per_epoch_and_resumes(pruned_search, small_data):
    outcome, out = pruned_search
    runs = load_results(out).runs
    epochs = runs[runs["option.search.fold"].ne("refit")].groupby("epochs").size()
    complete = int((outcome.cv_results["optuna_state"] == "COMPLETE").sum())
    assert dict(epochs) == {1: 16, 2: 2 * complete, 3: 2 * complete}
    again = run_search(mnist_study(), out, quiet=True)
    assert again.ran == 0 and again.skipped == 16 + 4 * complete
    assert list(again.cv_results["optuna_state"]) == list(outcome.cv_results["optuna_state"])
    np.testing.assert_array_equal(
        again.cv_results["mean_test_score"], outcome.cv_results["mean_test_score"]
    )


def test_epoch_by_epoch_scores_equal_the_fits_trained_whole(pruned_search, small_data, tmp_path):
    outcome, _ = pruned_search
    results = outcome.cv_results
    done = np.flatnonzero(results["optuna_state"] == "COMPLETE")[:3]
    grid = SearchStudy.from_dict(
        {"optimizer": "sgd", "epochs": 3, "options": {"batch_size": 64},
         "space": [{k: [v] for k, v in results["params"][i].items()} for i in done],
         "search": {"cv": 2, "refit": False}}
    )  # fmt: skip
    whole = run_search(grid, tmp_path, quiet=True).cv_results
    for row, i in enumerate(done):
        for k in (0, 1):
            assert whole[f"split{k}_test_score"][row] == pytest.approx(
                results[f"split{k}_test_score"][i], abs=1e-6
            )


@pytest.mark.parametrize(
    ("search", "space", "message"),
    [
        ({"n_trials": 0}, None, "optuna search needs n_trials, a positive integer; got 0"),
        ({"n_trials": None}, None, "needs n_trials, a positive integer; got None"),
        ({"trials_per_batch": 0}, None, "needs trials_per_batch, a positive integer; got 0"),
        ({"pruner": "patience"}, None,
         "unknown pruner 'patience'; allowed: none, median, percentile, successive_halving"),
        ({"pruner": {"name": "median", "n_startup": 2}}, None,
         "pruner 'median': unknown option(s) ['n_startup']; allowed: n_startup_trials"),
        ({"pruner": {"name": "percentile"}}, None, "pruner 'percentile': "),
        ({"pruner": {"n_startup_trials": 2}}, None, "pruner must be a name or a table with `name`"),
        ({"tpe": {"seed": 1}}, None, "tpe: unknown option(s) ['seed']; allowed: n_startup_trials"),
        ({"tpe": {"multivariate": 1}}, None, "tpe: multivariate must be a boolean (true or false)"),
        ({"tpe": {"n_startup_trials": -1}}, None, "n_startup_trials must be a non-negative int"),
        ({}, {"learning_rate": {"distribution": "norm", "loc": 0.1, "scale": 0.01}},
         "parameter 'learning_rate': distribution 'norm' has no optuna equivalent"),
        ({}, {"learning_rate": {"distribution": "norm", "loc": 0.1, "scale": 0.01}},
         "allowed with strategy 'optuna': lists of values, loguniform, uniform, randint"),
        ({}, [{"initializer": ["zero"]}, {"initializer": ["uniform"]}],
         "strategy 'optuna' searches one [space] table, got a list of 2"),
        ({}, {"batch_size": {"distribution": "randint", "low": 1.5, "high": 4}},
         "parameter 'batch_size': randint needs integers"),
    ],
)  # fmt: skip
def test_bad_optuna_settings_are_errors_before_training(search, space, message):
    data = {"optimizer": "sgd", "space": space or {"initializer": ["zero", "uniform"]},
            "search": {"strategy": "optuna", "n_trials": 4} | search}  # fmt: skip
    with pytest.raises(OptbenchError) as caught:
        SearchStudy.from_dict(data)
    assert message in str(caught.value)


def test_a_pruner_needs_the_jax_mnist_curve(small_data):
    with pytest.raises(OptbenchError, match="pruner 'median' needs a per-epoch validation curve"):
        plan(landscape_study(pruner="median"))
    study = mnist_study(pruner="median")
    with pytest.raises(OptbenchError, match=r"backend 'keras'.*use pruner = \"none\""):
        plan(study, backend="keras")
    assert plan(mnist_study(pruner=None)).candidates == []  # the default: median here, checked
    assert optuna_settings.pruner_spec(mnist_study(pruner=None)) == ("median", {})
    keras = plan(mnist_study(pruner=None), backend="keras").study
    assert keras.optimizer == "keras.sgd" and optuna_settings.pruner_spec(keras) == ("none", {})
    assert plan(landscape_study(pruner=None)).study.refit is False  # the default: none here


def test_unknown_parameter_is_an_error_before_training(small_data, tmp_path):
    study = SearchStudy.from_dict(
        {"optimizer": "sgd", "space": {"frobnicate": [1, 2]},
         "search": {"strategy": "optuna", "n_trials": 2}}
    )  # fmt: skip
    with pytest.raises(OptbenchError, match="unknown search parameter 'frobnicate'"):
        run_search(study, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_without_optuna_the_strategy_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # `import optuna` raises ImportError
    with pytest.raises(OptbenchError, match=r'pip install "optbench\[optuna\]"'):
        landscape_study()
    path = tmp_path / "tiny.toml"
    path.write_text(
        'runner = "landscape"\nproblem = "sphere"\noptimizer = "sgd"\nsteps = 10\n'
        "[search]\ncv = 2\n[space]\nlearning_rate = [0.1, 0.5]\n"
    )
    out = tmp_path / "out"
    args = ["search", str(path), "--strategy", "optuna", "--n-iter", "2", "--out", str(out), "-q"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert 'pip install "optbench[optuna]"' in result.output
    assert not out.exists()
    grid = CliRunner().invoke(main, [*args[:2], "--out", str(out), "-q"])
    assert grid.exit_code == 0, grid.output  # the other strategies need no optuna


def test_cli_runs_an_optuna_search(tmp_path):
    path = tmp_path / "tpe.toml"
    path.write_text(
        'runner = "landscape"\nproblem = "sphere"\noptimizer = "sgd"\nsteps = 10\n'
        '[search]\nstrategy = "optuna"\nn_trials = 3\ntrials_per_batch = 2\ncv = 2\n'
        '[space]\nlearning_rate = { distribution = "loguniform", low = 0.001, high = 1.0 }\n'
    )
    out = tmp_path / "out"
    args = ["search", str(path), "--n-iter", "5", "--out", str(out), "-q"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "(optuna, jax): 5 trials × 2 folds + refit; ran 10, skipped 0" in result.output
    assert "optuna: 5 trials in batches of 2 (TPE, random_state 0, pruner none): 5 complete" in (
        result.output
    )
    assert len(load_results(out).runs) == 10


def test_the_readme_optuna_study_plans(small_data):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("#### Optuna (TPE with pruning)") :]
    start = section.index("```toml\n") + len("```toml\n")
    text = section[start : section.index("```", start)]
    study = SearchStudy.from_dict(tomllib.loads(text))
    assert (study.strategy, study.n_trials, study.trials_per_batch) == ("optuna", 32, 8)
    assert plan(study).study.refit is True
