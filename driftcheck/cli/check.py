"""`driftcheck check`: evaluate every contract, print the report, exit 0/1/2."""

from __future__ import annotations

import sys

import click

from driftcheck.cli.options import ROOT_DISCOVERED, Reporting, checking
from driftcheck.config import CheckOptions


@click.command()
@checking
def check(options: CheckOptions, reporting: Reporting) -> None:
    """Evaluate every contract; exit 0 in sync, 1 drift, 2 could not decide."""
    from driftcheck.check import run_check
    from driftcheck.cli.output import publish

    result = run_check(options)
    sys.exit(publish(result, options, reporting, fix_root=suggested_root(options)))


def suggested_root(options: CheckOptions) -> str:
    """The --root a suggested command repeats: none when it was found from the current directory."""
    context = click.get_current_context(silent=True)
    return "." if context is not None and context.meta.get(ROOT_DISCOVERED) else str(options.root)
