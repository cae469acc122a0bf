"""The MNIST runner: both backends learn on a 5,000-image subset of the genuine MNIST (skipped
without it); callbacks, schedules, save and reload on the small set the tests write."""

from __future__ import annotations

import math
import os

import jax
import numpy as np
import pandas as pd
import pytest
from optbench.runners.mnist import jax_trainer, seed_table
from optbench.runners.mnist import plugin as mnist_plugin
from optbench.runners.mnist.callbacks import EarlyStopping, KeepBest, ReduceLROnPlateau
from optbench.runners.mnist.model import ModelConfig, prepare

from optbench import registry
from optbench.errors import OptbenchError
from optbench.spec import RunSpec
from optbench.study import Study, load_study

jax.config.update("jax_enable_x64", True)  # as the landscapes package leaves it globally

SUBSET = {"subset": 5000, "batch_size": 32}
SMALL: dict = {}


@pytest.fixture(scope="module", autouse=True)
def small_and_quiet(small_mnist):
    """Runs read the small set (validated on its test images) unless they name other data, and
    print no progress."""
    SMALL.update(data=str(small_mnist), validation="test", subset=None, batch_size=32)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(mnist_plugin.QUIET_ENV, "1")
        yield


def spec(optimizer: str, hp: dict, epochs: int = 3, seed: int = 0, **options) -> RunSpec:
    """A run on the small set."""
    return RunSpec(
        "mnist",
        "mnist",
        optimizer,
        hp,
        seed=seed,
        budget={"epochs": epochs},
        options=SMALL | options,
    )


def real_spec(mnist_dir, optimizer: str, hp: dict, epochs: int = 3, **options) -> RunSpec:
    """A run on a 5,000-image subset of the genuine MNIST (50,000/10,000 split)."""
    real = {"data": str(mnist_dir), "validation": "split"} | SUBSET
    return spec(optimizer, hp, epochs, **(real | options))


def curve(result, name: str) -> np.ndarray:
    frame = result.curves[result.curves["name"] == name].sort_values("step")
    return frame["value"].to_numpy()


SGD = {"learning_rate": 0.1, "momentum": 0.8}


@pytest.fixture(scope="module")
def jax_runs():
    first = mnist_plugin.runner.run([spec("sgd", SGD, checkpoint=True)])
    again = mnist_plugin.runner.run([spec("sgd", SGD, checkpoint=True)])
    return first, again


def test_jax_learns_on_a_subset_and_fills_the_row(mnist_dir):
    result = mnist_plugin.runner.run([real_spec(mnist_dir, "sgd", SGD)])
    row = result.rows.iloc[0]
    assert row["status"] == "budget" and row["backend"] == "jax"
    assert row["val_acc"] > 0.85 and row["test_acc"] > 0.85
    assert row["epochs"] == 3 and row["n_params"] == 55050
    assert row["env.device"].startswith("cpu") and row["compile_s"] > 0
    assert set(result.curves["name"]) == set(mnist_plugin.CURVE_NAMES.values())
    assert curve(result, "train_loss")[-1] < curve(result, "train_loss")[0]


def test_same_seed_gives_identical_jax_numbers(jax_runs):
    first, again = jax_runs
    for name in ("train_loss", "val_loss", "val_accuracy", "lr"):
        np.testing.assert_array_equal(curve(first, name), curve(again, name))
    assert first.rows["test_acc"].iloc[0] == again.rows["test_acc"].iloc[0]
    other = mnist_plugin.runner.run([spec("sgd", SGD, epochs=1, seed=1)])
    assert curve(other, "val_loss")[0] != curve(first, "val_loss")[0]


def test_checkpoint_keeps_the_best_epoch_jax(jax_runs, tmp_path):
    result, _ = jax_runs
    val = curve(result, "val_accuracy")
    assert result.rows["best_epoch"].iloc[0] == int(np.argmax(val)) + 1
    assert result.rows["best_val_acc"].iloc[0] == val.max()


def test_early_stopping_on_a_constructed_plateau_jax():
    # a learning rate of 1e-9: val_loss moves by far less than min_delta after the first epoch
    flat = {"learning_rate": 1e-9}
    result = mnist_plugin.runner.run(
        [spec("sgd", flat, epochs=10, subset=640, early_stopping=2, min_delta=1e-3)]
    )
    row = result.rows.iloc[0]
    assert row["stopped_early"] and row["epochs"] == 3


def test_recorded_lr_is_the_schedule_jax():
    hp = SGD | {"schedule": "exponential", "k": 0.1, "per": "epoch"}
    result = mnist_plugin.runner.run([spec("sgd", hp, epochs=3, subset=640)])
    expected = 0.1 * np.exp(-0.1 * np.arange(3))
    np.testing.assert_allclose(curve(result, "lr"), expected, rtol=1e-6)


def test_reduce_lr_on_plateau_jax():
    result = mnist_plugin.runner.run(
        [
            spec(
                "sgd",
                {"learning_rate": 1e-9},
                epochs=4,
                subset=640,
                reduce_lr_patience=1,
                reduce_lr_factor=0.5,
                min_delta=0.0,
            )
        ]
    )
    lr = curve(result, "lr")
    assert lr[0] == pytest.approx(1e-9) and lr[-1] < lr[0]


def test_divergence_is_a_result_not_a_crash():
    result = mnist_plugin.runner.run([spec("sgd", {"learning_rate": 1e12}, epochs=3, subset=640)])
    row = result.rows.iloc[0]
    assert (row["status"] == "diverged" and row["epochs"] < 3) or math.isnan(row["train_loss"])


def test_jax_learns_the_small_set_and_fills_the_row(jax_runs):
    row = jax_runs[0].rows.iloc[0]
    assert row["status"] == "converged" and row["backend"] == "jax" and row["epochs"] == 3
    assert row["best_val_acc"] >= 0.97 and row["n_params"] == 55050


def test_jax_save_and_reload_give_the_same_predictions(tmp_path):
    result = mnist_plugin.runner.run([spec("sgd", SGD, epochs=1, save_dir=str(tmp_path))])
    params, config = jax_trainer.load(result.rows["saved"].iloc[0])
    data = mnist_plugin.spec_data(spec("sgd", SGD))
    accuracy = (jax_trainer.predict(params, data.x_test, config).argmax(1) == data.y_test).mean()
    assert accuracy == pytest.approx(result.rows["test_acc"].iloc[0], abs=1e-6)


@pytest.mark.parametrize(
    ("loss", "initializer"),
    [("mean_squared_error", "uniform"), ("sparse_categorical_crossentropy", "he_normal")],
)
def test_jax_losses_and_initializers_train(loss, initializer, mnist_dir):
    hp = {"learning_rate": 0.003}
    result = mnist_plugin.runner.run(
        [real_spec(mnist_dir, "adam", hp, epochs=1, loss=loss, initializer=initializer)]
    )
    assert result.rows["val_acc"].iloc[0] > 0.8


def test_callback_rules_match_keras_on_a_constructed_sequence():
    keras = pytest.importorskip("keras")
    losses = [1.0, 0.8, 0.8, 0.81, 0.79, 0.8, 0.8, 0.8]
    ours = EarlyStopping("val_loss", patience=2)
    theirs = keras.callbacks.EarlyStopping("val_loss", patience=2)
    theirs.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    theirs.on_train_begin()
    theirs.model.stop_training = False
    stops_ours = stops_theirs = None
    for epoch, value in enumerate(losses):
        if stops_ours is None and ours.update(epoch, {"val_loss": value}, None):
            stops_ours = epoch
        theirs.on_epoch_end(epoch, {"val_loss": value})
        if stops_theirs is None and theirs.model.stop_training:
            stops_theirs = epoch
    assert stops_ours == stops_theirs == 3
    plateau = ReduceLROnPlateau(patience=2, factor=0.5)
    lrs = [lr := 1.0]
    for value in losses:
        lr = plateau.update({"val_loss": value}, lr)
        lrs.append(lr)
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
    best = KeepBest()
    for epoch, acc in enumerate([0.5, 0.9, 0.7]):
        best.update(epoch, {"val_accuracy": acc}, f"weights-{epoch}")
    assert (best.best_epoch, best.weights) == (1, "weights-1")


@pytest.fixture(scope="module")
def keras_run(tmp_path_factory):
    pytest.importorskip("keras")
    folder = tmp_path_factory.mktemp("keras-save")
    return mnist_plugin.runner.run([spec("keras.sgd", SGD, checkpoint=True, save_dir=str(folder))])


def test_keras_learns_on_a_subset(mnist_dir):
    pytest.importorskip("keras")
    result = mnist_plugin.runner.run([real_spec(mnist_dir, "keras.sgd", SGD)])
    row = result.rows.iloc[0]
    assert row["status"] == "budget", row.get("error")
    assert row["backend"] == "keras-tensorflow" and row["val_acc"] > 0.85
    assert row["env.keras"] is not None


def test_keras_learns_the_small_set(keras_run):
    row = keras_run.rows.iloc[0]
    assert row["status"] == "converged", row.get("error")
    assert row["backend"] == "keras-tensorflow" and row["best_val_acc"] >= 0.97


def test_keras_checkpoint_keeps_the_best_and_reload_gives_the_same(keras_run):
    from optbench.runners.mnist import keras_trainer

    row = keras_run.rows.iloc[0]
    val = curve(keras_run, "val_accuracy")
    assert row["best_epoch"] == int(np.argmax(val)) + 1
    data = mnist_plugin.spec_data(spec("keras.sgd", SGD))
    y_val = keras_trainer.targets(data.y_val, ModelConfig())
    y_test = keras_trainer.targets(data.y_test, ModelConfig())
    from_json = keras_trainer.load(row["saved"])
    whole = keras_trainer.load(row["saved"], whole=True)
    kept = from_json.evaluate(data.x_val, y_val, verbose=0, return_dict=True)["accuracy"]
    assert kept == pytest.approx(val.max(), abs=1e-6)
    test = whole.evaluate(data.x_test, y_test, verbose=0, return_dict=True)["accuracy"]
    assert test == pytest.approx(row["test_acc"], abs=1e-6)
    np.testing.assert_allclose(
        from_json.predict(data.x_test[:200], verbose=0), whole.predict(data.x_test[:200], verbose=0)
    )


def test_keras_lr_is_the_schedule_and_early_stopping_stops():
    hp = SGD | {"schedule": "exponential", "k": 0.1, "per": "epoch"}
    result = mnist_plugin.runner.run([spec("keras.sgd", hp, epochs=3, subset=640)])
    np.testing.assert_allclose(curve(result, "lr"), 0.1 * np.exp(-0.1 * np.arange(3)), rtol=1e-6)
    flat = mnist_plugin.runner.run(
        [
            spec(
                "keras.sgd",
                {"learning_rate": 1e-9},
                epochs=10,
                subset=640,
                early_stopping=2,
                min_delta=1e-3,
            )
        ]
    )
    assert flat.rows["stopped_early"].iloc[0] and flat.rows["epochs"].iloc[0] == 3


def test_check_rejects_bad_specs_with_the_allowed_values():
    with pytest.raises(OptbenchError, match=r"unknown initializer 'zeroes'.*glorot_uniform"):
        mnist_plugin.runner.check(spec("sgd", SGD, initializer="zeroes"))
    with pytest.raises(OptbenchError, match=r"unknown loss 'nll'.*categorical_crossentropy"):
        mnist_plugin.runner.check(spec("sgd", SGD, loss="nll"))
    with pytest.raises(OptbenchError, match="'bfgs' is a scipy optimizer"):
        mnist_plugin.runner.check(RunSpec("mnist", "mnist", "bfgs", budget={"epochs": 1}))
    with pytest.raises(OptbenchError, match="unknown keras_backend 'torch'"):
        mnist_plugin.runner.check(spec("keras.sgd", SGD, keras_backend="torch"))
    with pytest.raises(OptbenchError, match="unknown dataset 'cifar'"):
        mnist_plugin.runner.check(RunSpec("mnist", "cifar", "sgd", budget={"epochs": 1}))
    with pytest.raises(OptbenchError, match="budget is epochs"):
        mnist_plugin.runner.check(RunSpec("mnist", "mnist", "sgd", budget={"steps": 5}))


def test_model_config_counts_the_seed_parameters():
    assert ModelConfig().n_params == 55050
    deep = ModelConfig.from_options({"widths": [32, 32, 32], "dropout": [0.1, 0.2, 0.0]})
    assert deep.sizes == (784, 32, 32, 32, 10) and deep.dropout == (0.1, 0.2, 0.0)
    with pytest.raises(OptbenchError, match="dropout must be"):
        ModelConfig.from_options({"widths": [32, 32], "dropout": [0.1]})


def test_seed_study_expands_with_per_entry_batch_sizes():
    study = load_study("seed-mnist")
    specs = study.specs()
    assert len(specs) == 8
    batches = {(s.optimizer, s.opts["label"]): s.opts["batch_size"] for s in specs}
    assert batches[("sgd", "A")] == batches[("keras.sgd", "A")] == 7
    assert batches[("keras.sgd", "B")] == batches[("sgd", "B-exp")] == 196
    assert batches[("rmsprop", "C")] == 784
    assert all(s.opts["validation"] == "test" and s.budgets["epochs"] == 60 for s in specs)
    assert registry.optimizer("keras.sgd").family == "keras"


def test_unknown_per_entry_option_is_an_error():
    data = {
        "runner": "mnist",
        "problems": ["mnist"],
        "optimizers": [{"name": "sgd", "options": {"batchsize": 7}}],
    }
    hint = r"unknown option 'batchsize' for runner 'mnist' \(did you mean 'batch_size'\?\)"
    with pytest.raises(OptbenchError, match=hint):
        Study.from_dict(data).specs()


def test_network_rollup_means_and_seed_columns():
    runs = pd.DataFrame(
        {
            "run_key": list("abcd"),
            "problem": "mnist",
            "optimizer": ["sgd"] * 2 + ["rmsprop"] * 2,
            "seed": [0, 1, 0, 1],
            "option.label": ["A", "A", "C", "C"],
            "status": "budget",
            "backend": "jax",
            "val_acc": [0.96, 0.98, 0.97, 0.97],
            "best_val_acc": 0.98,
            "test_acc": [0.95, 0.97, 0.976, 0.978],
            "epochs": 60,
            "time_to_target": np.nan,
            "epoch_s": 1.0,
            "wall_s": 60.0,
        }
    )
    table = seed_table.beside_seed(runs)
    a = table[table["option.label"] == "A"].iloc[0]
    assert a["runs"] == 2 and a["val_acc"] == pytest.approx(0.97)
    assert a["val_acc_std"] == pytest.approx(np.std([0.96, 0.98], ddof=1))
    assert a["seed_acc"] == 0.9727 and a["diff_points"] == pytest.approx(-0.27)
    c = table[table["option.label"] == "C"].iloc[0]
    assert c["ours_acc"] == pytest.approx(0.977) and c["seed_s"] == 29.3


def test_prepare_rejects_a_subset_too_large(small_mnist):
    from optbench.runners.mnist import data as mnist_data

    with pytest.raises(OptbenchError, match=r"subset must be in 1..720, got 70000"):
        prepare(mnist_data.load("mnist", small_mnist), "test", subset=70000)


def test_keras_on_the_jax_backend_runs_in_its_own_process(keras_run):
    # keras_run imported Keras on TensorFlow here, so this run must go to a fresh process
    result = mnist_plugin.runner.run(
        [spec("keras.sgd", SGD, epochs=1, subset=640, keras_backend="jax", batch_size=64)]
    )
    row = result.rows.iloc[0]
    assert row["status"] == "converged", row.get("error")
    assert row["backend"] == "keras-jax" and row["best_val_acc"] >= 0.97


@pytest.mark.parametrize("optimizer", ["sgd", "keras.sgd"])
def test_recorded_lr_with_legacy_decay_stacked_on_the_schedule(optimizer):
    """lr0·e^(−k·epoch) / (1 + decay·iterations) at each epoch's last update, both backends."""
    hp = SGD | {"decay": 0.1, "schedule": "exponential", "k": 0.1, "per": "epoch"}
    result = mnist_plugin.runner.run([spec(optimizer, hp, epochs=2, subset=640, batch_size=64)])
    epochs, steps = np.arange(2), 10
    expected = 0.1 * np.exp(-0.1 * epochs) / (1 + 0.1 * (steps * (epochs + 1) - 1))
    np.testing.assert_allclose(curve(result, "lr"), expected, rtol=1e-5)


def test_cli_keras_run_prints_no_tensorflow_noise_and_no_epoch_lines_on_stdout(
    small_mnist, tmp_path
):
    import subprocess
    import sys

    pytest.importorskip("keras")
    command = [sys.executable, "-m", "optbench", "run", "-r", "mnist", "-o", "keras.sgd"]
    command += ["--set", "epochs=2", "--set", "validation=test", "--data", str(small_mnist)]
    env = {k: v for k, v in os.environ.items() if k != mnist_plugin.QUIET_ENV}
    done = subprocess.run([*command, "--out", str(tmp_path)], capture_output=True, text=True,
                          timeout=600, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "oneDNN" not in done.stderr and "absl" not in done.stderr
    assert "Epoch" not in done.stdout and "keras.sgd keras-tensorflow" in done.stderr
    assert "ran 1 run(s)" in done.stdout
