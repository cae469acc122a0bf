"""optax optimizers as plugins, built with `optax.inject_hyperparams` so scalars can be traced.

Every plugin exposes optax's own hyperparameters with optax's defaults (read from the optax
signature), plus a learning rate default where optax has none, plus the schedule
hyperparameters of `optbench.optimizers.schedules` (`schedule`, `per`, `decay`, `k`, ...).

`build(**hp)` returns an `optax.GradientTransformationExtraArgs` made by
`optax.inject_hyperparams`: numeric hyperparameters live in the state (`state.hyperparams`) and
may be traced JAX scalars, so a runner can `vmap` over a learning-rate grid; range checks are in
`validate`, which `optbench.hyperparameters.resolve` calls with concrete values. `build` also
takes the reserved keyword `steps_per_epoch` (default 1): per-epoch schedules count
floor(updates / steps_per_epoch), and reduce-on-plateau averages the loss over an epoch.

Call `update(grads, state, params, value=loss)`: every plugin has `needs_value = True`, since
`polyak_sgd`, `momo`, `momo_adam` and every optimizer with `schedule="reduce_on_plateau"` need
the loss and the others accept and ignore it.

Deviations from optax, each so that one name means one algorithm in optax and Keras:
- `sgd` applies the learning rate before the momentum trace, v ← μ·v − η_t·g, x ← x + v
  (Keras and TensorFlow); `optax.sgd` traces first, v ← μ·v + g, x ← x − η_t·v. The two agree
  for a constant learning rate and differ as soon as it changes (a schedule or `decay`).
- `rmsprop` calls optax's `decay` (the squared-gradient average) `rho`, as Keras does, because
  `decay` is the legacy learning-rate decay on every optimizer here.
- `noisy_sgd` takes an integer `seed` (default 0) instead of a PRNG key.
- schedule-free optimizers return the iterate y; evaluate at
  `optax.contrib.schedule_free_eval_params(state.inner_state, params)` for the averaged x.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import optax
from optax import contrib
from optbench.optimizers import schedules

from optbench.errors import OptbenchError

EXCLUDED = frozenset({
    "mask", "weight_decay_mask", "trust_ratio_mask", "mu_dtype", "accumulator_dtype",
    "dtype_momentum", "state_dtype", "key", "linesearch", "hessian_diagonal_fn",
})  # fmt: skip
INF = math.inf
# (low, high, low closed, high closed) for hyperparameters with a known domain.
RANGES: dict[str, tuple[float, float, bool, bool]] = {
    "learning_rate": (0, INF, False, True),
    "max_learning_rate": (0, INF, False, True),
    "momentum": (0, 1, True, False),
    "b1": (0, 1, True, False),
    "b2": (0, 1, True, False),
    "b3": (0, 1, True, False),
    "rho": (0, 1, True, False),
    "beta_1": (0, 1, True, False),
    "beta_2": (0, 1, True, False),
    "eps": (0, INF, True, True),
    "epsilon": (0, INF, True, True),
    "learning_rate_power": (-INF, 0, True, True),
    "l1_regularization_strength": (0, INF, True, True),
    "l2_regularization_strength": (0, INF, True, True),
    "l2_shrinkage_regularization_strength": (0, INF, True, True),
    "ema_momentum": (0, 1, True, True),
    "eps_root": (0, INF, True, True),
    "weight_decay": (0, INF, True, True),
    "initial_accumulator_value": (0, INF, True, True),
    "initial_scale": (0, INF, True, True),
    "eta": (0, INF, True, True),
    "gamma": (0, INF, True, True),
    "min_norm": (0, INF, True, True),
    "trust_coefficient": (0, INF, False, True),
    "estim_lr0": (0, INF, False, True),
    "decay_rate": (0, 1, True, True),
    "eta_minus": (0, 1, False, False),
    "eta_plus": (1, INF, False, True),
    "min_step_size": (0, INF, True, True),
    "max_step_size": (0, INF, False, True),
    "scaling": (0, INF, False, True),
    "weight_lr_power": (0, INF, True, True),
    "alpha": (0, INF, True, True),
}


def check_range(
    name: str, value: Any, low: float, high: float, closed_low: bool, closed_high: bool
):
    """Raise naming `value` and the interval unless it is a number inside it (tracers pass)."""
    schedules._number(name, value, low, high, closed=(closed_low, closed_high))


def check_type(owner: str, name: str, value: Any, default: Any) -> None:
    """Raise unless `value` has the kind of the default (bool, number, string, sequence) and,
    for a number with a known domain, lies in it; traced values and schedules pass."""
    if schedules.is_traced(value) or value is None or callable(value):
        return
    is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if isinstance(default, bool):
        ok, kind = isinstance(value, bool), "true or false"
    elif isinstance(default, numbers.Real) or (default is None and name in RANGES):
        ok, kind = is_number, "a number"
    elif isinstance(default, str):
        ok, kind = isinstance(value, str), "a string"
    elif isinstance(default, tuple | list):
        ok = isinstance(value, tuple | list) and len(value) == len(default)
        kind = f"a list of {len(default)} like {list(default)!r}"
    else:
        ok, kind = True, ""
    if not ok:
        raise OptbenchError(f"{owner}: {name}={value!r} must be {kind}")
    if is_number and not math.isfinite(value):
        raise OptbenchError(f"{owner}: {name}={value!r} must be a finite number")
    if is_number and name in RANGES:
        try:
            check_range(name, value, *RANGES[name])
        except OptbenchError as exc:
            raise OptbenchError(f"{owner}: {exc}") from None


def check_names(owner: str, given: Mapping[str, Any], valid: Mapping[str, Any]) -> None:
    """Raise listing the valid names when `given` has a name `valid` lacks."""
    unknown = sorted(set(given) - set(valid) - set(schedules.RESERVED))
    if unknown:
        raise OptbenchError(
            f"unknown hyperparameter {unknown[0]!r} for optimizer {owner!r}; "
            f"valid: {', '.join(sorted(valid))}"
        )


def keras_convention_sgd(learning_rate: Any, momentum: Any = None, nesterov: bool = False):
    """SGD in the Keras convention, learning rate inside the velocity: v ← μv − ηg, x ← x + v."""
    scale = optax.scale_by_learning_rate(learning_rate)
    if momentum is None:
        return scale
    return optax.chain(scale, optax.trace(decay=momentum, nesterov=nesterov))


def keras_epsilon(epsilon: float, b2: float = 0.999) -> Callable[[Any], Any]:
    """Keras's Adam epsilon as an optax `eps` schedule: ε / sqrt(1 − β₂ᵗ) at update t = count + 1.

    Keras adds ε to sqrt(v) before the bias correction, optax adds it to sqrt(v̂) after it; pass
    `eps=keras_epsilon(ε, b2)` to an optax Adam-family plugin to run Keras's rule exactly.
    """
    import jax.numpy as jnp

    return lambda count: epsilon / jnp.sqrt(1.0 - b2 ** (jnp.asarray(count) + 1.0))


def noisy_sgd_with_seed(learning_rate: Any, eta: Any = 0.01, gamma: Any = 0.55, seed: int = 0):
    """`optax.noisy_sgd` with its noise drawn from `jax.random.key(seed)`."""
    import jax

    return optax.noisy_sgd(learning_rate, eta=eta, gamma=gamma, key=jax.random.key(seed))


def _then(factory: Callable[..., Any], after: optax.GradientTransformation):
    """`factory` followed by `after`, keeping the signature for `inject_hyperparams`."""

    @functools.wraps(factory)
    def chained(*args: Any, **kwargs: Any) -> optax.GradientTransformation:
        return optax.chain(factory(*args, **kwargs), after)

    return chained


@functools.cache
def signature_defaults(factory: Any) -> tuple[tuple[str, Any], ...]:
    """(argument, default or None) of an optax factory, read once per factory."""
    found = []
    for arg, param in inspect.signature(factory).parameters.items():
        if arg in EXCLUDED or param.kind is param.VAR_KEYWORD:
            continue
        found.append((arg, None if param.default is param.empty else param.default))
    return tuple(found)


@dataclass(frozen=True)
class OptaxOptimizer:
    """An optax optimizer factory as a plugin: optax's hyperparameters plus the schedules."""

    name: str
    factory: Callable[..., Any]
    description: str
    learning_rate: float | None = 0.001
    lr_name: str = "learning_rate"
    renames: Mapping[str, str] = field(default_factory=dict)
    overrides: Mapping[str, Any] = field(default_factory=dict)
    static: tuple[str, ...] = ()
    needs_value: bool = True
    family = "optax"
    schedule_names = tuple(schedules.DEFAULTS)

    @property
    def own_defaults(self) -> dict[str, Any]:
        """optax's own hyperparameters and defaults, in our spelling."""
        to_ours = {v: k for k, v in self.renames.items()}
        found = {
            to_ours.get(arg, arg): default for arg, default in signature_defaults(self.factory)
        }
        if self.lr_name in found and found[self.lr_name] is None:
            found[self.lr_name] = self.learning_rate
        return found | dict(self.overrides)

    @property
    def defaults(self) -> dict[str, Any]:
        return self.own_defaults | schedules.DEFAULTS

    def validate(self, hyperparameters: Mapping[str, Any]) -> dict[str, Any]:
        """Check names, types and ranges; raise naming the value and what is allowed."""
        hp = dict(hyperparameters)
        defaults = self.defaults
        check_names(self.name, hp, defaults)
        own = self.own_defaults
        for name, value in hp.items():
            if name in own:
                check_type(self.name, name, value, defaults[name])
        try:
            schedules.validate(hp)
        except OptbenchError as exc:
            raise OptbenchError(f"{self.name}: {exc}") from None
        if not schedules.is_constant(hp) and hp.get(self.lr_name) is None:
            raise OptbenchError(f"{self.name}: a schedule needs a number for {self.lr_name}")
        return hp

    def build(self, **hyperparameters: Any) -> optax.GradientTransformationExtraArgs:
        """The optimizer with every numeric hyperparameter injected into its state."""
        steps_per_epoch = int(hyperparameters.pop("steps_per_epoch", 1))
        if steps_per_epoch < 1:
            raise OptbenchError(f"steps_per_epoch={steps_per_epoch!r} must be a positive integer")
        given = {k: v for k, v in self.defaults.items() if v is not None} | hyperparameters
        own, schedule = schedules.split(self.validate(given))
        own = {self.renames.get(k, k): v for k, v in own.items()}
        if not schedules.is_constant(schedule):
            own[self.lr_name] = schedules.optax_schedule(
                own[self.lr_name], schedule, steps_per_epoch
            )
        factory = self.factory
        if schedule.get("schedule") == "reduce_on_plateau":
            factory = _then(factory, schedules.optax_plateau(schedule, steps_per_epoch))
        return optax.inject_hyperparams(factory, static_args=self.static)(**own)


def _plugin(name: str, factory: Callable[..., Any], description: str, **kw: Any) -> OptaxOptimizer:
    return OptaxOptimizer(name, factory, description, **kw)


sgd = _plugin(
    "sgd", keras_convention_sgd,
    "SGD with optional (Nesterov) momentum, learning rate inside the velocity as in Keras.",
    learning_rate=0.01,
)  # fmt: skip
adam = _plugin("adam", optax.adam, "Adam, Kingma & Ba 2015 (optax.adam).")
adamw = _plugin("adamw", optax.adamw, "Adam with decoupled weight decay, Loshchilov & Hutter 2019.")
adamax = _plugin("adamax", optax.adamax, "Adamax, Adam's infinity-norm variant (optax.adamax).")
adamaxw = _plugin("adamaxw", optax.adamaxw, "Adamax with decoupled weight decay (optax.adamaxw).")
amsgrad = _plugin("amsgrad", optax.amsgrad, "AMSGrad, Reddi et al. 2018 (optax.amsgrad).")
nadam = _plugin("nadam", optax.nadam, "NAdam, Adam with Nesterov momentum, Dozat 2016.")
nadamw = _plugin("nadamw", optax.nadamw, "NAdam with decoupled weight decay (optax.nadamw).")
radam = _plugin("radam", optax.radam, "Rectified Adam, Liu et al. 2020 (optax.radam).")
rmsprop = _plugin(
    "rmsprop", optax.rmsprop,
    "RMSprop, Tieleman & Hinton 2012, optionally centered and with momentum (optax.rmsprop).",
    renames={"rho": "decay"},
)  # fmt: skip
adagrad = _plugin("adagrad", optax.adagrad, "Adagrad, Duchi et al. 2011.", learning_rate=0.01)
adadelta = _plugin(
    "adadelta", optax.adadelta, "Adadelta, Zeiler 2012 (optax.adadelta).", learning_rate=1.0
)
adafactor = _plugin(
    "adafactor", optax.adafactor, "Adafactor, Shazeer & Stern 2018 (optax.adafactor).",
    learning_rate=0.01,
)  # fmt: skip
adabelief = _plugin("adabelief", optax.adabelief, "AdaBelief, Zhuang et al. 2020.")
adan = _plugin("adan", optax.adan, "Adan, adaptive Nesterov momentum, Xie et al. 2022.")
lamb = _plugin("lamb", optax.lamb, "LAMB, layer-wise adaptive Adam, You et al. 2020.")
lars = _plugin(
    "lars",
    optax.lars,
    "LARS, layer-wise adaptive rate scaling, You et al. 2017.",
    learning_rate=0.1,
)
lion = _plugin(
    "lion", optax.lion, "Lion, sign momentum found by search, Chen et al. 2023.", learning_rate=1e-4
)
novograd = _plugin("novograd", optax.novograd, "NovoGrad, Ginsburg et al. 2019.")
yogi = _plugin(
    "yogi",
    optax.yogi,
    "Yogi, additive second-moment updates, Zaheer et al. 2018.",
    learning_rate=0.01,
)
sm3 = _plugin(
    "sm3", optax.sm3, "SM3, memory-efficient adaptive, Anil et al. 2019.", learning_rate=0.01
)
fromage = _plugin(
    "fromage",
    optax.fromage,
    "Fromage, relative-norm steps, Bernstein et al. 2020.",
    learning_rate=0.01,
)
noisy_sgd = _plugin(
    "noisy_sgd", noisy_sgd_with_seed,
    "SGD with annealed Gaussian gradient noise, Neelakantan et al. 2015 (integer seed).",
    learning_rate=0.01, static=("seed",),
)  # fmt: skip
polyak_sgd = _plugin(
    "polyak_sgd", optax.polyak_sgd,
    "SGD with the Polyak step size (f − f_min)/‖g‖², capped; needs the loss value.",
    lr_name="max_learning_rate",
)  # fmt: skip
sign_sgd = _plugin(
    "sign_sgd", optax.sign_sgd, "signSGD, steps along the gradient's sign.", learning_rate=0.01
)
rprop = _plugin(
    "rprop",
    optax.rprop,
    "Rprop, sign-based per-coordinate step sizes, Riedmiller 1993.",
    learning_rate=0.01,
)
optimistic_gd = _plugin(
    "optimistic_gradient_descent", optax.optimistic_gradient_descent,
    "Optimistic gradient descent, Mokhtari et al. 2019.", learning_rate=0.01,
)  # fmt: skip
schedule_free_sgd = _plugin(
    "schedule_free_sgd", contrib.schedule_free_sgd,
    "Schedule-free SGD, Defazio et al. 2024 (optax.contrib); returns the y iterate.",
    learning_rate=1.0,
)  # fmt: skip
schedule_free_adamw = _plugin(
    "schedule_free_adamw", contrib.schedule_free_adamw,
    "Schedule-free AdamW, Defazio et al. 2024 (optax.contrib); returns the y iterate.",
)  # fmt: skip
prodigy = _plugin(
    "prodigy", contrib.prodigy, "Prodigy, learning-rate-free Adam, Mishchenko & Defazio 2023."
)
dadapt_adamw = _plugin(
    "dadapt_adamw", contrib.dadapt_adamw, "D-Adaptation AdamW, Defazio & Mishchenko 2023."
)
cocob = _plugin("cocob", contrib.cocob, "COCOB-Backprop, coin-betting, Orabona & Tommasi 2017.")
dog = _plugin("dog", contrib.dog, "DoG, distance-over-gradients step size, Ivgi et al. 2023.")
dowg = _plugin("dowg", contrib.dowg, "DoWG, distance-over-weighted-gradients, Khaled et al. 2023.")
momo = _plugin(
    "momo", contrib.momo, "MoMo, model-based momentum SGD, Schaipp et al. 2023; needs the loss.",
)  # fmt: skip
momo_adam = _plugin(
    "momo_adam", contrib.momo_adam, "MoMo-Adam, Schaipp et al. 2023; needs the loss value.",
)  # fmt: skip
ademamix = _plugin(
    "ademamix", contrib.ademamix, "AdEMAMix, a mixture of two EMAs, Pagliardini et al. 2024."
)
