"""A third-party plugin package, installed into the test environment with pip, then removed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from optbench import load_results

PACKAGE = Path(__file__).parent / "plugin_pkg"
DISTRIBUTION = "optbench-example-plugin"
OPTBENCH = [sys.executable, "-m", "optbench"]


def pip(*args: str, check: bool = True) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
        check=check,
        capture_output=True,
    )


def optbench(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a fresh process, run outside the checkout so only installed metadata counts."""
    return subprocess.run(
        [*OPTBENCH, *args], capture_output=True, text=True, timeout=300, cwd=Path(PACKAGE).anchor
    )


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory):
    """Install a copy of tests/plugin_pkg (so no build files land in the tree); uninstall after."""
    source = tmp_path_factory.mktemp("plugin") / "plugin_pkg"
    shutil.copytree(PACKAGE, source)
    pip("install", "--no-deps", "--no-build-isolation", "--no-index", str(source))
    yield DISTRIBUTION
    pip("uninstall", "-y", DISTRIBUTION, check=False)


def test_installed_plugin_is_listed_run_and_removed(installed_plugin, tmp_path):
    landscapes = optbench("list", "landscapes").stdout
    optimizers = optbench("list", "optimizers").stdout
    assert any(
        line.startswith("example-bowl") and DISTRIBUTION in line for line in landscapes.splitlines()
    )
    assert any(
        line.startswith("example-signsgd") and DISTRIBUTION in line and "optax" in line
        for line in optimizers.splitlines()
    )

    run = optbench(
        "run",
        "-q",
        "-l",
        "example-bowl:dim=3",
        "-o",
        "example-signsgd:lr=0.001",
        "-o",
        "bfgs",
        "--starts",
        "2",
        "--steps",
        "8000",
        "--out",
        str(tmp_path),
    )
    assert run.returncode == 0, run.stderr
    runs = load_results(tmp_path).runs.set_index("optimizer")
    assert set(runs["problem"]) == {"example-bowl"}
    for optimizer in ("example-signsgd", "bfgs"):
        for x in runs.loc[[optimizer], "x_final"]:
            assert np.allclose(json.loads(x), [1.0, 1.0, 1.0], atol=2e-3)
    assert (runs["f_final"] >= 2.0).all()

    pip("uninstall", "-y", installed_plugin)
    assert "example-bowl" not in optbench("list", "landscapes").stdout
    gone = optbench("run", "-q", "-l", "example-bowl", "-o", "bfgs", "--out", str(tmp_path / "x"))
    assert gone.returncode == 2
    assert "unknown landscape 'example-bowl'" in gone.stderr
