"""The `optbench` command line: one module per command, gathered into one click group."""

from __future__ import annotations

import click

from optbench.cli.common import QuietPipeGroup, show_plugin_warnings_briefly
from optbench.cli.compare_cmd import compare_command
from optbench.cli.data_cmd import data_command
from optbench.cli.list_cmd import list_command
from optbench.cli.regress_cmd import regress_command
from optbench.cli.report_cmd import report_command
from optbench.cli.run_cmd import run_command
from optbench.cli.search_cmd import search_command
from optbench.cli.show_cmd import show_command
from optbench.cli.studies_cmd import studies_command


@click.group(cls=QuietPipeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="optbench")
def main() -> None:
    """Benchmark optimizers on test landscapes and networks; results are tidy tables."""
    show_plugin_warnings_briefly()


main.add_command(list_command)
main.add_command(run_command)
main.add_command(show_command)
main.add_command(data_command)
main.add_command(studies_command)
main.add_command(report_command)
main.add_command(compare_command)
main.add_command(search_command)
main.add_command(regress_command)
