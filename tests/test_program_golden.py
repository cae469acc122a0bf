"""The optax program's rows equal those of the program before its step was trimmed (#14).

`tests/data/program_golden.csv` was written by the previous program (commit 835224d, the
bookkeeping with a per-step target ladder and a curve `cond`) from the study below: divergence,
convergence, budget ends and every target ladder step are covered. Integers must be equal;
floats equal to the last bit up to 1 ulp-scale noise (rtol 1e-13) from a different libm.

The golden was made with the C library's sin and cos (`OPTBENCH_TRIG=library`). With the
vectorised ones (within 1 ulp of it) every row is still the golden's except the chaotic
Rastrigin runs, whose trajectories move apart from 1-ulp differences at large steps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from optbench.execute import run_study
from optbench.study import OptimizerEntry, Study

GOLDEN = Path(__file__).parent / "data" / "program_golden.csv"
STUDY = Study(
    problems=("beale", "rosenbrock", "himmelblau", "rastrigin", "easom"),
    optimizers=(
        OptimizerEntry("adam", grid={"learning_rate": [0.01, 0.1, 1.0, 10.0]}),
        OptimizerEntry("sgd", grid={"learning_rate": [0.0001, 0.01, 1.0]}),
        OptimizerEntry("rmsprop", grid={"learning_rate": [0.1]}),
    ),
    starts=6,
    budget={"steps": 300},
)
EXACT = ("status", "steps", "n_fev", "n_gev", "steps_to_target", "diverged_step")


def golden_rows(out: Path) -> pd.DataFrame:
    """The study's metrics, one row per run, in a fixed order."""
    runs = run_study(STUDY, out, quiet=True).results.runs
    ladder = [c for c in runs.columns if c.startswith(("steps_to.", "gap_at."))]
    columns = ["problem", "optimizer", "hp.learning_rate", "start", *EXACT, "f_final",
               "f_gap", "x_dist", *ladder]  # fmt: skip
    rows = runs[columns].sort_values(["problem", "optimizer", "hp.learning_rate", "start"])
    return rows.reset_index(drop=True)


CHAOTIC = (("adam", 1.0), ("adam", 10.0), ("sgd", 0.01), ("sgd", 1.0))


def assert_rows_equal(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Integers and texts equal; floats to rtol 1e-13."""
    assert list(got.columns) == list(expected.columns)
    for column in got.columns:
        a, b = got[column].to_numpy(), expected[column].to_numpy()
        if got[column].dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=0, equal_nan=True, err_msg=column)
        else:
            assert (a.astype(str) == b.astype(str)).all(), column


def test_rows_equal_the_previous_program(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTBENCH_TRIG", "library")
    expected = pd.read_csv(GOLDEN)
    got = golden_rows(tmp_path / "study")
    assert len(got) == len(expected) == 5 * 8 * 6
    assert set(expected["status"]) == {"budget", "converged", "diverged"}
    assert_rows_equal(got, expected)


def test_vectorised_trig_moves_only_chaotic_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTBENCH_TRIG", "vectorised")
    expected = pd.read_csv(GOLDEN)
    got = golden_rows(tmp_path / "study")
    setting = pd.Series(list(zip(got["optimizer"], got["hp.learning_rate"], strict=True)))
    chaotic = (got["problem"] == "rastrigin") & setting.isin(CHAOTIC)
    assert chaotic.sum() == 4 * 6
    assert_rows_equal(got[~chaotic], expected[~chaotic])
    for column in ("status", "steps"):
        assert (got.loc[chaotic, column] == expected.loc[chaotic, column]).all(), column
    moved = ~np.isclose(got.loc[chaotic, "f_final"], expected.loc[chaotic, "f_final"], rtol=1e-13)
    assert moved.any()


if __name__ == "__main__":  # regenerate: python tests/test_program_golden.py (old program only)
    import os
    import tempfile

    os.environ["OPTBENCH_TRIG"] = "library"
    with tempfile.TemporaryDirectory() as folder:
        golden_rows(Path(folder) / "study").to_csv(GOLDEN, index=False, float_format="%.17g")
    print(f"wrote {GOLDEN}")
