"""Refuse before running what cannot fit: scipy methods that keep a dense n×n matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optbench.errors import OptbenchError

GIB = 2**30
ALWAYS_DENSE = {
    "BFGS": "its inverse-Hessian approximation",
    "trust-exact": "the exact Hessian",
    "dogleg": "the exact Hessian",
    "SLSQP": "its quasi-Newton Hessian",
}
DENSE_WITH_EXACT_HESSIAN = ("Newton-CG", "trust-ncg", "trust-krylov")


def dense_reason(method: str, hyperparameters: dict[str, Any]) -> str | None:
    """Which n×n matrix a scipy `minimize` method keeps with these settings, or None."""
    hess = hyperparameters.get("hess", "exact")
    if method in ALWAYS_DENSE:
        return ALWAYS_DENSE[method]
    if method in DENSE_WITH_EXACT_HESSIAN and hess == "exact":
        return "the exact Hessian (hess=exact; hess=hessp does not)"
    if method == "trust-constr" and hess != "hessp":
        return f"a dense Hessian (hess={hess}; hess=hessp does not)"
    return None


def available_bytes() -> int:
    """Memory this process can still take: MemAvailable, capped by a cgroup v2 limit."""
    available = _meminfo_available()
    cgroup = Path("/sys/fs/cgroup")
    try:
        limit = (cgroup / "memory.max").read_text().strip()
        if limit != "max":
            used = int((cgroup / "memory.current").read_text())
            available = min(available, int(limit) - used)
    except (OSError, ValueError):
        pass
    return available


def _meminfo_available() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    import os

    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def check_dense(optimizer: str, method: str, hyperparameters: dict[str, Any], dim: int) -> None:
    """Raise when one n×n float64 matrix of the method exceeds the memory available."""
    reason = dense_reason(method, hyperparameters)
    if reason is None:
        return
    needed = 8 * dim * dim
    available = available_bytes()
    if needed > available:
        raise OptbenchError(
            f"{optimizer} keeps {reason} as a dense {dim}×{dim} matrix: at least "
            f"{needed / GIB:.1f} GiB at dim={dim}, more than the {available / GIB:.1f} GiB "
            "of memory available; use l-bfgs-b or cg (or a smaller dim)"
        )
