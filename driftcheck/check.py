"""One check run: configuration → extract (each list once) → compare."""

from __future__ import annotations

from dataclasses import replace

from driftcheck.compare import compare_contract
from driftcheck.config import CheckOptions, load_contracts
from driftcheck.languages.driver import extract_list
from driftcheck.model import CheckResult, ExtractedList, ListRef
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
