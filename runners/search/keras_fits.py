"""Search fits of the MNIST runner in Keras, one at a time as the seed's GridSearchCV did,
through `keras.wrappers.SKLearnClassifier` and our flat-parameter model builder."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from optbench.runners.mnist import plugin as mnist
from optbench.runners.mnist.keras_estimator import MLPClassifier
from optbench.runners.mnist.model import ModelConfig
from optbench.runners.search import fits, mnist_fits

from optbench.contracts import RunResult
from optbench.environment import environment
from optbench.spec import RunSpec


def estimator(wrapped: RunSpec, seed: int) -> object:
    """The scikit-learn estimator of a wrapped MNIST spec."""
    opts = mnist_fits.options(wrapped)
    config = ModelConfig.from_options(opts)
    return MLPClassifier(
        init=config.initializer,
        batch_size=int(opts["batch_size"]),
        epochs=int(wrapped.budgets.get("epochs", mnist.DEFAULT_EPOCHS)),
        widths=config.widths,
        dropout=config.dropout[0] if not any(config.dropout[1:]) else config.dropout,
        activation=config.activation,
        loss=config.loss,
        optimizer=wrapped.optimizer,
        optimizer_kwargs=dict(wrapped.hp),
        seed=seed,
    )


def run_one(spec: RunSpec, progress: Callable[[int], None] | None = None) -> RunResult:
    """Fit on the fold's training rows, score accuracy on its held-out rows."""
    t0 = time.perf_counter()
    wrapped, cv, fold, _ = fits.unwrap(spec)
    x, y, x_test, y_test = mnist_fits.data_of(wrapped)
    x_all, y_all = np.concatenate([x, x_test]), np.concatenate([y, y_test])
    train, test = mnist_fits.rows_of(wrapped, cv, fold)
    model = estimator(wrapped, fits.member_seed(wrapped, fold))
    fit_t0 = time.perf_counter()
    model.fit(x_all[train], y_all[train])
    fit_time = time.perf_counter() - fit_t0
    score_t0 = time.perf_counter()
    score = float(model.score(x_all[test], y_all[test]))
    score_time = time.perf_counter() - score_t0
    epochs = int(wrapped.budgets.get("epochs", mnist.DEFAULT_EPOCHS))
    loss = float(model.history_.history["loss"][-1])
    if progress is not None:
        progress(epochs)
    from optbench.runners.mnist import keras_trainer

    keras = keras_trainer.import_keras("tensorflow")
    row = spec.columns() | {
        "status": "diverged" if not math.isfinite(loss) else "budget",
        "test_score": score,
        "train_loss": loss,
        "epochs": epochs,
        "fit_time": fit_time,
        "score_time": score_time,
        "backend": "keras-tensorflow",
        "members_together": 1,
        "chunks": 1,
        "compile_s": math.nan,
        "wall_s": time.perf_counter() - t0,
        "n_train": len(train),
        "n_scored": len(test),
    }
    env = environment(keras_trainer.device(keras), with_keras=True)
    return RunResult(pd.DataFrame([row | env]))
