"""Rendering: tables as cell text, figures as PNG bytes and data URIs, pages from Jinja2."""

from __future__ import annotations

import base64
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import pandas as pd
from matplotlib.figure import Figure

TEMPLATES = Path(__file__).with_name("templates")


def cell(value: object, digits: int = 4) -> str:
    """A value as table text: floats to `digits` significant digits, ∞ for infinity, - for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
        return f"{value:.{digits}g}"
    return str(value)


@dataclass(frozen=True)
class Table:
    """Header and cell texts of one table; `marked` rows are the best of their group."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    marked: tuple[bool, ...] = ()

    @classmethod
    def of(cls, frame: pd.DataFrame, marked: pd.Series | None = None, digits: int = 4) -> Table:
        rows = tuple(tuple(cell(v, digits) for v in row) for row in frame.itertuples(index=False))
        flags = tuple(bool(m) for m in marked) if marked is not None else (False,) * len(rows)
        return cls(tuple(str(c) for c in frame.columns), rows, flags)

    def markdown(self) -> str:
        """A GitHub-flavoured Markdown table (pipes escaped; best rows in bold)."""
        escape = lambda text: text.replace("|", "\\|")  # noqa: E731
        lines = [
            "| " + " | ".join(escape(c) for c in self.columns) + " |",
            "|" + "|".join("---" for _ in self.columns) + "|",
        ]
        for row, marked in zip(self.rows, self.marked, strict=True):
            texts = [f"**{escape(t)}**" if marked and t != "-" else escape(t) for t in row]
            lines.append("| " + " | ".join(texts) + " |")
        return "\n".join(lines)


@dataclass(frozen=True)
class Picture:
    """One figure: its file name in the report folder, caption and PNG bytes."""

    name: str
    caption: str
    png: bytes

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass
class Section:
    """A titled part of the report: text, tables and figures, in that order."""

    title: str
    anchor: str
    text: list[str] = field(default_factory=list)
    tables: list[tuple[str, Table]] = field(default_factory=list)
    pictures: list[Picture] = field(default_factory=list)


def slug(text: str) -> str:
    """A file-name-safe form of a label: `adam learning_rate=0.1` → `adam-learning-rate-0.1`."""
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-") or "x"


def picture(fig: Figure, name: str, caption: str) -> Picture:
    """The figure as PNG bytes (no timestamp or software metadata, so the bytes repeat)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi, metadata={"Software": None})
    return Picture(name, caption, buffer.getvalue())


def environment() -> jinja2.Environment:
    """Templates from the package folder; an undefined name is an error, HTML is escaped."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(["html", "j2"], default_for_string=False),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def write_pages(
    out: Path, title: str, subtitle: str, sections: list[Section], stem: str = "report"
) -> tuple[Path, Path]:
    """Write STEM.md, STEM.html and every figure's PNG into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    for section in sections:
        for pic in section.pictures:
            (out / pic.name).write_bytes(pic.png)
    env = environment()
    context = {"title": title, "subtitle": subtitle, "sections": sections}
    markdown = env.get_template("page.md.j2").render(**context)
    html = env.get_template("page.html.j2").render(**context)
    (out / f"{stem}.md").write_text(markdown, encoding="utf-8")
    (out / f"{stem}.html").write_text(html, encoding="utf-8")
    return out / f"{stem}.md", out / f"{stem}.html"
