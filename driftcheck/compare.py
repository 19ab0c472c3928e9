"""Comparison: one contract's source list against each mirror, with exceptions.

Pure functions of extracted lists; no I/O. Keys compare byte for byte.
"""

from __future__ import annotations

from driftcheck.model import (
    Allowance,
    Contract,
    ContractResult,
    ExtractedList,
    Finding,
    Key,
    MirrorResult,
    MirrorSpec,
    status_of,
)


def compare_contract(contract: Contract, source: ExtractedList, mirrors: list[ExtractedList]) -> ContractResult:
    """Every finding of one contract: extraction problems first, then drift."""
    findings: list[Finding] = [f.for_contract(contract.name) for f in source.findings]
    results: list[MirrorResult] = []
    used_config: set[Allowance] = set()
    for spec, mirror in zip(contract.mirrors, mirrors):
        result, mirror_findings, used = _compare_mirror(contract, spec, source, mirror)
        used_config |= used
        results.append(result)
        findings.extend(mirror_findings)
    # A configured exception is contract-wide: stale only when it matched no mirror at all.
    if source.ok and all(m.ok for m in mirrors):
        for allowance in contract.allowances:
            if allowance not in used_config:
                findings.append(_unused(allowance, contract.name))
    return ContractResult(contract, source, tuple(results), tuple(findings), status_of(findings))


def _compare_mirror(contract: Contract, spec: MirrorSpec, source: ExtractedList,
                    mirror: ExtractedList) -> tuple[MirrorResult, list[Finding], set[Allowance]]:
    name = contract.name
    findings = [f.for_contract(name) for f in mirror.findings]
    if source.keys is None or mirror.keys is None:
        return MirrorResult(spec, mirror, "error"), findings, set()

    source_first = _first_occurrences(source.keys)
    mirror_first = _first_occurrences(mirror.keys)
    missing = [k for k in source_first if k not in mirror_first] if spec.relation != "subset" else []
    extra = [k for k in mirror_first if k not in source_first] if spec.relation != "superset" else []

    allowed: list[Allowance] = []
    used_config: set[Allowance] = set()
    for allowance in mirror.allowances + contract.allowances:
        differences = missing if allowance.kind == "missing" else extra
        if allowance.key in differences:
            differences.remove(allowance.key)
            allowed.append(allowance)
            if allowance.origin == "config":
                used_config.add(allowance)
        elif allowance.origin == "pragma":
            findings.append(_unused(allowance, name))

    definition = mirror.definition or Key(mirror.ref.symbol, 1, 1)
    for key in missing:
        where = source_first[key]
        findings.append(Finding(
            "DC001",
            f"{key} is in {source.ref.symbol} ({source.ref.path}:{where.line}:{where.column}) but missing from "
            f"{mirror.ref.symbol}; add it, or document why with `driftcheck: allow-missing={key} -- reason`",
            _path(mirror), definition.line, definition.column, key, name))
    for key in extra:
        where = mirror_first[key]
        findings.append(Finding(
            "DC002",
            f"{key} is in {mirror.ref.symbol} but not in {source.ref.symbol} ({source.ref.path}); remove it, "
            f"or document why with `driftcheck: allow-extra={key} -- reason`",
            _path(mirror), where.line, where.column, key, name))

    if contract.order == "same" and not missing and not extra:
        finding = _order_finding(source, mirror, name)
        if finding:
            findings.append(finding)

    result = MirrorResult(spec, mirror, status_of(findings), tuple(missing), tuple(extra), tuple(allowed))
    return result, findings, used_config


def _first_occurrences(keys: tuple[Key, ...]) -> dict[str, Key]:
    first: dict[str, Key] = {}
    for key in keys:
        first.setdefault(key.key, key)
    return first


def _order_finding(source: ExtractedList, mirror: ExtractedList, contract: str) -> Finding | None:
    assert source.keys is not None and mirror.keys is not None
    common = set(source.key_names) & set(mirror.key_names)
    want = [k for k in dict.fromkeys(source.key_names) if k in common]
    have = [k for k in _dedup(mirror.keys) if k.key in common]
    for expected, actual in zip(want, have):
        if expected != actual.key:
            return Finding(
                "DC005",
                f"{mirror.ref.symbol} lists {actual.key} where {source.ref.symbol} has {expected}; the contract "
                f"requires the same order (run `driftcheck fix` to reorder)",
                _path(mirror), actual.line, actual.column, actual.key, contract)
    return None


def _dedup(keys: tuple[Key, ...]) -> list[Key]:
    seen: set[str] = set()
    out = []
    for key in keys:
        if key.key not in seen:
            seen.add(key.key)
            out.append(key)
    return out


def _path(extracted: ExtractedList) -> str:
    return extracted.ref.path


def _unused(allowance: Allowance, contract: str) -> Finding:
    origin = "pragma" if allowance.origin == "pragma" else "configured exception"
    return Finding(
        "DC004",
        f"{origin} allow-{allowance.kind}={allowance.key} matches no difference between the lists any more; "
        f"delete it",
        allowance.path, allowance.line, allowance.column, allowance.key, contract)
