"""What `optbench run` says about runs that failed, and the exit statuses it ends with."""

from __future__ import annotations

import os
import sys

import click
import pandas as pd

from optbench.signals import Interrupted

SHOWN = 5
EXIT_ERRORS = 1
EXIT_INTERRUPTED = 130


def report_errors(runs: pd.DataFrame) -> int:
    """Print the study's `error` runs (how many, the first few messages); returns the count."""
    if "status" not in runs:
        return 0
    failed = runs[runs["status"].eq("error")]
    if failed.empty:
        return 0
    click.echo(
        f"\n{len(failed)} run(s) ended with an error (run again to retry them; "
        "--no-retry-errors keeps them):"
    )
    column = "error" if "error" in failed else "message"
    for row in failed.head(SHOWN).itertuples(index=False):
        values = row._asdict()
        text = str(values.get(column) or values.get("message") or "").splitlines()
        click.echo(
            f"  {values['problem']} {values['optimizer']} seed={values['seed']} "
            f"start={values.get('start', 0)} ({values['run_key']}): {text[0] if text else '?'}"
        )
    if len(failed) > SHOWN:
        click.echo(f"  ... and {len(failed) - SHOWN} more (status == 'error' in the runs)")
    return len(failed)


def exit_on_errors(runs: pd.DataFrame) -> None:
    """Exit with status 1 when any run of the study ended with an error."""
    if report_errors(runs):
        sys.exit(EXIT_ERRORS)


def exit_interrupted(out: object, interrupted: KeyboardInterrupt) -> None:
    """Exit 130 after SIGINT/SIGTERM; after a second signal without waiting for the threads
    and pool workers still busy with abandoned batches."""
    click.echo(
        f"\ninterrupted: finished batches are stored in {out}; the same command resumes",
        err=True,
    )
    if isinstance(interrupted, Interrupted) and interrupted.abandoned:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_INTERRUPTED)
