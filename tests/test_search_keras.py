"""The Keras path: our MLPClassifier in scikit-learn's own GridSearchCV, and `--backend keras`."""

from __future__ import annotations

import numpy as np
import pytest
from optbench.runners.mnist import plugin as mnist_plugin
from optbench.runners.mnist.keras_estimator import MLPClassifier
from optbench.runners.search import mnist_fits
from optbench.runners.search.search import run_search
from optbench.runners.search.study import SearchStudy
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold


@pytest.fixture(autouse=True)
def data_and_quiet(mnist_dir, monkeypatch):
    monkeypatch.setenv("OPTBENCH_DATA", str(mnist_dir))
    monkeypatch.setenv(mnist_plugin.QUIET_ENV, "1")


def test_clone_keeps_epochs_and_batch_size_where_keras_wrapper_loses_them():
    import keras

    ours = clone(MLPClassifier(epochs=3, batch_size=64, init="he_normal"))
    assert ours.get_params()["epochs"] == 3 and ours.get_params()["batch_size"] == 64
    assert ours.fit_kwargs["epochs"] == 3 and ours.model_kwargs["init"] == "he_normal"
    plain = keras.wrappers.SKLearnClassifier(
        model=lambda X, y: None, fit_kwargs={"epochs": 3, "batch_size": 64}
    )
    assert clone(plain).fit_kwargs is None


def test_users_own_gridsearchcv_runs_with_our_builder(mnist_dir):
    x, y, _, _ = mnist_fits.arrays("mnist", str(mnist_dir), 300)
    search = GridSearchCV(
        MLPClassifier(epochs=2, batch_size=50), {"init": ["zero", "glorot_uniform"]}, cv=KFold(3)
    ).fit(x, y)
    scores = dict(
        zip(["zero", "glorot_uniform"], search.cv_results_["mean_test_score"], strict=True)
    )
    assert scores["zero"] < 0.25 < scores["glorot_uniform"]
    assert search.best_params_ == {"init": "glorot_uniform"}
    assert int(search.best_estimator_.model_.optimizer.iterations) == 2 * 6


def test_keras_backend_search_fits_one_at_a_time(tmp_path):
    study = SearchStudy.from_dict(
        {"optimizer": "rmsprop", "epochs": 1, "options": {"subset": 300, "batch_size": 50},
         "space": {"initializer": ["glorot_uniform"]}, "search": {"cv": 2}}
    )  # fmt: skip
    outcome = run_search(study, tmp_path, backend="keras")
    assert outcome.study.optimizer == "keras.rmsprop"
    assert list(outcome.cv_results["backend"]) == ["keras-tensorflow"]
    assert list(outcome.cv_results["members_together"]) == [1]
    assert 0.3 < outcome.best_score <= 1.0 and np.isfinite(outcome.refit_test_score)
