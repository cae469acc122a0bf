"""Rollups: functions over the runs table that summarise and rank optimizers."""

from __future__ import annotations

import pandas as pd


def varying_hyperparameters(runs: pd.DataFrame) -> list[str]:
    """The `hp.*` columns that take more than one value within some optimizer."""
    columns = [c for c in runs.columns if c.startswith("hp.")]
    return [c for c in columns if (runs.groupby("optimizer")[c].nunique(dropna=True) > 1).any()]


def summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per problem × optimizer (× swept hyperparameters): success rate, gaps, evaluations, time."""
    keys = ["problem", "optimizer", *varying_hyperparameters(runs)]
    frame = runs.assign(success=runs["status"].eq("converged"))
    grouped = frame.groupby(keys, dropna=False, sort=True)
    table = grouped.agg(
        runs=("run_key", "size"),
        success_rate=("success", "mean"),
        diverged=("status", lambda s: int((s == "diverged").sum())),
        median_gap=("f_gap", "median"),
        best_f=("f_final", "min"),
        median_x_dist=("x_dist", "median"),
        median_fev=("n_fev", "median"),
        wall_s=("wall_s", "sum"),
    )
    return table.reset_index()


def ranking(runs: pd.DataFrame) -> pd.DataFrame:
    """Optimizers ranked by mean rank across problems (by success rate, then median gap)."""
    table = summary(runs)
    label_columns = ["optimizer", *(c for c in table.columns if c.startswith("hp."))]
    table["label"] = table[label_columns].astype(str).agg(" ".join, axis=1)
    table = table.sort_values(["problem", "success_rate", "median_gap"], ascending=[True, False, True])
    table["rank"] = table.groupby("problem").cumcount() + 1
    overall = table.groupby("label").agg(
        mean_rank=("rank", "mean"),
        success_rate=("success_rate", "mean"),
        median_gap=("median_gap", "median"),
    )
    return overall.sort_values(["mean_rank", "median_gap"]).reset_index()
