"""The `driftcheck fix` command: check, plan the rewrites, then write them atomically (or show a diff).

Output: standard output gets what was done — one `fixed PATH: SYMBOL +ADDED
-REMOVED` line per rewritten file, or with `--diff` only the unified diff (so it
can be piped to `git apply`). Standard error gets what is left: mirrors fix
refused to rewrite, and every finding that remains afterwards.

Exit codes (like `check`, for the state after fixing): 0 every contract is in
sync now (or already was); 1 drift remains that fix could not repair (a refused
mirror, a stale exception, contracts that disagree); 2 driftcheck could not
decide (a list that cannot be extracted — never rewritten — or bad
configuration) or a file could not be written. With `--diff` nothing is written
and the exit code is 1 when the diff is non-empty (like `black --check`), else
that of the check; 2 still wins.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from pathlib import Path

import click

from driftcheck.cli import check_options, make_options


class ChangedOnDisk(Exception):
    """The file no longer holds the bytes the plan was made from."""


@click.command()
@check_options
@click.option("--diff", "show_diff", is_flag=True,
              help="Print a unified diff of the changes and write nothing; exit 1 when there are changes.")
def fix(root: Path, config: Path | None, source: str | None, mirrors: tuple[str, ...],
        contracts: tuple[str, ...], show_diff: bool) -> None:
    """Rewrite each mirror so it agrees with its source, keeping its style.

    Only the list's value changes; lists built with appends, expansions or
    other names, Go lists, and lists that cannot be extracted are never
    rewritten (they are reported instead).
    """
    from driftcheck.check import run_check
    from driftcheck.fix.plan import overlay_for, plan_fix, unified_diff
    from driftcheck.sources import SourceFiles

    options = make_options(root, config, source, mirrors, contracts)
    files = SourceFiles(root)
    before = run_check(options, files)
    plan = plan_fix(before, files)
    for refusal in plan.refusals:
        click.echo(refusal.message, err=True)

    if show_diff:
        after = run_check(options, overlay_for(plan, files))
        click.echo(unified_diff(plan), nl=False)
        _report_remaining(after)
        sys.exit(max(1 if plan.files else 0, after.exit_code))

    write_failed = False
    for file_fix in plan.files:
        try:
            write_atomic(file_fix.path, file_fix.new, file_fix.old)
        except ChangedOnDisk:
            click.echo(f"{file_fix.display}: not written: the file changed while fix was running; run it again",
                       err=True)
            write_failed = True
            continue
        except OSError as exc:
            click.echo(f"{file_fix.display}: not written: {exc.strerror or exc}", err=True)
            write_failed = True
            continue
        click.echo(file_fix.summary)
    after = run_check(options)  # what is on disk now, read afresh
    _report_remaining(after)
    if not plan.files and after.exit_code == 0:
        click.echo("nothing to fix: every contract is in sync")
    sys.exit(2 if write_failed else after.exit_code)


def _report_remaining(result: object) -> None:
    from driftcheck.report.text_format import finding_line

    for finding in result.all_findings:  # type: ignore[attr-defined]
        click.echo(finding_line(finding), err=True)


def write_atomic(path: Path, data: bytes, expected: bytes) -> None:
    """Replace the file's content all at once (temp file + os.replace), keeping its mode.

    Writes through a symbolic link to the file it points at. Raises ChangedOnDisk
    (writing nothing) when the file no longer holds `expected`.
    """
    real = Path(os.path.realpath(path))
    if not stat.S_ISREG(os.stat(real).st_mode):
        raise ChangedOnDisk(str(real))  # never rename over a device, FIFO or directory
    with open(real, "rb") as handle:
        if handle.read() != expected:
            raise ChangedOnDisk(str(real))
    info = os.stat(real)
    fd, temp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".driftcheck-tmp", dir=real.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, stat.S_IMODE(info.st_mode))
        if hasattr(os, "chown"):
            with contextlib.suppress(OSError):  # keep the owner when allowed to (e.g. running as root)
                os.chown(temp, info.st_uid, info.st_gid)
        os.replace(temp, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    with contextlib.suppress(OSError):  # make the rename durable where the platform allows it
        dir_fd = os.open(real.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
