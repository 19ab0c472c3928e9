"""Kept for imports of the old location: `driftcheck run` lives in `driftcheck.cli.run`."""

from driftcheck.cli.run import run_command

__all__ = ["run_command"]
