"""One learning-rate schedule library for the optax and the Keras paths.

Each schedule is written once, as a closed form `lr(t)` over an array namespace `xp`
(`jax.numpy` for optax, `keras.ops` for a Keras `LearningRateSchedule`, `numpy` for a Keras
`LearningRateScheduler` callback), so the same name and hyperparameters give the same curve
in every backend. `t` counts updates (`per="update"`) or epochs (`per="epoch"`); the optax form
turns updates into epochs with `floor(count / steps_per_epoch)`, the Keras form hands per-epoch
schedules to a `LearningRateScheduler` callback, as the seed did.

Schedules (`schedule=`), with `lr0` the optimizer's learning rate:

- `constant`: lr0.
- `inverse_time`: lr0 / (1 + k·t).
- `exponential`: lr0 · exp(−k·t) (the seed's lr0·e^(−k·t)).
- `step`: lr0 · factor^floor(t / every).
- `piecewise`: lr0 times every `scales[i]` whose `boundaries[i]` ≤ t (optax's piecewise constant).
- `polynomial`: lr0 · ((1 − end_scale)·(1 − min(t, horizon)/horizon)^power + end_scale).
- `cosine`: lr0 · ((1 − end_scale)·½(1 + cos(π·min(t, horizon)/horizon)) + end_scale).
- `warmup_cosine`: linear from 0 to lr0 over `warmup`, then cosine to lr0·end_scale at `horizon`.
- `sgdr`: cosine warm restarts (Loshchilov & Hutter): first cycle `horizon` long, each next cycle
  `t_mul` times longer and its peak `m_mul` times lower, floor lr0·end_scale (Keras's
  `CosineDecayRestarts`; optax's `sgdr_schedule` has no multipliers).
- `one_cycle`: cosine from lr0/div_factor up to lr0 over `pct_start`·horizon, then down to
  lr0/(div_factor·final_div_factor) at `horizon` (optax's `cosine_onecycle_schedule`).
- `reduce_on_plateau`: multiply by `factor` after `patience` epochs without an improvement of
  the loss by more than `min_delta`, then wait `cooldown` epochs, never below lr0·min_scale
  (optax's `contrib.reduce_on_plateau` / Keras's `ReduceLROnPlateau`). Stateful, so it is not
  a closed form: each backend's own implementation runs it.

`decay` is the legacy Keras rule, applied on top of any schedule and always per update:
lr(t) / (1 + decay·iterations), iterations counting updates (batches), not epochs. Keras 2 had it
(`SGD(lr=0.1, decay=0.1/60)`); Keras 3 accepts `decay=` and ignores it. The seed's text quotes the
epoch-wise lr0/(1 + decay·epoch), which decays `steps_per_epoch` times more slowly; to get that
one, use `schedule="inverse_time", k=decay, per="epoch"`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

from optbench.errors import OptbenchError

SCHEDULES = (
    "constant",
    "inverse_time",
    "exponential",
    "step",
    "piecewise",
    "polynomial",
    "cosine",
    "warmup_cosine",
    "sgdr",
    "one_cycle",
    "reduce_on_plateau",
)
PER = ("update", "epoch")

DEFAULTS: dict[str, Any] = {
    "schedule": "constant",
    "per": "epoch",
    "decay": 0.0,
    "k": 0.1,
    "factor": 0.1,
    "every": 10,
    "boundaries": (),
    "scales": (),
    "horizon": 100,
    "power": 1.0,
    "end_scale": 0.0,
    "warmup": 10,
    "t_mul": 2.0,
    "m_mul": 1.0,
    "pct_start": 0.3,
    "div_factor": 25.0,
    "final_div_factor": 1e4,
    "patience": 10,
    "cooldown": 0,
    "min_delta": 1e-4,
    "min_scale": 0.0,
}
RESERVED = ("steps_per_epoch",)


def is_traced(value: Any) -> bool:
    """Whether `value` is a JAX tracer (a hyperparameter under `vmap`), not yet a number."""
    from jax.core import Tracer

    return isinstance(value, Tracer)


def _number(name: str, value: Any, low: float, high: float, *, closed=(True, True)) -> None:
    """Raise unless `value` is a real number in the interval from low to high."""
    if is_traced(value):
        return
    allowed = _interval(low, high, closed)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise OptbenchError(f"{name}={value!r} must be a number in {allowed}")
    ok_low = value >= low if closed[0] else value > low
    ok_high = value <= high if closed[1] else value < high
    if not (ok_low and ok_high and math.isfinite(value)):
        raise OptbenchError(f"{name}={value!r} is out of range; allowed: {allowed}")


def _interval(low: float, high: float, closed: tuple[bool, bool]) -> str:
    right = "]" if closed[1] and math.isfinite(high) else ")"
    return f"{'[' if closed[0] and math.isfinite(low) else '('}{low}, {high}{right}"


def _integer(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise OptbenchError(f"{name}={value!r} must be an integer ≥ {low}")


def validate(hp: Mapping[str, Any]) -> None:
    """Check the schedule hyperparameters in `hp`; raise naming the value and what is allowed."""
    p = DEFAULTS | {k: v for k, v in hp.items() if k in DEFAULTS}
    if p["schedule"] not in SCHEDULES:
        raise OptbenchError(
            f"unknown schedule {p['schedule']!r}; choose one of {', '.join(SCHEDULES)}"
        )
    if p["per"] not in PER:
        raise OptbenchError(f"per={p['per']!r} is not allowed; choose one of {', '.join(PER)}")
    inf = math.inf
    for name, low, high, closed in (
        ("decay", 0, inf, (True, True)),
        ("k", 0, inf, (True, True)),
        ("factor", 0, 1, (False, True)),
        ("power", 0, inf, (False, True)),
        ("end_scale", 0, 1, (True, True)),
        ("t_mul", 1, inf, (True, True)),
        ("m_mul", 0, 1, (False, True)),
        ("pct_start", 0, 1, (False, False)),
        ("div_factor", 0, inf, (False, True)),
        ("final_div_factor", 0, inf, (False, True)),
        ("min_delta", 0, inf, (True, True)),
        ("min_scale", 0, 1, (True, True)),
    ):
        _number(name, p[name], low, high, closed=closed)
    for name, low in (
        ("every", 1),
        ("horizon", 1),
        ("warmup", 0),
        ("patience", 0),
        ("cooldown", 0),
    ):
        _integer(name, p[name], low)
    if p["schedule"] == "warmup_cosine" and p["warmup"] >= p["horizon"]:
        raise OptbenchError(f"warmup={p['warmup']!r} must be less than horizon={p['horizon']!r}")
    boundaries, scales = list(p["boundaries"]), list(p["scales"])
    if len(boundaries) != len(scales):
        raise OptbenchError(
            f"boundaries={boundaries!r} and scales={scales!r} must have the same length"
        )
    for b in boundaries:
        _integer("each of boundaries", b, 0)
    if boundaries != sorted(boundaries):
        raise OptbenchError(f"boundaries={boundaries!r} must be increasing")
    for s in scales:
        _number("each of scales", s, 0, math.inf)


def curve(lr0: Any, hp: Mapping[str, Any], xp: Any) -> Callable[[Any], Any]:
    """The schedule as a function of t (float array in `xp`), written once for every backend."""
    p = DEFAULTS | dict(hp)
    name = p["schedule"]
    pi = math.pi

    def clipped(t):
        return xp.minimum(t, p["horizon"]) / p["horizon"]

    def cosine_part(fraction):
        return 0.5 * (1.0 + xp.cos(pi * fraction))

    if name in ("constant", "reduce_on_plateau"):
        return lambda t: lr0 + 0.0 * t
    if name == "inverse_time":
        return lambda t: lr0 / (1.0 + p["k"] * t)
    if name == "exponential":
        return lambda t: lr0 * xp.exp(-p["k"] * t)
    if name == "step":
        return lambda t: lr0 * p["factor"] ** xp.floor(t / p["every"])
    if name == "piecewise":

        def piecewise(t):
            ones = 1.0 + 0.0 * t
            value = lr0 * ones
            for boundary, scale in zip(p["boundaries"], p["scales"], strict=True):
                value = value * xp.where(t >= boundary, scale * ones, ones)
            return value

        return piecewise
    end = p["end_scale"]
    if name == "polynomial":
        return lambda t: lr0 * ((1.0 - end) * (1.0 - clipped(t)) ** p["power"] + end)
    if name == "cosine":
        return lambda t: lr0 * ((1.0 - end) * cosine_part(clipped(t)) + end)
    if name == "warmup_cosine":
        warmup, horizon = p["warmup"], p["horizon"]

        def warmup_cosine(t):
            fraction = xp.minimum(xp.maximum(t - warmup, 0.0), horizon - warmup) / (
                horizon - warmup
            )
            cosine = lr0 * ((1.0 - end) * cosine_part(fraction) + end)
            return xp.where(t < warmup, lr0 * t / max(warmup, 1), cosine)

        return warmup_cosine
    if name == "sgdr":
        return _sgdr(lr0, p, xp)
    if name == "one_cycle":
        return _one_cycle(lr0, p, xp)
    raise OptbenchError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}")


def _sgdr(lr0: Any, p: Mapping[str, Any], xp: Any) -> Callable[[Any], Any]:
    """Cosine warm restarts: cycle i lasts horizon·t_mul^i and peaks at lr0·m_mul^i."""
    t0, t_mul, m_mul, end = p["horizon"], p["t_mul"], p["m_mul"], p["end_scale"]
    traced = is_traced(t_mul)
    if traced:  # a traced t_mul of exactly 1 would divide by log(1); 1 + 1e-9 is equal cycles
        t_mul = xp.maximum(t_mul, 1.0 + 1e-9)
    log_t_mul = xp.log(t_mul) if traced else math.log(t_mul) if t_mul != 1 else 0.0

    def sgdr(t):
        done = t / t0
        if not traced and log_t_mul == 0.0:
            restart = xp.floor(done + 1e-6)
            fraction = done - restart
        else:
            restart = xp.floor(xp.log1p(done * (t_mul - 1.0)) / log_t_mul + 1e-6)
            before = (t_mul**restart - 1.0) / (t_mul - 1.0)
            fraction = xp.maximum(done - before, 0.0) / t_mul**restart
        cosine = 0.5 * m_mul**restart * (1.0 + xp.cos(math.pi * fraction))
        return lr0 * ((1.0 - end) * cosine + end)

    return sgdr


def _one_cycle(lr0: Any, p: Mapping[str, Any], xp: Any) -> Callable[[Any], Any]:
    """Cosine one-cycle: warm up to lr0 over pct_start of the horizon, then anneal."""
    horizon, pct = p["horizon"], p["pct_start"]
    start, final = lr0 / p["div_factor"], lr0 / (p["div_factor"] * p["final_div_factor"])
    rise = pct * horizon

    def anneal(a, b, fraction):
        return b + (a - b) * 0.5 * (1.0 + xp.cos(math.pi * xp.minimum(fraction, 1.0)))

    def one_cycle(t):
        up = anneal(start, lr0, t / rise)
        down = anneal(lr0, final, (t - rise) / (horizon - rise))
        return xp.where(t < rise, up, down)

    return one_cycle


def is_constant(hp: Mapping[str, Any]) -> bool:
    """Whether the learning rate stays lr0 but for plateaus: no closed-form schedule, no decay."""
    decay = hp.get("decay", 0.0)
    no_decay = isinstance(decay, numbers.Real) and decay == 0
    return hp.get("schedule", "constant") in ("constant", "reduce_on_plateau") and no_decay


def split(hp: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(optimizer hyperparameters, schedule hyperparameters) of one merged mapping."""
    own = {k: v for k, v in hp.items() if k not in DEFAULTS and k not in RESERVED}
    schedule = {k: v for k, v in hp.items() if k in DEFAULTS}
    return own, schedule


def optax_schedule(lr0: Any, hp: Mapping[str, Any], steps_per_epoch: int = 1):
    """The optax form: a function of the update count, for `optax.inject_hyperparams`."""
    import jax.numpy as jnp

    p = DEFAULTS | dict(hp)
    base = curve(lr0, p, jnp)
    per_epoch = p["per"] == "epoch"

    def schedule(count):
        updates = jnp.asarray(count, dtype=jnp.result_type(float))
        t = jnp.floor(updates / steps_per_epoch) if per_epoch else updates
        return base(t) / (1.0 + p["decay"] * updates)

    return schedule


def numpy_schedule(lr0: float, hp: Mapping[str, Any]) -> Callable[[int], float]:
    """The schedule of epochs as a Python function, for a Keras `LearningRateScheduler`."""
    import numpy as np

    base = curve(lr0, DEFAULTS | dict(hp), np)
    return lambda t: float(base(np.float64(t)))


def optax_plateau(hp: Mapping[str, Any], steps_per_epoch: int = 1):
    """optax's reduce-on-plateau with our names; an epoch's mean loss when per="epoch"."""
    from optax import contrib

    p = DEFAULTS | dict(hp)
    return contrib.reduce_on_plateau(
        factor=p["factor"],
        patience=p["patience"],
        rtol=0.0,
        atol=p["min_delta"],
        cooldown=p["cooldown"],
        accumulation_size=steps_per_epoch if p["per"] == "epoch" else 1,
        min_scale=p["min_scale"],
    )
