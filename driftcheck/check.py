"""One check run: configuration → extract (each list once) → compare."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from driftcheck import rules
from driftcheck.compare import compare_contract
from driftcheck.config import CheckOptions, load_contracts
from driftcheck.languages.driver import extract_list
from driftcheck.model import CheckResult, Contract, ExtractedList, Finding, ListRef, status_of
from driftcheck.sources import SourceFiles


def run_check(options: CheckOptions, files: SourceFiles | None = None) -> CheckResult:
    """Evaluate every selected contract; never raises for anything a user can cause."""
    contracts, findings = load_contracts(options)
    if findings:
        return CheckResult(contracts=(), findings=tuple(findings))
    files = files or SourceFiles(options.root)
    extracted: dict[tuple[str, str, str], ExtractedList] = {}

    def key_of(ref: ListRef) -> tuple[str, str, str]:
        return str(files.resolve(ref.path)), ref.symbol, ref.language

    def extract(ref: ListRef) -> ExtractedList:
        # A list named by several contracts is extracted once (and its file parsed once).
        cache_key = key_of(ref)
        if cache_key not in extracted:
            extracted[cache_key] = extract_list(ref, files)
        found = extracted[cache_key]
        return found if found.ref == ref else replace(found, ref=ref)

    for contract in contracts:  # every list first: where a pragma takes effect is known only for the whole run
        extract(contract.source)
        for mirror in contract.mirrors:
            extract(mirror.ref)
    _settle_pragmas(contracts, extracted, key_of)
    results = tuple(
        compare_contract(contract, extract(contract.source), [extract(m.ref) for m in contract.mirrors])
        for contract in contracts
    )
    return CheckResult(contracts=results)


def _settle_pragmas(contracts: list[Contract], extracted: dict[tuple[str, str, str], ExtractedList],
                    key_of: Callable[[ListRef], tuple[str, str, str]]) -> None:
    """DC006 for the run: a pragma is in effect only next to the definition of a list some contract
    reads as a mirror. Per-list DC006 findings (a pragma attached to nothing near that list) are kept
    once per pragma and dropped for pragmas another mirror's definition holds; a pragma attached to a
    list that is only ever a source gets a DC006 of its own (wrong file)."""
    mirror_keys = {key_of(m.ref) for c in contracts for m in c.mirrors}
    in_effect = {(a.path, a.line) for k in mirror_keys for a in extracted[k].allowances}
    owner: dict[tuple[str, int], tuple[tuple[str, str, str], Finding]] = {}
    for cache_key, found in extracted.items():
        for finding in found.findings:
            where = (finding.path, finding.line)
            if finding.code != "DC006" or where in in_effect:
                continue
            better = where not in owner or ("blank line" in finding.message
                                            and "blank line" not in owner[where][1].message)
            if better:
                owner[where] = (cache_key, finding)
    for contract in contracts:  # pragmas next to a source's definition: the wrong file
        source_key = key_of(contract.source)
        if source_key in mirror_keys:
            continue
        mirror = contract.mirrors[0].ref
        for allowance in extracted[source_key].allowances:
            where = (allowance.path, allowance.line)
            if where not in owner:
                owner[where] = (source_key, rules.finding(
                    "DC006", allowance.path, allowance.line, allowance.column, key=allowance.key,
                    why=f"it is next to {contract.source.symbol}, the source list of contract {contract.name!r}, "
                        "and exceptions are read next to a mirror's definition",
                    fix=f"move it above {mirror.symbol} in {mirror.path}"))
    for cache_key, found in extracted.items():
        mine = [f for where, (k, f) in owner.items() if k == cache_key and f not in found.findings]
        kept = tuple(f for f in found.findings
                     if f.code != "DC006" or owner.get((f.path, f.line), (None, None))[1] is f)
        if mine or kept != found.findings:
            extracted[cache_key] = replace(found, findings=kept + tuple(mine))


def keep_only(result: CheckResult, keep: Callable[[str], bool]) -> CheckResult:
    """`result` without the drift findings whose rule `keep` rejects (`--select`/`--ignore`).

    Findings that make the run exit 2 always stay: "could not decide" is not an opinion one can
    switch off. Statuses follow what is left, and a mirror's `missing`/`extra` empty when DC001/DC002
    no longer count (they hold only the differences that count as drift).
    """
    def kept(findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
        return tuple(f for f in findings if f.exit_code == 2 or keep(f.code))

    contracts = []
    for contract in result.contracts:
        findings = kept(contract.findings)
        mirrors = []
        for mirror in contract.mirrors:
            if mirror.status == "error":
                mirrors.append(mirror)
                continue
            missing = mirror.missing if keep("DC001") else ()
            extra = mirror.extra if keep("DC002") else ()
            path = mirror.extracted.ref.path
            drift = missing or extra or any(f.path == path and f.code not in ("DC001", "DC002") for f in findings)
            mirrors.append(replace(mirror, missing=missing, extra=extra, status="drift" if drift else "in_sync"))
        contracts.append(replace(contract, findings=findings, mirrors=tuple(mirrors), status=status_of(findings)))
    return replace(result, contracts=tuple(contracts), findings=kept(result.findings))
