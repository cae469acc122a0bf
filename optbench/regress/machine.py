"""What makes benchmark numbers move: the machine's fingerprint and a fixed calibration kernel."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib import metadata
from typing import Any

import numpy as np

from optbench.workers import cpu_count

PACKAGES = ("numpy", "scipy", "jax", "jaxlib", "optax", "tensorflow", "keras")
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "XLA_FLAGS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "JAX_PLATFORMS",
    "OPTBENCH_WORKERS",
)
KERNEL = "128x128 float64 matmul x 40 (one BLAS thread) + 20,000-step Python float loop"
KERNEL_REPEATS = 5
DRIFT_WARNING = 0.10


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what `platform` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(name: str) -> str | None:
    for distribution in (name, f"{name}-cpu"):
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return None


def blas() -> list[dict[str, Any]]:
    """BLAS/OpenMP libraries loaded by NumPy and SciPy, as threadpoolctl reports them."""
    import scipy.linalg  # noqa: F401  (loads scipy's BLAS so that threadpoolctl sees it)
    from threadpoolctl import threadpool_info

    keys = ("user_api", "internal_api", "version", "num_threads", "threading_layer")
    found = [
        {k: pool.get(k) for k in keys if pool.get(k) is not None} for pool in threadpool_info()
    ]
    return sorted(found, key=repr)


def fingerprint() -> dict[str, Any]:
    """Everything that must match for times and exact quality figures to be comparable."""
    return {
        "cpu_model": cpu_model(),
        "cpu_count": cpu_count(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in PACKAGES},
        "blas": blas(),
        "threads": {name: os.environ.get(name) for name in THREAD_VARIABLES},
    }


def machine_kind(print_: dict[str, Any]) -> str:
    """A file-name-safe machine class, e.g. `linux-x86_64-2cpu`, naming a committed baseline."""
    system = str(print_.get("platform", "unknown")).split("-", 1)[0].lower()
    return f"{system}-{print_.get('machine', 'unknown')}-{print_.get('cpu_count', 0)}cpu"


def _kernel() -> float:
    """Run the fixed calibration kernel once; its result keeps the work from being skipped."""
    from threadpoolctl import threadpool_limits

    a = np.random.default_rng(0).standard_normal((128, 128)) / 128
    b = np.eye(128)
    with threadpool_limits(limits=1):
        for _ in range(40):
            b = a @ b + np.eye(128)
    total = 0.0
    for i in range(20_000):
        total += (i % 7) * 0.5
    return float(b[0, 0]) + total


def calibrate(repeats: int = KERNEL_REPEATS) -> list[float]:
    """Seconds of each of `repeats` runs of the kernel (one run first, untimed, to warm up)."""
    _kernel()
    seconds = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        _kernel()
        seconds.append(time.perf_counter() - t0)
    return seconds


def calibrate_fresh(repeats: int = KERNEL_REPEATS) -> list[float]:
    """`calibrate` in a new interpreter, so that it times the machine and not this process:
    after TensorFlow's import the kernel's matmul ran 70% slower in the importing process
    (4.1 -> 7.1 ms on a 2-core EPYC), which read as the machine's speed drifting."""
    code = "import json, sys; from optbench.regress.machine import calibrate; "
    code += "print(json.dumps(calibrate(int(sys.argv[1]))))"
    command = [sys.executable, "-c", code, str(repeats)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return [float(s) for s in json.loads(done.stdout.strip().splitlines()[-1])]


def calibration(start: list[float], end: list[float]) -> dict[str, Any]:
    """The calibration record: kernel times at the start and end of a run and their drift."""
    first, last = statistics.median(start), statistics.median(end)
    drift = last / first - 1.0
    record: dict[str, Any] = {
        "kernel": KERNEL,
        "start_s": start,
        "end_s": end,
        "median_s": statistics.median(start + end),
        "drift": drift,
    }
    if abs(drift) > DRIFT_WARNING:
        record["warning"] = noise_warning(drift)
    return record


def noise_warning(drift: float) -> str:
    change = f"{abs(drift):.0%} {'slower' if drift > 0 else 'faster'}"
    return (
        f"the calibration kernel ran {change} at the end of the run than at its start: the "
        "machine's speed changed while benchmarking, so time ratios are noisy"
    )
