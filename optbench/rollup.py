"""Rollups: functions over the runs table that summarise and rank optimizers (COCO-style).

Success at a target means the run's gap fell to the target; its cost is the evaluations it
took (`fev_to.<target>` when recorded, else `n_fev` of a converged run). The expected running
time (ERT) of a target is the evaluations of all runs, successful ones counted up to their
success, divided by the number of successes (infinite when none succeeded).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optbench.dedup import one_row_per_key

LADDER = tuple(10.0**k for k in range(1, -9, -1))
DEFAULT_TARGET = 1e-8


def target_label(target: float) -> str:
    mantissa, exponent = f"{target:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def varying_hyperparameters(runs: pd.DataFrame) -> list[str]:
    """The `hp.*` columns that take more than one value within some optimizer."""
    columns = [c for c in runs.columns if c.startswith("hp.")]
    settings = _settings(runs, columns)
    grouped = settings.groupby("optimizer")
    return [c for c in columns if (grouped[c].nunique(dropna=False) > 1).any()]


def _settings(runs: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The distinct (optimizer, hyperparameters) rows: a few hundred where runs are 10⁵."""
    return runs[["optimizer", *columns]].drop_duplicates()


def label_columns(runs: pd.DataFrame) -> list[str]:
    """What names an optimizer setting: the optimizer and its swept hyperparameters."""
    return ["optimizer", *varying_hyperparameters(runs)]


def labels(runs: pd.DataFrame) -> pd.Series:
    """One text label per row: `adam learning_rate=0.01` (only hyperparameters that vary)."""
    swept = varying_hyperparameters(runs)
    if not swept:
        return runs["optimizer"].astype(str)
    settings = _settings(runs, swept)
    varies = {c: settings.groupby("optimizer")[c].nunique(dropna=False) for c in swept}

    def text(optimizer, *values) -> str:
        shown = (
            f" {column.removeprefix('hp.')}={_text(value)}"
            for column, value in zip(swept, values, strict=True)
            if varies[column][optimizer] > 1
        )
        return str(optimizer) + "".join(shown)

    return _text_per_row(runs, ["optimizer", *swept], text)


def problem_labels(runs: pd.DataFrame) -> pd.Series:
    """The problem with its dimension and instance when given: `sphere:dim=2,instance=1`."""
    columns = [f"option.{n}" for n in ("dim", "instance") if f"option.{n}" in runs]
    if not columns:
        return runs["problem"].astype(str)

    def text(problem, *values) -> str:
        options = [
            f"{column.removeprefix('option.')}={int(v)}"
            for column, v in zip(columns, values, strict=True)
            if v is not None and not pd.isna(v)
        ]
        return f"{problem}:{','.join(options)}" if options else str(problem)

    return _text_per_row(runs, ["problem", *columns], text)


def _text_per_row(runs: pd.DataFrame, columns: list[str], text) -> pd.Series:
    """`text(*values)` of each row's `columns`, computed once per distinct combination."""
    grouped = runs.groupby(columns, dropna=False, sort=False)
    first = grouped.head(1)[columns]  # row k is group k, since sort=False
    texts = np.array([text(*key) for key in first.itertuples(index=False, name=None)], object)
    return pd.Series(texts[grouped.ngroup().to_numpy()], index=runs.index, dtype=object)


def _text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


def evaluations_to(runs: pd.DataFrame, target: float) -> pd.Series:
    """Evaluations until the gap fell to `target` (NaN where it never did)."""
    column = f"fev_to.{target_label(target)}"
    if column in runs:
        return runs[column].astype(float)
    reached = runs["f_gap"].astype(float) <= target
    return runs["n_fev"].astype(float).where(reached)


def ert(runs: pd.DataFrame, target: float) -> float:
    """Expected running time: all evaluations spent / successes (inf when none succeeded)."""
    hit = evaluations_to(runs, target)
    successes = int(hit.notna().sum())
    if successes == 0:
        return float("inf")
    spent = hit.where(hit.notna(), runs["n_fev"].astype(float)).sum()
    return float(spent / successes)


def success_rate(runs: pd.DataFrame, target: float) -> float:
    """The fraction of runs whose gap reached `target`."""
    return float(evaluations_to(runs, target).notna().mean()) if len(runs) else 0.0


def _final_target(runs: pd.DataFrame) -> float:
    targets = runs["target"].dropna().unique() if "target" in runs else []
    return float(targets[0]) if len(targets) == 1 else DEFAULT_TARGET


def summary(runs: pd.DataFrame, targets: tuple[float, ...] = LADDER) -> pd.DataFrame:
    """Per problem × optimizer (× swept hyperparameters): success, ERT, gap quartiles, time.

    A diverged run's gap is +inf, and so is the gap of a run that ends outside the domain
    (below the global minimum out there is escape, not quality), so no NaN comes out.
    A run stored twice counts once (`optbench.dedup.one_row_per_key`)."""
    runs = one_row_per_key(runs)
    final = _final_target(runs)
    gaps = runs["f_gap"].astype(float)
    if "in_bounds" in runs:
        gaps = gaps.where(runs["in_bounds"].astype(object).fillna(True).astype(bool), np.inf)
    n_fev = runs["n_fev"].astype(float)
    columns = {
        "problem": problem_labels(runs),
        "label": labels(runs),
        "gap": gaps.fillna(np.inf),
        "diverged": runs["status"].eq("diverged").astype(float),
        "n_fev": n_fev,
        "wall_s": runs["wall_s"].astype(float),
    }
    for i, target in enumerate((final, *targets)):
        hit = evaluations_to(runs, target)
        columns[f"hit{i}"] = hit.notna().astype(float)
        columns[f"spent{i}"] = hit.fillna(n_fev)
    grouped = pd.DataFrame(columns).groupby(["problem", "label"], sort=True)
    quartiles = grouped["gap"].quantile([0.25, 0.5, 0.75], interpolation="lower").unstack()
    out = grouped.agg(runs=("gap", "size"))
    sums = grouped.sum(numeric_only=True)
    with np.errstate(all="ignore"):  # infinite ERTs are values here, not accidents
        for i, target in enumerate((final, *targets)):
            successes, spent = sums[f"hit{i}"], sums[f"spent{i}"]
            suffix = "" if i == 0 else f".{target_label(target)}"
            out[f"success{suffix}"] = successes / out["runs"]
            out[f"ert{suffix}"] = np.where(successes > 0, spent / successes, np.inf)
            if i == 0:
                out["gap_q1"] = quartiles[0.25]
                out["median_gap"] = quartiles[0.5]
                out["gap_q3"] = quartiles[0.75]
                out["diverged"] = sums["diverged"] / out["runs"]
                out["median_fev"] = grouped["n_fev"].median()
                out["wall_s"] = sums["wall_s"]
    order = ["runs", "success", "ert", "gap_q1", "median_gap", "gap_q3", "diverged",
             "median_fev", "wall_s"]  # fmt: skip
    order += [f"success.{target_label(t)}" for t in targets]
    order += [f"ert.{target_label(t)}" for t in targets]
    return out[order].reset_index()


BY_INSTANCE = ("runs", "success", "ert", "median_gap")


def summary_by_instance(runs: pd.DataFrame, values: tuple[str, ...] = BY_INSTANCE) -> pd.DataFrame:
    """`summary` with instances side by side: a row per problem (instance dropped from its
    label) × setting, `VALUE.iK` columns per instance K (`runs.iK` is the n of `success.iK`)."""
    return by_instance(summary(runs, targets=()), values)


def by_instance(table: pd.DataFrame, values: tuple[str, ...] = BY_INSTANCE) -> pd.DataFrame:
    """`summary_by_instance` of a `summary` table already computed."""
    base, instance = split_instance(table["problem"])
    wide = table.assign(problem=base, instance=instance).pivot(
        index=["problem", "label"], columns="instance", values=list(values)
    )
    wide = wide.sort_index(axis=1, level="instance", sort_remaining=False)
    wide.columns = [f"{value}.i{k}" for value, k in wide.columns]
    counts = [c for c in wide.columns if c.startswith("runs.")]
    return wide.astype({c: "Int64" for c in counts}).reset_index()


def ranks(table: pd.DataFrame) -> pd.DataFrame:
    """Rank settings within each problem: higher success, then lower ERT, then lower median gap."""
    order = ["success", "ert", "median_gap"]
    ranked = table.sort_values(["problem", *order], ascending=[True, False, True, True])
    position = ranked.groupby("problem").cumcount() + 1
    ties = ranked.groupby(["problem", *order], dropna=False)
    return ranked.assign(rank=position.groupby(ties.ngroup()).transform("mean").astype(float))


def split_instance(problems: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Problem labels (`sphere:dim=2,instance=1`) → the label without the instance
    (`sphere:dim=2`) and the instance (0 where the label names none)."""
    text = {p: _without_instance(p) for p in problems.unique()}
    base = problems.map({p: t[0] for p, t in text.items()})
    return base, problems.map({p: t[1] for p, t in text.items()}).astype(int)


def _without_instance(problem: str) -> tuple[str, int]:
    name, _, options = str(problem).partition(":")
    kept, instance = [], 0
    for option in filter(None, options.split(",")):
        key, _, value = option.partition("=")
        if key == "instance":
            instance = int(value)
        else:
            kept.append(option)
    return (f"{name}:{','.join(kept)}" if kept else name), instance


def ranking(runs: pd.DataFrame) -> pd.DataFrame:
    """Optimizer settings ranked by mean rank across problems (ties share the mean rank).

    `n` is the runs behind each per-problem success rate (the fewest, where they differ).
    With several instances, each instance is a problem, and `success.iK` / `mean_rank.iK` /
    `n.iK` give instance K's share side by side."""
    return ranking_of(summary(runs, targets=()))


def ranking_of(table: pd.DataFrame) -> pd.DataFrame:
    """`ranking` of a `summary` table already computed."""
    ranked = ranks(table)
    overall = ranked.groupby("label").agg(
        mean_rank=("rank", "mean"),
        problems=("problem", "nunique"),
        success=("success", "mean"),
        n=("runs", "min"),
        median_gap=("median_gap", "median"),
        wins=("rank", lambda r: int((r == 1).sum())),
    )
    _, instance = split_instance(ranked["problem"])
    if instance.nunique() > 1:
        per = ranked.assign(instance=instance).groupby(["label", "instance"])
        side = per.agg(success=("success", "mean"), n=("runs", "min"),
                       mean_rank=("rank", "mean")).unstack("instance")  # fmt: skip
        side.columns = [f"{value}.i{k}" for value, k in side.columns]
        ks = sorted(instance.unique())
        order = [f"{v}.i{k}" for k in ks for v in ("success", "n")]
        overall = overall.join(side[order + [f"mean_rank.i{k}" for k in ks]])
    return overall.sort_values(["mean_rank", "median_gap"]).reset_index()


def landscape_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Problems × optimizers: success rate at the final target of each optimizer's best setting.

    With several instances the columns are (optimizer, instance) pairs, instances side by side."""
    return landscape_table_of(summary(runs, targets=()))


def landscape_table_of(table: pd.DataFrame) -> pd.DataFrame:
    """`landscape_table` of a `summary` table already computed."""
    best = _best_settings(table)
    base, instance = split_instance(best["problem"])
    if instance.nunique() <= 1:
        return best.pivot(index="problem", columns="optimizer", values="success").sort_index()
    best = best.assign(problem=base, instance=instance)
    wide = best.pivot(index="problem", columns=["optimizer", "instance"], values="success")
    return wide.sort_index().sort_index(axis=1)


def landscape_counts(runs: pd.DataFrame) -> pd.Series:
    """Runs behind each cell of `landscape_table` (the fewest over problems), same columns."""
    return landscape_counts_of(summary(runs, targets=()))


def landscape_counts_of(table: pd.DataFrame) -> pd.Series:
    """`landscape_counts` of a `summary` table already computed."""
    best = _best_settings(table)
    _, instance = split_instance(best["problem"])
    if instance.nunique() <= 1:
        return best.groupby("optimizer")["runs"].min()
    return best.assign(instance=instance).groupby(["optimizer", "instance"])["runs"].min()


def _best_settings(table: pd.DataFrame) -> pd.DataFrame:
    """Each optimizer's best-ranked setting on each problem of a `summary` table."""
    ranked = ranks(table)
    ranked["optimizer"] = ranked["label"].str.split(" ").str[0]
    return ranked.sort_values("rank").groupby(["problem", "optimizer"], sort=False).head(1)


def performance_profile(runs: pd.DataFrame, taus: np.ndarray | None = None) -> pd.DataFrame:
    """Dolan–Moré profile on ERT at the final target: fraction of problems within τ × the best."""
    table = summary(runs, targets=())
    best = table.groupby("problem")["ert"].transform("min")
    with np.errstate(all="ignore"):
        ratio = (table["ert"] / best).where(np.isfinite(best), np.inf)
    taus = np.logspace(0, 2, 41) if taus is None else np.asarray(taus, dtype=float)
    n_problems = table["problem"].nunique()
    rows = [
        {"label": label, "tau": tau, "fraction": float((r <= tau).sum() / n_problems)}
        for label, r in ratio.groupby(table["label"])
        for tau in taus
    ]
    return pd.DataFrame(rows, columns=["label", "tau", "fraction"])


def runtime_ecdf(
    runs: pd.DataFrame, targets: tuple[float, ...] = LADDER, budgets: np.ndarray | None = None
) -> pd.DataFrame:
    """Runtime ECDF: the fraction of (run, target) pairs solved within each evaluations / dim."""
    runs = one_row_per_key(runs)
    frame = runs.assign(label=labels(runs))
    dim = _dimension(frame)
    cost = pd.concat([evaluations_to(frame, t) / dim for t in targets], axis=1).to_numpy()
    if budgets is None:
        top = np.nanmax(cost) if np.isfinite(cost).any() else 1.0
        budgets = np.logspace(0, np.log10(max(top, 1.0)), 50)
    rows = []
    for label, index in frame.groupby("label").indices.items():
        solved = cost[index]
        for budget in budgets:
            rows.append({"label": label, "evaluations_per_dim": float(budget),
                         "fraction": float(np.mean(solved <= budget))})  # fmt: skip
    return pd.DataFrame(rows, columns=["label", "evaluations_per_dim", "fraction"])


def _dimension(runs: pd.DataFrame) -> pd.Series:
    """Each run's dimension (the `dim` column; 1 when the rows do not say)."""
    if "dim" not in runs:
        return pd.Series(1.0, index=runs.index)
    return runs["dim"].astype(float).fillna(1.0)
