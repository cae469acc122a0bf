"""What the commands share: turning optbench errors into usage errors, printing tables that fit
the terminal, leaving quietly when the reader of a pipe goes away."""

from __future__ import annotations

import functools
import math
import os
import shutil
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import click
import pandas as pd

from optbench.errors import OptbenchError, OptbenchWarning

MIN_TEXT = 24


def usage_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Report OptbenchError as a usage error (exit 2, one line, no traceback)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except OptbenchError as exc:
            raise click.UsageError(str(exc)) from None

    return wrapper


class QuietPipeGroup(click.Group):
    """A click group that exits 0, silently, when stdout's reader closes the pipe (`| head`)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()
            return result
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # Python's final flush must not fail again
            ctx.exit(0)


def show_plugin_warnings_briefly() -> None:
    """Print optbench's warnings (a broken plugin, a damaged part) as one line on stderr; other
    warnings as Python shows them."""
    python_showwarning = warnings.showwarning
    if getattr(python_showwarning, "optbench_brief", False):
        return

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if issubclass(category, OptbenchWarning):
            click.echo(f"warning: {message}", err=True)
        else:
            python_showwarning(message, category, filename, lineno, file, line)

    show.optbench_brief = True
    warnings.showwarning = show


def terminal_width() -> int | None:
    """The terminal's width (`$COLUMNS` first); None when stdout is not a terminal, so that
    piped output is not cut."""
    columns = shutil.get_terminal_size(fallback=(0, 0)).columns
    return columns or None


def number_text(value: float) -> str:
    """One format for every number: integers whole, others with 3 significant digits (no
    exponent below 10⁷), very small or large ones as 1.23e-08."""
    if math.isnan(value):
        return "-"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == int(value) and abs(value) < 1e7:
        return str(int(value))
    if 1e-3 <= abs(value) < 1e3:
        return f"{value:.3g}"
    if 1e3 <= abs(value) < 1e7:
        return f"{value:.0f}"
    return f"{value:.3g}"


def _cell_text(value: object, float_format: str | None) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float) or hasattr(value, "dtype"):
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return str(value)
        if float_format is None or math.isinf(number):
            return number_text(number)
        return float_format.format(number)
    return str(value)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 1)] + "…"


def table_lines(
    frame: pd.DataFrame,
    formats: Mapping[str, str] | None = None,
    width: int | None = None,
) -> list[str]:
    """A DataFrame as plain-text lines no wider than `width` (default: the terminal's; none when
    not a terminal): text left, numbers right; the last text column (descriptions) is shortened
    first, then the widest, then columns wrap into blocks that repeat the first."""
    if frame.empty:
        return ["(no rows)"]
    width = width or terminal_width() or 10**9
    formats = formats or {}
    header = [str(c) for c in frame.columns]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    cells = [
        [_cell_text(v, formats.get(str(c))) for v, c in zip(row, frame.columns, strict=True)]
        for row in frame.itertuples(index=False)
    ]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    while sum(widths) + 2 * (len(widths) - 1) > width:
        text = [i for i, num in enumerate(numeric) if not num and widths[i] > MIN_TEXT]
        if not text:
            break
        widest = text[-1] if text[-1] == len(widths) - 1 else max(text, key=lambda i: widths[i])
        excess = sum(widths) + 2 * (len(widths) - 1) - width
        widths[widest] = max(MIN_TEXT, widths[widest] - excess)
    blocks, current, used = [], [0], widths[0]
    for i in range(1, len(header)):
        if used + 2 + widths[i] > width and len(current) > 1:
            blocks.append(current)
            current, used = [0], widths[0]
        current.append(i)
        used += 2 + widths[i]
    blocks.append(current)

    def line(values: list[str], columns: list[int]) -> str:
        parts = []
        for i in columns:
            text = _shorten(values[i], widths[i])
            parts.append(text.rjust(widths[i]) if numeric[i] else text.ljust(widths[i]))
        return "  ".join(parts).rstrip()

    lines: list[str] = []
    for n, columns in enumerate(blocks):
        if n:
            lines.append("")
        lines.append(line(header, columns))
        lines += [line(row, columns) for row in cells]
    return lines


def echo_table(
    frame: pd.DataFrame,
    float_format: str | None = None,
    formats: Mapping[str, str] | None = None,
    width: int | None = None,
) -> None:
    """Print a DataFrame as a table fitting the terminal (see `table_lines`); `float_format`
    applies to every float column that `formats` does not name."""
    if float_format is not None:
        floats = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
        formats = {str(c): float_format for c in floats} | dict(formats or {})
    for text in table_lines(frame, formats, width):
        click.echo(text)
