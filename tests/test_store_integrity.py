"""A study folder under faults: two writers, run twice, damaged parts, leftovers, bad --out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import wait_for

from optbench import ResultsStore, RunResult, load_results, registry, rollup, run_study
from optbench.cli import main
from optbench.errors import DamagedPartWarning, OptbenchError
from optbench.study import OptimizerEntry, Study


def raw_rows(out: Path) -> int:
    return sum(len(pd.read_parquet(p)) for p in (out / "runs").glob("part-*.parquet"))


def test_a_second_writer_is_refused_naming_the_holder(slow_runner, tmp_path):
    marks, env, slow_command = slow_runner
    out = tmp_path / "out"
    first = subprocess.Popen(slow_command(out, 3, 60), env=env, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: any(marks.glob("started-0-*")), "the first writer's first run")
        second = subprocess.run(
            slow_command(out, 3, 60), env=env, capture_output=True, text=True, timeout=120
        )
    finally:
        (marks / "release").write_text("")
        first.wait(timeout=120)
    assert first.returncode == 0
    assert second.returncode == 2, second.stderr
    assert f"being written by another optbench process (pid {first.pid})" in second.stderr
    assert raw_rows(out) == 3
    assert not (out / ".optbench.lock").exists()


def test_a_dead_holder_does_not_block(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from optbench.lock import FolderLock; "
         "FolderLock(sys.argv[1]).acquire(); print('held', flush=True); time.sleep(600)",
         str(tmp_path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(OptbenchError, match=f"pid {holder.pid}"):
        ResultsStore(tmp_path).write(RunResult(pd.DataFrame({"run_key": ["a"]})))
    holder.kill()
    holder.wait()
    ResultsStore(tmp_path).write(RunResult(pd.DataFrame({"run_key": ["a"]})))
    assert load_results(tmp_path).runs["run_key"].tolist() == ["a"]


def _rows(keys, status="budget", value=1.0) -> pd.DataFrame:
    return pd.DataFrame({"run_key": keys, "problem": "beale", "optimizer": "sgd", "seed": 0,
                         "start": range(len(keys)), "status": status, "f_gap": value,
                         "n_fev": 10, "wall_s": 0.1})  # fmt: skip


def _curves(keys, value=1.0) -> pd.DataFrame:
    return pd.DataFrame({"run_key": list(keys) * 2, "step": [0] * len(keys) + [9] * len(keys),
                         "name": "f_gap", "value": value})  # fmt: skip


def test_a_run_stored_twice_loads_and_counts_once(tmp_path):
    store = ResultsStore(tmp_path)
    store.write(RunResult(_rows(["a", "b"], value=1.0), _curves(["a", "b"], 1.0)))
    store.write(RunResult(_rows(["a", "b"], value=2.0), _curves(["a", "b"], 2.0)))
    store.write(RunResult(_rows(["c"], status="error", value=float("nan"))))
    store.write(RunResult(_rows(["c"], value=3.0), _curves(["c"], 3.0)))
    loaded = load_results(tmp_path)
    assert loaded.runs["run_key"].tolist() == ["a", "b", "c"]
    assert loaded.runs["f_gap"].tolist() == [1.0, 1.0, 3.0], "first complete result per key"
    assert len(loaded.curves) == 6
    assert loaded.curves.groupby("run_key")["value"].first().tolist() == [1.0, 1.0, 3.0]
    merged = pd.concat([loaded.runs, loaded.runs], ignore_index=True)
    assert rollup.summary(merged, targets=())["runs"].tolist() == [3]


class TwoBatches:
    """A runner with a batch per problem, each row with a two-point curve."""

    name = "two"
    options: ClassVar[dict] = {}

    def batches(self, specs):
        by_problem: dict[str, list] = {}
        for spec in specs:
            by_problem.setdefault(spec.problem, []).append(spec)
        return list(by_problem.values())

    def run(self, batch) -> RunResult:
        keys = [s.key for s in batch]
        return RunResult(_rows(keys).assign(problem=batch[0].problem), _curves(keys))


def test_damaged_parts_are_set_aside_and_only_their_runs_rerun(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "runner", lambda name: TwoBatches())
    study = Study(runner="two", problems=("p", "q", "r"), optimizers=(OptimizerEntry("sgd"),),
                  starts=2)  # fmt: skip
    run_study(study, tmp_path, quiet=True)
    runs = sorted((tmp_path / "runs").glob("part-*.parquet"))
    curves = sorted((tmp_path / "curves").glob("part-*.parquet"))
    runs[0].write_bytes(runs[0].read_bytes()[:100])  # truncated: batch p
    curves[1].write_bytes(b"")  # empty curves part: batch q keeps rows, loses curves
    (tmp_path / "runs" / "part-x.parquet").write_text("not parquet")
    (tmp_path / "runs" / "part-dir.parquet").mkdir()
    (tmp_path / "curves" / "part-junk.parquet").write_bytes(b"PAR1junk")
    leftover = tmp_path / "runs" / (runs[2].name + ".tmp")
    leftover.write_bytes(b"half a file")
    with pytest.warns(DamagedPartWarning) as caught:
        loaded = load_results(tmp_path)
    messages = sorted(str(w.message) for w in caught)
    assert len(messages) == 5
    for name in (runs[0].name, curves[1].name, "part-x.parquet", "part-dir.parquet",
                 "part-junk.parquet"):  # fmt: skip
        assert sum(name in m for m in messages) == 1
    assert all("\n" not in m and "quarantine" in m for m in messages)
    assert sorted(loaded.runs["problem"]) == ["q", "q", "r", "r"]
    assert set(loaded.curves["run_key"]) == set(
        loaded.runs.loc[loaded.runs.problem == "r", "run_key"]
    )
    assert len(list((tmp_path / "quarantine").rglob("part-*"))) == 5
    again = run_study(study, tmp_path, quiet=True)
    assert (again.ran, again.skipped) == (4, 2), "p lost its rows, q its curves; r is whole"
    assert not leftover.exists()
    final = load_results(tmp_path)
    assert sorted(final.runs["problem"]) == ["p", "p", "q", "q", "r", "r"]
    assert final.curves.groupby("run_key").size().tolist() == [2] * 6


def test_an_unusable_out_is_refused_before_any_run(tmp_path, monkeypatch):
    runner = TwoBatches()
    ran = []
    monkeypatch.setattr(runner, "run", lambda batch: ran.append(batch))
    monkeypatch.setattr(registry, "runner", lambda name: runner)
    afile = tmp_path / "afile.txt"
    afile.write_text("")
    result = CliRunner().invoke(main, ["run", "-q", "-r", "two", "-l", "p", "-o", "sgd",
                                       "--out", str(afile / "sub")])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert f"cannot write results to {str(afile / 'sub')!r}: Not a directory" in result.output
    assert ran == [] and afile.is_file()
