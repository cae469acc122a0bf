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
from optbench.store import Results, load_results

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


def _read(source: Source) -> tuple[Results, str]:
    if isinstance(source, Results):
        return source, "(in memory)"
    path = Path(source)
    if not path.is_dir():
        raise OptbenchError(f"results folder {str(path)!r} does not exist")
    return load_results(path), str(path)


def gather(sources: Source | Sequence[Source]) -> ReportData:
    """Read every result set, join them and add `setting`, `problem_label` and `group`."""
    if isinstance(sources, Results | str | os.PathLike):
        sources = [sources]
    if not sources:
        raise OptbenchError("a report needs at least one results folder")
    runs, curves, names = [], [], []
    for i, source in enumerate(sources):
        results, name = _read(source)
        runs.append(results.runs.assign(source=name, source_index=i))
        curves.append(results.curves)
        names.append(name)
    frame = pd.concat(runs, ignore_index=True).drop_duplicates("run_key", keep="last")
    curve = pd.concat([c for c in curves if not c.empty] or [curves[0]], ignore_index=True)
    return ReportData(label_runs(frame.reset_index(drop=True)), curve, tuple(names))


def label_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs with `setting` (optimizer and swept hyperparameters), `problem_label` and `group`."""
    out = runs.copy()
    out["setting"] = ""
    out["problem_label"] = out["problem"].astype(str)
    out["group"] = "network"
    for runner, index in out.groupby("runner").groups.items():
        part = out.loc[index]
        out.loc[index, "setting"] = rollup.labels(part).to_numpy()
        if runner == "landscape":
            out.loc[index, "problem_label"] = rollup.problem_labels(part).to_numpy()
            dims = part["dim"].astype(float) if "dim" in part else pd.Series(2.0, index=index)
            pairs = pd.MultiIndex.from_arrays([part["problem"].astype(str), dims])
            groups = {pair: landscape_group(*pair) for pair in pairs.unique()}
            out.loc[index, "group"] = [groups[pair] for pair in pairs]
    return out


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
