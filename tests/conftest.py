"""Shared fixtures: the MNIST location, isolated results folders, fake plugin distributions."""

from __future__ import annotations

import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from optbench import registry

ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The genuine MNIST IDX files: $OPTBENCH_DATA, else ../shared/data/mnist."""
    path = Path(os.environ.get("OPTBENCH_DATA", SHARED_MNIST))
    if (
        not (path / "train-labels-idx1-ubyte.gz").exists()
        and not (path / "train-labels-idx1-ubyte").exists()
    ):
        pytest.fail(f"MNIST not found at {path}: set OPTBENCH_DATA to the folder of the IDX files")
    return path


@pytest.fixture
def fake_distribution(tmp_path, monkeypatch):
    """Make a distribution with entry points importable from a temp dir, for registry tests."""

    def make(name: str, entry_points: str, modules: dict[str, str] | None = None) -> Path:
        info = tmp_path / f"{name.replace('-', '_')}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
        for module, source in (modules or {}).items():
            (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
        registry.refresh()
        return info

    monkeypatch.syspath_prepend(str(tmp_path))
    yield make
    registry.refresh()


SLOW_RUNNER = """
import os, pathlib, time
import pandas as pd
from optbench.contracts import RunResult


class Slow:
    name = "slow"
    description = "One run per batch; marks when each starts and holds it until told or timed out."
    options = {"marks": None, "hold": 0.0}

    def batches(self, specs):
        for spec in specs:
            yield [spec]

    def run(self, specs):
        spec = specs[0]
        marks = pathlib.Path(spec.opts["marks"])
        (marks / f"started-{spec.start}-{os.getpid()}").write_text("")
        deadline = time.time() + spec.opts["hold"]
        while time.time() < deadline and not (marks / "release").exists():
            time.sleep(0.02)
        row = {"run_key": spec.key, "problem": spec.problem, "optimizer": spec.optimizer,
               "seed": spec.seed, "start": spec.start, "status": "budget"}
        return RunResult(pd.DataFrame([row]))

    def summary(self, runs):
        return runs[["problem", "optimizer", "start", "status"]]


runner = Slow()
"""


@pytest.fixture
def slow_runner(fake_distribution, tmp_path):
    """A `slow` runner plugin that `optbench` subprocesses find (PYTHONPATH): one run per batch,
    each marking `marks/started-<start>-<pid>` and lasting `hold` s or until `marks/release`
    exists. Returns (marks, env, command(out, starts, hold))."""
    fake_distribution(
        "slow-runner", "[optbench.runners]\nslow = slow_runner_mod:runner\n",
        {"slow_runner_mod": SLOW_RUNNER},
    )  # fmt: skip
    marks = tmp_path / "marks"
    marks.mkdir()
    env = os.environ | {"PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}

    def command(out: Path, starts: int, hold: float) -> list[str]:
        return [sys.executable, "-m", "optbench", "run", "-q", "-r", "slow", "-l", "p",
                "-o", "sgd", "--starts", str(starts), "--set", f"marks={marks}",
                "--set", f"hold={hold}", "--out", str(out)]  # fmt: skip

    return marks, env, command


def wait_for(condition, what: str, timeout: float = 120.0) -> None:
    """Poll `condition` until true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
