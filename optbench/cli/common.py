"""What the commands share: turning optbench errors into usage errors, printing tables."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import click
import pandas as pd

from optbench.errors import OptbenchError, OptbenchWarning

MAX_CELL = 72


def usage_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Report OptbenchError as a usage error (exit 2, one line, no traceback)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except OptbenchError as exc:
            raise click.UsageError(str(exc)) from None

    return wrapper


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


def _cell_text(value: object, float_format: str) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, float):
        return float_format.format(value)
    text = str(value)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 3] + "..."


def echo_table(frame: pd.DataFrame, float_format: str = "{:.3g}") -> None:
    """Print a DataFrame as a plain-text table: text left-aligned, numbers right-aligned."""
    if frame.empty:
        click.echo("(no rows)")
        return
    header = [str(c) for c in frame.columns]
    cells = [[_cell_text(v, float_format) for v in row] for row in frame.itertuples(index=False)]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    click.echo(line(header))
    for row in cells:
        click.echo(line(row))
