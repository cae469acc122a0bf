"""Shared fixtures: the MNIST location, isolated results folders, fake plugin distributions."""

from __future__ import annotations

import os
import textwrap
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
