"""`driftcheck run -- CMD`: check, then become CMD only when every contract is in sync."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import click

from driftcheck.cli import check_options, emit, make_options, output_options, use_color


@click.command("run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@check_options
@output_options
@click.argument("command", nargs=-1, type=click.UNPROCESSED, metavar="-- CMD [ARG...]")
def run_command(root: Path, config: Path | None, source: str | None, mirrors: tuple[str, ...],
                contracts: tuple[str, ...], fmt: str, output: Path | None, command: tuple[str, ...]) -> None:
    """Check; only when everything is in sync, replace this process with CMD.

    CMD's exit code and signals pass straight through (exec). On drift or error
    CMD is never started and the exit code is the check's (1 or 2).
    """
    from driftcheck.check import run_check
    from driftcheck.report import render

    if not command:
        raise click.UsageError("missing CMD; usage: driftcheck run [OPTIONS] -- CMD [ARG...]")
    result = run_check(make_options(root, config, source, mirrors, contracts))
    if result.exit_code != 0:
        # The command's stdout is not ours: the report goes to stderr unless --output names a file.
        report = render(result, fmt, color=fmt == "text" and use_color(sys.stderr), root=str(root))
        if output is None:
            click.echo(report, nl=False, err=True)
        else:
            emit(report, output)
        why = "the lists drift" if result.exit_code == 1 else "the check could not decide"
        click.echo(f"driftcheck: not starting {shlex.join(command)}: {why} (exit {result.exit_code})", err=True)
        sys.exit(result.exit_code)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvp(command[0], list(command))
    except OSError as exc:
        click.echo(f"driftcheck: cannot start {command[0]!r}: {exc.strerror}", err=True)
        sys.exit(127 if isinstance(exc, FileNotFoundError) else 126)
