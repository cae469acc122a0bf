"""`optbench data`: fetch a dataset into the cache (only when asked), or show where it is read."""

from __future__ import annotations

import click

from optbench.cli.common import usage_errors
from optbench.runners.mnist import data as mnist_data


@click.group("data")
def data_command() -> None:
    """Datasets for the network runners: download them, or see where they are read from."""


@data_command.command("download")
@click.argument("name", type=click.Choice(sorted(mnist_data.DATASETS), case_sensitive=False))
@click.option(
    "--url-base", help="Fetch the four IDX files from this URL (a mirror, a local server)."
)
@usage_errors
def download_command(name: str, url_base: str | None) -> None:
    """Download NAME (checksum-verified) into the Keras dataset cache."""
    path = mnist_data.download(name, url_base)
    click.echo(f"{name}: stored in {path}")


@data_command.command("where")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False),
    help="A folder to look in first (as $OPTBENCH_DATA).",
)
@usage_errors
def where_command(data_dir: str | None) -> None:
    """For every dataset, the places looked in, in order, and the one that is used."""
    for name in mnist_data.DATASETS:
        try:
            used = mnist_data.load(name, data_dir).source
        except mnist_data.OptbenchError:
            used = None
        click.echo(f"{name}: {used or 'not found'}")
        for place in mnist_data.candidates(name, data_dir):
            click.echo(f"  {'*' if str(place) == used else '-'} {place}")
