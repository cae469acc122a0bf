"""Reports: the tables and figures of one or more result sets as Markdown and one offline HTML page.

`report(results, out)` reads result sets (folders or `Results`), and writes `report.md`,
`report.html` (figures embedded as PNG data URIs, nothing loaded from outside), the figures as
PNG files and `leaderboard.csv` into `out`. Nothing is run: every number comes from the rows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from optbench.report.frames import ReportData, Source
    from optbench.report.render import Section

DEFAULT_TOP = 10

__all__ = ["build_sections", "report"]


def build_sections(data: ReportData, top: int = DEFAULT_TOP) -> tuple[list[Section], pd.DataFrame]:
    """Every section the data supports, in the order users value them, and the leaderboard."""
    from optbench import rollup
    from optbench.report import sections, tables
    from optbench.report.frames import optimizer_colours

    colours = optimizer_colours(data.runs["optimizer"].astype(str))
    out: list[Section] = []
    board = pd.DataFrame()
    runs = data.landscapes
    if not runs.empty:
        target = tables.study_target(runs)
        board = tables.leaderboard(runs)
        ranking = rollup.ranking(runs)
        settings = tables.best_settings(ranking)
        out.append(sections.leaderboard_section(board, target, top))
        if runs["problem_label"].nunique() > 1:
            out.append(sections.ranking_section(ranking))
        out.append(sections.ecdf_section(runs, settings, colours))
        for build in (sections.convergence_section, sections.landscape_section):
            section = build(data, runs, settings, colours)
            if section is not None:
                out.append(section)
        profiles = sections.profile_section(board, settings, colours)
        if profiles is not None:
            out.append(profiles)
    networks = sections.network_section(data, colours)
    if networks is not None:
        out.append(networks)
    out.append(sections.provenance_section(data.runs))
    return out, board


def report(
    results: Source | Sequence[Source],
    out: str | os.PathLike[str],
    *,
    title: str | None = None,
    top: int = DEFAULT_TOP,
) -> Path:
    """Write the report of `results` (folders or `Results`) into `out`; returns report.html."""
    from optbench.jax_cache import enable_compilation_cache
    from optbench.report.frames import gather
    from optbench.report.render import write_pages

    enable_compilation_cache()  # the landscape shading's programs, compiled once per machine
    data = gather(results)
    folder = Path(out)
    built, board = build_sections(data, top=top)
    subtitle = (
        f"{len(data.runs)} runs from {', '.join(data.sources)}; "
        f"{data.runs['problem'].nunique()} problem(s), {data.runs['optimizer'].nunique()} "
        "optimizer(s). Made by optbench from stored rows; nothing was re-run."
    )
    _, html = write_pages(folder, title or "optbench report", subtitle, built)
    if not board.empty:
        board.to_csv(folder / "leaderboard.csv", index=False)
    return html
