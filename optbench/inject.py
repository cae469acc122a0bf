"""A regression on purpose, for the regression check's own end-to-end test (never set it otherwise).

With `OPTBENCH_INJECT_REGRESSION=1` the landscape runner's scipy path does extra work for every
run and `sgd`'s default learning rate is scaled down 10x, so `optbench regress` must flag the
scipy benchmarks' time and sgd's quality, and nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

ENV = "OPTBENCH_INJECT_REGRESSION"
OPTIMIZER = "sgd"
LR_FACTOR = 0.1
SORTS_PER_RUN = 160


def active() -> bool:
    return os.environ.get(ENV) == "1"


def extra_work(runs: int) -> None:
    """Fixed CPU work per run when active: sorting 20,000 numbers 160 times (about 12 ms)."""
    if not active():
        return
    data = np.random.default_rng(0).standard_normal(20_000)
    for _ in range(runs * SORTS_PER_RUN):
        np.sort(data)


def defaults(name: str, given: Mapping[str, Any]) -> Mapping[str, Any]:
    """An optimizer's defaults; sgd's learning rate scaled down when active."""
    if not active() or name != OPTIMIZER or given.get("learning_rate") is None:
        return given
    return {**given, "learning_rate": given["learning_rate"] * LR_FACTOR}
