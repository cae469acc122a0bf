"""`optbench show LANDSCAPE`: a landscape's metadata, and a contour plot with its minimisers."""

from __future__ import annotations

import click
import numpy as np

from optbench import registry
from optbench.cli.common import usage_errors
from optbench.contracts import Landscape


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


@click.command("show")
@click.argument("landscape")
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
def show_command(landscape: str, dim: int | None, instance: int, plot_path: str | None) -> None:
    """Print a landscape's bounds, tags, f_min and every global minimiser; optionally plot it."""
    plugin = registry.landscape(landscape)
    built = plugin.make(dim=dim, instance=instance)
    for line in describe(built, bool(getattr(plugin, "scalable", False))):
        click.echo(line)
    if plot_path:
        from optbench.landscapes.plot import plot_landscape

        plot_landscape(built, plot_path)
        click.echo(f"plot:        {plot_path}")
