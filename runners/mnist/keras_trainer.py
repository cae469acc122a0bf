"""The seed's MLP in Keras 3 (`model.fit` with Keras' own callbacks); Keras is imported lazily."""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from optbench.runners.mnist import progress
from optbench.runners.mnist.model import Data, ModelConfig, Outcome, TrainSettings, one_hot

from optbench.errors import OptbenchError
from optbench.quiet import import_keras_quietly


def import_keras(backend: str = "tensorflow") -> Any:
    """Keras on `backend`; an error if this process already imported Keras on another one."""
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = backend
        import_keras_quietly(backend)
    import keras

    if keras.backend.backend() != backend:
        raise OptbenchError(
            f"Keras is already running on the {keras.backend.backend()!r} backend in this "
            f"process; keras_backend={backend!r} needs a fresh process"
        )
    return keras


def build_model(config: ModelConfig, seed: int, keras: Any) -> Any:
    """Dense → Dropout → Dense … → Dense 10 softmax, initialised from `seed`."""
    keras.utils.set_random_seed(seed)
    layers: list[Any] = [keras.Input((config.sizes[0],))]
    for width, rate in zip(config.widths, config.dropout, strict=True):
        layers.append(
            keras.layers.Dense(
                width, activation=config.activation, kernel_initializer=config.initializer
            )
        )
        if rate > 0.0:
            layers.append(keras.layers.Dropout(rate))
    layers.append(
        keras.layers.Dense(
            config.sizes[-1], activation="softmax", kernel_initializer=config.initializer
        )
    )
    return keras.Sequential(layers)


def targets(labels: np.ndarray, config: ModelConfig) -> np.ndarray:
    """Integer labels for the sparse loss, one-hot float32 for every other."""
    return labels.astype(np.int32) if config.sparse_labels else one_hot(labels)


def compile_model(
    model: Any, optimizer: Any, config: ModelConfig, keras: Any, steps_per_execution: int = 1
) -> None:
    """Loss and accuracy metric of the config; `steps_per_execution` batches run per call into
    the compiled train step (epoch-level callbacks see the same epochs; batch-level ones, such
    as TerminateOnNaN, see every `steps_per_execution`-th batch)."""
    accuracy = (
        keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        if config.sparse_labels
        else keras.metrics.CategoricalAccuracy(name="accuracy")
    )
    model.compile(
        optimizer=optimizer,
        loss=config.loss,
        metrics=[accuracy],
        steps_per_execution=steps_per_execution,
    )


def last_update_lr(optimizer: Any, keras: Any) -> Any:
    """The learning rate of the optimizer's latest update (as the JAX runner records it)."""
    schedule = getattr(optimizer, "_learning_rate", None)
    if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        return schedule(keras.ops.maximum(optimizer.iterations - 1, 0))
    return optimizer.learning_rate


def _recorder(keras: Any) -> Any:
    class EpochRecorder(keras.callbacks.Callback):
        """Per-epoch training time (validation excluded) and the learning rate in effect."""

        def __init__(self) -> None:
            super().__init__()
            self.records: list[dict[str, float]] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.t0, self.t_train = time.perf_counter(), None

        def on_test_begin(self, logs=None):
            if getattr(self, "t_train", 0) is None:
                self.t_train = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            end = self.t_train or time.perf_counter()
            lr = float(keras.ops.convert_to_numpy(last_update_lr(self.model.optimizer, keras)))
            record = {k: float(v) for k, v in (logs or {}).items()}
            self.records.append(record | {"epoch": epoch, "lr": lr, "epoch_time": end - self.t0})

    return EpochRecorder()


def train(
    data: Data,
    config: ModelConfig,
    plugin: Any,
    hp: Mapping[str, Any],
    settings: TrainSettings,
    backend: str = "tensorflow",
) -> Outcome:
    """`model.fit` with History, ModelCheckpoint, EarlyStopping, ReduceLROnPlateau and the
    optimizer plugin's own callbacks (a LearningRateScheduler for per-epoch schedules)."""
    keras = import_keras(backend)
    from optbench.runners.mnist.plugin import build_optimizer

    steps = -(-len(data.x_train) // settings.batch_size)
    model = build_model(config, settings.seed, keras)
    optimizer = build_optimizer(plugin, hp, steps)
    compile_model(model, optimizer, config, keras, settings.steps_per_execution)
    recorder = _recorder(keras)
    callbacks = [recorder, keras.callbacks.TerminateOnNaN()]
    callbacks += list(getattr(plugin, "callbacks", lambda **_: [])(**hp))
    workdir = tempfile.TemporaryDirectory()
    best_path = Path(workdir.name) / "best.weights.h5"
    if settings.checkpoint:
        callbacks.append(
            keras.callbacks.ModelCheckpoint(
                best_path,
                monitor="val_accuracy",
                mode="max",
                save_best_only=True,
                save_weights_only=True,
            )
        )
    stopper = None
    if settings.early_stopping > 0:
        stopper = keras.callbacks.EarlyStopping(
            monitor=settings.monitor,
            patience=settings.early_stopping,
            min_delta=settings.min_delta,
            restore_best_weights=settings.restore_best_weights,
        )
        callbacks.append(stopper)
    if settings.reduce_lr_patience > 0:
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                factor=settings.reduce_lr_factor,
                patience=settings.reduce_lr_patience,
                min_lr=settings.min_lr,
            )
        )
    if settings.verbose:
        callbacks.append(progress.keras_callback(keras))
    y_train, y_val = targets(data.y_train, config), targets(data.y_val, config)
    with workdir:
        model.fit(
            data.x_train,
            y_train,
            batch_size=settings.batch_size,
            epochs=settings.epochs,
            validation_data=(data.x_val, y_val),
            shuffle=True,
            callbacks=callbacks,
            verbose=0,
        )
        history = recorder.records
        val_acc = [h.get("val_accuracy", math.nan) for h in history]
        best_epoch = int(np.nanargmax(val_acc)) if np.isfinite(val_acc).any() else 0
        if settings.checkpoint and best_path.exists():
            model.load_weights(best_path)
    diverged = bool(history) and not math.isfinite(history[-1].get("loss", math.nan))
    for h in history:
        h.setdefault("val_loss", math.nan)
        h.setdefault("val_accuracy", math.nan)
    test = model.evaluate(data.x_test, targets(data.y_test, config), verbose=0, return_dict=True)
    saved = save(model, settings.save_dir) if settings.save_dir is not None else None
    times = [h["epoch_time"] for h in history]
    compile_s = max(times[0] - float(np.median(times[1:])), 0.0) if len(times) > 1 else math.nan
    return Outcome(
        history=history,
        test_loss=float(test["loss"]),
        test_accuracy=float(test["accuracy"]),
        compile_s=compile_s,
        best_epoch=best_epoch,
        stopped_early=stopper is not None and stopper.stopped_epoch > 0,
        diverged=diverged,
        backend=f"keras-{backend}",
        device=device(keras),
        saved=saved,
    )


def device(keras: Any) -> str:
    """The first device Keras computes on, as `platform:name`."""
    found = keras.distribution.list_devices()
    return str(found[0]) if found else "cpu:0"


def save(model: Any, folder: str | os.PathLike[str]) -> str:
    """JSON architecture + `.weights.h5` (as the seed did) and the whole model as `.keras`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.json").write_text(model.to_json())
    model.save_weights(folder / "model.weights.h5")
    model.save(folder / "model.keras")
    return str(folder)


def load(folder: str | os.PathLike[str], backend: str = "tensorflow", whole: bool = False) -> Any:
    """A model written by `save`: from JSON + weights, or (`whole=True`) from `.keras`."""
    keras = import_keras(backend)
    folder = Path(folder)
    if whole:
        return keras.models.load_model(folder / "model.keras")
    model = keras.models.model_from_json((folder / "model.json").read_text())
    model.load_weights(folder / "model.weights.h5")
    return model
