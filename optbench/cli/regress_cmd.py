"""`optbench regress BASE HEAD`: fail on a significant slowdown or a loss of quality."""

from __future__ import annotations

from pathlib import Path

import click

from optbench.cli.common import usage_errors
from optbench.errors import OptbenchError

NUMBERS = {
    "threshold": "Slowdown that counts (0.25 = 25 %).",
    "alpha": "Significance level of the one-sided Mann-Whitney U test over rounds.",
    "floor_ms": "Median differences below this many ms are never regressions.",
    "min_rounds": "Fewer rounds than this on a side: a slowdown is only INCONCLUSIVE.",
    "hard_ratio": "Median ratio that fails whatever the rounds say (same machine).",
    "advisory_hard_ratio": "The hard ratio when time is advisory (another machine, baseline).",
    "cross_model_hard_ratio": "The hard ratio when base and head ran on different CPU models.",
}


def _number_options(command):
    for name, text in reversed(NUMBERS.items()):
        kind = int if name == "min_rounds" else float
        flag = "--" + name.replace("_", "-")
        command = click.option(flag, name, type=kind, default=None, help=text)(command)
    return command


@click.command("regress")
@click.argument("runs", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--update",
    "update",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write RUNS (merged) as the committed baseline at this path, naming their commit.",
)
@click.option("--show-commit", is_flag=True, help="Print the commit the baseline RUNS[0] ran.")
@click.option("--machine-kind", is_flag=True, help="Print this machine's kind (baseline name).")
@click.option(
    "--time",
    "time_mode",
    type=click.Choice(["auto", "strict", "advisory"]),
    default="auto",
    show_default=True,
    help="auto: strict on the same fingerprint, calibration-normalised advisory otherwise.",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("pyproject.toml"),
    show_default=True,
    help="File with [tool.optbench.regress] thresholds and per-benchmark glob overrides.",
)
@click.option("--title", default="", help="A line printed above the table.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the table to this file.",
)
@_number_options
@usage_errors
def regress_command(
    runs: tuple[Path, ...],
    update: Path | None,
    show_commit: bool,
    machine_kind: bool,
    time_mode: str,
    config: Path,
    title: str,
    output: Path | None,
    **numbers: float | None,
) -> None:
    """Compare pytest-benchmark JSON runs BASE and HEAD (files, or folders of interleaved blocks).

    Exit 0: pass (warnings allowed); 1: a regression; 2: a usage error or a schema mismatch.
    """
    from optbench import regress

    if machine_kind:
        from optbench.regress.machine import fingerprint
        from optbench.regress.machine import machine_kind as kind_of

        click.echo(kind_of(fingerprint()))
        return
    if show_commit:
        if len(runs) != 1:
            raise OptbenchError("--show-commit takes one baseline file")
        click.echo(regress.baseline_commit(runs[0]))
        return
    if update is not None:
        if not runs:
            raise OptbenchError("--update BASELINE needs the run files (or folders) to store")
        data = regress.make_baseline(list(runs))
        regress.write_baseline(update, data)
        stamp = data["machine_info"]["optbench"]["baseline"]
        click.echo(f"wrote {update}: {len(data['benchmarks'])} benchmarks, commit "
                   f"{stamp['commit'][:10]}, machine kind {stamp['machine_kind']}")  # fmt: skip
        return
    if len(runs) != 2:
        raise OptbenchError(f"regress takes BASE and HEAD, got {len(runs)} paths")
    chosen = {k: v for k, v in numbers.items() if v is not None}
    settings = regress.from_pyproject(config, chosen)
    base, head = regress.load([runs[0]]), regress.load([runs[1]])
    report = regress.compare(base, head, settings, time_mode)
    text = regress.render(report, base, head, title)
    click.echo(text)
    if output is not None:
        output.write_text(text + "\n", encoding="utf-8")
    raise SystemExit(report.exit_code)
