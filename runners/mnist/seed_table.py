"""Rollups of network runs: accuracy, epochs and times per optimizer and swept setting."""

from __future__ import annotations

import pandas as pd

# The seed's published results for its runs, by the `label` option of the seed-mnist study.
SEED_RESULTS = pd.DataFrame(
    [
        {"option.label": "A", "seed_acc": 0.9727, "seed_metric": "val_acc", "seed_s": 517.0},
        {"option.label": "B", "seed_acc": 0.8252, "seed_metric": "val_acc", "seed_s": float("nan")},
        {"option.label": "C", "seed_acc": 0.9761, "seed_metric": "test_acc", "seed_s": 29.3},
    ]
)
METRICS = {
    "val_acc": "val_acc",
    "best_val_acc": "best_val_acc",
    "test_acc": "test_acc",
    "epochs": "epochs",
    "time_to_target": "time_to_target",
    "epoch_s": "epoch_s",
    "wall_s": "wall_s",
}


def varying_settings(runs: pd.DataFrame) -> list[str]:
    """The `hp.*` and `option.*` columns that take more than one value within some optimizer."""
    columns = [c for c in runs.columns if c.startswith(("hp.", "option."))]
    varying = runs.groupby("optimizer")[columns].nunique(dropna=True).gt(1).any()
    return [c for c in columns if varying[c] or c == "option.label"]


def summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per optimizer × swept settings: runs, mean and std (over seeds) of each metric."""
    keys = ["problem", "optimizer", *varying_settings(runs)]
    present = {name: column for name, column in METRICS.items() if column in runs}
    frame = runs.assign(
        converged=runs["status"].eq("converged"),
        **{k: pd.to_numeric(runs[c], errors="coerce") for k, c in present.items()},
    )
    grouped = frame.groupby(keys, dropna=False, sort=False)
    aggregations: dict[str, tuple[str, str]] = {
        "runs": ("run_key", "size"),
        "converged": ("converged", "mean"),
    }
    for name in present:
        aggregations[name] = (name, "mean")
        if name in ("val_acc", "test_acc"):
            aggregations[f"{name}_std"] = (name, "std")
    table = grouped.agg(**aggregations).reset_index()
    if "backend" in runs:
        backends = grouped["backend"].first().reset_index(drop=True)
        table.insert(2, "backend", backends)
    return table


def beside_seed(runs: pd.DataFrame) -> pd.DataFrame:
    """The summary with the seed's published accuracy and time beside ours (seed-mnist labels)."""
    table = summary(runs)
    if "option.label" not in table:
        return table
    table = table.merge(SEED_RESULTS, on="option.label", how="left")
    ours = [
        row["test_acc"] if row["seed_metric"] == "test_acc" else row["val_acc"]
        for _, row in table.iterrows()
    ]
    return table.assign(ours_acc=ours, diff_points=100 * (pd.Series(ours) - table["seed_acc"]))
