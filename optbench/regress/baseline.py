"""Committed baselines: one pytest-benchmark JSON per machine kind, naming the commit it ran."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from optbench.errors import OptbenchError
from optbench.regress.machine import machine_kind
from optbench.regress.runs import merged_json


def make_baseline(runs: list[Path]) -> dict[str, Any]:
    """The merged run, stamped with the commit it ran and its machine kind; a run of a checkout
    with uncommitted changes names no commit and is refused."""
    data = merged_json(runs)
    commit = data.get("commit_info") or {}
    if not commit.get("id"):
        raise OptbenchError("the run names no git commit (commit_info.id): run it in a checkout")
    if commit.get("dirty"):
        raise OptbenchError(
            f"the run was made with uncommitted changes on {commit['id'][:10]}: commit them, "
            "rerun the benchmarks, then update the baseline"
        )
    info = data["machine_info"].setdefault("optbench", {})
    info["baseline"] = {
        "commit": commit["id"],
        "machine_kind": machine_kind(info.get("fingerprint") or {}),
        "made": datetime.now(UTC).isoformat(timespec="seconds"),
        "sources": [str(p) for p in runs],
    }
    return data


def write_baseline(path: Path, data: dict[str, Any]) -> None:
    """Write atomically (temporary name, then rename) so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(partial, path)


def baseline_commit(path: Path) -> str:
    """The commit a committed baseline ran."""
    data = json.loads(path.read_text(encoding="utf-8"))
    found = (data.get("machine_info", {}).get("optbench", {}).get("baseline") or {}).get("commit")
    if not found:
        raise OptbenchError(f"{path} is no optbench baseline (no machine_info.optbench.baseline)")
    return found
