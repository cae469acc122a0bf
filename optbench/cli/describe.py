"""What `optbench show` prints about an optimizer or runner: every hyperparameter or option with
its default, its allowed range and a one-line description (from the backend's own docstring)."""

from __future__ import annotations

import importlib
import inspect
import math
import re
from collections.abc import Mapping
from typing import Any

SHARED = {
    "schedule": "learning-rate schedule: constant, inverse_time, exponential, step, piecewise, "
    "polynomial, cosine, warmup_cosine, sgdr, one_cycle, reduce_on_plateau",
    "per": "what the schedule counts: epoch or update",
    "decay": "legacy Keras decay: lr / (1 + decay · updates), on top of the schedule",
    "k": "rate of inverse_time and exponential schedules",
    "factor": "multiplier of step and reduce_on_plateau schedules",
    "every": "epochs (or updates) between steps of the step schedule",
    "boundaries": "piecewise schedule: where the scale changes",
    "scales": "piecewise schedule: the scale after each boundary",
    "horizon": "length of polynomial, cosine, warmup_cosine, sgdr and one_cycle schedules",
    "power": "exponent of the polynomial schedule",
    "end_scale": "final fraction of the learning rate (polynomial, cosine)",
    "warmup": "warm-up length of warmup_cosine",
    "t_mul": "sgdr: growth of each cycle's length",
    "m_mul": "sgdr: scale of each cycle's peak",
    "pct_start": "one_cycle: fraction spent increasing the rate",
    "div_factor": "one_cycle: initial rate = peak / div_factor",
    "final_div_factor": "one_cycle: final rate = initial / final_div_factor",
    "patience": "reduce_on_plateau: epochs without improvement before reducing",
    "cooldown": "reduce_on_plateau: epochs to wait after a reduction",
    "min_delta": "reduce_on_plateau: smallest change counted as improvement",
    "min_scale": "reduce_on_plateau: lowest fraction of the learning rate",
    "learning_rate": "step size",
    "lr": "step size",
    "momentum": "momentum coefficient",
    "nesterov": "use Nesterov momentum",
    "jac": "gradient given to scipy: exact (jax.grad), 2-point, 3-point or none",
    "hess": "Hessian given to scipy: exact (jax.hessian) or a finite-difference scheme",
    "weight_decay": "decoupled weight decay",
    "clipnorm": "clip each gradient to this norm",
    "clipvalue": "clip each gradient component to this value",
    "global_clipnorm": "clip all gradients together to this norm",
    "use_ema": "keep an exponential moving average of the weights",
    "ema_momentum": "momentum of the weights' moving average",
    "ema_overwrite_frequency": "updates between copying the moving average into the weights",
    "loss_scale_factor": "multiply the loss by this before computing gradients",
    "gradient_accumulation_steps": "updates over which gradients are accumulated",
}


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    text = re.sub(r":\w+:`([^`]*)`", r"\1", text).replace("``", "")
    match = re.match(r"(.+?\.)(\s|$)", text)
    return (match.group(1) if match else text)[:160]


def docstring_arguments(obj: Any) -> dict[str, str]:
    """Argument descriptions from a Google-style (`Args:`) or numpydoc (`name : type`) docstring."""
    doc = inspect.getdoc(obj) or ""
    found: dict[str, str] = {}
    google = re.search(r"^(Args|Arguments|Parameters):\n(.*?)(?:\n\S|\Z)", doc, re.S | re.M)
    if google:
        block = google.group(2) + "\n"
        indent = len(block) - len(block.lstrip(" "))
        item = rf"^ {{{indent}}}(\w+)(?: \(.*?\))?: (.*?)(?=^ {{{indent}}}\w|\Z)"
        for name, text in re.findall(item, block, re.S | re.M):
            found[name] = _first_sentence(text)
    for name, text in re.findall(r"^(\w+) : [^\n]*\n((?: {4}.*\n?|\n)+)", doc, re.M):
        found.setdefault(name, _first_sentence(text))
    return found


def _source(plugin: Any) -> Any:
    """The backend function whose docstring documents the plugin's hyperparameters."""
    factory = getattr(plugin, "factory", None)
    if factory is not None:
        return factory
    path = getattr(plugin, "options_from", None)
    if isinstance(path, str) and "." in path:
        module, _, name = path.rpartition(".")
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            return None
    return None


def range_text(name: str, plugin: Any) -> str:
    """The allowed interval of a hyperparameter when the plugin knows it, else `-`."""
    module = importlib.import_module(type(plugin).__module__)
    ranges: Mapping[str, tuple] = getattr(module, "RANGES", {})
    if name not in ranges:
        return "-"
    low, high, low_closed, high_closed = ranges[name]
    left = "[" if low_closed and math.isfinite(low) else "("
    right = "]" if high_closed and math.isfinite(high) else ")"
    return f"{left}{low:g}, {high:g}{right}"


def value_text(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def hyperparameter_rows(plugin: Any) -> list[dict[str, str]]:
    """One row per hyperparameter: name, default, range, description."""
    source = _source(plugin)
    documented = docstring_arguments(source) if source is not None else {}
    renames = {ours: theirs for ours, theirs in getattr(plugin, "renames", {}).items()}
    rows = []
    for name, default in plugin.defaults.items():
        text = documented.get(renames.get(name, name)) or SHARED.get(name, "")
        rows.append(
            {
                "name": name,
                "default": value_text(default),
                "range": range_text(name, plugin),
                "description": text or "-",
            }
        )
    return rows


def option_rows(runner: Any) -> list[dict[str, str]]:
    """One row per runner option with its default (and the description the runner gives)."""
    described = getattr(runner, "option_descriptions", {})
    return [
        {"name": name, "default": value_text(default), "description": described.get(name, "-")}
        for name, default in dict(runner.options).items()
    ]
