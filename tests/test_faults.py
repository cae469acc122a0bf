"""Faults during a study: failed runs are rows that are shown and retried, MemoryError is a
row, Ctrl-C/SIGTERM keep what finished (exit 130), pool workers die with their parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import wait_for

from optbench import OptimizerEntry, Study, load_results, run_study
from optbench.cli import main

HUNGRY = """
import os
from scipy.optimize import minimize


class Method:
    def minimize(self, objective, x0):
        if os.environ.get("HUNGRY_FAILS") == "1":
            raise MemoryError("Unable to allocate 74.5 GiB for an array")
        return minimize(objective.fun, x0, method="Nelder-Mead")


class Hungry:
    name = "hungry"
    family = "scipy"
    description = "Nelder-Mead, or a MemoryError while HUNGRY_FAILS=1."
    defaults = {}

    def build(self, **hyperparameters):
        return Method()


hungry = Hungry()
"""


@pytest.fixture
def hungry(fake_distribution):
    fake_distribution(
        "hungry-optimizer", "[optbench.optimizers]\nhungry = hungry_mod:hungry\n",
        {"hungry_mod": HUNGRY},
    )  # fmt: skip


def test_a_memory_error_is_that_runs_error_row(hungry, tmp_path, monkeypatch):
    monkeypatch.setenv("HUNGRY_FAILS", "1")
    study = Study(problems=("beale",), optimizers=(OptimizerEntry("hungry"),
                  OptimizerEntry("nelder-mead")), starts=2)  # fmt: skip
    runs = run_study(study, tmp_path, quiet=True).results.runs.set_index("optimizer")
    assert runs.loc["hungry", "status"].tolist() == ["error", "error"]
    assert (
        runs.loc["hungry", "message"].tolist()
        == ["MemoryError: Unable to allocate 74.5 GiB for an array"] * 2
    )
    assert set(runs.loc["nelder-mead", "status"]) <= {"converged", "budget"}
    assert runs.loc["nelder-mead", "f_gap"].lt(1.0).all()


def test_error_runs_are_shown_exit_1_and_are_retried(hungry, tmp_path, monkeypatch):
    args = ["run", "-l", "beale", "-o", "hungry", "--starts", "2", "--out", str(tmp_path), "-q"]
    monkeypatch.setenv("HUNGRY_FAILS", "1")
    failed = CliRunner().invoke(main, args)
    assert failed.exit_code == 1, failed.output
    assert "2 run(s) ended with an error (run again to retry them;" in failed.output
    assert "beale hungry seed=0 start=1" in failed.output
    assert "MemoryError: Unable to allocate 74.5 GiB for an array" in failed.output
    kept = CliRunner().invoke(main, [*args, "--no-retry-errors"])
    assert kept.exit_code == 1 and "ran 0 run(s), skipped 2 already stored" in kept.output
    monkeypatch.setenv("HUNGRY_FAILS", "0")
    retried = CliRunner().invoke(main, args)
    assert retried.exit_code == 0, retried.output
    assert (
        "ran 2 run(s), skipped 0" in retried.output and "ended with an error" not in retried.output
    )
    runs = load_results(tmp_path).runs
    assert set(runs["status"]) <= {"converged", "budget"} and len(runs) == 2
    assert CliRunner().invoke(main, args).output.count("skipped 2 already stored") == 1


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_keeps_the_batch_in_flight_and_exits_130(slow_runner, tmp_path, signum):
    marks, env, slow_command = slow_runner
    out = tmp_path / "out"
    study = subprocess.Popen(slow_command(out, 4, 1.5), env=env, stderr=subprocess.PIPE,
                             text=True)  # fmt: skip
    wait_for(lambda: any(marks.glob("started-1-*")), "the second batch")
    study.send_signal(signum)
    _, stderr = study.communicate(timeout=120)
    assert study.returncode == 130, stderr
    assert "stopping; the batches in flight finish and are written" in stderr
    assert sorted(load_results(out).runs["start"]) == [0, 1]
    assert not any(marks.glob("started-2-*"))


POOL_PARENT = """
import sys, time
from optbench import registry
from optbench.runners.landscape import scipy_pool

pool = scipy_pool._pool(2)
first = [pool.submit(registry.names, "optimizer") for _ in range(4)]
assert all("nelder-mead" in f.result() for f in first)
busy = [pool.submit(time.sleep, 300) for _ in range(2)]
time.sleep(0.5)
print(" ".join(str(pid) for pid in pool._processes), flush=True)
time.sleep(300)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def killed_pool_parent(tmp_path_factory):
    """A process with a busy scipy pool (and a broken plugin installed), killed by SIGKILL:
    its worker pids, whether they are gone 30 s later, and everything written to stderr."""
    folder = tmp_path_factory.mktemp("broken-plugin")
    info = folder / "broken-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[optbench.optimizers]\nbroken = broken_mod:nope\n")
    (folder / "broken_mod.py").write_text('raise ImportError("no such module")\n')
    env = os.environ | {"PYTHONPATH": str(folder)}
    command = [sys.executable, "-c", textwrap.dedent(POOL_PARENT)]
    parent = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    workers = [int(pid) for pid in parent.stdout.readline().split()]
    try:
        assert len(workers) == 2 and all(_alive(pid) for pid in workers)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        gone = not any(_alive(pid) for pid in workers)
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    return workers, gone, parent.stderr.read()


def test_pool_workers_die_with_a_killed_parent(killed_pool_parent):
    workers, gone, _ = killed_pool_parent
    assert gone, f"workers {workers} outlived their parent"


def test_a_broken_plugin_is_reported_once_on_one_line(killed_pool_parent, fake_distribution):
    _, _, worker_stderr = killed_pool_parent
    assert "broken" not in worker_stderr, "pool workers repeat the parent's plugin warning"
    fake_distribution(
        "broken", "[optbench.optimizers]\nbroken = broken_mod:nope\n",
        {"broken_mod": 'raise ImportError("no such module")'},
    )  # fmt: skip
    result = CliRunner().invoke(main, ["list", "optimizers"])
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "warning: skipping optimizer plugin 'broken' = 'broken_mod:nope' from distribution "
        "'broken': ImportError: no such module"
    ]
