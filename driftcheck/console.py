"""The `driftcheck` executable: a short-lived process, started on every commit.

Two costs of a short process are skipped, as mypy does: the cycle collector stays off (what a
check builds lives until the process ends anyway, and the collector's passes over the imports'
and parse trees' young objects cost ~3 ms), and the process ends without tearing the interpreter
down (freeing every tree, dict and module of a process that is exiting costs ~7 ms of a ~60 ms
check). Long-running commands (the reference platform, the e2e runner) turn the collector back
on before they start (`cli.LazyGroup`) and exit the normal way.
"""

from __future__ import annotations

import gc
import os
import sys


def main() -> int:
    gc.disable()
    from driftcheck.cli import main as cli_main

    code = cli_main()
    if gc.isenabled():
        return code  # a long-running command ran: a normal exit closes what it opened
    _exit_now(code)


def _exit_now(code: int) -> None:
    """Flush what was printed, then end the process without the interpreter's teardown."""
    # A stream is None when the process was started with that descriptor closed (`driftcheck check >&-`).
    if sys.stdout is not None:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            pass  # the reader went away (`| head`): nothing left to tell it
        except OSError as exc:  # e.g. a full disk under `> report.txt`: the result never reached anyone
            if sys.stderr is not None:
                from driftcheck.cli.output import unreported  # already imported by the command that ran

                print(unreported(exc), file=sys.stderr)
            code = 2
    if sys.stderr is not None:
        try:
            sys.stderr.flush()
        except OSError:
            pass
    os._exit(code)

