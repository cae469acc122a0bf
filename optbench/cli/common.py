"""What the commands share: turning optbench errors into usage errors, printing tables."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import click
import pandas as pd

from optbench.errors import OptbenchError, PluginLoadWarning


def usage_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Report OptbenchError as a usage error (exit 2, one line, no traceback)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PluginLoadWarning)
            try:
                return command(*args, **kwargs)
            except OptbenchError as exc:
                raise click.UsageError(str(exc)) from None
            finally:
                for warning in caught:
                    if issubclass(warning.category, PluginLoadWarning):
                        click.echo(f"warning: {warning.message}", err=True)
                    else:
                        warnings.showwarning(
                            warning.message, warning.category, warning.filename, warning.lineno
                        )

    return wrapper


def echo_table(frame: pd.DataFrame, float_format: str = "{:.3g}") -> None:
    """Print a DataFrame as an aligned plain-text table."""
    if frame.empty:
        click.echo("(no rows)")
        return
    formatters = {
        c: (lambda v, f=float_format: f.format(v) if pd.notna(v) else "-")
        for c in frame.columns
        if pd.api.types.is_float_dtype(frame[c])
    }
    click.echo(frame.to_string(index=False, formatters=formatters, max_colwidth=70))
