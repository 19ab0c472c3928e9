"""The command line: parses options, calls the library, prints. Nothing else.

Subcommands that need heavy imports (the platform's HTTP stack, the e2e
runner, libcst for `fix`) are loaded only when invoked, so `driftcheck check`
starts as fast as the parsers allow.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from pathlib import Path
from typing import Any, Callable

import click

from driftcheck import __version__
from driftcheck.config import CheckOptions
from driftcheck.languages import names as language_names

# name -> (module, attribute, help); imported on first use.
_LAZY_COMMANDS = {
    "fix": ("driftcheck.cli.fix", "fix", "Rewrite each mirror so it agrees with its source."),
    "run": ("driftcheck.gate", "run_command", "Check, then replace this process with CMD only when in sync."),
    "e2e": ("driftcheck.e2e.cli", "e2e", "Run the byok provisioning lifecycle, gated by the check."),
    "platform": ("driftcheck.platform.cli", "platform", "The embedded reference platform."),
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
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help for lazy commands must not import them (the HTTP stack is optional).
        rows = [(name, cmd.get_short_help_str()) for name, cmd in self.commands.items()]
        rows += [(name, help_text) for name, (_, _, help_text) in _LAZY_COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(sorted(rows))


def check_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by check, fix, run and e2e (DESIGN.md section 4)."""
    decorators = [
        click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=Path("."),
                     show_default=True, help="Repository root; relative paths resolve against it."),
        click.option("--config", "config", type=click.Path(path_type=Path, dir_okay=False), default=None,
                     help="Configuration file (default: driftcheck.toml, else [tool.driftcheck] in pyproject.toml, "
                          "else the built-in default contract)."),
        click.option("--source", metavar="PATH:SYMBOL", default=None,
                     help="Ad-hoc contract 'cli': the source list (replaces the configured contracts)."),
        click.option("--mirror", "mirrors", metavar="PATH:SYMBOL", multiple=True,
                     help="Ad-hoc contract 'cli': a mirror list (repeatable)."),
        click.option("--contract", "contracts", metavar="NAME", multiple=True,
                     help="Check only these contracts (repeatable)."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
                        help="Write the report to FILE instead of standard output.")(func)
    return click.option("--format", "fmt", type=click.Choice(["text", "json", "github", "sarif"]), default="text",
                        show_default=True, help="Report format.")(func)


def make_options(root: Path, config: Path | None, source: str | None, mirrors: tuple[str, ...],
                 contracts: tuple[str, ...]) -> CheckOptions:
    return CheckOptions(root=root, config=config, source=source, mirrors=tuple(mirrors), contracts=tuple(contracts))


def use_color(stream: Any = None) -> bool:
    stream = stream or sys.stdout
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def emit(text: str, output: Path | None) -> None:
    """Print a report, or write it to --output; a failed write is a usage error (exit 2)."""
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write --output {output}: {exc.strerror}") from None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="driftcheck")
def cli() -> None:
    """Keep a security-relevant key list in sync between Go, bash and Python sources."""


@cli.command()
@check_options
@output_options
@click.option("--base", metavar="REV", default=None,
              help="Also read both lists at REV (git) and say which side moved.")
def check(root: Path, config: Path | None, source: str | None, mirrors: tuple[str, ...],
          contracts: tuple[str, ...], fmt: str, output: Path | None, base: str | None) -> None:
    """Evaluate every contract; exit 0 in sync, 1 drift, 2 could not decide."""
    from driftcheck.check import run_check
    from driftcheck.report import render

    result = run_check(make_options(root, config, source, mirrors, contracts))
    attribution = None
    if base is not None:
        from driftcheck.attribution import attribute, with_base_error

        attribution = attribute(result, base, root)
        if attribution.error:
            # REV unreadable: one line on stderr, exit 2; structured reports also carry it as DC106.
            click.echo(attribution.error, err=True)
            if fmt != "text":
                result = with_base_error(result, attribution)
    if attribution is not None and fmt == "json":
        import json

        from driftcheck.report.json_format import result_json

        data = result_json(result)
        data["attribution"] = attribution.json_value()  # additive: only with --base
        text = json.dumps(data, indent=2) + "\n"
    else:
        text = render(result, fmt, color=output is None and fmt == "text" and use_color(), root=str(root))
        if attribution is not None and fmt == "text":
            text += "".join(line + "\n" for line in attribution.lines)
    emit(text, output)
    sys.exit(2 if attribution is not None and attribution.error else result.exit_code)


@cli.command()
@click.argument("list_ref", metavar="PATH:SYMBOL")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=Path("."), show_default=True)
@click.option("--language", type=click.Choice(language_names()), default=None,
              help="Language of the file (default: from its extension or shebang).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None)
def extract(list_ref: str, root: Path, language: str | None, fmt: str, output: Path | None) -> None:
    """Print one list; exit 2 when it cannot be extracted statically."""
    import json

    from driftcheck.config import ConfigError, parse_list_ref
    from driftcheck.languages.driver import extract_list
    from driftcheck.report.json_format import list_json
    from driftcheck.report.text_format import finding_line
    from driftcheck.sources import SourceFiles

    try:
        ref = parse_list_ref(list_ref, root, language)
    except ConfigError as exc:
        click.echo(f"<command line>:1:1: DC106 {exc}", err=True)
        sys.exit(2)
    extracted = extract_list(ref, SourceFiles(root))
    for finding in extracted.findings:
        click.echo(finding_line(finding), err=True)
    if extracted.keys is not None:
        if fmt == "json":
            emit(json.dumps(list_json(extracted), indent=2) + "\n", output)
        else:
            emit("".join(k.key + "\n" for k in extracted.keys), output)
    sys.exit(2 if extracted.keys is None or any(f.exit_code == 2 for f in extracted.findings) else 0)


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
        from driftcheck.console import unreported

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
