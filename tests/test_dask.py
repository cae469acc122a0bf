"""The Dask executor on real clusters of real processes: same rows as the local executor, workers
and drivers killed mid-study, nothing lost and nothing stored twice."""

from __future__ import annotations

import dataclasses
import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

distributed = pytest.importorskip("distributed")

from optbench import load_results  # noqa: E402
from optbench.execute import run_study  # noqa: E402
from optbench.executors import tasks  # noqa: E402
from optbench.executors.dask import LOST_WORKER_RETRIES, local_cluster  # noqa: E402
from optbench.study import OptimizerEntry, Study  # noqa: E402

TOY = """
import math
import os
import signal
import time

import pandas as pd

from optbench.contracts import RunResult


class Toy:
    name = "toy"
    description = "Sleeps, then a value of seed and start; 'doomed' kills, 'broken' raises."
    options = {}

    def batches(self, specs):
        groups = {}
        for spec in specs:
            groups.setdefault(spec.problem, []).append(spec)
        return list(groups.values())

    def run(self, specs):
        rows = []
        for spec in specs:
            if spec.problem == "doomed":
                os.kill(os.getpid(), signal.SIGKILL)
            if spec.problem == "stuck":
                time.sleep(3600)
            if spec.problem == "broken" and spec.start % 2:
                raise ValueError(f"start {spec.start} is odd")
            time.sleep(float(os.environ.get("TOY_SLEEP", "0")))
            value = math.sin(spec.seed + 0.1 * spec.start) * len(spec.problem)
            rows.append(spec.columns() | {"status": "converged", "f_final": value})
        return RunResult(pd.DataFrame(rows))


runner = Toy()
"""

DRIVER = """
import sys

from optbench.execute import run_study
from optbench.executors import tasks
from optbench.study import OptimizerEntry, Study

if __name__ == "__main__":
    tasks.PACK_UP_TO = int(sys.argv[3])
    study = Study(runner="toy", problems=tuple(sys.argv[2].split(",")),
                  optimizers=(OptimizerEntry("sgd"),), starts=12)
    run_study(study, sys.argv[1], quiet=True, executor=sys.argv[4])
"""

VALUE_COLUMNS = ["run_key", "problem", "seed", "start", "status", "f_final"]


@pytest.fixture
def toy(fake_distribution, tmp_path):
    """The toy runner, importable by this process, its spawned workers and subprocesses."""
    fake_distribution(
        "optbench-toy-runner",
        "[optbench.runners]\ntoy = toyrunner:runner\n",
        {"toyrunner": TOY, "toydriver": DRIVER},
    )
    return tmp_path


def _toy_study(problems: tuple[str, ...], starts: int = 12) -> Study:
    return Study(
        runner="toy",
        problems=problems,
        optimizers=(OptimizerEntry("sgd"),),
        starts=starts,
    )


def _keys(study: Study) -> set[str]:
    return {spec.key for spec in study.specs()}


def _expected_value(row) -> float:
    return math.sin(row.seed + 0.1 * row.start) * len(row.problem)


def _parts(out: Path) -> list[Path]:
    return sorted((out / "runs").glob("part-*.parquet"))


def _wait_for_parts(out: Path, count: int, limit_s: float = 120.0) -> None:
    deadline = time.monotonic() + limit_s
    while len(_parts(out)) < count:
        assert time.monotonic() < deadline, f"fewer than {count} parts after {limit_s} s"
        time.sleep(0.05)


def test_a_local_cluster_gives_the_rows_of_the_local_executor(tmp_path, monkeypatch):
    study = Study(
        problems=("beale", "rosenbrock"),
        optimizers=(OptimizerEntry("l-bfgs-b"), OptimizerEntry("nelder-mead")),
        starts=12,
        seeds=(3,),
    )
    monkeypatch.setattr(tasks, "PACK_UP_TO", 12)
    local = run_study(study, tmp_path / "local", quiet=True).results.runs
    with local_cluster(2) as cluster:
        spread = run_study(
            study,
            tmp_path / "dask",
            quiet=True,
            executor="dask",
            scheduler=cluster.scheduler_address,
        ).results.runs
    assert len(_parts(tmp_path / "dask")) == 2, "one part per task: a batch of 24 runs each"
    local, spread = (f.sort_values("run_key").reset_index(drop=True) for f in (local, spread))
    assert list(spread["run_key"]) == list(local["run_key"]) and len(local) == 48
    assert (spread["status"] == local["status"]).all()
    numeric = ["f_final", "f_gap", "x_dist", "n_fev", "n_gev", "nit", "fev_to_target"]
    for column in numeric:
        np.testing.assert_allclose(
            spread[column], local[column], rtol=1e-12, atol=0, err_msg=column
        )
    assert list(spread["x_final"]) == list(local["x_final"])


def _poll(read, limit_s: float = 60.0):
    """`read()`'s items, once some worker is busy."""
    deadline = time.monotonic() + limit_s
    while not any(keys for keys in read().values()):
        assert time.monotonic() < deadline, "no worker became busy"
        time.sleep(0.01)
    return read().items()


def test_a_worker_killed_mid_study_loses_no_run_and_stores_none_twice(toy, monkeypatch):
    study = _toy_study(("alpha", "beta", "gamma", "delta", "epsilon", "zeta"))
    monkeypatch.setattr(tasks, "PACK_UP_TO", 6)
    monkeypatch.setenv("TOY_SLEEP", "0.05")
    out = toy / "out"
    with local_cluster(2) as cluster, distributed.Client(cluster) as client:
        pids = client.run(os.getpid)
        outcome: dict = {}
        driver = threading.Thread(
            target=lambda: outcome.update(
                result=run_study(
                    study, out, quiet=True, executor="dask", scheduler=cluster.scheduler_address
                )
            )
        )
        driver.start()
        _wait_for_parts(out, 2)
        busy = next(w for w, keys in _poll(client.processing) if keys)
        os.kill(pids[busy], signal.SIGKILL)
        driver.join(timeout=120)
        assert not driver.is_alive()
    runs = load_results(out).runs
    assert set(runs["run_key"]) == _keys(study)
    assert not runs["run_key"].duplicated().any()
    assert (runs["status"] == "converged").all()
    assert outcome["result"].ran == 72


def test_faults_become_rows_and_the_rest_of_the_study_completes(toy, monkeypatch):
    study = _toy_study(("alpha", "doomed", "broken", "beta"), starts=6)
    timed = dataclasses.replace(_toy_study(("stuck", "gamma"), starts=6), budget={"seconds": 0.1})
    monkeypatch.setattr(tasks, "PACK_UP_TO", 6)
    monkeypatch.setattr(tasks, "HARD_LIMIT_GRACE_S", 3.0)
    with local_cluster(2) as cluster:
        address = cluster.scheduler_address
        outcome = run_study(study, toy / "out", quiet=True, executor="dask", scheduler=address)
        limited = run_study(timed, toy / "timed", quiet=True, executor="dask", scheduler=address)
    runs = outcome.results.runs.set_index("problem")
    assert len(runs) == 24 and not runs["run_key"].duplicated().any()
    doomed = runs.loc["doomed"]
    assert (doomed["status"] == "error").all()
    died = f"worker lost: KilledWorker: its worker died {LOST_WORKER_RETRIES + 1} times"
    assert doomed["message"].str.startswith(died).all(), doomed["message"].iloc[0]
    broken = runs.loc["broken"].sort_values("start")
    assert list(broken["status"]) == ["converged", "error"] * 3
    assert list(broken["message"].iloc[1::2]) == [
        f"ValueError: start {i} is odd" for i in (1, 3, 5)
    ]
    fine = outcome.results.runs[outcome.results.runs["problem"].isin(["alpha", "beta"])]
    assert (fine["status"] == "converged").all() and len(fine) == 12
    assert np.allclose(fine["f_final"], [_expected_value(r) for r in fine.itertuples()], rtol=1e-15)

    stuck = limited.results.runs.set_index("problem")
    assert (stuck.loc["stuck", "status"] == "timeout").all()
    assert set(stuck.loc["stuck", "message"]) == {
        "timeout: ran past its hard limit of 4.8 s; worker restarted"
    }
    assert (stuck.loc["gamma", "status"] == "converged").all()


def _start_driver(toy: Path, out: Path, problems: str, pack: int, executor: str, **kwargs):
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(toy), *sys.path]), "TOY_SLEEP": "0.1"}
    command = [sys.executable, str(toy / "toydriver.py"), str(out), problems, str(pack), executor]
    return subprocess.Popen(command, env=env, start_new_session=True, **kwargs)


def test_the_driver_killed_mid_study_then_rerun_runs_only_missing_keys(toy):
    problems = "alpha,beta,gamma,delta,epsilon,zeta"
    study = _toy_study(tuple(problems.split(",")))
    out = toy / "crashed"
    driver = _start_driver(toy, out, problems, 6, "dask")
    try:
        _wait_for_parts(out, 3)
        os.kill(driver.pid, signal.SIGKILL)
        assert driver.wait(timeout=30) == -signal.SIGKILL
    finally:
        os.killpg(driver.pid, signal.SIGKILL)  # its LocalCluster's processes
    stored = pd.concat([pq.read_table(p).to_pandas() for p in _parts(out)])
    assert 0 < len(stored) < 72 and not stored["run_key"].duplicated().any()
    rerun = run_study(study, out, quiet=True)
    assert (rerun.ran, rerun.skipped) == (72 - len(stored), len(stored))
    clean = run_study(study, toy / "clean", quiet=True).results.runs
    final = load_results(out).runs
    assert not final["run_key"].duplicated().any()
    final, clean = (
        f[VALUE_COLUMNS].sort_values("run_key").reset_index(drop=True) for f in (final, clean)
    )
    pd.testing.assert_frame_equal(final, clean)


CRASH_ON_RENAME = """
import os
import signal
import sys

import optbench.store

real = os.replace
calls = []


def crash_on_third_part(src, dst):
    calls.append(dst)
    if len(calls) == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(src, dst)


optbench.store.os.replace = crash_on_third_part
sys.argv = [sys.argv[0], *sys.argv[1:]]
exec(open(sys.argv[0].replace("toycrash.py", "toydriver.py")).read())
"""


def test_a_crash_between_temporary_write_and_rename_leaves_no_part_and_loses_nothing(toy):
    (toy / "toycrash.py").write_text(textwrap.dedent(CRASH_ON_RENAME))
    problems = "alpha,beta,gamma,delta"
    study = _toy_study(tuple(problems.split(",")))
    out = toy / "out"
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(toy), *sys.path])}
    command = [sys.executable, str(toy / "toycrash.py"), str(out), problems, "12", "local"]
    assert subprocess.run(command, env=env, timeout=120).returncode == -signal.SIGKILL
    leftovers = sorted(p.name for p in (out / "runs").iterdir() if p not in _parts(out))
    assert len(leftovers) == 1 and leftovers[0].endswith(".tmp"), leftovers
    assert len(_parts(out)) == 2
    assert len(load_results(out).runs) == 24
    rerun = run_study(study, out, quiet=True)
    assert (rerun.ran, rerun.skipped) == (24, 24)
    final = load_results(out).runs
    assert set(final["run_key"]) == _keys(study) and not final["run_key"].duplicated().any()
