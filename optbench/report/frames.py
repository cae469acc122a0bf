"""The inputs of a report: result sets read and joined, each run labelled with its setting."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from optbench import registry, rollup
from optbench.errors import OptbenchError
from optbench.store import Results, ResultsStore

Source = Results | str | os.PathLike[str]


@dataclass(frozen=True)
class ReportData:
    """Landscape runs and network runs (with their curves) and where each set came from."""

    runs: pd.DataFrame
    curves: pd.DataFrame
    sources: tuple[str, ...]

    @property
    def landscapes(self) -> pd.DataFrame:
        return self.runs[self.runs["runner"].eq("landscape")]

    @property
    def networks(self) -> pd.DataFrame:
        return self.runs[self.runs["runner"].ne("landscape")]


def _read(source: Source, curves: bool) -> tuple[Results, str]:
    if isinstance(source, Results):
        return source, "(in memory)"
    path = Path(source)
    if not path.is_dir():
        raise OptbenchError(f"results folder {str(path)!r} does not exist")
    return ResultsStore(path).load(curves=curves), str(path)


def read(
    sources: Source | Sequence[Source], curves: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame, tuple[str, ...]]:
    """Every result set read and joined, unlabelled: runs (a run_key stored in two sets counts
    once, from the later set; `source` and `source_index` added), curves (none unless `curves`)
    and the sets' names."""
    if isinstance(sources, Results | str | os.PathLike):
        sources = [sources]
    if not sources:
        raise OptbenchError("a report needs at least one results folder")
    runs, curve_frames, names = [], [], []
    for i, source in enumerate(sources):
        results, name = _read(source, curves)
        runs.append(results.runs.assign(source=name, source_index=i))
        curve_frames.append(results.curves)
        names.append(name)
    frame = pd.concat(runs, ignore_index=True).drop_duplicates("run_key", keep="last")
    kept = [c for c in curve_frames if not c.empty] or [curve_frames[0]]
    curve = pd.concat(kept, ignore_index=True)
    return frame.reset_index(drop=True), curve, tuple(names)


def gather(sources: Source | Sequence[Source], curves: bool = True) -> ReportData:
    """Every result set read and joined, with `setting`, `problem_label` and `group` added."""
    runs, curve, names = read(sources, curves)
    return ReportData(label_runs(runs), curve, names)


def label_runs(runs: pd.DataFrame, groups: bool = True) -> pd.DataFrame:
    """Runs with `setting` (optimizer and swept hyperparameters), `problem_label` and `group`
    (`groups=False`: landscape runs get group "-", which spares importing the landscapes)."""
    out = runs.copy()
    out["setting"] = ""
    out["problem_label"] = out["problem"].astype(str)
    out["group"] = "network"
    for runner, index in out.groupby("runner").groups.items():
        part = out.loc[index]
        out.loc[index, "setting"] = rollup.labels(part).to_numpy()
        if runner == "landscape":
            out.loc[index, "problem_label"] = rollup.problem_labels(part).to_numpy()
            out.loc[index, "group"] = _groups(part) if groups else "-"
    return out


def _groups(part: pd.DataFrame) -> list[str]:
    """Each landscape run's group, looked up once per (problem, dim) pair."""
    dims = part["dim"].astype(float) if "dim" in part else pd.Series(2.0, index=part.index)
    pairs = pd.MultiIndex.from_arrays([part["problem"].astype(str), dims])
    found = {pair: landscape_group(*pair) for pair in pairs.unique()}
    return [found[pair] for pair in pairs]


def landscape_group(problem: str, dim: float) -> str:
    """`n-D` above two dimensions, else the landscape's modality tag."""
    if np.isfinite(dim) and dim > 2:
        return "n-D"
    return "unimodal" if "unimodal" in _tags(problem) else "multimodal"


@cache
def _tags(problem: str) -> frozenset[str]:
    try:
        plugin = registry.landscape(problem)
    except OptbenchError:
        return frozenset()
    return frozenset(getattr(plugin, "tags", frozenset()))


def optimizer_colours(optimizers: Sequence[str]) -> dict[str, tuple]:
    """One colour per optimizer, by sorted name: the same in every figure of a report."""
    from matplotlib import colormaps

    names = sorted(set(optimizers))
    tab20 = colormaps["tab20"].colors
    palette = [*tab20[0::2], *tab20[1::2], *colormaps["tab20b"].colors]
    return {name: palette[i % len(palette)] for i, name in enumerate(names)}
