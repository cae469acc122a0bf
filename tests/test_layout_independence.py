"""A run key gives one result whatever shares its program (#15 item 11): Adam on Beale alone and
in `suite:2d` (another program, other slices) agree in every column to the last bit, and a
10-D run alone and among thousands of rows (where XLA CPU would hand sums to YNNPACK)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from optbench.runners.landscape import optax_program
from optbench.runners.landscape.common import landscape_for, uniform_points

SCRIPT = """
import sys
from optbench import OptimizerEntry, Study, run_study
from optbench.jax_cache import without_fma

problems = tuple(sys.argv[2].split("+"))
study = Study(problems=problems, optimizers=(OptimizerEntry("adam"),), starts=20,
              budget={"steps": 1000})
runs = run_study(study, sys.argv[1], quiet=True).results.runs
assert without_fma(), "the flag is in effect"
runs[runs["problem"] == "beale"].to_parquet(sys.argv[1] + ".parquet")
"""
# Not results: how long it took, where, and which compiled program ran it.
CIRCUMSTANCES = ("wall_s", "compile_s", "run_s", "program", "batch_runs")


def _beale_rows(tmp_path, problems: str, **env) -> pd.DataFrame:
    out = tmp_path / problems.replace(":", "_").replace("+", "_")
    environ = os.environ | {"OPTBENCH_JAX_CACHE": "0"} | env
    subprocess.run([sys.executable, "-c", SCRIPT, str(out), problems], check=True, env=environ)
    rows = pd.read_parquet(f"{out}.parquet").set_index("run_key").sort_index()
    return rows.drop(columns=[c for c in rows if c.startswith("env.") or c in CIRCUMSTANCES])


def test_beale_alone_and_beside_other_landscapes_gives_identical_rows(tmp_path):
    alone = _beale_rows(tmp_path, "beale")
    shared = _beale_rows(tmp_path, "suite:2d")
    assert len(alone) == 20
    others = set(shared.columns) - set(alone.columns)  # options only other problems were given
    assert all(shared[c].isna().all() for c in others), others
    assert {"f_final", "x_final", "gap_at.100", "steps_to.1e0"} <= set(alone.columns)
    pd.testing.assert_frame_equal(alone, shared[alone.columns], check_exact=True)


def _zakharov_runs(count: int) -> optax_program.BatchOutput:
    """Adam on 10-D Zakharov, instance 1 (rotated: a product and sums), `count` rows, 100 steps."""
    landscape = landscape_for("zakharov", 10, 1)
    runs = optax_program.Runs(
        landscape=np.zeros(count, int),
        starts=uniform_points(landscape, 0, range(count)),
        settings=[{"learning_rate": 0.01}] * count,
        final=np.full(count, -1.0),
        seeds=np.zeros(count, np.uint32),
    )
    variant = optax_program.Variant.of("adam", {"learning_rate": 0.01})
    branch = optax_program.Branch(("zakharov", 10, 1), landscape)
    return optax_program.run_starts([variant], 0, [branch], [count], runs, 100)


@pytest.fixture(scope="module")
def alone_and_among():
    return _zakharov_runs(8), _zakharov_runs(2048)


@pytest.mark.parametrize("field", ["x", "f", "status", "stop", "hits", "curve"])
def test_a_10d_run_alone_and_among_2048_rows_gives_identical_numbers(alone_and_among, field):
    alone, among = alone_and_among
    np.testing.assert_array_equal(getattr(alone, field), getattr(among, field)[:8])
