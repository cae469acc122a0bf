"""Search fits of the landscape runner: a configuration's "folds" are its seeded starts, its
score on a fold is 1 when that run reached the target (so mean_test_score is the success rate),
and the landscape runner's own vectorized program runs every configuration × start at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
from optbench.runners.search import fits

from optbench import registry
from optbench.contracts import RunResult
from optbench.errors import OptbenchError
from optbench.spec import RunSpec


def check(wrapped: RunSpec) -> None:
    registry.runner("landscape").check(wrapped)


def start_spec(spec: RunSpec) -> RunSpec:
    """The landscape run of a fit: the wrapped spec from the fold's seeded start."""
    wrapped, _, fold, _ = fits.unwrap(spec)
    if fold == "refit":
        raise OptbenchError("a landscape search has no refit: its folds are seeded starts")
    return replace(wrapped, start=int(fold))


def run_fits(specs: Sequence[RunSpec]) -> RunResult:
    """Every fit's landscape run, through the landscape runner's batches (one program each)."""
    landscape = registry.runner("landscape")
    runs = {start_spec(s).key: s for s in specs}
    wrapped = [start_spec(s) for s in specs]
    frames, curves = [], []
    for batch in landscape.batches(wrapped):
        result = landscape.run(batch)
        frames.append(result.rows)
        curves.append(result.curves)
    rows = pd.concat(frames, ignore_index=True)
    fit_keys = rows["run_key"].map(lambda k: runs[k].key)
    rows = rows.assign(
        landscape_run_key=rows["run_key"],
        run_key=fit_keys,
        runner="search",
        test_score=np.where(rows["status"].eq("converged"), 1.0, 0.0),
        final_gap=rows["f_gap"],
        fit_time=rows.get("wall_s", np.nan),
        score_time=0.0,
        backend="landscape",
        members_together=len(specs),
        compile_s=rows.get("compile_s", np.nan),
    )
    for name in (f"option.{fits.PREFIX}{k}" for k in ("runner", "cv", "fold", "backend")):
        values = {s.key: dict(s.columns()).get(name) for s in specs}
        rows[name] = rows["run_key"].map(values)
    curve = pd.concat(curves, ignore_index=True)
    curve = curve.assign(run_key=curve["run_key"].map(lambda k: runs[k].key if k in runs else k))
    return RunResult(rows, curve)
