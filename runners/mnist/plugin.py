"""The MNIST runner: the seed's MLP trained in JAX/optax or in Keras, one row per run."""

from __future__ import annotations

import math
import multiprocessing
import os
import time
import traceback
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from optbench.runners.mnist import data as mnist_data
from optbench.runners.mnist import progress, seed_table
from optbench.runners.mnist.model import (
    VALIDATION_SIZE,
    VALIDATIONS,
    Data,
    ModelConfig,
    Outcome,
    TrainSettings,
    prepare,
)

from optbench import registry
from optbench.contracts import CURVE_COLUMNS, RunResult
from optbench.environment import environment
from optbench.errors import OptbenchError
from optbench.spec import RunSpec
from optbench.workers import init_worker

DEFAULT_EPOCHS = 10
TRAIN_IMAGES = 60_000  # MNIST and Fashion-MNIST alike
TRAIN_EXAMPLES = 50_000
QUIET_ENV = "OPTBENCH_QUIET"
KERAS_BACKENDS = ("tensorflow", "jax")
CURVE_NAMES = {
    "loss": "train_loss",
    "accuracy": "train_accuracy",
    "val_loss": "val_loss",
    "val_accuracy": "val_accuracy",
    "lr": "lr",
    "epoch_time": "epoch_time",
}

OPTIONS: dict[str, Any] = {
    "batch_size": 128,
    "initializer": "glorot_uniform",
    "loss": "categorical_crossentropy",
    "activation": "relu",
    "widths": [64, 64],
    "dropout": 0.1,
    "validation": "split",
    "split_seed": 0,
    "subset": None,
    "data": None,
    "keras_backend": "tensorflow",
    "steps_per_execution": 64,
    "target_accuracy": 0.97,
    "early_stopping": 0,
    "monitor": "val_loss",
    "min_delta": 0.0,
    "restore_best_weights": False,
    "checkpoint": False,
    "reduce_lr_patience": 0,
    "reduce_lr_factor": 0.1,
    "min_lr": 0.0,
    "save_dir": None,
    "label": None,
}


@cache
def _data(
    problem: str, data_dir: str | None, validation: str, split_seed: int, subset: int | None
) -> Data:
    return prepare(mnist_data.load(problem, data_dir), validation, split_seed, subset)


def spec_data(spec: RunSpec) -> Data:
    """The preprocessed splits a spec trains on, loaded once per process."""
    opts = OPTIONS | spec.opts
    subset = None if opts["subset"] is None else int(opts["subset"])
    return _data(spec.problem, opts["data"], opts["validation"], int(opts["split_seed"]), subset)


def spec_settings(spec: RunSpec) -> TrainSettings:
    """The training settings of a spec: options over defaults, epochs from the budget."""
    opts = OPTIONS | spec.opts
    target = spec.target if spec.target is not None else opts["target_accuracy"]
    return TrainSettings(
        batch_size=int(opts["batch_size"]),
        epochs=int(spec.budgets.get("epochs", DEFAULT_EPOCHS)),
        seed=spec.seed,
        target=float(target),
        early_stopping=int(opts["early_stopping"]),
        monitor=str(opts["monitor"]),
        min_delta=float(opts["min_delta"]),
        restore_best_weights=bool(opts["restore_best_weights"]),
        checkpoint=bool(opts["checkpoint"]),
        reduce_lr_patience=int(opts["reduce_lr_patience"]),
        reduce_lr_factor=float(opts["reduce_lr_factor"]),
        min_lr=float(opts["min_lr"]),
        save_dir=None if opts["save_dir"] is None else os.path.join(opts["save_dir"], spec.key),
        steps_per_execution=int(opts["steps_per_execution"]),
        verbose=os.environ.get(QUIET_ENV, "") in ("", "0"),
    )


def build_optimizer(plugin: Any, hp: Mapping[str, Any], steps_per_epoch: int) -> Any:
    """The plugin's native optimizer, told how many updates make an epoch (per-epoch schedules)."""
    return plugin.build(**hp, steps_per_epoch=steps_per_epoch)


def _history_metrics(outcome: Outcome, target: float) -> dict[str, Any]:
    hist = outcome.history
    times = np.cumsum([h["epoch_time"] for h in hist])
    reached = [i for i, h in enumerate(hist) if h["val_accuracy"] >= target]
    last = hist[-1] if hist else {}
    val = np.array([h["val_accuracy"] for h in hist], dtype=float)
    return {
        "epochs": len(hist),
        "train_loss": last.get("loss", math.nan),
        "train_acc": last.get("accuracy", math.nan),
        "val_loss": last.get("val_loss", math.nan),
        "val_acc": last.get("val_accuracy", math.nan),
        "best_val_acc": float(np.nanmax(val)) if np.isfinite(val).any() else math.nan,
        "best_epoch": outcome.best_epoch + 1,
        "epochs_to_target": reached[0] + 1 if reached else math.nan,
        "time_to_target": float(times[reached[0]]) if reached else math.nan,
        "train_s": float(times[-1]) if hist else 0.0,
        "epoch_s": float(np.mean([h["epoch_time"] for h in hist])) if hist else math.nan,
        "final_lr": last.get("lr", math.nan),
    }


def _status(outcome: Outcome, best: float, target: float) -> str:
    if outcome.diverged:
        return "diverged"
    return "converged" if best >= target else "budget"


def _curves(key: str, outcome: Outcome) -> pd.DataFrame:
    records = [
        (key, int(h["epoch"]) + 1, name, float(h[field]))
        for h in outcome.history
        for field, name in CURVE_NAMES.items()
    ]
    return pd.DataFrame.from_records(records, columns=CURVE_COLUMNS)


def run_one(spec: RunSpec) -> tuple[dict[str, Any], pd.DataFrame]:
    """Train one spec; returns its row and curves (an error becomes a row, not a crash)."""
    plugin = registry.optimizer(spec.optimizer)
    settings = spec_settings(spec)
    opts = OPTIONS | spec.opts
    config = ModelConfig.from_options(opts)
    keras = plugin.family == "keras"
    t0 = time.perf_counter()
    backend = f"keras-{opts['keras_backend']}" if keras else "jax"
    progress.start_run(" ".join(str(p) for p in (opts["label"], spec.optimizer, backend) if p))
    try:
        data = spec_data(spec)
        steps = -(-len(data.x_train) // settings.batch_size)
        if keras:
            from optbench.runners.mnist import keras_trainer

            outcome = keras_trainer.train(
                data, config, plugin, spec.hp, settings, opts["keras_backend"]
            )
        else:
            from optbench.runners.mnist import jax_trainer

            tx = build_optimizer(plugin, spec.hp, steps)
            cache_key = (
                config,
                spec.optimizer,
                spec.hyperparameters,
                settings.batch_size,
                len(data.x_train),
                spec.problem,
            )
            outcome = jax_trainer.train(data, config, tx, settings, _COMPILED, cache_key)
    except OptbenchError:
        raise
    except Exception as exc:  # a failing run is a row with its error, the study goes on
        row = spec.columns() | {
            "status": "error",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=5),
            "wall_s": time.perf_counter() - t0,
        }
        return row | environment("unknown", with_keras=keras), pd.DataFrame(columns=CURVE_COLUMNS)
    metrics = _history_metrics(outcome, settings.target)
    row = (
        spec.columns()
        | metrics
        | {
            "status": _status(outcome, metrics["best_val_acc"], settings.target),
            "backend": outcome.backend,
            "test_loss": outcome.test_loss,
            "test_acc": outcome.test_accuracy,
            "stopped_early": outcome.stopped_early,
            "n_params": config.n_params,
            "compile_s": outcome.compile_s,
            "wall_s": time.perf_counter() - t0,
            "saved": outcome.saved,
            "steps_per_execution": settings.steps_per_execution if keras else None,
        }
    )
    return row | environment(outcome.device, with_keras=keras), _curves(spec.key, outcome)


_COMPILED: dict[Any, Any] = {}


def _set_keras_backend(name: str) -> None:
    """Worker initializer: Keras' backend, and the behaviour every optbench worker has."""
    init_worker()
    os.environ["KERAS_BACKEND"] = name


def _run_isolated(spec: RunSpec, backend: str) -> tuple[dict[str, Any], pd.DataFrame]:
    """Run a Keras spec in a fresh process whose Keras uses `backend`."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        1, mp_context=context, initializer=_set_keras_backend, initargs=(backend,)
    ) as pool:
        return pool.submit(run_one, spec).result()


@dataclass(frozen=True)
class MnistRunner:
    """MNIST / Fashion-MNIST with the seed's MLP; the optimizer's family picks the framework."""

    name: str = "mnist"
    description: str = (
        "The seed's MLP (784-64-64-10, dropout 0.1) on MNIST or Fashion-MNIST, trained with "
        "JAX/optax (one lax.scan per epoch) or Keras 3, with Keras' callbacks."
    )
    options: Mapping[str, Any] = field(default_factory=lambda: dict(OPTIONS))
    default_problems: tuple[str, ...] = ("mnist",)

    def check(self, spec: RunSpec) -> None:
        """Validate a spec before anything runs; raises OptbenchError naming what is wrong."""
        mnist_data.info(spec.problem)
        opts = OPTIONS | spec.opts
        unknown = set(spec.opts) - set(OPTIONS)
        if unknown:
            raise OptbenchError(
                f"unknown option(s) {sorted(unknown)} for runner 'mnist'; "
                f"valid: {', '.join(OPTIONS)}"
            )
        family = registry.optimizer(spec.optimizer).family
        if family not in ("optax", "keras"):
            raise OptbenchError(
                f"optimizer {spec.optimizer!r} is a {family} optimizer; the mnist runner takes "
                "optax optimizers (JAX model) or keras.* optimizers (Keras model)"
            )
        budgets = set(spec.budgets) - {"epochs"}
        if budgets:
            raise OptbenchError(f"the mnist runner's budget is epochs; got {sorted(budgets)}")
        ModelConfig.from_options(opts)
        for name in ("batch_size", "epochs", "steps_per_execution"):
            value = spec.budgets.get("epochs", 1) if name == "epochs" else opts[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise OptbenchError(f"{name} must be a positive integer, got {value!r}")
        if str(opts["validation"]) not in VALIDATIONS:
            raise OptbenchError(
                f"unknown validation {opts['validation']!r}; allowed: {', '.join(VALIDATIONS)}"
            )
        _check_batch_fits(opts)
        if opts["keras_backend"] not in KERAS_BACKENDS:
            raise OptbenchError(
                f"unknown keras_backend {opts['keras_backend']!r}; allowed: "
                f"{', '.join(KERAS_BACKENDS)}"
            )
        if opts["monitor"] not in ("val_loss", "val_accuracy", "loss", "accuracy"):
            raise OptbenchError(
                f"unknown monitor {opts['monitor']!r}; "
                "allowed: val_loss, val_accuracy, loss, accuracy"
            )

    def run(self, specs: Sequence[RunSpec]) -> RunResult:
        """Train every spec in turn (compiled JAX programs are reused across seeds)."""
        rows, curves = [], []
        for spec in specs:
            self.check(spec)
            backend = (OPTIONS | spec.opts)["keras_backend"]
            if registry.optimizer(spec.optimizer).family == "keras" and _keras_elsewhere(backend):
                row, curve = _run_isolated(spec, backend)
            else:
                row, curve = run_one(spec)
            rows.append(row)
            curves.append(curve)
        frames = [c for c in curves if not c.empty]
        return RunResult(
            rows=pd.DataFrame(rows),
            curves=pd.concat(frames, ignore_index=True)
            if frames
            else pd.DataFrame(columns=CURVE_COLUMNS),
        )

    def batches(self, specs: Sequence[RunSpec]) -> Any:
        """One run per batch, so every finished network is stored at once."""
        for spec in specs:
            yield [spec]

    def work(self, spec: RunSpec) -> float:
        """Expected cost for the progress bar: epochs × (updates + examples / 256), as an update
        costs about as much as a forward-backward pass over 256 examples on CPU."""
        opts = OPTIONS | spec.opts
        examples = int(opts["subset"] or TRAIN_EXAMPLES)
        updates = -(-examples // int(opts["batch_size"]))
        return spec.budgets.get("epochs", DEFAULT_EPOCHS) * (updates + examples / 256)

    def summary(self, runs: pd.DataFrame) -> pd.DataFrame:
        """The table `optbench run` prints: accuracies and times, beside the seed's."""
        return seed_table.beside_seed(runs)


def _check_batch_fits(opts: Mapping[str, Any]) -> None:
    """A batch larger than the training set only pads the data (20x the work at 1,000,000)."""
    train = TRAIN_IMAGES - (VALIDATION_SIZE if opts["validation"] == "split" else 0)
    subset = opts["subset"]
    if isinstance(subset, int) and not isinstance(subset, bool) and 1 <= subset < train:
        train = subset
    if opts["batch_size"] > train:
        raise OptbenchError(
            f"batch_size={opts['batch_size']} is larger than the training set ({train} images "
            f"with validation={opts['validation']}); the largest batch is the whole set"
        )


def _keras_elsewhere(backend: str) -> bool:
    """True when Keras is already imported in this process with another backend."""
    import sys

    if "keras" not in sys.modules:
        return False
    return sys.modules["keras"].backend.backend() != backend


runner = MnistRunner()
