"""Shared fixtures: MNIST (a small set written here, the genuine one where the loader looks),
isolated results folders, fake plugin distributions."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import struct
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from optbench.runners.mnist import data as mnist_data

from optbench import registry

ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"
SMALL_TRAIN, SMALL_TEST = 720, 180
REAL_MNIST_MARK = "real_mnist"
# Every landscape in its default dimension and, where that is not fixed at 2, in 6-D; both
# instances (for the tests of the scipy path's translated derivatives).
LANDSCAPE_CASES = [
    (name, dim, instance)
    for name in registry.names("landscape")
    for dim in (None, 6)
    for instance in (0, 1)
    if dim is None or registry.landscape(name).default_dim != 2
]


def uniform_points(landscape, count: int, seed: int = 0) -> np.ndarray:
    """`count` seeded points spread uniformly over the landscape's box."""
    rng = np.random.default_rng(seed)
    width = landscape.upper - landscape.lower
    return landscape.lower + rng.random((count, landscape.dim)) * width


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{REAL_MNIST_MARK}: needs the genuine 70,000 MNIST images (else skipped)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the genuine MNIST, so `-m real_mnist` selects them."""
    for item in items:
        if "mnist_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(REAL_MNIST_MARK)


def real_mnist_places() -> list[Path]:
    """Where the genuine MNIST is looked for: $OPTBENCH_DATA when set (empty: nowhere), else
    ../shared/data/mnist beside the checkout; then the Keras cache's mnist.npz."""
    explicit = os.environ.get(mnist_data.DATA_ENV)
    places = {None: [SHARED_MNIST], "": []}.get(explicit, [Path(str(explicit))])
    return [*places, mnist_data.keras_cache() / "mnist.npz"]


def _holds_real_mnist(place: Path) -> bool:
    if place.suffix == ".npz":
        return place.is_file()
    return any((place / f"train-labels-idx1-ubyte{s}").is_file() for s in (".gz", ""))


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The genuine MNIST (a folder of IDX files, or Keras' mnist.npz); skips when absent."""
    places = real_mnist_places()
    for place in places:
        if _holds_real_mnist(place):
            return place
    pytest.skip(
        f"genuine MNIST not found in {', '.join(map(str, places))} "
        "(`optbench data download mnist`, or set OPTBENCH_DATA)"
    )


def small_arrays(seed: int = 0) -> mnist_data.Arrays:
    """A learnable MNIST-format set: digit k is a bright bar in rows 2k+4..2k+6, plus noise."""
    rng = np.random.default_rng(seed)

    def images(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = (np.arange(n) % 10).astype(np.uint8)
        rng.shuffle(labels)
        x = rng.integers(0, 60, (n, 28, 28))
        for k in range(10):
            x[labels == k, 2 * k + 4 : 2 * k + 7, 4:24] += 180
        return np.clip(x, 0, 255).astype(np.uint8), labels

    x_train, y_train = images(SMALL_TRAIN)
    x_test, y_test = images(SMALL_TEST)
    return mnist_data.Arrays(x_train, y_train, x_test, y_test, source="small")


def write_idx_gz(path: Path, array: np.ndarray, magic: int) -> None:
    """One IDX file, gzip-compressed, as the published MNIST files are."""
    header = struct.pack(f">I{array.ndim}I", magic, *array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes(), mtime=0))


@pytest.fixture(scope="session")
def small_mnist(tmp_path_factory) -> Path:
    """A folder with the four IDX .gz files of `small_arrays()` (720 train, 180 test images)."""
    folder = tmp_path_factory.mktemp("small-mnist")
    arrays = small_arrays()
    for key, stem in mnist_data.IDX_FILES.items():
        magic = mnist_data.IMAGE_MAGIC if key.startswith("x") else mnist_data.LABEL_MAGIC
        write_idx_gz(folder / f"{stem}.gz", getattr(arrays, key), magic)
    return folder


@pytest.fixture(scope="session")
def small_mnist_npz(tmp_path_factory) -> Path:
    """`small_arrays()` as a Keras-format mnist.npz."""
    path = tmp_path_factory.mktemp("small-npz") / "mnist.npz"
    arrays = small_arrays()
    np.savez_compressed(path, **{key: getattr(arrays, key) for key in mnist_data.IDX_FILES})
    return path


@pytest.fixture
def small_mnist_published(small_mnist, monkeypatch) -> Path:
    """The small set with its checksums standing in for MNIST's published ones."""
    sums = {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in small_mnist.glob("*.gz")
    }
    mnist = dataclasses.replace(mnist_data.DATASETS["mnist"], checksums=sums)
    monkeypatch.setitem(mnist_data.DATASETS, "mnist", mnist)
    return small_mnist


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
