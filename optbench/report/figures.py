"""The report's figures (matplotlib, Agg): each function returns a Figure sized for a screen."""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, MaxNLocator, NullLocator

from optbench.report.bands import GAP_FLOOR, Band

DPI = 100
CONVERGENCE_COLUMNS = 4
ECDF_COLUMNS = 2
MAJOR_TICKS = 6
PANEL = (3.1, 2.5)  # inches per small-multiple panel
LEGEND_WIDTH = 2.2  # inches to the right of the panels
LEGEND_CHARS = 30  # a legend label longer than this wraps
LEGEND_LINE = 0.16  # inches per line of an x-small legend
TRAJECTORY = "x."


def short(setting: str) -> str:
    """A setting's label as figures show it: `learning_rate` as `lr`."""
    return setting.replace("learning_rate", "lr")


def wrapped(label: str, width: int = LEGEND_CHARS) -> str:
    """A long legend label over several lines (settings with several swept values)."""
    return textwrap.fill(label, width, subsequent_indent="  ", break_on_hyphens=False)


def _legend(ax, **kwargs) -> None:
    handles, names = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, [short(n) for n in names], fontsize="x-small", frameon=False, **kwargs)


def _outside_legend(ax) -> None:
    _legend(ax, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)


def _colour(colours: Mapping[str, tuple], setting: str) -> tuple:
    return colours[setting.split(" ")[0]]


def convergence(
    title: str,
    steps: np.ndarray,
    panels: Mapping[str, Sequence[Band]],
    colours: Mapping[str, tuple],
    columns: int = CONVERGENCE_COLUMNS,
) -> Figure:
    """Small multiples, one panel per landscape: median f_gap against evaluations (log-log)
    with the quartile band; scipy methods as points; one legend for all panels."""
    n = len(panels)
    columns = min(columns, n)
    rows = -(-n // columns)
    lines = sum(wrapped(short(name)).count("\n") + 1 for name in _legend_names(panels))
    width = PANEL[0] * columns + LEGEND_WIDTH
    height = max(PANEL[1] * rows + 1.0, 0.95 + LEGEND_LINE * lines)  # the legend fits below
    fig = Figure(figsize=(width, height), dpi=DPI)
    fig.subplots_adjust(
        left=0.75 / width,
        right=1 - LEGEND_WIDTH / width,
        bottom=1 - (0.45 + PANEL[1] * rows) / height,  # extra height (a long legend) below
        top=1 - 0.75 / height,
        wspace=0.28,
        hspace=0.45,
    )
    axes = fig.subplots(rows, columns, squeeze=False)
    legend: dict[str, object] = {}
    for i, (ax, (problem, lines)) in enumerate(zip(axes.ravel(), panels.items(), strict=False)):
        _convergence_panel(ax, steps, lines, colours)
        ax.set_title(problem, fontsize="small", pad=3)
        ax.tick_params(labelsize="x-small")
        if i % columns == 0:
            ax.set_ylabel("f − f_min", fontsize="small")
        if i >= n - columns:
            ax.set_xlabel("function evaluations", fontsize="small")
        for handle, name in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(name, handle)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    fig.suptitle(f"{title}: median and quartile band", fontsize="medium")
    fig.legend(
        list(legend.values()),
        [wrapped(short(name)) for name in legend],
        loc="upper left",
        bbox_to_anchor=(1 - (LEGEND_WIDTH - 0.1) / width, 1 - 0.75 / height),
        fontsize="x-small",
        frameon=False,
    )
    return fig


def _legend_names(panels: Mapping[str, Sequence[Band]]) -> list[str]:
    """The convergence legend's labels, each once, in the order the panels draw them."""
    names = [
        band.setting if band.median is not None else f"{band.setting} (final)"
        for lines in panels.values()
        for band in lines
        if band.median is not None or band.point is not None
    ]
    return list(dict.fromkeys(names))


def _convergence_panel(
    ax: Axes, steps: np.ndarray, lines: Sequence[Band], colours: Mapping[str, tuple]
) -> None:
    """One landscape's bands (median line, quartile band) and scipy points, on log-log axes."""
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
    for axis in (ax.xaxis, ax.yaxis):  # minor log ticks cost most of a panel's drawing
        axis.set_major_locator(LogLocator(base=10, numticks=MAJOR_TICKS))
        axis.set_minor_locator(NullLocator())
    ax.grid(True, which="major", alpha=0.3)


def ecdfs(
    panels: Mapping[str, tuple[pd.DataFrame, pd.Series]], colours: Mapping[str, tuple]
) -> Figure:
    """Runtime ECDFs, one panel per landscape group (first: all), two panels a row, one legend
    with the area under each curve (of the first panel)."""
    n = len(panels)
    columns = min(n, ECDF_COLUMNS)
    rows = -(-n // columns)
    fig = Figure(figsize=(4.2 * columns + 2.6, 3.3 * rows), dpi=DPI, layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False, sharey=True)
    overall = next(iter(panels.values()))[1]
    order = overall.sort_values(ascending=False).index
    for i, (ax, (title, (curve, _))) in enumerate(zip(axes.ravel(), panels.items(), strict=False)):
        for setting in order:
            line = curve[curve["setting"].eq(setting)]
            ax.step(
                line["budget"],
                line["fraction"],
                where="post",
                linewidth=1.3,
                color=_colour(colours, setting),
                label=f"{short(setting)}  {overall[setting]:.2f}",
            )
        ax.set_xscale("log")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(title, fontsize="medium")
        ax.grid(True, alpha=0.3)
        if i >= n - columns:
            ax.set_xlabel("evaluations / dimension")
        if i % columns == 0:
            ax.set_ylabel("fraction of (run, target) pairs")
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    handles, names = axes.ravel()[0].get_legend_handles_labels()
    fig.legend(
        handles,
        names,
        loc="outside right upper",
        fontsize="small",
        frameon=False,
        title=f"AUC ({next(iter(panels))})",
        title_fontsize="small",
    )
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
