"""The `text` format: `path:line:col: CODE message`, then one summary line per contract."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Callable

from driftcheck.model import CheckResult, ContractResult, Finding

if TYPE_CHECKING:
    from driftcheck.attribution import Attribution

_RED, _YELLOW, _GREEN, _BOLD, _RESET = "\033[31m", "\033[33m", "\033[32m", "\033[1m", "\033[0m"
# What `fix` repairs: missing and extra keys, repeated keys and the order. DC004/DC006 are edits by hand.
FIXABLE_CODES = frozenset({"DC001", "DC002", "DC003", "DC005"})


def finding_line(finding: Finding, color: bool = False, shown: Callable[[str], str] | None = None) -> str:
    code = finding.code
    if color:
        code = f"{_RED if finding.exit_code == 2 else _YELLOW}{_BOLD}{code}{_RESET}"
    suffix = f" [{finding.contract}]" if finding.contract else ""
    path = shown(finding.path) if shown else finding.path
    return f"{path}:{finding.line}:{finding.column}: {code} {finding.message}{suffix}"


def cwd_paths(root: str) -> Callable[[str], str]:
    """Show a root-relative path relative to the current directory, so it can be opened as printed.

    Inside the current directory, or when the current directory is inside the root (a
    subdirectory of the repository: `../../x.go`), the path is relative; otherwise absolute.
    """
    try:
        cwd = os.getcwd()
    except OSError:  # the current directory was removed: nothing to be relative to
        return lambda path: path
    root_abs = os.path.abspath(root)
    below_root = not os.path.relpath(cwd, root_abs).startswith("..")

    def shown(path: str) -> str:
        if not path or (path.startswith("<") and path.endswith(">")):
            return path  # `<command line>`, `<built-in default>`
        full = os.path.normpath(os.path.join(root_abs, path))
        relative = os.path.relpath(full, cwd)
        return relative if below_root or not relative.startswith("..") else full

    return shown


def can_fix(contract: ContractResult) -> bool:
    """Whether `driftcheck fix` could act on this contract's drift (so the summary may suggest it)."""
    if contract.status != "drift":
        return False
    from driftcheck.fix.plan import _REWRITERS  # the mirror languages fix rewrites (drift reports only)

    fixable_paths = {m.extracted.ref.path for m in contract.mirrors if m.extracted.ref.language in _REWRITERS
                     and m.extracted.keys is not None}
    if any(m.missing or m.extra for m in contract.mirrors if m.extracted.ref.path in fixable_paths):
        return True
    return any(f.code in FIXABLE_CODES and f.path in fixable_paths for f in contract.findings)


def contract_summary(contract: ContractResult, root: str, color: bool = False) -> str:
    name = contract.contract.name
    allowed = [a for m in contract.mirrors for a in m.allowed]
    notes = "".join(f"; allowed {a.kind} {a.key} ({a.reason})" for a in allowed)
    if contract.status == "in_sync":
        count = len(contract.source.keys or ())
        mark = f"{_GREEN}in sync{_RESET}" if color else "in sync"
        return f"{name}: {mark} ({count} keys, {len(contract.mirrors)} mirror(s)){notes}"
    findings = contract.findings
    counts = f"{len(findings)} finding{'s' if len(findings) != 1 else ''}"
    if contract.status == "error":
        return (f"{name}: could not decide ({counts}); fix the errors above — driftcheck never reports "
                f"in sync for a list it cannot read")
    if not can_fix(contract):
        return f"{name}: drift ({counts}){notes}; edit the lines above by hand"
    import shlex  # only a drift summary quotes paths

    fix = "driftcheck fix" + (f" --root {shlex.quote(root)}" if root not in (".", "") else "")
    if name == "cli":
        fix += f" --source {shlex.quote(contract.contract.source.ref)}"
        fix += "".join(f" --mirror {shlex.quote(m.ref.ref)}" for m in contract.contract.mirrors)
    else:
        fix += f" --contract {shlex.quote(name)}"
    return f"{name}: drift ({counts}){notes}; to fix: {fix}"


def render(result: CheckResult, *, color: bool = False, root: str = ".", relative_to_cwd: bool = False,
           quiet: bool = False, attribution: Attribution | None = None, fix_root: str | None = None,
           **_: object) -> str:
    """Findings, then (unless quiet) one summary per contract and the `--base` attribution lines.

    `relative_to_cwd`: print paths as seen from the current directory (the command line does);
    `fix_root`: the `--root` the fix suggestion repeats (default `root`).
    """
    shown = cwd_paths(root) if relative_to_cwd else None
    lines = [finding_line(f, color, shown) for f in result.all_findings]
    if not quiet:
        lines.extend(contract_summary(c, root if fix_root is None else fix_root, color) for c in result.contracts)
        if attribution is not None:
            lines.extend(attribution.lines)
    return "".join(line + "\n" for line in lines)
