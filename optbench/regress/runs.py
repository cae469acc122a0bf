"""pytest-benchmark JSON files as benchmark runs: every round, quality figures, machine info."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optbench.errors import OptbenchError
from optbench.quality import is_figure

SCHEMA = 1


@dataclass(frozen=True)
class Benchmark:
    """One benchmark of a run: its rounds (seconds), how many of them each interleaved block
    ran, and its typed quality figures."""

    name: str
    fullname: str
    rounds: tuple[float, ...]
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: bool = False
    block_sizes: tuple[int, ...] = ()

    @property
    def blocks(self) -> tuple[tuple[float, ...], ...]:
        """The rounds split by the block that ran them (one block when sizes are unknown)."""
        if len(self.block_sizes) < 2 or sum(self.block_sizes) != len(self.rounds):
            return (self.rounds,)
        edges = itertools.pairwise(itertools.accumulate(self.block_sizes, initial=0))
        return tuple(self.rounds[start:end] for start, end in edges)


@dataclass(frozen=True)
class BenchRun:
    """A whole `--benchmark-json` file (or several blocks of rounds merged into one)."""

    source: str
    benchmarks: dict[str, Benchmark]
    fingerprint: dict[str, Any] | None
    calibration: list[float]
    warnings: tuple[str, ...]
    quick: bool
    commit: str | None
    raw: dict[str, Any]


def _number(value: Any) -> float:
    return float(value)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OptbenchError(f"no such benchmark file: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise OptbenchError(f"{path} is not JSON ({exc})") from None
    _check_schema(path, data)
    return data


def _check_schema(path: Path, data: Any) -> None:
    """Raise unless `data` is pytest-benchmark JSON with every round and a known optbench part."""
    where = f"schema mismatch in {path}"
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise OptbenchError(f"{where}: no 'benchmarks' list (not a pytest-benchmark JSON file)")
    if not isinstance(data.get("machine_info"), dict):
        raise OptbenchError(f"{where}: no 'machine_info' object")
    for entry in data["benchmarks"]:
        name = entry.get("fullname") if isinstance(entry, dict) else None
        stats = entry.get("stats") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not isinstance(stats, dict):
            raise OptbenchError(f"{where}: a benchmark without 'fullname' and 'stats'")
        if not isinstance(stats.get("data"), list):
            raise OptbenchError(
                f"{where}: benchmark {name!r} has no rounds in stats.data "
                "(write the file with --benchmark-json)"
            )
    schema = data["machine_info"].get("optbench", {}).get("schema", SCHEMA)
    if schema != SCHEMA:
        raise OptbenchError(f"{where}: optbench schema {schema!r}; this optbench reads {SCHEMA}")


def _benchmark(entry: dict[str, Any], failed: set[str]) -> Benchmark:
    figures = {k: v for k, v in (entry.get("extra_info") or {}).items() if is_figure(v)}
    rounds = tuple(_number(v) for v in entry["stats"]["data"])
    failed_here = entry["fullname"] in failed
    sizes = tuple(_block_sizes(entry))
    return Benchmark(entry["name"], entry["fullname"], rounds, figures, failed_here, sizes)


def _block_sizes(entry: dict[str, Any]) -> list[int]:
    """How many rounds each merged block ran (one block for a plain pytest-benchmark entry)."""
    return [int(n) for n in entry["stats"].get("blocks", [len(entry["stats"]["data"])])]


def _failed_entries(names: set[str], known: set[str]) -> dict[str, Benchmark]:
    """Benchmarks whose test failed, so that pytest-benchmark saved no rounds for them."""
    return {
        name: Benchmark(name.rsplit("::", 1)[-1], name, (), {}, True)
        for name in names
        if name not in known
    }


def _files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("*.json")) if path.is_dir() else [path]
    if not files:
        raise OptbenchError(f"no benchmark JSON files in {', '.join(map(str, paths))}")
    return files


def load(paths: list[Path]) -> BenchRun:
    """One run from one JSON file, a folder of them, or several files: blocks of rounds of the
    same benchmarks (interleaved runs) are merged, their rounds concatenated in order."""
    data = merged_json(paths)
    info = data["machine_info"].get("optbench", {})
    failed = set(info.get("failed", []))
    benchmarks = {entry["fullname"]: _benchmark(entry, failed) for entry in data["benchmarks"]}
    cal = info.get("calibration") or {}
    timings = [_number(c) for c in [*cal.get("start_s", []), *cal.get("end_s", [])]]
    return BenchRun(
        source=", ".join(map(str, paths)),
        benchmarks=benchmarks | _failed_entries(failed, set(benchmarks)),
        fingerprint=info.get("fingerprint"),
        calibration=[c for c in timings if math.isfinite(c)],
        warnings=tuple(info.get("noise_warnings", [])),
        quick=bool(info.get("quick", False)),
        commit=(data.get("commit_info") or {}).get("id"),
        raw=data,
    )


def merged_json(paths: list[Path]) -> dict[str, Any]:
    """The pytest-benchmark JSON of several blocks merged: every round of each benchmark (with
    `stats.blocks`, how many each block ran), the calibration timings of every block; the rest
    from the first block."""
    blocks = [_read(path) for path in _files(paths)]
    out = json.loads(json.dumps(blocks[0]))
    entries = {entry["fullname"]: entry for entry in out["benchmarks"]}
    for entry in out["benchmarks"]:
        entry["stats"]["blocks"] = _block_sizes(entry)
    info = out["machine_info"].setdefault("optbench", {})
    cal = info.setdefault("calibration", {})
    failed = set(info.get("failed", []))
    noise = [cal["warning"]] if "warning" in cal else []
    for block in blocks[1:]:
        other = block["machine_info"].get("optbench", {})
        failed |= set(other.get("failed", []))
        extra = other.get("calibration") or {}
        noise += [extra["warning"]] if "warning" in extra else []
        cal["start_s"] = cal.get("start_s", []) + extra.get("start_s", [])
        cal["end_s"] = cal.get("end_s", []) + extra.get("end_s", [])
        for entry in block["benchmarks"]:
            mine = entries.get(entry["fullname"])
            if mine is None:
                entry["stats"]["blocks"] = _block_sizes(entry)
                entries[entry["fullname"]] = entry
                out["benchmarks"].append(entry)
            else:
                mine["stats"]["blocks"] += _block_sizes(entry)
                mine["stats"]["data"] += entry["stats"]["data"]
                mine["stats"]["rounds"] = len(mine["stats"]["data"])
    if failed:
        info["failed"] = sorted(failed)
    if noise:
        info["noise_warnings"] = noise
    return out
