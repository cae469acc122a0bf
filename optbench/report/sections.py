"""The report's sections, each built only where the results hold its data."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from optbench import rollup
from optbench.report import bands, figures, tables, views
from optbench.report.frames import ReportData
from optbench.report.render import Section, Table, picture, slug

TRAJECTORY_STARTS = 3
GROUPS = ("unimodal", "multimodal", "n-D")
MAX_NETWORK_FIGURES = 24


def _ladder_text() -> str:
    return f"{rollup.target_label(rollup.LADDER[0])} … {rollup.target_label(rollup.LADDER[-1])}"


def leaderboard_section(board: pd.DataFrame, target: float, top: int) -> Section:
    """Per landscape, its `top` settings ranked; the best marked; the full table in a CSV."""
    t2 = rollup.target_label(tables.SECOND_TARGET)
    shown = board.groupby("problem", sort=True).head(top)
    frame = pd.DataFrame(
        {
            "landscape": shown["problem"],
            "setting": shown["label"],
            "rank": shown["rank"],
            f"ok@{rollup.target_label(target)}": _k_of_n(shown["successes"], shown["runs"]),
            f"ok@{t2}": _k_of_n(shown[f"successes.{t2}"], shown["runs"]),
            "ERT": shown["ert"],
            "ERT 95% CI": [
                _interval(a, b) for a, b in zip(shown["ert_low"], shown["ert_high"], strict=True)
            ],
            "median evals to target": shown["median_fev_to_target"],
            "median steps to target": shown["median_steps_to_target"],
            "median gap": shown["median_gap"],
            "gap Q1–Q3": [
                _interval(a, b, 3) for a, b in zip(shown["gap_q1"], shown["gap_q3"], strict=True)
            ],
            "median wall s": shown["median_wall_s"],
        }
    )
    section = Section("Leaderboard", "leaderboard")
    section.text.append(
        f"Per landscape, its {top} best optimizer settings (rank 1 = best: more successes at "
        f"the study target {target:g}, then lower ERT, then lower median final gap; ties share "
        "a rank). ok = successful runs of all runs. ERT = expected running time in function "
        "evaluations (all evaluations spent / successes, COCO), with a 95% percentile bootstrap "
        "interval over resampled runs; ∞ = no success. Gaps are f − f_min at the end. The best "
        "setting of each landscape is marked. Every setting is in leaderboard.csv."
    )
    section.tables.append(("", Table.of(frame, marked=shown["best"])))
    return section


def _k_of_n(k: pd.Series, n: pd.Series) -> list[str]:
    return [f"{int(a)}/{int(b)}" for a, b in zip(k, n, strict=True)]


def _interval(low: float, high: float, digits: int = 4) -> str:
    from optbench.report.render import cell

    return f"[{cell(float(low), digits)}, {cell(float(high), digits)}]"


def ranking_section(ranking: pd.DataFrame, top: int = 25) -> Section:
    """Settings by mean rank over landscapes."""
    section = Section("Overall ranking", "ranking")
    section.text.append(
        "Settings ordered by their mean rank over the landscapes they ran on (ranked as in the "
        "leaderboard); success is the mean success rate at the study target; wins counts "
        f"landscapes where the setting ranked first. The {min(top, len(ranking))} best of "
        f"{len(ranking)}."
    )
    frame = ranking.head(top).rename(columns={"label": "setting"})
    frame.insert(0, "#", np.arange(1, len(frame) + 1))
    section.tables.append(("", Table.of(frame)))
    return section


def ecdf_section(runs: pd.DataFrame, settings: list[str], colours) -> Section:
    """COCO's runtime ECDF over the target ladder: all landscapes, then each group."""
    chosen = runs[runs["setting"].isin(settings)]
    panels = {"all landscapes": tables.runtime_ecdf(chosen)}
    for group in GROUPS:
        part = chosen[chosen["group"].eq(group)]
        if len(part):
            n = part["problem_label"].nunique()
            panels[f"{group} ({n} landscape{'s' * (n != 1)})"] = tables.runtime_ecdf(part)
    section = Section("Runtime ECDF", "ecdf")
    section.text.append(
        f"For every run and every target of the ladder {_ladder_text()} (f − f_min), the "
        "evaluations (per dimension) until the run first reached it; each curve is the fraction "
        "of (run, target) pairs solved within a budget, one line per optimizer at its best-ranked "
        "setting. The number beside each name is the area under its curve over the log budget "
        "axis (1 = every target at the first evaluation)."
    )
    areas = pd.DataFrame({title: area for title, (_, area) in panels.items()})
    areas = areas.reindex(settings).rename_axis("setting").reset_index()
    section.tables.append(("Area under the ECDF", Table.of(areas, digits=3)))
    section.pictures.append(
        picture(
            figures.ecdfs(panels, colours),
            "ecdf.png",
            "Runtime ECDFs (all landscapes and per group)",
        )
    )
    return section


def convergence_section(data: ReportData, runs: pd.DataFrame, settings, colours) -> Section | None:
    """Median gap against evaluations per landscape, one line per optimizer."""
    keys = runs["run_key"][runs["setting"].isin(settings)]
    gaps = bands.gap_matrix(data.curves[data.curves["run_key"].isin(keys)], runs)
    if gaps.empty:
        return None
    section = Section("Convergence", "convergence")
    section.text.append(
        "Median f − f_min against function evaluations (log-log) over the runs of each optimizer "
        "at its best-ranked setting, with the band between the first and third quartile: one "
        "panel per landscape, one figure per landscape group. Methods that record no curve "
        "(scipy) appear as one point: their median evaluations and median final gap."
    )
    steps, found = bands.bands(runs, gaps, settings)
    groups = runs.drop_duplicates("problem_label").set_index("problem_label")["group"]
    for group in GROUPS:
        panels = {p: lines for p, lines in found.items() if groups[p] == group}
        if panels:
            title = f"{group} landscapes ({len(panels)})"
            fig = figures.convergence(title, steps, panels, colours)
            section.pictures.append(
                picture(fig, f"convergence-{slug(group)}.png", f"Convergence on {title}")
            )
    return section


def landscape_section(data: ReportData, runs: pd.DataFrame, settings, colours) -> Section | None:
    """Contours of each 2-D landscape with the recorded paths of each optimizer's first starts."""
    recorded = data.curves[data.curves["name"].str.startswith(figures.TRAJECTORY)]
    if recorded.empty:
        return None
    keys = set(recorded["run_key"].unique())
    section = Section("Landscape views", "landscapes")
    section.text.append(
        "Each 2-D landscape shaded by log10(f − f_min), every global minimiser (red stars), and "
        "one panel per optimizer at its best-ranked setting with its recorded paths from the same "
        "first starts (× start, • end). optax paths are the iterates; "
        "scipy paths are the points where the best value so far improved."
    )
    two_d = runs[runs["dim"].astype(float).eq(2) & runs["run_key"].isin(keys)]
    two_d = two_d[two_d["setting"].isin(settings)].sort_values(["seed", "start"], kind="stable")
    chosen = two_d.groupby(["problem_label", "setting"], sort=False).head(TRAJECTORY_STARTS)
    found = figures.trajectories_of(recorded, chosen["run_key"].tolist())
    for problem, part in chosen.groupby("problem_label", sort=True):
        paths: dict[str, list[np.ndarray]] = {}
        for setting in settings:
            lines = [found[k] for k in part["run_key"][part["setting"].eq(setting)] if k in found]
            if lines:
                paths[setting] = lines
        if not paths:
            continue
        first = part.iloc[0]
        options = {"dim": 2, "instance": _option(first, "instance")}
        fig = views.landscape_view(str(first["problem"]), options, paths, colours)
        section.pictures.append(
            picture(
                fig, f"landscape-{slug(problem)}.png", f"{problem}: paths from the first starts"
            )
        )
    return section if section.pictures else None


def _option(row: pd.Series, name: str) -> int | None:
    value = row.get(f"option.{name}")
    return None if value is None or pd.isna(value) else int(value)


def profile_section(board: pd.DataFrame, settings: list[str], colours) -> Section | None:
    """Performance profiles and the win-rate matrix, once there are enough problems."""
    if board["problem"].nunique() < tables.MIN_PROBLEMS_FOR_PROFILES:
        return None
    curve, scores = tables.performance_profile(board, settings)
    rates = tables.win_rates(board, settings)
    section = Section("Performance profiles and win rates", "profiles")
    section.text.append(
        "Dolan–Moré performance profile on ERT at the study target: for each optimizer (best "
        "setting), the fraction of landscapes on which its ERT is within τ times the best ERT "
        "there (∞ ERT never counts). AlgoPerf's score is the profile's mean over τ in [1, 4]. "
        "The win-rate matrix gives the share of common landscapes on which the row ranks "
        "better than the column (leaderboard ranks)."
    )
    frame = scores.sort_values(ascending=False).rename_axis("setting").reset_index()
    section.tables.append(
        ("AlgoPerf score (integrated profile up to 4× the best)", Table.of(frame, digits=3))
    )
    section.pictures.append(
        picture(
            figures.profile(curve, scores, colours), "profile.png", "Performance profile on ERT"
        )
    )
    section.pictures.append(picture(figures.win_matrix(rates), "win-rate.png", "Win-rate matrix"))
    return section


NETWORK_COLUMNS = {
    "setting": "setting",
    "seed": "seed",
    "backend": "backend",
    "epochs": "epochs",
    "test_acc": "test acc",
    "best_val_acc": "best val acc",
    "time_to_target": "time to target s",
    "epochs_to_target": "epochs to target",
    "epoch_s": "s / epoch",
    "wall_s": "wall s",
}


def network_section(data: ReportData, colours: Mapping[str, tuple]) -> Section | None:
    """Per network run: the seed's three plots and a row of accuracies and times."""
    runs = data.networks
    if runs.empty:
        return None
    target = _target_accuracy(runs)
    ordered = runs.sort_values(["problem", "setting", "seed"], kind="stable")
    present = {k: v for k, v in NETWORK_COLUMNS.items() if k in ordered}
    frame = ordered[list(present)].rename(columns=present)
    frame.insert(0, "problem", ordered["problem"].to_numpy())
    best = ordered["test_acc"].eq(ordered.groupby("problem")["test_acc"].transform("max"))
    section = Section("Networks", "networks")
    section.text.append(
        f"One row per training run: test accuracy after the last epoch, the best validation "
        f"accuracy of any epoch, the time and the epochs until validation accuracy first reached "
        f"{target:g} (- = never), and the mean time per epoch. The best test accuracy of each "
        "problem is marked. Below, per run: loss and accuracy (train solid, validation dashed) "
        "and the learning rate against epochs."
    )
    section.tables.append(("", Table.of(frame, marked=best)))
    curves = data.curves[data.curves["run_key"].isin(ordered["run_key"])]
    by_key = dict(tuple(curves.groupby("run_key", sort=False)))
    for n, (_, run) in enumerate(ordered.head(MAX_NETWORK_FIGURES).iterrows(), start=1):
        if run["run_key"] not in by_key:
            continue
        title = f"{run['problem']}: {run['setting']}, seed {run['seed']}"
        colour = colours[run["optimizer"]]
        fig = figures.network_run(title, by_key[run["run_key"]], colour, target)
        section.pictures.append(
            picture(fig, f"network-{n:02d}-{slug(str(run['setting']))}.png", title)
        )
    return section


def _target_accuracy(runs: pd.DataFrame) -> float:
    column = runs.get("option.target_accuracy")
    if column is not None and column.notna().any():
        return float(column.dropna().iloc[0])
    return 0.97


def provenance_section(runs: pd.DataFrame) -> Section:
    """Where each result set came from: versions, device, commit, time."""
    table = tables.provenance(runs).set_index("results").T.reset_index()
    table = table.rename(columns={"index": "field"})
    section = Section("Provenance", "provenance")
    section.text.append("Recorded with every row; values that differ within a set are listed.")
    section.tables.append(("", Table.of(table)))
    return section
