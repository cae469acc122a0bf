"""The report's figures (matplotlib, Agg): each function returns a Figure sized for a screen."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from optbench import registry
from optbench.landscapes.plot import plot_landscape

DPI = 100
GAP_FLOOR = 1e-16
TRAJECTORY = "x."


def short(setting: str) -> str:
    """A setting's label as figures show it: `learning_rate` as `lr`."""
    return setting.replace("learning_rate", "lr")


def _legend(ax, **kwargs) -> None:
    handles, names = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, [short(n) for n in names], fontsize="x-small", frameon=False, **kwargs)


def _outside_legend(ax) -> None:
    _legend(ax, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)


def _colour(colours: Mapping[str, tuple], setting: str) -> tuple:
    return colours[setting.split(" ")[0]]


def gap_matrix(curves: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """f_gap curves as runs × steps; a run that stopped early keeps its last gap (converged)
    or +inf (diverged) for the steps after it."""
    gaps = curves[curves["name"].eq("f_gap")]
    if gaps.empty:
        return pd.DataFrame()
    matrix = gaps.pivot_table(index="run_key", columns="step", values="value", aggfunc="first")
    status = runs.set_index("run_key")["status"].reindex(matrix.index)
    diverged = status.eq("diverged").to_numpy()
    filled = matrix.ffill(axis=1)
    filled[diverged] = matrix[diverged].fillna(np.inf)
    return filled


def convergence(
    problem: str,
    runs: pd.DataFrame,
    gaps: pd.DataFrame,
    settings: Sequence[str],
    colours: Mapping[str, tuple],
) -> Figure:
    """Median f_gap against evaluations (log-log), quartile band; scipy methods as points."""
    fig = Figure(figsize=(7.2, 4.0), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    steps = gaps.columns.to_numpy(dtype=float) + 1
    starts, lows = [], []
    for setting in settings:
        part = runs[runs["setting"].eq(setting)]
        keys = part["run_key"][part["run_key"].isin(gaps.index)]
        colour = _colour(colours, setting)
        if len(keys):
            values = np.clip(gaps.loc[keys].to_numpy(), GAP_FLOOR, None)
            q1, median, q3 = np.nanquantile(values, [0.25, 0.5, 0.75], axis=0, method="nearest")
            starts.append(q3[0])
            lows.append(np.nanmin(q1))
            ax.plot(steps, median, color=colour, linewidth=1.4, label=setting)
            ax.fill_between(steps, q1, q3, color=colour, alpha=0.15, linewidth=0)
        elif len(part):
            gap = np.clip(part["f_gap"].astype(float).median(), GAP_FLOOR, 1e300)
            lows.append(gap)
            ax.plot(
                part["n_fev"].median(),
                gap,
                "o",
                color=colour,
                markersize=6,
                markeredgecolor="black",
                markeredgewidth=0.5,
                label=f"{setting} (final)",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    finite = [v for v in starts if np.isfinite(v)]
    if finite:  # diverging quartiles would stretch the axis past anything readable
        ax.set_ylim(max(min(lows) / 5, GAP_FLOOR), max(finite) * 1e2)
    ax.set_xlabel("function evaluations")
    ax.set_ylabel("f − f_min (median, quartile band)")
    ax.set_title(problem)
    ax.grid(True, which="major", alpha=0.3)
    _outside_legend(ax)
    return fig


def ecdfs(
    panels: Mapping[str, tuple[pd.DataFrame, pd.Series]], colours: Mapping[str, tuple]
) -> Figure:
    """Runtime ECDFs, one panel per landscape group (first: all), area under each curve."""
    n = len(panels)
    fig = Figure(figsize=(3.6 * n + 3.6, 3.9), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, n, squeeze=False, sharey=True)[0]
    overall = next(iter(panels.values()))[1]
    order = overall.sort_values(ascending=False).index
    for ax, (title, (curve, _)) in zip(axes, panels.items(), strict=True):
        for setting in order:
            line = curve[curve["setting"].eq(setting)]
            ax.step(
                line["budget"],
                line["fraction"],
                where="post",
                linewidth=1.3,
                color=_colour(colours, setting),
                label=f"{setting}  {overall[setting]:.2f}",
            )
        ax.set_xscale("log")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("evaluations / dimension")
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
    _legend(
        axes[-1],
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0,
        title=f"AUC ({next(iter(panels))})",
        title_fontsize="x-small",
    )
    axes[0].set_ylabel("fraction of (run, target) pairs solved")
    return fig


def profile(curve: pd.DataFrame, scores: pd.Series, colours: Mapping[str, tuple]) -> Figure:
    """Dolan–Moré performance profile on ERT; the legend gives AlgoPerf's score (ratios ≤ 4)."""
    fig = Figure(figsize=(8.0, 4.2), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    for setting in scores.sort_values(ascending=False).index:
        line = curve[curve["setting"].eq(setting)]
        ax.step(
            line["tau"],
            line["fraction"],
            where="post",
            linewidth=1.3,
            color=_colour(colours, setting),
            label=f"{setting}  {scores[setting]:.2f}",
        )
    ax.axvline(4.0, color="grey", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("τ: ERT / best ERT on the problem")
    ax.set_ylabel("fraction of problems within τ")
    ax.grid(True, alpha=0.3)
    _legend(
        ax,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        title="AlgoPerf score",
        title_fontsize="x-small",
    )
    return fig


def win_matrix(rates: pd.DataFrame) -> Figure:
    """Heatmap: the share of problems on which the row setting beats the column setting."""
    n = len(rates)
    side = max(4.0, 0.42 * n + 2.5)
    fig = Figure(figsize=(side + 1.0, side), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(rates.to_numpy(), vmin=0, vmax=1, cmap="RdBu")
    ax.set_xticks(
        range(n), [short(c) for c in rates.columns], rotation=60, ha="right", fontsize="x-small"
    )
    ax.set_yticks(range(n), [short(c) for c in rates.index], fontsize="x-small")
    for i in range(n):
        for j in range(n):
            value = rates.iat[i, j]
            if np.isfinite(value):
                ax.text(
                    j,
                    i,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if abs(value - 0.5) > 0.3 else "black",
                )
    ax.set_xlabel("column setting")
    ax.set_ylabel("row setting")
    fig.colorbar(image, ax=ax, label="share of problems where row beats column", shrink=0.8)
    return fig


def trajectories_of(curves: pd.DataFrame, keys: Sequence[str]) -> dict[str, np.ndarray]:
    """The recorded paths (steps × dim) of runs, from their `x.<i>` curves."""
    part = curves[curves["run_key"].isin(keys) & curves["name"].str.startswith(TRAJECTORY)]
    paths = {}
    for key, rows in part.groupby("run_key", sort=False):
        table = rows.pivot_table(index="step", columns="name", values="value", aggfunc="first")
        order = sorted(table.columns, key=lambda c: int(c.removeprefix(TRAJECTORY)))
        paths[key] = table[order].to_numpy()
    return paths


def landscape_view(
    problem: str,
    options: Mapping[str, int | None],
    paths: Mapping[str, list[np.ndarray]],
    colours: Mapping[str, tuple],
) -> Figure:
    """The landscape's contours, its global minimisers, and each setting's recorded paths
    (start ×, end •) from the same starts."""
    landscape = registry.landscape(problem).make(
        dim=options.get("dim"), instance=int(options.get("instance") or 0)
    )
    fig = Figure(figsize=(8.4, 5.4), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    plot_landscape(landscape, ax=ax, resolution=160)
    for setting, lines in paths.items():
        colour = _colour(colours, setting)
        for n, points in enumerate(lines):
            ax.plot(
                points[:, 0],
                points[:, 1],
                "-",
                color=colour,
                linewidth=1.2,
                alpha=0.9,
                label=setting if n == 0 else None,
            )
            ax.plot(points[0, 0], points[0, 1], "x", color="white", markersize=6)
            ax.plot(
                points[-1, 0],
                points[-1, 1],
                "o",
                color=colour,
                markersize=4,
                markeredgecolor="black",
                markeredgewidth=0.4,
            )
    ax.set_xlim(landscape.lower[0], landscape.upper[0])
    ax.set_ylim(landscape.lower[1], landscape.upper[1])
    _outside_legend(ax)
    return fig


def network_run(title: str, curves: pd.DataFrame, colour: tuple) -> Figure:
    """The seed's three plots of one run: loss, accuracy (train and validation), learning rate."""
    fig = Figure(figsize=(11.0, 3.2), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, 3)
    series = curves.pivot_table(index="step", columns="name", values="value", aggfunc="first")
    panels = (
        ("loss", ("train_loss", "val_loss")),
        ("accuracy", ("train_accuracy", "val_accuracy")),
        ("learning rate", ("lr",)),
    )
    for ax, (name, columns) in zip(axes, panels, strict=True):
        for column in columns:
            if column in series:
                style = "--" if column.startswith("val") else "-"
                ax.plot(
                    series.index,
                    series[column],
                    style,
                    color=colour,
                    marker=".",
                    label=column.replace("_", " "),
                )
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(True, alpha=0.3)
        _legend(ax)
    fig.suptitle(title, fontsize="medium")
    return fig
