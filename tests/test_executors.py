"""Executors without a cluster: task shapes, the writer's once-per-key rule, errors, --status."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from optbench import execute, load_results, registry
from optbench.cli import main
from optbench.contracts import RunResult
from optbench.errors import OptbenchError
from optbench.executors import Finished, make_executor, tasks
from optbench.executors.local import LocalExecutor
from optbench.spec import RunSpec
from optbench.study import OptimizerEntry, Study


def _specs(problem: str, n: int) -> list[RunSpec]:
    return [RunSpec("toy", problem, "sgd", start=i) for i in range(n)]


class Echo:
    """Rows of start numbers; raises for starts listed in `bad`."""

    name = "echo"
    options: dict = {}  # noqa: RUF012

    def __init__(self, bad: tuple[int, ...] = ()):
        self.bad, self.calls = bad, 0

    def batches(self, specs):
        return [specs]

    def run(self, specs):
        self.calls += 1
        wrong = [s.start for s in specs if s.start in self.bad]
        if wrong:
            raise ArithmeticError(f"start {wrong[0]} overflows")
        rows = [s.columns() | {"status": "converged", "f_final": float(s.start)} for s in specs]
        return RunResult(pd.DataFrame(rows))


def test_large_batches_are_cut_but_never_below_the_split_size_and_small_ones_packed():
    big, small = _specs("big", 2000), [_specs(f"p{i}", 10) for i in range(60)]
    shaped = tasks.shaped([big, *small], slots=2)
    assert [len(t) for t in shaped] == [286] * 6 + [284, 250, 250, 100]
    assert [len(t.batches) for t in shaped[6:]] == [1, 25, 25, 10]
    assert [s for t in shaped for s in t.specs] == [*big, *(s for b in small for s in b)]
    alone = tasks.shaped([_specs("vectorized", 300)], slots=16)
    assert [len(t) for t in alone] == [300], "a 300-run program is not cut for 16 slots"


def test_task_keys_name_the_runs_they_hold_whatever_their_order():
    runs = _specs("a", 5)
    assert tasks.task_key([runs]) == tasks.task_key([runs[::-1]])
    assert tasks.task_key([runs]) != tasks.task_key([runs[:4]])
    assert len(tasks.task_key([runs])) == 16


def test_a_raising_batch_is_halved_until_the_raising_runs_are_error_rows():
    runner = Echo(bad=(5, 11))
    result = tasks.run_isolating(runner, _specs("a", 16))
    rows = result.rows.sort_values("start")
    assert list(rows["start"]) == list(range(16))
    errors = rows[rows["status"] == "error"]
    assert list(errors["start"]) == [5, 11]
    assert list(errors["message"]) == [
        "ArithmeticError: start 5 overflows",
        "ArithmeticError: start 11 overflows",
    ]
    assert rows.loc[rows["status"] == "converged", "f_final"].tolist() == [
        float(i) for i in range(16) if i not in (5, 11)
    ]
    assert runner.calls < 16


class Twice(LocalExecutor):
    """Hands every finished task back twice, as Dask may after a worker was lost."""

    def __init__(self, runner):
        super().__init__(runner)
        self._again: list[Finished] = []

    def next_finished(self) -> Finished:
        if self._again:
            return self._again.pop()
        finished = super().next_finished()
        self._again.append(finished)
        return finished


def test_a_task_that_finishes_twice_is_stored_once(tmp_path, monkeypatch):
    runner = Echo()
    monkeypatch.setattr(registry, "runner", lambda name: runner)
    engine = Twice(runner)
    store = execute.ResultsStore(tmp_path)
    written: set[str] = set()
    task = tasks.make_task([_specs("a", 4)])
    engine.submit(task)
    for _ in range(2):
        execute._write_once(store, engine.next_finished(), written)
    runs = load_results(tmp_path).runs
    assert len(runs) == 4 and not runs["run_key"].duplicated().any()
    assert len(list((tmp_path / "runs").glob(f"part-*-{task.key}.parquet"))) == 1


def test_unknown_executor_and_a_scheduler_without_dask_are_errors():
    with pytest.raises(OptbenchError, match="unknown executor 'ray'; allowed: local, dask"):
        make_executor("ray", Echo())
    with pytest.raises(OptbenchError, match="needs --executor dask"):
        make_executor("local", Echo(), scheduler="tcp://localhost:8786")


def test_status_counts_stored_and_left_runs_without_running(tmp_path):
    args = ["run", "-l", "beale", "-o", "l-bfgs-b", "--starts", "3", "--out", str(tmp_path), "-q"]
    cli = CliRunner()
    before = cli.invoke(main, [*args, "--status"])
    assert before.exit_code == 0, before.output
    name = "beale_l-bfgs-b_starts"  # an ad-hoc study is named after what it runs
    assert before.output.strip() == f"{name}=3: 0 of 3 run(s) done, 3 left ({tmp_path})"
    assert not (tmp_path / "runs").exists()
    assert cli.invoke(main, args).exit_code == 0
    after = cli.invoke(main, [*args[:6], "5", *args[7:], "--status"])
    assert after.output.strip() == f"{name}=5: 3 of 5 run(s) done, 2 left ({tmp_path})"
    bad = cli.invoke(main, [*args, "--scheduler", "tcp://localhost:1"])
    assert bad.exit_code == 2 and "needs --executor dask" in bad.output


def test_study_status_counts_duplicate_specs_once(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "runner", lambda name: Echo())
    study = Study(runner="echo", problems=("a", "a"), optimizers=(OptimizerEntry("sgd"),), starts=2)
    assert execute.study_status(study, tmp_path) == execute.StudyStatus(2, 0, 2)
