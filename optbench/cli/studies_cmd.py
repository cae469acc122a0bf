"""`optbench studies`: the built-in studies, and one printed as TOML to copy and edit."""

from __future__ import annotations

import tomllib

import click
import pandas as pd

from optbench.cli.common import echo_table, usage_errors
from optbench.errors import OptbenchError
from optbench.study import builtin_studies


@click.group("studies", invoke_without_command=True)
@click.pass_context
def studies_command(ctx: click.Context) -> None:
    """List the built-in studies (`optbench run NAME` runs one)."""
    if ctx.invoked_subcommand is None:
        rows = []
        for name, text in builtin_studies().items():
            data = tomllib.loads(text)
            rows.append(
                {
                    "name": name,
                    "runner": data.get("runner", "landscape"),
                    "description": data.get("description", ""),
                }
            )
        rows += [
            {"name": name, "runner": "search", "description": tomllib.loads(text)["description"]}
            for name, text in _search_studies().items()
        ]
        echo_table(pd.DataFrame(rows))


def _search_studies() -> dict[str, str]:
    """The built-in search studies (`optbench search NAME` runs one)."""
    from optbench.runners.search.study import builtin

    return builtin()


@studies_command.command("show")
@click.argument("name")
@usage_errors
def show_command(name: str) -> None:
    """Print the built-in study NAME as TOML (save it, edit it, run it with `optbench run FILE`)."""
    studies = builtin_studies() | _search_studies()
    if name not in studies:
        raise OptbenchError(f"unknown built-in study {name!r}; built-in: {', '.join(studies)}")
    click.echo(studies[name], nl=False)
