"""The options `check`, `fix`, `run` and `e2e` share, and the one place they become `CheckOptions`.

`check_options` adds the five options that say which contracts to check (their parameter
names are a contract: `driftcheck.e2e.cli` and `cli.fix` take them as keyword arguments);
`report_options` adds what `check` and `run` share about the report (docs/commands.md).
`checking` applies both and hands the command a `CheckOptions` and a `Reporting`.
"""

# Annotations are evaluated (no `from __future__ import annotations`): NamedTuple compiles string ones.

import functools
import os
from pathlib import Path
from typing import Any, Callable, NamedTuple

import click

from driftcheck.config import CheckOptions

ROOT_DISCOVERED = "driftcheck.root_discovered"  # ctx.meta flag: --root was not given


def _discover_root(ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path:
    if value is not None:
        return value
    from driftcheck.config import find_root

    ctx.meta[ROOT_DISCOVERED] = True
    try:
        return Path(os.path.relpath(find_root(Path.cwd())))  # relative to the cwd: `.`, `..`, `../..`
    except OSError as exc:  # e.g. the current directory was removed under the shell
        raise click.UsageError(f"cannot find the repository root from the current directory ({exc.strerror}); "
                               "cd into the repository or pass --root DIR") from None


def check_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by check, fix, run and e2e (docs/commands.md)."""
    decorators = [
        click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=None,
                     callback=_discover_root,
                     help="Repository root; relative paths resolve against it. Default: the first directory "
                          "from the current one upward holding driftcheck.toml, a pyproject.toml with "
                          "[tool.driftcheck], or .git."),
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


def make_options(root: Path, config: Path | None, source: str | None, mirrors: tuple[str, ...],
                 contracts: tuple[str, ...]) -> CheckOptions:
    """The one place the shared options become what `run_check` takes."""
    return CheckOptions(root=root, config=config, source=source, mirrors=tuple(mirrors), contracts=tuple(contracts))


def output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
                        help="Write the report to FILE instead of standard output (in every outcome).")(func)
    return click.option("--format", "fmt", type=click.Choice(["text", "json", "github", "sarif"]), default="text",
                        show_default=True, help="Report format.")(func)


def _codes(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    """Rule codes or prefixes (`DC001`, `DC00`), repeatable and comma-separated, as ruff takes them."""
    from driftcheck.rules import RULES

    codes = tuple(dict.fromkeys(c.strip().upper() for v in values for c in v.split(",") if c.strip()))
    for code in codes:
        matched = [rule for rule in RULES.values() if rule.code.startswith(code)]
        if not matched:
            raise click.BadParameter(f"unknown rule code {code!r}; the codes are {', '.join(RULES)}", ctx, param)
        deciding = [rule.code for rule in matched if rule.exit_code == 2]
        if param.name == "ignore" and deciding:
            raise click.BadParameter(
                f"{code!r} would ignore {', '.join(deciding)}, which cannot be ignored: they mean driftcheck "
                "could not decide (exit 2), not an opinion about the lists", ctx, param)
    return codes


def report_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """What `check` and `run` (every command that gates) share about the report."""
    decorators = [
        click.option("--base", metavar="REV", default=None,
                     help="Also read both lists at REV (git) and say which side moved."),
        click.option("-q", "--quiet", is_flag=True, help="Print the findings only (no summaries)."),
        click.option("--exit-zero", is_flag=True, help="Exit 0 even when the lists drift (2 still means "
                                                       "driftcheck could not decide)."),
        click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
                     help="Colour the text report (auto: on a terminal, unless NO_COLOR is set; FORCE_COLOR "
                          "forces it)."),
        click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead of "
                                                        "the findings (text or json)."),
        click.option("--select", metavar="CODES", multiple=True, callback=_codes,
                     help="Only these drift rules (codes or prefixes, comma-separated, repeatable)."),
        click.option("--ignore", metavar="CODES", multiple=True, callback=_codes,
                     help="Leave out these drift rules; exit-2 codes (DC1xx) cannot be ignored."),
    ]
    func = output_options(func)
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


class Reporting(NamedTuple):
    """How a gating command reports (`report_options`)."""

    fmt: str = "text"
    output: Path | None = None
    base: str | None = None
    quiet: bool = False
    exit_zero: bool = False
    color: str = "auto"
    statistics: bool = False
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def keep(self, code: str) -> bool:
        """Whether a drift finding of rule `code` counts (`--select`, then `--ignore`)."""
        if self.select and not any(code.startswith(c) for c in self.select):
            return False
        return not any(code.startswith(c) for c in self.ignore)


_CHECK_KEYS = ("root", "config", "source", "mirrors", "contracts")
_REPORT_KEYS = ("fmt", "output", "base", "quiet", "exit_zero", "color", "statistics", "select", "ignore")


def checking(func: Callable[..., Any]) -> Callable[..., Any]:
    """`check_options` + `report_options`; the command gets `(options, reporting, **its own options)`."""
    @functools.wraps(func)
    def command(**params: Any) -> Any:
        options = make_options(*(params.pop(k) for k in _CHECK_KEYS))
        reporting = Reporting(**{k: params.pop(k) for k in _REPORT_KEYS})
        if reporting.statistics and reporting.fmt not in ("text", "json"):
            raise click.UsageError(f"--statistics prints text or json, not --format {reporting.fmt}")
        return func(options, reporting, **params)

    return check_options(report_options(command))
