"""`optbench list`: what is registered, by whom, with a one-line description, fitting the
terminal (`optbench show NAME` prints one plugin in full)."""

from __future__ import annotations

import click
import pandas as pd

from optbench import registry
from optbench.cli.common import echo_table, usage_errors

KINDS = {"landscapes": "landscape", "optimizers": "optimizer", "runners": "runner"}


def _kind_column(plugin: registry.Plugin) -> dict[str, object]:
    obj = plugin.obj
    if plugin.kind == "landscape":
        scalable = getattr(obj, "scalable", False)
        low = getattr(obj, "min_dim", 1)
        dim = f"n>={low} (default {obj.default_dim})" if scalable else str(obj.default_dim)
        return {"dim": dim, "tags": ",".join(sorted(getattr(obj, "tags", ())))}
    if plugin.kind == "optimizer":
        shared = set(getattr(obj, "schedule_names", ()))
        own = [k for k in obj.defaults if k not in shared]
        return {"family": obj.family, "hps": len(own), "schedules": "yes" if shared else ""}
    return {"options": len(obj.options)}


def plugin_table(kind: str) -> pd.DataFrame:
    """One row per registered plugin of `kind`."""
    rows = [
        {
            "name": p.name,
            **_kind_column(p),
            "distribution": p.distribution,
            "description": p.description,
        }
        for p in registry.plugins(kind).values()
    ]
    return pd.DataFrame(rows)


@click.command("list")
@click.argument("what", required=False, type=click.Choice(list(KINDS)))
@usage_errors
def list_command(what: str | None) -> None:
    """List registered landscapes, optimizers and runners (all three when WHAT is omitted)."""
    for name in [what] if what else list(KINDS):
        table = plugin_table(KINDS[name])
        click.echo(f"{name} ({len(table)}):")
        echo_table(table)
        click.echo()
    click.echo("optbench show NAME: one plugin with every hyperparameter or option in full")
