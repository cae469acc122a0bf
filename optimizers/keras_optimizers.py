"""Keras 3 optimizers as plugins (`keras.sgd`, `keras.adam`, ...), imported lazily.

Importing this module imports neither TensorFlow nor Keras; `build` and `callbacks` do. Each
plugin exposes the Keras optimizer's own hyperparameters with Keras's defaults (a test checks
them against the installed Keras), plus the schedule hyperparameters of
`optbench.optimizers.schedules`, so `keras.sgd:lr=0.1,schedule=exponential,k=0.1` and
`sgd:lr=0.1,schedule=exponential,k=0.1` follow the same learning-rate curve.

- `build(**hp)` returns a `keras.optimizers.Optimizer`. Per-update schedules, and the legacy
  `decay` (lr / (1 + decay·iterations), iterations counting updates, as in Keras 2; Keras 3
  ignores `decay=`), become a `LearningRateSchedule`. It accepts the reserved keyword
  `steps_per_epoch` (default 1), used when a per-epoch schedule is combined with `decay`:
  the schedule object then counts epochs as floor(iterations / steps_per_epoch), because a
  `LearningRateScheduler` callback cannot drive an optimizer built on a schedule object.
- `callbacks(**hp)` returns the Keras callbacks the schedule needs, empty when none: a
  `LearningRateScheduler` for per-epoch schedules (the seed's way), or `ReduceLROnPlateau`
  (monitoring "loss") for `schedule="reduce_on_plateau"`, which runs per epoch only. Pass them
  to `fit`. A built optimizer also carries its own set as `optimizer.optbench_callbacks`, which
  `optbench.runners.landscape.keras_loop.run_keras` uses when it is given none.

Differences from the optax plugins of the same algorithm (see tests/test_parity.py):
- On the TensorFlow backend Keras casts Python-float hyperparameters such as SGD's momentum
  and Adam's β in β^t through float32 (0.8 → 0.800000011920929) even for float64 variables;
  values float32 holds exactly make Keras and optax agree to rounding.
- Adam, AdamW: Keras adds epsilon to sqrt(v) before the bias correction (the paper's
  "epsilon hat"), optax to sqrt(v̂) after it, so Keras's ε equals optax's ε·sqrt(1 − β₂ᵗ)
  (`optax_optimizers.keras_epsilon`). Keras defaults to ε = 1e-7, optax to 1e-8. Adamax puts
  ε in the same place in both.
- Nadam: Keras runs a momentum schedule μ_t = β₁(1 − ½·0.96^t) (Dozat), optax a
  constant β₁; they are different algorithms under one name.
- RMSprop: both put epsilon inside the square root and start the average at 0; Keras's
  `rho` is optax's `decay` (spelled `rho` in our optax plugin). Keras defaults to ε = 1e-7.
- reduce-on-plateau: Keras changes the learning rate after an epoch's loss is known, optax
  scales that epoch's last update already; Keras's `min_lr` is lr0·min_scale here.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from optbench.optimizers import schedules
from optbench.optimizers.optax_optimizers import check_names, check_type

from optbench.errors import OptbenchError

COMMON = {
    "weight_decay": None,
    "clipnorm": None,
    "clipvalue": None,
    "global_clipnorm": None,
    "use_ema": False,
    "ema_momentum": 0.99,
}


def _uses_callback(hp: Mapping[str, Any]) -> bool:
    """Per-epoch closed-form schedules without `decay` run through `LearningRateScheduler`."""
    decay = hp.get("decay", 0.0)
    return (
        not schedules.is_constant(hp)
        and hp.get("per", "epoch") == "epoch"
        and isinstance(decay, numbers.Real)
        and decay == 0
    )


@functools.cache
def _schedule_class() -> type:
    """The Keras `LearningRateSchedule` subclass, defined once Keras is imported."""
    import keras

    class OptbenchSchedule(keras.optimizers.schedules.LearningRateSchedule):
        """One of optbench's schedules, evaluated with `keras.ops` at the update count."""

        def __init__(self, lr0: float, hp: Mapping[str, Any], steps_per_epoch: int = 1):
            self.lr0, self.steps_per_epoch = lr0, steps_per_epoch
            self.hp = schedules.DEFAULTS | dict(hp)
            self.base = schedules.curve(lr0, self.hp, keras.ops)

        def __call__(self, step):
            updates = keras.ops.cast(step, "float64")
            epoch = keras.ops.floor(updates / self.steps_per_epoch)
            t = epoch if self.hp["per"] == "epoch" else updates
            return self.base(t) / (1.0 + self.hp["decay"] * updates)

        def get_config(self) -> dict[str, Any]:
            return {"lr0": self.lr0, "hp": self.hp, "steps_per_epoch": self.steps_per_epoch}

    return OptbenchSchedule


def learning_rate_schedule(lr0: float, hp: Mapping[str, Any], steps_per_epoch: int = 1):
    """The Keras `LearningRateSchedule` form of a schedule, with the legacy decay per update."""
    return _schedule_class()(lr0, hp, steps_per_epoch)


@dataclass(frozen=True)
class KerasOptimizer:
    """A Keras optimizer class as a plugin, with the shared schedules."""

    name: str
    keras_class: str
    description: str
    own_defaults: Mapping[str, Any]
    common: Mapping[str, Any] = field(default_factory=lambda: dict(COMMON))
    family = "keras"
    schedule_names = tuple(schedules.DEFAULTS)

    @property
    def defaults(self) -> dict[str, Any]:
        return dict(self.own_defaults) | dict(self.common) | schedules.DEFAULTS

    def validate(self, hyperparameters: Mapping[str, Any]) -> dict[str, Any]:
        """Check names, types, ranges and the schedules Keras can run."""
        hp = dict(hyperparameters)
        defaults = self.defaults
        check_names(self.name, hp, defaults)
        for name, value in hp.items():
            if name in self.own_defaults or name in self.common:
                check_type(self.name, name, value, defaults[name])
        try:
            schedules.validate(hp)
        except OptbenchError as exc:
            raise OptbenchError(f"{self.name}: {exc}") from None
        plateau = hp.get("schedule") == "reduce_on_plateau"
        if plateau and (hp.get("per", "epoch") != "epoch" or hp.get("decay", 0.0) != 0):
            raise OptbenchError(
                f"{self.name}: schedule='reduce_on_plateau' runs per epoch in Keras "
                f"(ReduceLROnPlateau); per={hp.get('per')!r}, decay={hp.get('decay')!r} "
                "are not allowed with it (use per='epoch', decay=0)"
            )
        return hp

    def _resolved(self, hyperparameters: Mapping[str, Any]) -> tuple[dict, dict, int]:
        hp = dict(hyperparameters)
        steps_per_epoch = hp.pop("steps_per_epoch", 1)
        if (
            isinstance(steps_per_epoch, bool)
            or not isinstance(steps_per_epoch, int)
            or (steps_per_epoch < 1)
        ):
            raise OptbenchError(f"steps_per_epoch={steps_per_epoch!r} must be a positive integer")
        given = {k: v for k, v in self.defaults.items() if v is not None} | hp
        own, schedule = schedules.split(self.validate(given))
        return own, schedule, steps_per_epoch

    def build(self, **hyperparameters: Any):
        """The `keras.optimizers.Optimizer`, its learning rate a schedule object when needed."""
        import keras

        own, schedule, steps_per_epoch = self._resolved(hyperparameters)
        lr0 = float(own.pop("learning_rate"))
        if schedules.is_constant(schedule):
            learning_rate: Any = lr0
        elif _uses_callback(schedule):
            learning_rate = schedules.numpy_schedule(lr0, schedule)(0)
        else:
            learning_rate = learning_rate_schedule(lr0, schedule, steps_per_epoch)
        optimizer = getattr(keras.optimizers, self.keras_class)(learning_rate=learning_rate, **own)
        optimizer.optbench_callbacks = tuple(self.callbacks(**hyperparameters))
        return optimizer

    def callbacks(self, **hyperparameters: Any) -> list:
        """The callbacks that run the schedule per epoch; empty when the optimizer needs none."""
        import keras

        own, schedule, _ = self._resolved(hyperparameters)
        lr0 = float(own["learning_rate"])
        if schedule.get("schedule") == "reduce_on_plateau":
            p = schedules.DEFAULTS | schedule
            return [
                keras.callbacks.ReduceLROnPlateau(
                    monitor="loss", mode="min", factor=p["factor"], patience=p["patience"],
                    min_delta=p["min_delta"], cooldown=p["cooldown"], min_lr=lr0 * p["min_scale"],
                )
            ]  # fmt: skip
        if _uses_callback(schedule):
            epoch_lr = schedules.numpy_schedule(lr0, schedule)
            return [keras.callbacks.LearningRateScheduler(lambda epoch, lr: epoch_lr(epoch))]
        return []


def _keras(name: str, keras_class: str, description: str, **own: Any) -> KerasOptimizer:
    return KerasOptimizer(f"keras.{name}", keras_class, description, own)


_ADAM = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}

sgd = _keras(
    "sgd", "SGD", "Keras SGD with (Nesterov) momentum and the legacy per-update decay.",
    learning_rate=0.01, momentum=0.0, nesterov=False,
)  # fmt: skip
rmsprop = _keras(
    "rmsprop", "RMSprop", "Keras RMSprop, epsilon inside the square root, optional momentum.",
    learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
)  # fmt: skip
adam = _keras(
    "adam", "Adam", "Keras Adam; epsilon is added before the bias correction.",
    learning_rate=0.001, **_ADAM, amsgrad=False,
)  # fmt: skip
adamw = KerasOptimizer(
    "keras.adamw", "AdamW", "Keras AdamW, decoupled weight decay.",
    {"learning_rate": 0.001, "weight_decay": 0.004, **_ADAM, "amsgrad": False},
    common={k: v for k, v in COMMON.items() if k != "weight_decay"},
)  # fmt: skip
adagrad = _keras(
    "adagrad", "Adagrad", "Keras Adagrad.",
    learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
)  # fmt: skip
adadelta = _keras(
    "adadelta", "Adadelta", "Keras Adadelta.", learning_rate=0.001, rho=0.95, epsilon=1e-7
)
adamax = _keras(
    "adamax", "Adamax", "Keras Adamax, the infinity-norm Adam.", learning_rate=0.001, **_ADAM
)
nadam = _keras(
    "nadam", "Nadam", "Keras Nadam, Adam with Nesterov momentum.", learning_rate=0.001, **_ADAM
)
lion = _keras(
    "lion", "Lion", "Keras Lion, sign momentum.", learning_rate=0.001, beta_1=0.9, beta_2=0.99
)
ftrl = _keras(
    "ftrl", "Ftrl", "Keras FTRL-Proximal (McMahan et al. 2013).",
    learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,
    l1_regularization_strength=0.0, l2_regularization_strength=0.0,
    l2_shrinkage_regularization_strength=0.0, beta=0.0,
)  # fmt: skip
