"""Collect `bench_*.py` here: `pytest benchmarks/` runs the pytest-benchmark suites.

Hooks record what `optbench regress` needs beside the rounds: the machine's fingerprint, a
calibration kernel timed at the start and the end of the session, which benchmarks failed, and
whether `--quick` was on. `@pytest.mark.quick` marks the benchmarks of the CI tier (`-m quick`).
A run without `--benchmark-json`/`--benchmark-save` is saved with every round (autosave) under
`.benchmarks/` of the repository root, a file `optbench regress` reads.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_benchmark.utils import get_tag
from threadpoolctl import threadpool_limits

from optbench.regress import machine
from optbench.regress.runs import SCHEMA

START = pytest.StashKey[list[float]]()
END = pytest.StashKey[list[float]]()
BENCHMARKS = pytest.StashKey[set[str]]()
FAILED = pytest.StashKey[set[str]]()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    named = file_path.suffix == ".py" and file_path.name.startswith("bench_")
    if named and not parent.session.isinitpath(file_path):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--quick",
        action="store_true",
        default=False,
        help="optbench: smaller inputs (e.g. a 10,000-image MNIST subset) for the CI tier",
    )
    parser.addoption(
        "--max-rounds",
        type=int,
        default=None,
        help="optbench: at most this many rounds of each benchmark (blocks of interleaved runs)",
    )


class FailedBenchmarks:
    """Remembers the benchmarks whose test failed: pytest-benchmark saves no rounds for them."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed and report.nodeid in self.config.stash[BENCHMARKS]:
            self.config.stash[FAILED].add(report.nodeid)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if not (config.option.benchmark_json or config.option.benchmark_save):
        config.option.benchmark_autosave = get_tag()
        config.option.benchmark_save_data = True
    if config.option.benchmark_storage == "file://./.benchmarks":
        config.option.benchmark_storage = f"file://{config.rootpath / '.benchmarks'}"
    config.addinivalue_line("markers", "quick: in the quick tier CI runs (`-m quick`)")
    config.stash[START] = machine.calibrate_fresh()
    config.stash[BENCHMARKS] = set()
    config.stash[FAILED] = set()
    config.pluginmanager.register(FailedBenchmarks(config), "optbench-failed-benchmarks")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    config.stash[BENCHMARKS] = {
        item.nodeid for item in items if "benchmark" in getattr(item, "fixturenames", ())
    }


def _end_calibration(config: pytest.Config) -> list[float]:
    if END not in config.stash:
        config.stash[END] = machine.calibrate_fresh()
    return config.stash[END]


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    machine_info["optbench"] = {
        "schema": SCHEMA,
        "fingerprint": machine.fingerprint(),
        "calibration": machine.calibration(config.stash[START], _end_calibration(config)),
        "quick": bool(config.getoption("--quick")),
        "failed": sorted(config.stash[FAILED]),
    }


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if not config.stash[BENCHMARKS] or config.getoption("benchmark_disable", False):
        return
    record = machine.calibration(config.stash[START], _end_calibration(config))
    line = f"optbench calibration: {record['median_s'] * 1e3:.1f} ms, drift {record['drift']:+.1%}"
    terminalreporter.write_line(line)
    if "warning" in record:
        terminalreporter.write_line(f"optbench noise warning: {record['warning']}", yellow=True)


@pytest.fixture(scope="session")
def quick(request: pytest.FixtureRequest) -> bool:
    """Whether `--quick` asks for the small inputs of the CI tier."""
    return bool(request.config.getoption("--quick"))


@pytest.fixture(scope="session")
def rounds(request: pytest.FixtureRequest):
    """`rounds(default)`: the benchmark's own round count, capped by `--max-rounds N`."""
    cap = request.config.getoption("--max-rounds")
    return lambda default: default if cap is None else max(1, min(default, cap))


@pytest.fixture
def one_thread():
    """One BLAS/OpenMP thread for the benchmark that asks for it."""
    with threadpool_limits(limits=1):
        yield
