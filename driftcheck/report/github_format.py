"""The `github` format: GitHub/Gitea Actions workflow commands, one per finding.

Every DC code is emitted as `::error` (drift fails the required check, so a
warning would under-state it). Data and property values are escaped exactly as
the runners decode them, so a key or message can never end the command early
or start a new one (no workflow-command injection through a crafted list).
"""

from __future__ import annotations

import os
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from driftcheck.model import CheckResult, Finding
from driftcheck.report.text_format import contract_summary

if TYPE_CHECKING:
    from driftcheck.attribution import Attribution


def escape_data(value: str) -> str:
    """Escape the message part (after `::`) the way the Actions runner unescapes it."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a property value (`file=`, `title=`): data escapes plus `:` and `,`."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def artifact_path(path: str, root: str) -> str | None:
    """The finding's file as a repository-relative POSIX path, or None when it names no file.

    Findings already carry root-relative paths; this only normalises `./x` (and `x\\y` on Windows),
    relativises an absolute path that lies under the root, and drops pseudo-paths
    such as `<command line>` and the root directory itself (a bad `--root`).
    """
    if not path or (path.startswith("<") and path.endswith(">")):
        return None
    native = Path(path)
    if native.is_absolute():
        try:
            relative = native.resolve().relative_to(Path(root).resolve())
        except (ValueError, OSError):
            return native.as_posix()
        text = relative.as_posix()
    else:
        text = PurePath(path).as_posix()
    return None if text in ("", ".") else text


def workspace_path(path: str, root: str) -> str:
    """A root-relative path as the Actions runner resolves `file=`: against GITHUB_WORKSPACE.

    With the action's `root: sub`, a finding in `sub/x.sh` must say `sub/x.sh`. Outside Actions,
    or for a file outside the workspace, the path stays relative to the root.
    """
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if not workspace or not path or (path.startswith("<") and path.endswith(">")) or Path(path).is_absolute():
        return path
    relative = os.path.relpath(os.path.join(os.path.abspath(root), path), os.path.abspath(workspace))
    return path if relative.startswith("..") else relative


def finding_command(finding: Finding, root: str = ".") -> str:
    title = escape_property(f"{finding.code} {finding.name}")
    path = artifact_path(workspace_path(finding.path, root), root)
    if path is None:
        return f"::error title={title}::{escape_data(finding.message)}"
    return (f"::error file={escape_property(path)},line={finding.line},col={finding.column},"
            f"title={title}::{escape_data(finding.message)}")


def render(result: CheckResult, *, color: bool = False, root: str = ".", quiet: bool = False,
           attribution: Attribution | None = None, **_: object) -> str:
    """One `::error` per finding; unless quiet, a `::notice` per contract and per `--base` attribution line."""
    lines = [finding_command(f, root) for f in result.all_findings]
    if not quiet:
        lines.extend(f"::notice::{escape_data(contract_summary(c, root))}" for c in result.contracts)
        if attribution is not None:
            title = escape_property(f"driftcheck --base {attribution.base}")
            lines.extend(f"::notice title={title}::{escape_data(line)}" for line in attribution.lines)
    return "".join(line + "\n" for line in lines)
