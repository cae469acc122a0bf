"""The page of `optbench compare`: the change table and the ERT scatter of base against new."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from optbench.report.frames import optimizer_colours
from optbench.report.render import Section, Table, cell, picture

DPI = 100
SHOWN = [
    "problem",
    "setting",
    "metric",
    "n_base",
    "n_new",
    "base",
    "new",
    "change",
    "ratio",
    "ratio 95% CI",
    "test",
    "p",
    "p_adj",
    "a12",
    "verdict",
]


def change_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison table as shown: the ratio's interval as one text column."""
    intervals = [
        "-"
        if not np.isfinite(low) and not np.isfinite(high)
        else f"[{cell(low, 3)}, {cell(high, 3)}]"
        for low, high in zip(table["ratio_low"], table["ratio_high"], strict=True)
    ]
    return table.assign(**{"ratio 95% CI": intervals})[SHOWN]


def ert_scatter(table: pd.DataFrame) -> Figure:
    """ERT of each landscape cell, base against new, log-log, with the line y = x."""
    ert = table[table["metric"].eq("ert")]
    fig = Figure(figsize=(7.6, 5.4), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    finite = np.concatenate([ert["base"], ert["new"]])
    finite = finite[np.isfinite(finite) & (finite > 0)]
    low, high = (finite.min() / 2, finite.max() * 2) if finite.size else (1.0, 10.0)
    cap = high * 1.5  # infinite ERTs (no success) sit on the edge, drawn hollow
    colours = optimizer_colours(ert["setting"].str.split(" ").str[0])
    for optimizer, part in ert.groupby(ert["setting"].str.split(" ").str[0], sort=True):
        x = np.where(np.isfinite(part["base"]), part["base"], cap)
        y = np.where(np.isfinite(part["new"]), part["new"], cap)
        flagged = part["verdict"].isin(["regression", "worse"]).to_numpy()
        edge = np.where(flagged, "red", "black")
        ax.scatter(
            x,
            y,
            s=np.where(flagged, 60, 25),
            color=colours[optimizer],
            edgecolors=edge,
            linewidths=np.where(flagged, 1.5, 0.4),
            label=optimizer,
        )
    ax.plot([low, cap], [low, cap], color="grey", linewidth=1, linestyle="--", label="y = x")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(low, cap * 1.3)
    ax.set_ylim(low, cap * 1.3)
    ax.set_xlabel("base ERT (evaluations; edge = no success)")
    ax.set_ylabel("new ERT")
    ax.set_title("ERT per (landscape, setting): above the line is slower; red edge = worse")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def sections(comparison) -> list[Section]:
    """The comparison as report sections."""
    table = comparison.table
    changes = Section("Changes", "changes")
    changes.text.append(
        "One row per (problem, setting, metric), regressions first. ert and success_rate use "
        "COCO's ranking of runs (target reached first, then evaluations to target, then final "
        "gap) with Mann–Whitney U, or Wilcoxon signed-rank when both sides ran the same seeds "
        "and starts; success_rate with Fisher's exact test. p_adj is corrected over every test "
        f"({comparison.correction}). a12 = probability that a new run beats a base run "
        "(0.5 = no effect). ratio = new / base with a 95% bootstrap interval. underpowered = too "
        "few runs for any result to be significant after correction. regression = significantly "
        "worse and beyond its --fail-on threshold."
    )
    flagged = table["verdict"].eq("regression")
    changes.tables.append(("", Table.of(change_frame(table), marked=flagged, digits=4)))
    out = [changes]
    if table["metric"].eq("ert").any():
        scatter = Section("ERT, base against new", "scatter")
        scatter.pictures.append(
            picture(ert_scatter(table), "compare-ert.png", "ERT per cell, base (x) against new (y)")
        )
        out.append(scatter)
    return out
