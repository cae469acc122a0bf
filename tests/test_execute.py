"""run_study: lanes run side by side, every finished batch is written, a failure is a row."""

from __future__ import annotations

import threading
import time
from typing import ClassVar

import pandas as pd
import pytest

from optbench import execute, registry
from optbench.contracts import CURVE_COLUMNS, RunResult
from optbench.store import ResultsStore
from optbench.study import OptimizerEntry, Study


class LaneRunner:
    """Lane "b" holds beta and gamma, lane "a" the rest; fails the batch of `fail_on`; remembers
    when each batch ran. With `meet`, the first batch of each lane waits for the other's."""

    name = "lanes"
    options: ClassVar[dict] = {}

    def __init__(self, fail_on: str | None = None, meet: bool = False):
        self.fail_on = fail_on
        self.meeting = threading.Barrier(2, timeout=30) if meet else None
        self.spans: dict[str, tuple[float, float]] = {}

    def batches(self, specs):
        by_problem: dict[str, list] = {}
        for spec in specs:
            by_problem.setdefault(spec.problem, []).append(spec)
        return list(by_problem.values())

    def lane(self, batch) -> str:
        return "b" if batch[0].problem in ("beta", "gamma") else "a"

    def run(self, batch) -> RunResult:
        problem = batch[0].problem
        start = time.perf_counter()
        if self.meeting is not None and problem in ("alpha", "beta"):
            self.meeting.wait()  # raises BrokenBarrierError unless the other lane runs meanwhile
        self.spans[problem] = (start, time.perf_counter())
        if problem == self.fail_on:
            raise RuntimeError(f"{problem} broke")
        rows = pd.DataFrame(
            {"run_key": [s.key for s in batch], "problem": problem, "f_final": 1.0}
        ).assign(**{"start": [s.start for s in batch]})
        return RunResult(rows, pd.DataFrame(columns=CURVE_COLUMNS))


def _study() -> Study:
    return Study(
        runner="lanes",
        problems=("alpha", "beta", "gamma", "delta"),
        optimizers=(OptimizerEntry("sgd"),),
        starts=3,
    )


@pytest.fixture
def lanes(monkeypatch):
    def use(runner: LaneRunner) -> LaneRunner:
        monkeypatch.setattr(registry, "runner", lambda name: runner)
        return runner

    return use


def test_lanes_overlap_in_time_and_every_batch_is_written(lanes, tmp_path):
    runner = lanes(LaneRunner(meet=True))
    outcome = execute.run_study(_study(), tmp_path, quiet=True)
    rows = outcome.results.runs
    assert sorted(rows["problem"].unique()) == ["alpha", "beta", "delta", "gamma"]
    assert len(rows) == 12 and outcome.ran == 12
    assert ResultsStore(tmp_path).stored_keys() == {spec.key for spec in _study().specs()}
    (a0, a1), (b0, b1) = runner.spans["alpha"], runner.spans["beta"]
    assert a0 < b1 and b0 < a1, "the first batches of the two lanes ran at the same time"
    assert runner.spans["delta"][0] >= a1 and runner.spans["gamma"][0] >= b1, "in lane order"


def test_a_failing_batch_becomes_error_rows_and_the_other_lane_completes(lanes, tmp_path):
    lanes(LaneRunner(fail_on="gamma"))
    rows = execute.run_study(_study(), tmp_path, quiet=True).results.runs
    assert len(rows) == 12
    failed = rows[rows["status"] == "error"]
    assert sorted(failed["problem"]) == ["gamma"] * 3
    assert set(failed["message"]) == {"RuntimeError: gamma broke"}
    assert rows.loc[rows["status"] != "error", "f_final"].eq(1.0).all()


def test_duplicate_specs_run_once_and_are_not_counted_as_stored(lanes, tmp_path):
    lanes(LaneRunner())
    study = Study(runner="lanes", problems=("alpha", "alpha"),
                  optimizers=(OptimizerEntry("sgd"),), starts=2)  # fmt: skip
    first = execute.run_study(study, tmp_path, quiet=True)
    assert (first.ran, first.skipped) == (2, 0)
    again = execute.run_study(study, tmp_path, quiet=True)
    assert (again.ran, again.skipped) == (0, 2)
