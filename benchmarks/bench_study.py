"""Landscape studies end to end through `run_study`, with success counts as quality figures.

    .venv/bin/pytest benchmarks/bench_study.py --benchmark-only -m quick     # the CI tier
    OPTBENCH_BENCH_STUDY=1 .venv/bin/pytest benchmarks/bench_study.py -k default_study

The quick tier times one small study per optimizer (20 runs) (five rounds, compilation in a warm-up
round); the default study (`optbench run` with no arguments, minutes on 2 cores) is one pedantic
round, opt-in. Quality, per optimizer: successes per (landscape, start), evaluations to the
target and the final gap, each with its per-start vector for the paired tests of `optbench regress`.
"""

from __future__ import annotations

import os
import tempfile
from itertools import count

import numpy as np
import pandas as pd
import pytest

from optbench import run_study
from optbench.quality import figure
from optbench.rollup import labels
from optbench.study import OptimizerEntry, Study, load_study

QUICK_PROBLEMS = ("beale", "himmelblau")
QUICK_OPTIMIZERS = ("sgd", "adam:learning_rate=0.1", "nelder-mead")
QUICK_ROUNDS = 5


def quality(runs: pd.DataFrame, prefix: str = "") -> dict[str, dict]:
    """Successes, evaluations to the target and final gaps of `runs`, per start: ordered by
    problem, options, seed and start, so that base and head pair the same start."""
    order = ["problem", *sorted(c for c in runs if c.startswith("option.")), "seed", "start"]
    runs = runs.sort_values(order, kind="stable")
    won = (runs["status"] == "converged").to_numpy()
    evaluations = np.where(won, runs["fev_to_target"].to_numpy(dtype=float), np.nan)
    gaps = runs["f_gap"].to_numpy(dtype=float)
    reached = evaluations[np.isfinite(evaluations)]
    return {
        f"{prefix}successes": figure(int(won.sum()), "count", n=len(runs), per_start=won),
        f"{prefix}evaluations_to_target": figure(
            float(np.median(reached)) if reached.size else float("nan"),
            "evaluations",
            higher_is_better=False,
            n=len(runs),
            per_start=evaluations,
        ),
        f"{prefix}final_gap": figure(
            float(np.median(gaps)), "gap", higher_is_better=False, n=len(runs), per_start=gaps
        ),
    }


ROUND_NUMBERS = count()


def _fresh_folder(root: str) -> tuple[tuple[str], dict]:
    """A new results folder per round, so that no round skips runs a previous one stored."""
    return (os.path.join(root, f"round-{next(ROUND_NUMBERS)}"),), {}


@pytest.mark.quick
@pytest.mark.parametrize("optimizer", QUICK_OPTIMIZERS)
def test_quick_study(benchmark, optimizer, tmp_path, rounds):
    """Two 2-D landscapes x 10 starts x 500 steps of one optimizer."""
    study = Study(
        name=f"quick-{optimizer}",
        problems=QUICK_PROBLEMS,
        optimizers=(OptimizerEntry.parse(optimizer),),
        starts=10,
        budget={"steps": 500, "evaluations": 501},
    )
    outcomes = []

    def once(out: str) -> None:
        outcomes.append(run_study(study, out, quiet=True))

    benchmark.pedantic(
        once,
        setup=lambda: _fresh_folder(str(tmp_path)),
        rounds=rounds(QUICK_ROUNDS),
        warmup_rounds=1,
    )
    runs = outcomes[-1].results.runs
    assert len(runs) == 20
    benchmark.extra_info.update(quality(runs))


@pytest.mark.skipif(not os.environ.get("OPTBENCH_BENCH_STUDY"), reason="OPTBENCH_BENCH_STUDY=1")
def test_default_study(benchmark):
    """`optbench run`'s default study in this process: one round, compilation included."""
    study = load_study("default")
    with tempfile.TemporaryDirectory() as root:
        outcome = benchmark.pedantic(
            lambda: run_study(study, os.path.join(root, "default"), quiet=True), rounds=1
        )
    runs = outcome.results.runs.assign(label=lambda r: labels(r))
    benchmark.extra_info.update(runs=len(runs), optimizers=int(runs["label"].nunique()))
    for label, group in runs.groupby("label", sort=True):
        benchmark.extra_info.update(quality(group, prefix=f"{label}: "))
