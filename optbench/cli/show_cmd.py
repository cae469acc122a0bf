"""`optbench show NAME`: one plugin in full — a landscape (metadata, every minimiser, a contour
plot), an optimizer (every hyperparameter with default, range, description), a runner (its
options) or a built-in study (its TOML)."""

from __future__ import annotations

import difflib
import textwrap

import click
import numpy as np

from optbench import registry
from optbench.cli.common import terminal_width, usage_errors
from optbench.cli.describe import hyperparameter_rows, option_rows
from optbench.contracts import Landscape
from optbench.errors import OptbenchError
from optbench.study import builtin_studies

KINDS = ("landscape", "optimizer", "runner")


def _bounds_text(landscape: Landscape) -> str:
    if np.all(landscape.lower == landscape.lower[0]) and np.all(
        landscape.upper == landscape.upper[0]
    ):
        return f"[{landscape.lower[0]:g}, {landscape.upper[0]:g}]^{landscape.dim}"
    return " x ".join(
        f"[{lo:g}, {hi:g}]" for lo, hi in zip(landscape.lower, landscape.upper, strict=True)
    )


def describe(landscape: Landscape, scalable: bool) -> list[str]:
    """The metadata of a landscape as printable lines, every minimiser in full precision."""
    lines = [
        f"name:        {landscape.name}",
        f"description: {landscape.description}",
        f"dimension:   {landscape.dim}" + (" (scalable)" if scalable else ""),
        f"bounds:      {_bounds_text(landscape)}",
        f"tags:        {', '.join(sorted(landscape.tags)) or '-'}",
        f"noise:       {type(landscape.noise).__name__ if landscape.noise else '-'}",
        f"f_min:       {landscape.f_min!r}",
        f"minimisers:  {len(landscape.minimizers)}",
    ]
    lines += [f"  {', '.join(repr(float(v)) for v in point)}" for point in landscape.minimizers]
    return lines


def _parameter_lines(rows: list[dict[str, str]], heading: str) -> list[str]:
    """Each parameter as `name = default  range`, its description wrapped beneath it."""
    width = max(terminal_width() or 100, 40)
    lines = [f"{heading} ({len(rows)}):"]
    for row in rows:
        allowed = row.get("range", "-")
        lines.append(
            f"  {row['name']} = {row['default']}" + (f"   in {allowed}" if allowed != "-" else "")
        )
        if row["description"] != "-":
            lines += textwrap.wrap(row["description"], width - 6, initial_indent="      ",
                                   subsequent_indent="      ")  # fmt: skip
    return lines


def describe_plugin(plugin: registry.Plugin) -> list[str]:
    """An optimizer's or runner's header and its parameters, as printable lines."""
    obj = plugin.obj
    lines = [
        f"name:         {plugin.name}",
        f"kind:         {plugin.kind}" + (f" ({obj.family})" if plugin.kind == "optimizer" else ""),
        f"distribution: {plugin.distribution} ({plugin.entry_point})",
        f"description:  {(getattr(obj, 'description', '') or '-').strip()}",
    ]
    if plugin.kind == "optimizer":
        lines += _parameter_lines(hyperparameter_rows(obj), "hyperparameters")
        lines.append(f'set them with -o "{plugin.name}:name=value,..." or --set name=value')
    else:
        lines += _parameter_lines(option_rows(obj), "options")
        lines.append("set them with --set name=value or a study's [options] table")
    return lines


def find(name: str) -> tuple[str, registry.Plugin | str]:
    """The kind and plugin (or built-in study text) registered under `name`."""
    for kind in KINDS:
        found = registry.plugins(kind).get(registry.normalize(name))
        if found is not None:
            return kind, found
    studies = builtin_studies()
    if name in studies:
        return "study", studies[name]
    for kind in KINDS:  # the registry's own error, with its suggestions, for a near miss
        if difflib.get_close_matches(registry.normalize(name), registry.plugins(kind), n=1):
            registry.get(kind, name)
    raise OptbenchError(
        f"no landscape, optimizer, runner or built-in study is named {name!r}; "
        "`optbench list` shows the plugins, `optbench studies` the studies"
    )


@click.command("show")
@click.argument("name")
@click.option("--dim", type=int, default=None, help="Dimension of a scalable landscape.")
@click.option(
    "--instance",
    type=int,
    default=0,
    show_default=True,
    help="Instance id: 0 itself, 1-999 shifted+rotated, 1000+k / 2000+k noisy.",
)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write a contour plot (PNG, 640x480) with every minimiser marked.",
)
@usage_errors
def show_command(name: str, dim: int | None, instance: int, plot_path: str | None) -> None:
    """Show one plugin in full: a landscape (bounds, tags, f_min, every global minimiser; --plot
    draws it), an optimizer (hyperparameters), a runner (options) or a built-in study (TOML)."""
    kind, found = find(name)
    if kind != "landscape" and (plot_path or dim is not None or instance):
        raise OptbenchError(
            f"--plot, --dim and --instance apply to landscapes; {name!r} is a {kind}"
        )
    if kind == "study":
        click.echo(found, nl=False)
        return
    if kind != "landscape":
        for line in describe_plugin(found):
            click.echo(line)
        return
    plugin = found.obj
    built = plugin.make(dim=dim, instance=instance)
    for line in describe(built, bool(getattr(plugin, "scalable", False))):
        click.echo(line)
    if plot_path:
        from optbench.landscapes.plot import plot_landscape

        plot_landscape(built, plot_path)
        click.echo(f"plot:        {plot_path}")
