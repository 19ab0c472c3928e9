"""The `sarif` format: SARIF 2.1.0 for code-scanning upload (one run, one rule per code).

Output is deterministic (no timestamps, no absolute paths except the root's
`%SRCROOT%` base), so two runs over the same tree give byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from driftcheck import __version__
from driftcheck.model import CheckResult, ContractResult, Finding, Key
from driftcheck.report.github_format import artifact_path
from driftcheck.rules import RULES

if TYPE_CHECKING:
    from driftcheck.attribution import Attribution

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
# Versioned so a future change of what is hashed does not silently re-key every alert.
FINGERPRINT_NAME = "driftcheckFinding/v1"
_RULE_IDS = tuple(RULES)


def _rule_descriptor(code: str) -> dict[str, Any]:
    rule = RULES[code]
    kind = "drift" if rule.exit_code == 1 else "error"
    consequence = ("Counts as drift: `driftcheck check` exits 1." if rule.exit_code == 1 else
                   "driftcheck cannot decide whether the lists agree: `driftcheck check` exits 2.")
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": f"{rule.summary} {consequence}"},
        "help": {"text": rule.fix},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["driftcheck", kind], "precision": "very-high", "problem.severity": "error",
                       "exitCode": rule.exit_code},
    }


def _uri(path: str) -> str:
    # Only unreserved characters and `/` stay literal: spaces, `#`, `?`, `%`, `:` (which would
    # read as a scheme in a relative reference) and non-ASCII (as UTF-8) are percent-encoded.
    return quote(path, safe="/")


def _physical_location(path: str, line: int, column: int, root: str) -> dict[str, Any] | None:
    """A file region, or None for findings that name no file (`<command line>`)."""
    relative = artifact_path(path, root)
    if relative is None:
        return None
    if Path(relative).is_absolute():
        artifact = {"uri": Path(relative).as_uri()}  # outside the root: no base to be relative to
    else:
        artifact = {"uri": _uri(relative), "uriBaseId": SRCROOT}
    return {"artifactLocation": artifact, "region": {"startLine": max(line, 1), "startColumn": max(column, 1)}}


def _source_key(contract: ContractResult, key: str | None) -> Key | None:
    for candidate in contract.source.keys or ():
        if candidate.key == key:
            return candidate
    return None


def _related_locations(finding: Finding, contract: ContractResult | None, root: str) -> list[dict[str, Any]]:
    """Where the other side of a drift finding is: the key in the source (DC001), the source list (DC002)."""
    if contract is None:
        return []
    source = contract.source
    if finding.code == "DC001":
        where = _source_key(contract, finding.key)
        text = f"{finding.key} in {source.ref.symbol} (the source)"
    elif finding.code == "DC002":
        where = source.definition
        text = f"{source.ref.symbol} (the source), which does not list {finding.key}"
    else:
        return []
    if where is None:
        return []
    physical = _physical_location(source.ref.path, where.line, where.column, root)
    if physical is None:
        return []
    return [{"id": 1, "physicalLocation": physical, "message": {"text": text}}]


def _fingerprint(finding: Finding, path: str | None, occurrence: int) -> str:
    # Code, contract, file and key identify a finding across edits that only move lines;
    # the occurrence number keeps otherwise identical findings (e.g. two DC102 in one file) apart.
    parts = [finding.code, finding.contract or "", path or finding.path, finding.key or "", str(occurrence)]
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


def _attribution_of(finding: Finding, attribution: Attribution) -> dict[str, Any] | None:
    """Which side moved this finding's key since `--base` (an empty `changes`: neither did)."""
    if attribution.changes is None or finding.contract is None or finding.key is None:
        return None
    changes = [c.as_json() for c in attribution.changes if c.contract == finding.contract and c.key == finding.key]
    prefix = f"{finding.contract}: "
    words = [line.removeprefix(prefix) for line in attribution.lines
             if line.startswith(prefix) and finding.key in line.split()]
    return {"base": attribution.base, "changes": changes, "text": words}


def _result(finding: Finding, contract: ContractResult | None, root: str, seen: dict[tuple[str, ...], int],
            attribution: Attribution | None = None) -> dict[str, Any]:
    path = artifact_path(finding.path, root)
    identity = (finding.code, finding.contract or "", path or finding.path, finding.key or "")
    occurrence = seen.get(identity, 0)
    seen[identity] = occurrence + 1
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": _RULE_IDS.index(finding.code),
        "level": "error",
        "message": {"text": finding.message},
    }
    physical = _physical_location(finding.path, finding.line, finding.column, root)
    if physical is not None:
        result["locations"] = [{"physicalLocation": physical}]
    related = _related_locations(finding, contract, root)
    if related:
        result["relatedLocations"] = related
    result["partialFingerprints"] = {FINGERPRINT_NAME: _fingerprint(finding, path, occurrence)}
    properties: dict[str, Any] = {"severity": finding.severity}
    if finding.contract is not None:
        properties["contract"] = finding.contract
    if finding.key is not None:
        properties["key"] = finding.key
    moved = _attribution_of(finding, attribution) if attribution is not None else None
    if moved is not None:
        properties["attribution"] = moved
    result["properties"] = properties
    return result


def root_uri(root: str) -> str:
    """`%SRCROOT%`: the root as an absolute file URI ending with `/` (SARIF requires the slash)."""
    uri = Path(root).resolve().as_uri()
    return uri if uri.endswith("/") else uri + "/"


def sarif_log(result: CheckResult, root: str = ".", attribution: Attribution | None = None) -> dict[str, Any]:
    seen: dict[tuple[str, ...], int] = {}
    results = [_result(f, None, root, seen) for f in result.findings]
    for contract in result.contracts:
        results.extend(_result(f, contract, root, seen, attribution) for f in contract.findings)
    run = {
        "tool": {"driver": {
            "name": "driftcheck",
            "version": __version__,
            "semanticVersion": __version__,
            "rules": [_rule_descriptor(code) for code in _RULE_IDS],
        }},
        "invocations": [{"executionSuccessful": result.exit_code != 2, "exitCode": result.exit_code}],
        "originalUriBaseIds": {SRCROOT: {"uri": root_uri(root)}},
        "columnKind": "unicodeCodePoints",  # driftcheck columns count characters
        "results": results,
        "properties": {
            "status": result.status,
            "contracts": [{"name": c.contract.name, "status": c.status} for c in result.contracts],
        },
    }
    if attribution is not None:  # `--base`: what moved since REV, as the text report says it
        run["properties"]["attribution"] = {  # type: ignore[index]
            "base": attribution.base, "changes": attribution.json_value(), "text": list(attribution.lines),
            "error": attribution.error}
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(result: CheckResult, *, root: str = ".", attribution: Attribution | None = None, **_: object) -> str:
    return json.dumps(sarif_log(result, root, attribution), indent=2) + "\n"
