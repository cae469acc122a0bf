"""On a machine with no MNIST anywhere, the data tests skip with a reason and the rest pass."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_without_any_mnist_the_real_data_tests_skip_and_the_others_pass(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_HOME", "XDG_CACHE_HOME")}
    env |= {"OPTBENCH_DATA": "", "HOME": str(tmp_path), "OPTBENCH_JAX_CACHE": "0"}
    command = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"]
    chosen = "test_datasets or on_a_subset or losses_and_initializers or check_rejects or plateau"
    command += ["tests/test_datasets.py", "tests/test_mnist.py", "-k", chosen]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    tail = done.stdout[-3000:]
    assert done.returncode == 0, tail
    summary = done.stdout.strip().splitlines()[-1]
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", summary)}
    assert "error" not in counts and "errors" not in counts and "failed" not in counts, summary
    assert counts["skipped"] >= 6 and counts["passed"] >= 12, summary
    reasons = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert sum("genuine MNIST not found" in line for line in reasons) >= 3, tail
    assert all(str(tmp_path) in line for line in reasons if "genuine MNIST" in line), tail
