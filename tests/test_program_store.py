"""Warm runs trace nothing (#14): a second process loads the serialized optax programs
(`jax.export`) instead of tracing them, and gives identical rows and curves."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd

SCRIPT = """
import json, sys
from optbench import OptimizerEntry, Study, run_study
from optbench.runners.landscape import program_store

study = Study(problems=("beale", "sphere:dim=3"), optimizers=(OptimizerEntry("adam"),
              OptimizerEntry("sgd", grid={"learning_rate": [0.01, 0.1]})), starts=6,
              budget={"steps": 300})
results = run_study(study, sys.argv[1], quiet=True, curves=True).results
results.runs.to_parquet(sys.argv[1] + ".parquet")
results.curves.to_parquet(sys.argv[1] + "-curves.parquet")
print(json.dumps(program_store.LOADS))
"""
CIRCUMSTANCES = ("wall_s", "compile_s", "run_s")


def _run(out, cache) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    environ = os.environ | {"OPTBENCH_JAX_CACHE": str(cache)}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(out)], check=True, env=environ,
                          capture_output=True, text=True)  # fmt: skip
    rows = pd.read_parquet(f"{out}.parquet").set_index("run_key").sort_index()
    rows = rows.drop(columns=[c for c in rows if c.startswith("env.") or c in CIRCUMSTANCES])
    curves = pd.read_parquet(f"{out}-curves.parquet").sort_values(["run_key", "name", "step"])
    return json.loads(done.stdout.strip().splitlines()[-1]), rows, curves.reset_index(drop=True)


def test_a_warm_process_loads_every_program_and_gives_identical_rows(tmp_path):
    cache = tmp_path / "jax"
    cold, first, first_curves = _run(tmp_path / "cold", cache)
    # one optax program per dimension; the 2-D Beale's also records the paths
    assert cold == {"traced": 2, "loaded": 0}
    assert len(list((tmp_path / "jax-programs").glob("*.jaxexport"))) == 2
    warm, again, again_curves = _run(tmp_path / "warm", cache)
    assert warm == {"traced": 0, "loaded": 2}
    assert len(first) == 2 * 3 * 6
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert first_curves["name"].str.startswith("x.").sum() > 0, "Beale's paths are recorded"
    pd.testing.assert_frame_equal(first_curves, again_curves, check_exact=True)


def test_the_digest_covers_the_optax_path_landscapes_and_optimizers():
    from optbench.runners.landscape import program_store

    names = {path.name for path in program_store.own_files()}
    assert {"optax_program.py", "packed_state.py", "common.py", "two_d.py"} <= names
    assert any(path.parent.name == "optimizers" for path in program_store.own_files())


def test_a_finding_is_computed_once_per_cache_and_every_time_without_one(monkeypatch, tmp_path):
    from optbench.runners.landscape import program_store

    calls = []

    def compute() -> bool:
        calls.append(1)
        return False

    monkeypatch.setenv("OPTBENCH_JAX_CACHE", str(tmp_path / "jax"))
    assert program_store.remembered("probe", compute) is False
    assert program_store.remembered("probe", compute) is False
    assert len(calls) == 1
    assert (tmp_path / "jax-programs" / "probe.answer").read_bytes() == b"no"
    monkeypatch.setenv("OPTBENCH_JAX_CACHE", "off")
    program_store.remembered("probe", compute)
    assert len(calls) == 2
