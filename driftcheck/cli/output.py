"""Where reports go: colour, `--output`, and the one report a gating command produces.

`driftcheck.console` imports `unreported` from here (never the other way round), so the
console entry point and the command line agree on the wording of a failed write.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from driftcheck.cli.options import Reporting
    from driftcheck.config import CheckOptions
    from driftcheck.model import CheckResult


def use_color(stream: Any = None, mode: str = "auto") -> bool:
    """Colour for `stream`: `--color always|never`, else a non-empty NO_COLOR turns it off and a non-empty
    FORCE_COLOR on (CPython's order), else only on a terminal. An empty NO_COLOR= means "not set"."""
    if mode != "auto":
        return mode == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    stream = stream or sys.stdout
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


def unreported(exc: OSError) -> str:
    """The one line for a result that could not be written (exit 2), wherever the write failed."""
    where = exc.filename or "standard output"
    return f"driftcheck: cannot write to {where}: {exc.strerror or exc}; the result was not reported"


def emit(text: str, output: Path | None, err: bool = False, color: bool | None = None) -> None:
    """Print a report, or write it to --output; a failed write is a usage error (exit 2).

    `color=True` keeps ANSI codes that click would strip from a stream that is not a terminal.
    """
    if output is None:
        click.echo(text, nl=False, err=err, color=color)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write --output {output}: {exc.strerror}") from None


def publish(result: CheckResult, options: CheckOptions, reporting: Reporting, *, err: bool = False,
            fix_root: str | None = None) -> int:
    """Filter, attribute, render and write one check's report; return the exit code `check` has.

    `err`: without --output the report goes to standard error (`run`: standard output is CMD's).
    """
    from driftcheck.check import keep_only
    from driftcheck.report import render, render_statistics

    if reporting.select or reporting.ignore:
        result = keep_only(result, reporting.keep)
    attribution = None
    if reporting.base is not None:
        from driftcheck.attribution import attribute, with_base_error

        attribution = attribute(result, reporting.base, options.root)
        if attribution.error:
            # REV unreadable: one line on stderr, exit 2; structured reports also carry it as DC106.
            click.echo(attribution.error, err=True)
            if reporting.fmt != "text":
                result = with_base_error(result, attribution)
    color = False
    if reporting.statistics:
        text = render_statistics(result, reporting.fmt)
    else:
        stream = None if reporting.output is not None else (sys.stderr if err else sys.stdout)
        color = reporting.fmt == "text" and use_color(stream if stream is not None else _NotATerminal(),
                                                      reporting.color)
        text = render(result, reporting.fmt, color=color, root=str(options.root), relative_to_cwd=True,
                      quiet=reporting.quiet, attribution=attribution, fix_root=fix_root)
    emit(text, reporting.output, err=err, color=color or None)
    code = 2 if attribution is not None and attribution.error else result.exit_code
    return 0 if reporting.exit_zero and code == 1 else code


class _NotATerminal:
    """Stands for an --output file when deciding colour: never a terminal."""

    def isatty(self) -> bool:
        return False
