"""`driftcheck discover`: print the undeclared copies of each source list (docs/commands.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from driftcheck.discover import Discovery, Proposal, SourceResult


@click.command()
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=Path("."), show_default=True,
              help="Repository root: its git-tracked files are read.")
@click.option("--config", "config", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Configuration file (default: driftcheck.toml, else [tool.driftcheck] in pyproject.toml).")
@click.option("--source", metavar="PATH:SYMBOL", default=None,
              help="Look for copies of this list (default: every configured contract's source).")
@click.option("--contract", "contracts", metavar="NAME", multiple=True,
              help="Only these contracts' sources (repeatable).")
@click.option("--min-shared", type=click.IntRange(min=1), default=3, show_default=True,
              help="Propose a list only when it shares at least N keys with the source.")
@click.option("--min-overlap", type=click.FloatRange(min=0.0, max=1.0), default=0.5, show_default=True,
              help="... and at least this fraction of the smaller of the two lists.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "toml"]), default="text", show_default=True,
              help="text: one line per copy; json: for scripts; toml: contract blocks to paste.")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the report to FILE instead of standard output.")
@click.option("--fail-on-undeclared", is_flag=True, help="Exit 1 when a copy is not declared as a mirror.")
def discover(root: Path, config: Path | None, source: str | None, contracts: tuple[str, ...], min_shared: int,
             min_overlap: float, fmt: str, output: Path | None, fail_on_undeclared: bool) -> None:
    """Find the copies of each source list that no contract declares."""
    from driftcheck.cli import emit
    from driftcheck.discover import discover as run_discover
    from driftcheck.discover import sources_for
    from driftcheck.report.text_format import finding_line

    if source is not None and contracts:
        raise click.UsageError("--source and --contract exclude each other")
    if not root.is_dir():
        raise click.UsageError(f"--root {root} is not a directory")
    sources, findings = sources_for(root, config, source, contracts)
    if findings:
        for finding in findings:
            click.echo(finding_line(finding), err=True)
        sys.exit(2)
    result = run_discover(root, sources, min_shared, min_overlap)
    broken = [f for s in result.sources if s.keys is None for f in s.findings]
    for finding in broken:
        click.echo(finding_line(finding), err=True)
    if fmt == "json":
        text = json.dumps(as_json(result), indent=2) + "\n"
    elif fmt == "toml":
        text = as_toml(result)
    else:
        text = as_text(result)
    emit(text, output)
    if broken:
        sys.exit(2)  # a source that cannot be read: nothing was compared with it
    sys.exit(1 if fail_on_undeclared and result.undeclared else 0)


def _counts(p: Proposal) -> str:
    return f"shared {p.shared}, missing {len(p.missing)}, extra {len(p.extra)}"


def as_text(result: Discovery) -> str:
    lines: list[str] = []
    for source in result.sources:
        lines.append(_heading(source))
        for p in source.proposals:
            mark = "declared" if p.declared else "undeclared"
            note = f"; check refuses it: {p.refusal.code} {p.refusal.message}" if p.refusal else ""
            lines.append(f"  {p.ref}  {p.relation} ({_counts(p)}) [{mark}]{note}")
        if not source.proposals and source.keys is not None:
            lines.append("  no copies found")
    undeclared = len(result.undeclared)
    lines.append(f"{sum(len(s.proposals) for s in result.sources)} copies ({undeclared} undeclared) among "
                 f"{result.candidates} candidate lists in {result.files_read} files; "
                 f"{len(result.skipped)} files skipped (unreadable or unparsable)")
    for path, why in result.skipped:
        lines.append(f"  skipped {path}: {why}")
    return "".join(line + "\n" for line in lines)


def _heading(source: SourceResult) -> str:
    contracts = source.source.contract
    name = f"source of {'contracts' if contracts and ', ' in contracts else 'contract'} {contracts}" if contracts \
        else "source"
    size = f"{len(source.keys)} keys" if source.keys is not None else "cannot be read"
    return f"{name}: {source.source.ref.ref} ({size})"


def as_json(result: Discovery) -> dict[str, Any]:
    return {
        "version": 1,
        "sources": [{
            "contract": s.source.contract,
            "ref": s.source.ref.ref,
            "language": s.source.ref.language,
            "keys": len(s.keys) if s.keys is not None else None,
            "candidates": [{
                "ref": p.ref, "path": p.path, "selector": p.selector, "language": p.language, "line": p.line,
                "relation": p.relation, "shared": p.shared, "missing": list(p.missing), "extra": list(p.extra),
                "declared": p.declared,
                "refused": None if p.refusal is None else {"code": p.refusal.code, "message": p.refusal.message,
                                                           "line": p.refusal.line, "column": p.refusal.column},
            } for p in s.proposals],
        } for s in result.sources],
        "files": {"read": result.files_read, "skipped": len(result.skipped), "candidates": result.candidates},
        "skipped": [{"path": path, "reason": why} for path, why in result.skipped],
    }


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string


def as_toml(result: Discovery) -> str:
    blocks: list[str] = []
    for source in result.sources:
        wanted = [p for p in source.proposals if not p.declared and p.refusal is None]
        if not wanted:
            continue
        name = f"{source.source.contract.split(', ')[0]}-discovered" if source.source.contract else "discovered"
        lines = [f"# {len(wanted)} undeclared copies of {source.source.ref.ref} found by `driftcheck discover`",
                 "[[contract]]", f"name = {_toml_string(name)}", f"source = {_toml_string(source.source.ref.ref)}",
                 "mirrors = ["]
        for p in wanted:
            relation = {"equal": "equal", "subset": "subset", "superset": "superset", "overlap": "equal"}[p.relation]
            note = f"  # overlap: {_counts(p)}; decide which side is right" if p.relation == "overlap" else \
                f"  # {p.relation}"
            lines.append(f"  {{ ref = {_toml_string(p.ref)}, relation = {_toml_string(relation)} }},{note}")
        lines.append("]")
        blocks.append("\n".join(lines) + "\n")
    if not blocks:
        return "# no undeclared copies found\n"
    return "\n".join(blocks)
