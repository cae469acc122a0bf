"""The report's figures (matplotlib, Agg): each function returns a Figure sized for a screen."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from optbench import registry
from optbench.landscapes.plot import grid_values
from optbench.report.bands import GAP_FLOOR, Band

DPI = 100
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


def convergence(
    problem: str, steps: np.ndarray, lines: Sequence[Band], colours: Mapping[str, tuple]
) -> Figure:
    """Median f_gap against evaluations (log-log), quartile band; scipy methods as points."""
    fig = Figure(figsize=(7.6, 4.0), dpi=DPI)
    fig.subplots_adjust(left=0.1, right=0.6, bottom=0.13, top=0.92)
    ax = fig.add_subplot()
    _convergence_panel(ax, steps, lines, colours)
    ax.set_xlabel("function evaluations")
    ax.set_ylabel("f − f_min (median, quartile band)")
    ax.set_title(problem)
    _outside_legend(ax)
    return fig


def _convergence_panel(ax, steps: np.ndarray, lines: Sequence[Band], colours) -> None:
    starts, lows = [], []
    for band in lines:
        colour = _colour(colours, band.setting)
        if band.median is not None:
            starts.append(band.q3[0])
            lows.append(np.nanmin(band.q1))
            ax.plot(steps, band.median, color=colour, linewidth=1.4, label=band.setting)
            ax.fill_between(steps, band.q1, band.q3, color=colour, alpha=0.15, linewidth=0)
        elif band.point is not None:
            lows.append(band.point[1])
            ax.plot(
                *band.point,
                "o",
                color=colour,
                markersize=6,
                markeredgecolor="black",
                markeredgewidth=0.5,
                label=f"{band.setting} (final)",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    finite = [v for v in starts if np.isfinite(v)]
    if finite:  # diverging quartiles would stretch the axis past anything readable
        ax.set_ylim(max(min(lows) / 5, GAP_FLOOR), max(finite) * 1e2)
    ax.grid(True, which="major", alpha=0.3)


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
    if part.empty:
        return {}
    table = part.pivot_table(
        index=["run_key", "step"], columns="name", values="value", aggfunc="first"
    )
    order = sorted(table.columns, key=lambda c: int(c.removeprefix(TRAJECTORY)))
    table = table[order]
    keys_column = table.index.get_level_values("run_key")
    values = table.to_numpy()
    bounds = np.flatnonzero(np.r_[True, keys_column[1:] != keys_column[:-1], True])
    return {keys_column[a]: values[a:b] for a, b in itertools.pairwise(bounds)}


def landscape_view(
    problem: str,
    options: Mapping[str, int | None],
    paths: Mapping[str, list[np.ndarray]],
    colours: Mapping[str, tuple],
    columns: int = 6,
) -> Figure:
    """One small panel per setting: the landscape (log10 of f − f_min), its global minimisers
    (red stars) and the setting's recorded paths from the same starts (× start, • end)."""
    landscape = registry.landscape(problem).make(
        dim=options.get("dim"), instance=int(options.get("instance") or 0)
    )
    _, _, values = grid_values(landscape, (0, 1), 120)
    shade = np.log10(np.clip(values - landscape.f_min, 1e-12, None))
    rows = -(-len(paths) // columns)
    fig = Figure(figsize=(2.1 * columns, 2.1 * rows + 0.45), dpi=DPI)
    axes = fig.subplots(rows, columns, squeeze=False)
    fig.subplots_adjust(
        left=0.01,
        right=0.99,
        bottom=0.01,
        top=1 - 0.45 / (2.1 * rows + 0.45),
        wspace=0.04,
        hspace=0.16,
    )
    extent = (landscape.lower[0], landscape.upper[0], landscape.lower[1], landscape.upper[1])
    for ax, (setting, lines) in zip(axes.ravel(), paths.items(), strict=False):
        ax.imshow(shade, origin="lower", extent=extent, aspect="auto", cmap="viridis")
        ax.plot(
            landscape.minimizers[:, 0],
            landscape.minimizers[:, 1],
            "*",
            color="red",
            markersize=7,
            markeredgecolor="white",
            markeredgewidth=0.5,
        )
        colour = _colour(colours, setting)
        for points in lines:
            ax.plot(points[:, 0], points[:, 1], "-", color="white", linewidth=2.2, alpha=0.7)
            ax.plot(points[:, 0], points[:, 1], "-", color=colour, linewidth=1.2)
            ax.plot(points[0, 0], points[0, 1], "x", color="white", markersize=6)
            ax.plot(
                points[-1, 0],
                points[-1, 1],
                "o",
                color=colour,
                markersize=4,
                markeredgecolor="black",
                markeredgewidth=0.5,
            )
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.set_title(short(setting), fontsize="x-small", pad=2)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes.ravel()[len(paths) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"{landscape.name}: log10(f − f_min), f_min = {landscape.f_min:.6g}", fontsize="medium"
    )
    return fig


def network_run(
    title: str, curves: pd.DataFrame, colour: tuple, target: float | None = None
) -> Figure:
    """The seed's three plots of one run: loss, accuracy (train and validation), learning rate."""
    fig = Figure(figsize=(11.0, 3.2), dpi=DPI)
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.15, top=0.82, wspace=0.25)
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
        if name == "accuracy" and target is not None:
            ax.axhline(target, color="grey", linestyle=":", linewidth=1, label=f"target {target:g}")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.ticklabel_format(axis="y", useOffset=False)
        ax.set_title(name)
        ax.grid(True, alpha=0.3)
        _legend(ax)
    fig.suptitle(title, fontsize="medium")
    return fig
