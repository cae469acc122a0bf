"""Provenance recorded with every row: package versions, platform, device, git commit, time."""

from __future__ import annotations

import platform
import subprocess
import sys
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

CORE_PACKAGES = ("optbench", "numpy", "scipy", "pandas", "jax", "jaxlib", "optax")
KERAS_PACKAGES = ("tensorflow", "tensorflow-cpu", "keras")


def package_version(name: str) -> str | None:
    """The installed version of a distribution, or None when it is not installed."""
    try:
        return version(name)
    except PackageNotFoundError:
        return None


@cache
def git_commit() -> str | None:
    """The commit of the optbench checkout, when it runs from one."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


@cache
def _static(with_keras: bool) -> dict[str, str | None]:
    packages = CORE_PACKAGES + (KERAS_PACKAGES if with_keras else ())
    info: dict[str, str | None] = {
        "env.python": sys.version.split()[0],
        "env.platform": platform.platform(),
        "env.machine": platform.machine(),
        "env.git_commit": git_commit(),
    }
    info.update({f"env.{name}": package_version(name) for name in packages})
    return info


def environment(device: str, with_keras: bool = False) -> dict[str, str | None]:
    """The `env.*` columns for a row set produced on `device` now."""
    return _static(with_keras) | {
        "env.device": device,
        "env.time_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def jax_device() -> str:
    """The device JAX computes on, as `platform:kind` (e.g. `cpu:cpu`, `gpu:NVIDIA H100`)."""
    import jax

    device = jax.devices()[0]
    return f"{device.platform}:{getattr(device, 'device_kind', device.platform)}"
