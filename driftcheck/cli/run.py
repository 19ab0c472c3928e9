"""`driftcheck run -- CMD`: check, then become CMD only when every contract is in sync.

`run` takes exactly the options of `check` (an unknown option is click's usage error,
exit 2, and nothing starts) and starts CMD exactly when `check` with the same options
would exit 0.
"""

from __future__ import annotations

import os
import shlex
import sys

import click

from driftcheck.cli.options import Reporting, checking
from driftcheck.config import CheckOptions


@click.command("run", context_settings={"allow_interspersed_args": False})
@checking
@click.argument("command", nargs=-1, type=click.UNPROCESSED, metavar="-- CMD [ARG...]")
def run_command(options: CheckOptions, reporting: Reporting, command: tuple[str, ...]) -> None:
    """Check; only when everything is in sync, replace this process with CMD.

    CMD's exit code and signals pass straight through (exec). On drift or error
    CMD is never started and the exit code is the check's (1 or 2). The report
    goes to standard error (standard output is CMD's) unless --output names a file,
    which is written in every outcome.
    """
    from driftcheck.check import run_check
    from driftcheck.cli.check import suggested_root
    from driftcheck.cli.output import publish

    if not command:
        raise click.UsageError("missing CMD; usage: driftcheck run [OPTIONS] -- CMD [ARG...]")
    if reporting.exit_zero:
        raise click.UsageError("--exit-zero does not apply to run: CMD starts only when the check passes")
    result = run_check(options)
    if result.exit_code == 0 and reporting.output is None and reporting.base is None:
        code = 0  # in sync and nothing asked for: say nothing on the way to CMD
    else:
        code = publish(result, options, reporting, err=True, fix_root=suggested_root(options))
    if code != 0:
        why = "the lists drift" if code == 1 else "the check could not decide"
        click.echo(f"driftcheck: not starting {shlex.join(command)}: {why} (exit {code})", err=True)
        sys.exit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvp(command[0], list(command))
    except OSError as exc:
        click.echo(f"driftcheck: cannot start {command[0]!r}: {exc.strerror}", err=True)
        sys.exit(127 if isinstance(exc, FileNotFoundError) else 126)

