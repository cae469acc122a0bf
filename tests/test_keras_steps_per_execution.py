"""Keras with `steps_per_execution` > 1 (#14): the same per-epoch learning rates, early-stopping
epoch, NaN termination and best checkpoint as one step per execution; accuracies within noise."""

from __future__ import annotations

import numpy as np
import pytest
from optbench.runners.mnist import plugin as mnist_plugin

from optbench.errors import OptbenchError
from optbench.spec import RunSpec

SUBSET = {"subset": 640, "batch_size": 32}  # 16 training batches: 7 does not divide them


@pytest.fixture(autouse=True)
def data_and_quiet(mnist_dir, monkeypatch):
    pytest.importorskip("keras")
    monkeypatch.setenv("OPTBENCH_DATA", str(mnist_dir))
    monkeypatch.setenv(mnist_plugin.QUIET_ENV, "1")


def _run(hp: dict, per_execution: int, epochs: int, **options):
    spec = RunSpec("mnist", "mnist", "keras.sgd", hp, budget={"epochs": epochs},
                   options=SUBSET | options | {"steps_per_execution": per_execution})  # fmt: skip
    result = mnist_plugin.runner.run([spec])
    row = result.rows.iloc[0]
    assert row["status"] != "error", row.get("error")
    assert row["steps_per_execution"] == per_execution
    return row, result.curves


def _curve(curves, name: str) -> np.ndarray:
    return curves[curves["name"] == name].sort_values("step")["value"].to_numpy()


def test_per_epoch_schedule_checkpoint_and_accuracy_agree():
    hp = {"learning_rate": 0.1, "momentum": 0.8, "schedule": "step", "every": 2,
          "per": "epoch"}  # fmt: skip
    one, one_curves = _run(hp, 1, 5, checkpoint=True)
    many, many_curves = _run(hp, 7, 5, checkpoint=True)
    np.testing.assert_allclose(_curve(many_curves, "lr"), [0.1, 0.1, 0.01, 0.01, 0.001])
    np.testing.assert_array_equal(_curve(one_curves, "lr"), _curve(many_curves, "lr"))
    assert abs(one["val_acc"] - many["val_acc"]) < 0.03
    assert abs(one["test_acc"] - many["test_acc"]) < 0.03
    for row, curves in ((one, one_curves), (many, many_curves)):
        assert row["best_epoch"] == int(np.argmax(_curve(curves, "val_accuracy"))) + 1


def test_early_stopping_epoch_and_nan_termination_agree():
    flat = {"learning_rate": 1e-9}
    stops = [_run(flat, k, 10, early_stopping=2, min_delta=1e-3)[0] for k in (1, 7)]
    assert [(r["epochs"], bool(r["stopped_early"])) for r in stops] == [(3, True), (3, True)]
    blown = [_run({"learning_rate": 1e12}, k, 4)[0] for k in (1, 7)]
    assert [(r["status"], r["epochs"]) for r in blown] == [("diverged", 1), ("diverged", 1)]


def test_steps_per_execution_must_be_a_positive_integer():
    spec = RunSpec("mnist", "mnist", "keras.sgd", {"learning_rate": 0.1},
                   options={"steps_per_execution": 0})  # fmt: skip
    with pytest.raises(OptbenchError, match="steps_per_execution must be a positive integer"):
        mnist_plugin.runner.check(spec)
