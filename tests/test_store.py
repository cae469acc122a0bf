"""The results store: round trips, resume, and crashes that leave only whole files."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from optbench import OptimizerEntry, ResultsStore, RunResult, Study, load_results, run_study
from optbench.errors import OptbenchError


def _sample() -> RunResult:
    rows = pd.DataFrame(
        {
            "run_key": ["a" * 16, "b" * 16, "c" * 16],
            "problem": ["beale", "beale", "sphere"],
            "seed": np.array([0, 1, 2], dtype=np.int64),
            "f_final": [1.5e-12, np.inf, np.nan],
            "success": [True, False, True],
            "hp.learning_rate": [0.1, 0.01, 0.001],
            "hp.nesterov": [True, False, False],
            "message": ["ok", "diverged", "x"],
        }
    )
    curves = pd.DataFrame(
        {"run_key": ["a" * 16] * 3, "step": [0, 9, 99], "name": "f_gap", "value": [4.0, 1.0, 0.5]}
    )
    return RunResult(rows, curves)


def test_round_trip_keeps_values_and_dtypes(tmp_path):
    sample = _sample()
    ResultsStore(tmp_path).write(sample)
    loaded = load_results(tmp_path)
    pd.testing.assert_frame_equal(loaded.runs, sample.rows, check_dtype=True)
    pd.testing.assert_frame_equal(loaded.curves, sample.curves, check_dtype=True)
    assert math.isinf(loaded.runs.loc[1, "f_final"])
    assert ResultsStore(tmp_path).stored_keys() == {"a" * 16, "b" * 16, "c" * 16}


def test_mixed_type_cells_are_stored_as_text(tmp_path):
    rows = pd.DataFrame({"run_key": ["a", "b"], "hp.schedule": [0.5, "cosine"]})
    ResultsStore(tmp_path).write(RunResult(rows))
    assert load_results(tmp_path).runs["hp.schedule"].tolist() == ["0.5", "cosine"]


def test_loading_an_empty_folder_says_where_it_looked(tmp_path):
    with pytest.raises(OptbenchError, match=r"no results under .*runs/\*\.parquet"):
        load_results(tmp_path)


def _study(runner: str = "landscape", starts: int = 5) -> Study:
    return Study(
        name="store-test",
        runner=runner,
        problems=("beale",),
        optimizers=(OptimizerEntry("nelder-mead"),),
        starts=starts,
    )


def test_rerun_skips_stored_keys(tmp_path):
    first = run_study(_study(starts=3), tmp_path, quiet=True)
    assert (first.ran, first.skipped) == (3, 0)
    second = run_study(_study(starts=5), tmp_path, quiet=True)
    assert (second.ran, second.skipped) == (2, 3)
    assert len(second.results.runs) == 5
    pd.testing.assert_frame_equal(
        second.results.runs.iloc[:3].reset_index(drop=True), first.results.runs, check_dtype=True
    )


FLAKY = """
from optbench.runners.landscape.plugin import runner as base


class Flaky:
    name = "flaky"
    description = "The landscape runner, killed during its second batch."
    options = base.options

    def __init__(self):
        self.calls = 0

    def batches(self, specs):
        for i in range(0, len(specs), 2):
            yield list(specs[i : i + 2])

    def run(self, specs):
        self.calls += 1
        if self.calls == 2:
            raise KeyboardInterrupt("killed between batches")
        return base.run(specs)


runner = Flaky()
"""


def test_interrupted_study_keeps_whole_batches_and_resumes(tmp_path, fake_distribution):
    fake_distribution(
        "flaky-runner",
        "[optbench.runners]\nflaky = flaky_runner_mod:runner\n",
        {"flaky_runner_mod": FLAKY},
    )
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_study(_study("flaky"), out, quiet=True)
    parts = sorted((out / "runs").iterdir())
    assert len(parts) == 1 and parts[0].suffix == ".parquet"
    assert len(load_results(out).runs) == 2
    resumed = run_study(_study("flaky"), out, quiet=True)
    assert (resumed.ran, resumed.skipped) == (3, 2)
    assert sorted(resumed.results.runs["start"]) == [0, 1, 2, 3, 4]


def test_crash_while_writing_leaves_no_half_file(tmp_path, monkeypatch):
    store = ResultsStore(tmp_path)
    store.write(_sample())
    real_replace = __import__("os").replace

    def crash_on_runs(src, dst):
        if "runs" in str(dst):
            raise OSError("disk gone")
        real_replace(src, dst)

    monkeypatch.setattr("optbench.store.os.replace", crash_on_runs)
    new = _sample()
    with pytest.raises(OSError, match="disk gone"):
        store.write(RunResult(new.rows.assign(run_key=list("xyz")), new.curves.assign(run_key="x")))
    assert [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".parquet"] == []
    assert len(list((tmp_path / "runs").iterdir())) == 1
    assert store.stored_keys() == {"a" * 16, "b" * 16, "c" * 16}
    loaded = load_results(tmp_path)
    assert len(loaded.runs) == 3
    assert set(loaded.curves["run_key"]) == {"a" * 16}


@pytest.mark.parametrize("momentum_first", [True, False])
def test_column_order_does_not_depend_on_which_part_was_written_first(tmp_path, momentum_first):
    adam = pd.DataFrame({"run_key": ["a"], "optimizer": ["adam"], "hp.learning_rate": [0.1],
                         "hp.b1": [0.9]})  # fmt: skip
    sgd = pd.DataFrame({"run_key": ["b"], "hp.momentum": [0.5], "optimizer": ["sgd"]})
    for rows in [sgd, adam] if momentum_first else [adam, sgd]:
        ResultsStore(tmp_path).write(RunResult(rows))
    runs = load_results(tmp_path).runs
    assert list(runs.columns) == ["run_key", "hp.momentum", "optimizer", "hp.learning_rate",
                                  "hp.b1"]  # fmt: skip
    assert runs.set_index("run_key").loc["b", "hp.momentum"] == 0.5


def test_keys_in_matches_isin_on_arrow_text():
    from optbench.store import keys_in

    keys = pd.Series(["a", "b", "c", "b"], dtype="str")
    assert keys_in(keys, {"b", "z"}).tolist() == [False, True, False, True]
    assert keys_in(keys, {"b", "z"}).tolist() == keys.isin({"b", "z"}).tolist()
    assert keys_in(keys.iloc[:0], {"a"}).tolist() == []
