"""The `json` format of docs/output.md (schema: driftcheck/schema/check-result.schema.json)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from driftcheck.model import CheckResult, ExtractedList, Finding, Key


if TYPE_CHECKING:
    from driftcheck.attribution import Attribution


def keys_json(keys: tuple[Key, ...] | None) -> list[dict[str, Any]] | None:
    if keys is None:
        return None
    return [{"key": k.key, "line": k.line, "column": k.column} for k in keys]


def list_json(extracted: ExtractedList) -> dict[str, Any]:
    ref = extracted.ref
    return {"ref": ref.ref, "path": ref.path, "symbol": ref.symbol, "language": ref.language,
            "keys": keys_json(extracted.keys)}


def finding_json(finding: Finding) -> dict[str, Any]:
    return {"code": finding.code, "name": finding.name, "severity": finding.severity,
            "contract": finding.contract, "path": finding.path, "line": finding.line,
            "column": finding.column, "key": finding.key, "message": finding.message}


def result_json(result: CheckResult) -> dict[str, Any]:
    contracts = []
    for contract in result.contracts:
        mirrors = []
        for mirror in contract.mirrors:
            entry = list_json(mirror.extracted)
            entry.update({
                "status": mirror.status,
                "missing": list(mirror.missing),
                "extra": list(mirror.extra),
                "allowed": [{"key": a.key, "kind": a.kind, "reason": a.reason} for a in mirror.allowed],
            })
            # Keep the documented key order: ref, path, symbol, language, status, keys, ...
            mirrors.append({k: entry[k] for k in ("ref", "path", "symbol", "language", "status", "keys",
                                                  "missing", "extra", "allowed")})
        contracts.append({"name": contract.contract.name, "status": contract.status,
                          "source": list_json(contract.source), "mirrors": mirrors})
    return {"version": 1, "status": result.status, "contracts": contracts,
            "findings": [finding_json(f) for f in result.all_findings]}


def render(result: CheckResult, *, attribution: Attribution | None = None, **_: object) -> str:
    data = result_json(result)
    if attribution is not None:
        data["attribution"] = attribution.json_value()  # additive: only with --base (null: REV unreadable)
    return json.dumps(data, indent=2) + "\n"
