"""The report's tables: leaderboard with ERT intervals, runtime ECDFs, profiles, win rates."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from optbench import rollup
from optbench.report.intervals import percentile_intervals

SECOND_TARGET = 1e-4
BOOTSTRAP_SAMPLES = 999
PROFILE_TAUS = np.logspace(0, 2, 81)
ALGOPERF_MAX_RATIO = 4.0
MIN_PROBLEMS_FOR_PROFILES = 5


def study_target(runs: pd.DataFrame) -> float:
    """The final target every run of the study shares (1e-8 when they differ or say none)."""
    targets = runs["target"].dropna().unique() if "target" in runs else []
    return float(targets[0]) if len(targets) == 1 else rollup.DEFAULT_TARGET


def success_per_evaluation(hit: np.ndarray, spent: np.ndarray, axis: int = -1) -> np.ndarray:
    """Successes / evaluations spent: 1 / ERT, finite even where no run succeeded (0)."""
    return hit.sum(axis=axis) / spent.sum(axis=axis)


def ert_intervals(
    cells: Sequence[tuple[np.ndarray, np.ndarray]],
    seed: int = 0,
    samples: int = BOOTSTRAP_SAMPLES,
) -> np.ndarray:
    """Percentile bootstrap intervals of ERT, (low, high) per cell of (hit, spent) runs: runs
    resampled with replacement, as COCO's simulated restarts draw them. The bootstrap runs on
    successes per evaluation (scipy.stats.bootstrap, vectorized over cells); its bounds
    inverted are ERT's (∞ where a resample holds no success; a cell without success is [∞, ∞])."""
    rates = percentile_intervals(
        [(hit.astype(float), spent) for hit, spent in cells],
        success_per_evaluation,
        paired=True,
        resamples=samples,
        seed=seed,
    )
    out = np.empty_like(rates)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:, 0], out[:, 1] = 1 / rates[:, 1], 1 / rates[:, 0]
    for i, (hit, spent) in enumerate(cells):
        if not hit.any():
            out[i] = np.inf
        elif hit.size == 1:  # every resample is the run itself
            out[i] = spent.sum() / hit.sum()
    return out


def leaderboard(runs: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Per problem × setting: k/n at the study target and at 1e-4, ERT with a bootstrap interval,
    median evaluations and steps to target, gap quartiles, median wall time, rank (1 = best)."""
    target = study_target(runs)
    table = rollup.ranks(rollup.summary(runs, targets=(SECOND_TARGET,)))
    fev = rollup.evaluations_to(runs, target)
    hit = fev.notna()
    frame = pd.DataFrame(
        {
            "problem": rollup.problem_labels(runs),
            "label": rollup.labels(runs),
            "fev": fev,
            "spent": fev.where(hit, runs["n_fev"].astype(float)),
            "steps": _steps_to(runs, target).where(hit),
            "wall_s": runs["wall_s"].astype(float),
        }
    )
    grouped = frame.groupby(["problem", "label"], sort=True)
    fevs, spent = frame["fev"].to_numpy(), frame["spent"].to_numpy()
    positions = grouped.indices
    cells = [(np.isfinite(fevs[i]), spent[i]) for i in positions.values()]
    intervals = ert_intervals(cells, seed)
    keys = pd.MultiIndex.from_tuples(list(positions), names=["problem", "label"])
    extra = pd.DataFrame(
        {
            "median_fev_to_target": grouped["fev"].median(),
            "median_steps_to_target": grouped["steps"].median(),
            "median_wall_s": grouped["wall_s"].median(),
        }
    )
    extra = extra.join(pd.DataFrame(intervals, index=keys, columns=["ert_low", "ert_high"]))
    extra = extra[["ert_low", "ert_high", *extra.columns[:3]]]
    table = table.join(extra, on=["problem", "label"])
    label_2 = rollup.target_label(SECOND_TARGET)
    table["successes"] = (table["success"] * table["runs"]).round().astype(int)
    table[f"successes.{label_2}"] = (table[f"success.{label_2}"] * table["runs"]).round()
    table[f"successes.{label_2}"] = table[f"successes.{label_2}"].astype(int)
    table["best"] = table["rank"].eq(table.groupby("problem")["rank"].transform("min"))
    return table.sort_values(["problem", "rank", "label"]).reset_index(drop=True)


def _steps_to(runs: pd.DataFrame, target: float) -> pd.Series:
    column = f"steps_to.{rollup.target_label(target)}"
    if column in runs:
        return runs[column].astype(float)
    return pd.Series(np.nan, index=runs.index)


def best_settings(ranking: pd.DataFrame) -> list[str]:
    """The best-ranked setting of each optimizer, in ranking order: one line per optimizer."""
    optimizers = ranking["label"].str.split(" ").str[0]
    return ranking["label"][~optimizers.duplicated()].tolist()


def runtime_ecdf(
    runs: pd.DataFrame, targets: tuple[float, ...] = rollup.LADDER, points: int = 60
) -> tuple[pd.DataFrame, pd.Series]:
    """COCO's runtime ECDF over every (run, target) pair, by setting, and its area score.

    Runtime is evaluations / dimension; the area is the mean of the curve over a log-spaced
    budget grid from 1 to the largest budget any run spent (1 = every target hit at once)."""
    labels = runs["setting"].to_numpy()
    dims = runs["dim"].astype(float).fillna(1.0).to_numpy() if "dim" in runs else 1.0
    cost = np.column_stack([rollup.evaluations_to(runs, t).to_numpy() for t in targets])
    cost = np.where(np.isfinite(cost), cost / np.reshape(dims, (-1, 1)), np.inf)
    top = float(np.nanmax(runs["n_fev"].astype(float).to_numpy() / dims))
    budgets = np.logspace(0, np.log10(max(top, 10.0)), points)
    rows, areas = [], {}
    for label in pd.unique(labels):
        solved = np.sort(cost[labels == label].ravel())
        fraction = np.searchsorted(solved, budgets, side="right") / solved.size
        areas[label] = float(fraction.mean())
        rows.append(pd.DataFrame({"setting": label, "budget": budgets, "fraction": fraction}))
    return pd.concat(rows, ignore_index=True), pd.Series(areas, name="auc")


def performance_profile(table: pd.DataFrame, settings: list[str]) -> tuple[pd.DataFrame, pd.Series]:
    """Dolan–Moré profile on ERT at the study target over problems, and AlgoPerf's score:
    the profile's mean over ratios 1..4 (1 = best on every problem)."""
    chosen = table[table["label"].isin(settings)]
    best = chosen.groupby("problem")["ert"].transform("min")
    with np.errstate(all="ignore"):
        ratio = (chosen["ert"] / best).where(np.isfinite(best) & np.isfinite(chosen["ert"]))
    ratio = ratio.fillna(np.inf)
    n_problems = chosen["problem"].nunique()
    grid = np.linspace(1.0, ALGOPERF_MAX_RATIO, 301)
    rows, scores = [], {}
    for label in settings:
        r = np.sort(ratio[chosen["label"].eq(label)].to_numpy())
        fraction = np.searchsorted(r, PROFILE_TAUS, side="right") / n_problems
        rows.append(pd.DataFrame({"setting": label, "tau": PROFILE_TAUS, "fraction": fraction}))
        scores[label] = float(np.mean(np.searchsorted(r, grid, side="right") / n_problems))
    return pd.concat(rows, ignore_index=True), pd.Series(scores, name="algoperf_score")


def win_rates(table: pd.DataFrame, settings: list[str]) -> pd.DataFrame:
    """Share of common problems on which the row setting ranks better than the column one."""
    ranks = table[table["label"].isin(settings)].pivot(
        index="problem", columns="label", values="rank"
    )[settings]
    values = ranks.to_numpy()
    out = np.full((len(settings), len(settings)), np.nan)
    for i in range(len(settings)):
        for j in range(len(settings)):
            both = np.isfinite(values[:, i]) & np.isfinite(values[:, j])
            if i != j and both.any():
                out[i, j] = float(np.mean(values[both, i] < values[both, j]))
    return pd.DataFrame(out, index=settings, columns=settings)


def provenance(runs: pd.DataFrame) -> pd.DataFrame:
    """Per result set: rows, runners, devices, commits, versions and the time span of its runs."""
    env = [c for c in runs.columns if c.startswith("env.") and c != "env.time_utc"]
    rows = []
    for source, part in runs.groupby("source", sort=False):
        row = {"results": source, "runs": len(part), "runner": _values(part["runner"])}
        for column in env:
            row[column.removeprefix("env.")] = _values(part[column])
        if "env.time_utc" in part:
            times = part["env.time_utc"].dropna().astype(str)
            row["time_utc"] = f"{times.min()} – {times.max()}" if len(times) else "-"
        rows.append(row)
    return pd.DataFrame(rows)


def _values(column: pd.Series) -> str:
    values = sorted(str(v) for v in column.dropna().unique())
    return ", ".join(values) if values else "-"
