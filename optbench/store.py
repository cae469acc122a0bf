"""The results store: a folder of Parquet part files, written whole or not at all.

Layout of a study folder::

    runs/part-<batch>.parquet     one row per run (schema in README.md, "Results schema")
    curves/part-<batch>.parquet   long table: run_key, step, name, value
    quarantine/runs|curves/...    parts that could not be read, set aside
    .optbench.lock                present while a process writes the folder

Each batch is written to a temporary name and renamed, so a crash loses at most the batch
in flight and never leaves a half-written part; temporary files a crash left behind are removed
by the next writer. One process writes at a time (`FolderLock`). Curves go first: a run counts
as stored once its row is, and curves without a row are dropped on load. Loading returns one row
per run key (`optbench.dedup.one_row_per_key`) with the curves of the part that row came from.
"""

from __future__ import annotations

import os
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from optbench.contracts import CURVE_COLUMNS, RunResult
from optbench.dedup import one_row_per_key
from optbench.errors import DamagedPartWarning, OptbenchError
from optbench.lock import FolderLock

RUNS = "runs"
CURVES = "curves"
QUARANTINE = "quarantine"
_PART = "_part"


@dataclass(frozen=True)
class Results:
    """A study's stored tables: `runs` (a row per run) and `curves` (long, keyed by run)."""

    runs: pd.DataFrame
    curves: pd.DataFrame


ONE_KIND = ("string", "empty", "boolean", "integer", "floating")


def keys_in(run_keys: pd.Series, keys: set[str]) -> np.ndarray:
    """Which of `run_keys` are in `keys`, as a mask: `Series.isin` on Arrow-backed text builds
    an Arrow scalar per member of the set (1.7 s for a 160,000-key study)."""
    values = run_keys.to_numpy(dtype=object)
    return np.fromiter((key in keys for key in values), bool, len(values))


def _parquet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns that mix kinds of value (numbers and text, say) become text, which Parquet
    can hold; a column of one kind (`ONE_KIND`, NumPy scalars included) stays as it is."""
    out = frame.copy()
    for column in out.columns[out.dtypes.map(lambda d: d is np.dtype(object))]:
        if pd.api.types.infer_dtype(out[column], skipna=True) in ONE_KIND:
            continue
        kinds = {type(v) for v in out[column] if v is not None and v == v}
        if len(kinds) > 1:
            out[column] = out[column].map(lambda v: v if v is None or v != v else str(v))
    return out


def _write_atomic(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    try:
        _parquet_safe(frame).to_parquet(partial, index=False)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _parts(folder: Path) -> list[Path]:
    return sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []


def column_order(frames: list[pd.DataFrame]) -> list[str]:
    """Every column of `frames`, each at its earliest position in any of them, ties by name:
    the same order whichever part was written first (parallel lanes finish in any order)."""
    earliest: dict[str, int] = {}
    for frame in frames:
        for position, name in enumerate(frame.columns):
            earliest[name] = min(earliest.get(name, position), position)
    return sorted(earliest, key=lambda name: (earliest[name], name))


class ResultsStore:
    """Reads and appends the part files of one study folder."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._lock: FolderLock | None = None

    @contextmanager
    def writing(self) -> Iterator[ResultsStore]:
        """Hold the folder's lock (created and checked writable now), removing what a crashed
        writer left; an OptbenchError names the folder and why it cannot be written."""
        if self._lock is not None:
            yield self
            return
        lock = FolderLock(self.path).acquire()
        self._lock = lock
        try:
            for folder in (RUNS, CURVES):
                for leftover in (self.path / folder).glob("*.tmp"):
                    leftover.unlink(missing_ok=True)
            yield self
        finally:
            self._lock = None
            lock.release()

    def _index(self) -> pd.DataFrame:
        """run_key, status (when stored), part name and completeness of every stored row."""
        frames = []
        lost_curves = self._quarantined(CURVES)
        for part in _parts(self.path / RUNS):
            table = self._read(part, RUNS, ("run_key", "status"))
            if table is not None:
                frames.append(table.assign(**{_PART: part.name}))
        if not frames:
            return pd.DataFrame(columns=["run_key", "status", _PART, "complete"])
        index = pd.concat(frames, ignore_index=True)
        if "status" not in index:
            index["status"] = None
        return index.assign(complete=~index[_PART].isin(lost_curves))

    def stored_keys(self) -> set[str]:
        """The run keys that have a row (any status)."""
        return set(self._index()["run_key"])

    def done_keys(self, retry_errors: bool = True) -> set[str]:
        """The run keys a rerun skips: those with a complete result, `error` rows counted only
        when `retry_errors` is False; rows whose curves part was set aside are redone."""
        index = self._index()
        done = index["complete"].astype(bool)
        if retry_errors:
            done &= index["status"].ne("error")
        return set(index.loc[done, "run_key"])

    def write(self, result: RunResult, name: str | None = None) -> Path | None:
        """Append one batch (curves, then rows); returns the runs part written. `name` (a task's
        key) ends the part's name, `part-<time>-<name>.parquet`, in place of a random suffix."""
        if result.rows.empty:
            return None
        with self.writing():
            batch = f"part-{time.time_ns():020d}-{name or uuid.uuid4().hex[:8]}.parquet"
            if not result.curves.empty:
                _write_atomic(result.curves, self.path / CURVES / batch)
            target = self.path / RUNS / batch
            _write_atomic(result.rows, target)
        return target

    def load(self, curves: bool = True) -> Results:
        """Every stored run once (see `one_row_per_key`) and its curves, as two DataFrames
        (`curves=False`: the rows only, an empty curves table)."""
        frames = [
            frame.assign(**{_PART: part.name})
            for part in _parts(self.path / RUNS)
            if (frame := self._read(part, RUNS)) is not None
        ]
        if not frames:
            raise OptbenchError(
                f"no results under {self.path}: expected {self.path / RUNS}/*.parquet"
            )
        runs = pd.concat(frames, ignore_index=True)[column_order(frames)]
        lost_curves = self._quarantined(CURVES)
        runs = one_row_per_key(runs, complete=~runs[_PART].isin(lost_curves).to_numpy())
        curve_frames = [
            frame.assign(**{_PART: part.name})
            for part in (_parts(self.path / CURVES) if curves else [])
            if (frame := self._read(part, CURVES)) is not None
        ]
        if curve_frames:
            points = pd.concat(curve_frames, ignore_index=True)
            chosen = pd.MultiIndex.from_frame(runs[["run_key", _PART]])
            keep = pd.MultiIndex.from_frame(points[["run_key", _PART]]).isin(chosen)
            table = points[keep].drop(columns=_PART).reset_index(drop=True)
        else:
            table = pd.DataFrame(columns=CURVE_COLUMNS)
        return Results(runs=runs.drop(columns=_PART).reset_index(drop=True), curves=table)

    def _read(
        self, part: Path, kind: str, columns: tuple[str, ...] | None = None
    ) -> pd.DataFrame | None:
        """A part as a DataFrame (only `columns` that it has, when given), or None after
        setting an unreadable part aside."""
        try:
            if not part.is_file():
                raise IsADirectoryError("not a file")
            parquet = pq.ParquetFile(part)
            names = parquet.schema_arrow.names
            if "run_key" not in names:
                raise ValueError("no run_key column")
            wanted = None if columns is None else [c for c in columns if c in names]
            return parquet.read(columns=wanted).to_pandas()
        except Exception as exc:  # a damaged part may fail in any way; it costs only itself
            self._quarantine(part, kind, exc)
            return None

    def _quarantine(self, part: Path, kind: str, problem: Exception) -> None:
        folder = self.path / QUARANTINE / kind
        target = folder / part.name
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if target.exists():
                target = folder / f"{part.name}.{uuid.uuid4().hex[:8]}"
            os.replace(part, target)
            where = f"moved to {target}"
        except OSError as exc:
            where = f"left in place ({exc.strerror or exc})"
        reason = f"{type(problem).__name__}: {problem}".splitlines()[0]
        warnings.warn(
            f"unreadable results part {part} ({reason}) {where}; its runs will be rerun",
            DamagedPartWarning,
            stacklevel=3,
        )

    def _quarantined(self, kind: str) -> set[str]:
        """The part names of `kind` set aside so far (their batch's other part is incomplete)."""
        folder = self.path / QUARANTINE / kind
        if not folder.is_dir():
            return set()
        return {p.name.split(".parquet")[0] + ".parquet" for p in folder.iterdir()}


def load_results(path: str | os.PathLike[str]) -> Results:
    """Load a study folder written by `optbench run` (or `run_study`)."""
    return ResultsStore(path).load()
