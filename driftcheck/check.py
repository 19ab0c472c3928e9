"""One check run: configuration → extract (each list once) → compare."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from driftcheck.compare import compare_contract
from driftcheck.config import CheckOptions, load_contracts
from driftcheck.languages.driver import extract_list
from driftcheck.model import CheckResult, ExtractedList, Finding, ListRef, status_of
from driftcheck.sources import SourceFiles


def run_check(options: CheckOptions, files: SourceFiles | None = None) -> CheckResult:
    """Evaluate every selected contract; never raises for anything a user can cause."""
    contracts, findings = load_contracts(options)
    if findings:
        return CheckResult(contracts=(), findings=tuple(findings))
    files = files or SourceFiles(options.root)
    extracted: dict[tuple[str, str, str], ExtractedList] = {}

    def extract(ref: ListRef) -> ExtractedList:
        # A list named by several contracts is extracted once (and its file parsed once).
        cache_key = (str(files.resolve(ref.path)), ref.symbol, ref.language)
        if cache_key not in extracted:
            extracted[cache_key] = extract_list(ref, files)
        found = extracted[cache_key]
        return found if found.ref == ref else replace(found, ref=ref)

    results = tuple(
        compare_contract(contract, extract(contract.source), [extract(m.ref) for m in contract.mirrors])
        for contract in contracts
    )
    return CheckResult(contracts=results)


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
