"""Report and compare speed on default-study-sized results sets (goal: report ≤ 30 s on 2 cores;
compare of two such sets well under a minute).

    .venv/bin/pytest benchmarks/bench_report.py --benchmark-only
    OPTBENCH_BENCH_REPORT_RESULTS=results/default .venv/bin/pytest benchmarks/bench_report.py

The synthetic set has the default study's shape: 32 landscapes (20 2-D, 12 at dim 10) × 61
optimizer settings × 100 starts = 195,200 rows, 14 f_gap curve points per optax run and recorded
paths for the first 3 starts of every 2-D setting. Numbers are drawn, not run: only the report's
own work is timed. Set OPTBENCH_BENCH_REPORT_RESULTS to time a real results folder instead.
The compare benchmark tests a second synthetic set (another seed: other draws, same cells, same
seeds and starts, so every cell is paired) against the first, 1,952 cells.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import optbench
from optbench import registry
from optbench.contracts import RunResult
from optbench.store import ResultsStore

OPTAX = {
    "adam": 4,
    "sgd": 9,
    "rmsprop": 4,
    "adamw": 4,
    "nadam": 4,
    "lion": 5,
    "adagrad": 4,
    "adadelta": 4,
    "lamb": 4,
    "yogi": 4,
    "adabelief": 4,
    "novograd": 3,
}
SCIPY = ("l-bfgs-b", "bfgs", "cg", "newton-cg", "tnc", "slsqp", "nelder-mead", "powell")
LADDER = tuple(10.0**k for k in range(1, -9, -1))
GRID = np.array([0, 1, 3, 6, 10, 11, 22, 42, 80, 100, 151, 284, 533, 1000])
TRAJECTORY_STARTS, PATH_POINTS = 3, 150


def _label(t: float) -> str:
    mantissa, exponent = f"{t:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def synthetic_results(folder: Path, starts: int = 100, seed: int = 0) -> tuple[int, int]:
    """Write a default-study-shaped results set; returns (rows, curve rows)."""
    rng = np.random.default_rng(seed)
    names = sorted(registry.names("landscape"))
    two_d = [n for n in names if not getattr(registry.landscape(n), "scalable", False)][:20]
    n_d = [n for n in names if getattr(registry.landscape(n), "scalable", False)][:12]
    settings = [(o, 10.0**-k) for o, n in OPTAX.items() for k in range(n)]
    settings += [(o, np.nan) for o in SCIPY]
    problems = [(p, 2) for p in two_d] + [(p, 10) for p in n_d]
    cells = [(p, d, o, lr) for p, d in problems for o, lr in settings]
    n = len(cells) * starts
    cell = np.repeat(np.arange(len(cells)), starts)
    frame = pd.DataFrame(
        {
            "problem": [cells[i][0] for i in cell],
            "dim": np.array([cells[i][1] for i in cell]),
            "optimizer": [cells[i][2] for i in cell],
            "hp.learning_rate": np.array([cells[i][3] for i in cell]),
        }
    )
    frame.insert(0, "run_key", [f"{i:016x}" for i in range(n)])
    skill = rng.uniform(0.5, 6, len(cells))[cell]
    log_gap = rng.normal(-9 + skill, 3, n)
    fev = np.round(rng.lognormal(np.log(20 + 60 * skill), 0.6, n)) + 1
    frame = frame.assign(
        runner="landscape",
        seed=0,
        start=np.tile(np.arange(starts), len(cells)),
        target=1e-8,
        family=np.where(frame["hp.learning_rate"].notna(), "optax", "scipy"),
        f_gap=10.0**log_gap,
        n_fev=np.minimum(fev * 5, 1001),
        wall_s=rng.uniform(1e-5, 1e-3, n),
        status=np.where(log_gap <= -8, "converged", "budget"),
        **{
            "env.device": "cpu",
            "env.optbench": "0.1.0",
            "env.time_utc": "2026-12-01T00:00:00+00:00",
        },
    )
    for t in LADDER:
        reached = log_gap <= np.log10(t)
        frame[f"fev_to.{_label(t)}"] = np.where(
            reached, np.maximum(fev * (1 - np.log10(t) / 20), 1), np.nan
        )
    optax = np.flatnonzero(frame["family"].eq("optax"))
    start_gap = rng.uniform(0, 3, optax.size)
    curve = start_gap[:, None] + (log_gap[optax, None] - start_gap[:, None]) * np.log1p(GRID) / (
        np.log1p(GRID[-1])
    )
    curves = [
        pd.DataFrame(
            {
                "run_key": np.repeat(frame["run_key"].to_numpy()[optax], GRID.size),
                "step": np.tile(GRID, optax.size),
                "name": "f_gap",
                "value": 10.0 ** curve.ravel(),
            }
        )
    ]
    recorded = np.flatnonzero(frame["dim"].eq(2) & frame["start"].lt(TRAJECTORY_STARTS))
    steps = np.arange(PATH_POINTS)
    walk = rng.normal(0, 0.1, (recorded.size, PATH_POINTS, 2)).cumsum(axis=1)
    keys = np.repeat(frame["run_key"].to_numpy()[recorded], PATH_POINTS)
    for i in range(2):
        curves.append(
            pd.DataFrame(
                {
                    "run_key": keys,
                    "step": np.tile(steps, recorded.size),
                    "name": f"x.{i}",
                    "value": walk[:, :, i].ravel(),
                }
            )
        )
    curve_frame = pd.concat(curves, ignore_index=True)
    ResultsStore(folder).write(RunResult(frame, curve_frame))
    return len(frame), len(curve_frame)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> tuple[Path, int, int]:
    given = os.environ.get("OPTBENCH_BENCH_REPORT_RESULTS")
    if given:
        loaded = optbench.load_results(given)
        return Path(given), len(loaded.runs), len(loaded.curves)
    folder = tmp_path_factory.mktemp("results")
    starts = int(os.environ.get("OPTBENCH_BENCH_REPORT_STARTS", "100"))
    return (folder, *synthetic_results(folder, starts=starts))


def test_report_default_study_size(benchmark, results, tmp_path):
    """The whole report (tables, every figure, Markdown and HTML) of a default-study-sized set."""
    folder, rows, curve_rows = results
    started = time.perf_counter()
    html = benchmark.pedantic(
        optbench.report, args=(folder, tmp_path / "report"), rounds=1, iterations=1
    )
    benchmark.extra_info.update(
        rows=rows,
        curve_rows=curve_rows,
        seconds=time.perf_counter() - started,
        figures=len(list((tmp_path / "report").glob("*.png"))),
        html_mb=Path(html).stat().st_size / 1e6,
    )
    assert Path(html).exists()


@pytest.fixture(scope="module")
def second(results, tmp_path_factory) -> Path:
    """Another synthetic set (seed 1); with OPTBENCH_BENCH_REPORT_RESULTS, that folder again."""
    if os.environ.get("OPTBENCH_BENCH_REPORT_RESULTS"):
        return results[0]
    folder = tmp_path_factory.mktemp("results-new")
    starts = int(os.environ.get("OPTBENCH_BENCH_REPORT_STARTS", "100"))
    synthetic_results(folder, starts=starts, seed=1)
    return folder


def test_compare_default_study_size(benchmark, results, second, tmp_path):
    """`optbench compare` of two default-study-sized sets, with its page written."""
    from optbench.compare import compare, write

    def run():
        comparison = compare(results[0], second)
        write(comparison, tmp_path / "compare")
        return comparison

    started = time.perf_counter()
    comparison = benchmark.pedantic(run, rounds=1, iterations=1)
    cells = comparison.table.drop_duplicates(["problem", "setting"]).shape[0]
    benchmark.extra_info.update(cells=cells, seconds=time.perf_counter() - started)
    if second != results[0]:  # the synthetic pair: every (landscape, setting) cell in common
        assert cells == 32 * 61 and comparison.only_base == comparison.only_new == 0
    assert (tmp_path / "compare" / "compare.html").exists()
