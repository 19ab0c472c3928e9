"""The command line: parses options, calls the library, prints. Nothing else.

One module per command (`check`, `extract`, `run`, `fix`, ...); the options they share live in
`cli.options`, where reports go in `cli.output`. Subcommands that need heavy imports (the
platform's HTTP stack, the e2e runner, libcst for `fix`) are loaded only when invoked, so
`driftcheck check` starts as fast as the parsers allow.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys

import click

from driftcheck import __version__
from driftcheck.cli.check import check
from driftcheck.cli.options import check_options, make_options, output_options, report_options
from driftcheck.cli.output import emit, use_color

__all__ = ["check_options", "cli", "emit", "main", "make_options", "output_options", "report_options", "use_color"]

# name -> (module, attribute, help); imported on first use.
_LAZY_COMMANDS = {
    "extract": ("driftcheck.cli.extract", "extract",
                "Print one list; exit 2 when it cannot be extracted statically."),
    "fix": ("driftcheck.cli.fix", "fix", "Rewrite each mirror so it agrees with its source."),
    "run": ("driftcheck.cli.run", "run_command", "Check, then replace this process with CMD only when in sync."),
    "e2e": ("driftcheck.e2e.cli", "e2e", "Run the byok provisioning lifecycle, gated by the check."),
    "platform": ("driftcheck.platform.cli", "platform", "The embedded reference platform."),
    "discover": ("driftcheck.cli.discover", "discover", "Find the copies of each source list that no contract declares."),
}
_LONG_RUNNING = frozenset({"e2e", "platform"})


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *_LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in _LAZY_COMMANDS:
            if name in _LONG_RUNNING:
                gc.enable()  # off for short checks (driftcheck.console); a server or a lifecycle needs it
            module, attribute, _ = _LAZY_COMMANDS[name]
            return getattr(importlib.import_module(module), attribute)  # type: ignore[no-any-return]
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help for lazy commands must not import them (the HTTP stack is optional).
        rows = [(name, cmd.get_short_help_str()) for name, cmd in self.commands.items()]
        rows += [(name, help_text) for name, (_, _, help_text) in _LAZY_COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(sorted(rows))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="driftcheck")
def cli() -> None:
    """Keep a security-relevant key list in sync between Go, bash and Python sources."""


cli.add_command(check)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (click's usage errors are exit 2, like DC106)."""
    try:
        # In non-standalone mode click returns (not raises) the code of ctx.exit(n).
        returned = cli.main(args=argv, prog_name="driftcheck", standalone_mode=False)
        if isinstance(returned, int):
            return returned
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return 2 if exc.exit_code in (1, 2) else exc.exit_code
    except click.exceptions.Abort:
        click.echo("driftcheck: interrupted", err=True)
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except BrokenPipeError:
        return 0
    except OSError as exc:  # reading inputs is DC105; this is writing the result (a full disk, a closed pipe)
        from driftcheck.cli.output import unreported

        click.echo(unreported(exc), err=True)
        return 2
    except Exception as exc:  # a bug of ours must still fail closed: exit 2, one line, no traceback
        if os.environ.get("DRIFTCHECK_DEBUG"):
            raise
        click.echo(f"driftcheck: internal error ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                   "could not decide — rerun with DRIFTCHECK_DEBUG=1 for a traceback and report it", err=True)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
