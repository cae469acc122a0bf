"""A run key gives one result whatever shares its program (#15 item 11): Adam on Beale alone and
in `suite:2d` (another program, other slices) agree in every column to the last bit."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd

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
