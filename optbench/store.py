"""The results store: a folder of Parquet part files, written whole or not at all.

Layout of a study folder::

    runs/part-<batch>.parquet     one row per run (schema in README.md, "Results schema")
    curves/part-<batch>.parquet   long table: run_key, step, name, value

Each batch is written to a temporary name and renamed, so a crash loses at most the batch
in flight and never leaves a half-written part. Curves go first: a run counts as stored once
its row is, and curves without a row are dropped on load.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from optbench.contracts import CURVE_COLUMNS, RunResult
from optbench.errors import OptbenchError

RUNS = "runs"
CURVES = "curves"


@dataclass(frozen=True)
class Results:
    """A study's stored tables: `runs` (a row per run) and `curves` (long, keyed by run)."""

    runs: pd.DataFrame
    curves: pd.DataFrame


def _parquet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns that mix Python types become text, which Parquet can hold."""
    out = frame.copy()
    for column in out.columns[out.dtypes.map(lambda d: d is np.dtype(object))]:
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


class ResultsStore:
    """Reads and appends the part files of one study folder."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)

    def stored_keys(self) -> set[str]:
        """The run keys already stored, read from the `run_key` column alone."""
        keys: set[str] = set()
        for part in _parts(self.path / RUNS):
            keys.update(pq.read_table(part, columns=["run_key"]).column(0).to_pylist())
        return keys

    def write(self, result: RunResult) -> Path | None:
        """Append one batch (curves, then rows); returns the runs part written."""
        if result.rows.empty:
            return None
        batch = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        if not result.curves.empty:
            _write_atomic(result.curves, self.path / CURVES / batch)
        target = self.path / RUNS / batch
        _write_atomic(result.rows, target)
        return target

    def load(self, curves: bool = True) -> Results:
        """Every stored row and curve point, as two DataFrames (`curves=False`: rows only)."""
        run_parts = _parts(self.path / RUNS)
        if not run_parts:
            raise OptbenchError(
                f"no results under {self.path}: expected {self.path / RUNS}/*.parquet"
            )
        runs = pd.concat([pd.read_parquet(p) for p in run_parts], ignore_index=True)
        curve_parts = _parts(self.path / CURVES) if curves else []
        if curve_parts:
            curves = pd.concat([pd.read_parquet(p) for p in curve_parts], ignore_index=True)
            curves = curves[curves["run_key"].isin(runs["run_key"])].reset_index(drop=True)
        else:
            curves = pd.DataFrame(columns=CURVE_COLUMNS)
        return Results(runs=runs, curves=curves)


def load_results(path: str | os.PathLike[str]) -> Results:
    """Load a study folder written by `optbench run` (or `run_study`)."""
    return ResultsStore(path).load()
