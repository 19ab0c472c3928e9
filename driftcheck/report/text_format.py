"""The `text` format: `path:line:col: CODE message`, then one summary line per contract."""

from __future__ import annotations

from driftcheck.model import CheckResult, ContractResult, Finding

_RED, _YELLOW, _GREEN, _BOLD, _RESET = "\033[31m", "\033[33m", "\033[32m", "\033[1m", "\033[0m"


def finding_line(finding: Finding, color: bool = False) -> str:
    code = finding.code
    if color:
        code = f"{_RED if finding.exit_code == 2 else _YELLOW}{_BOLD}{code}{_RESET}"
    suffix = f" [{finding.contract}]" if finding.contract else ""
    return f"{finding.path}:{finding.line}:{finding.column}: {code} {finding.message}{suffix}"


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
    import shlex  # only a drift summary quotes paths

    fix = "driftcheck fix" + (f" --root {shlex.quote(root)}" if root not in (".", "") else "")
    if name == "cli":
        fix += f" --source {shlex.quote(contract.contract.source.ref)}"
        fix += "".join(f" --mirror {shlex.quote(m.ref.ref)}" for m in contract.contract.mirrors)
    else:
        fix += f" --contract {shlex.quote(name)}"
    return f"{name}: drift ({counts}){notes}; to fix: {fix}"


def render(result: CheckResult, *, color: bool = False, root: str = ".") -> str:
    lines = [finding_line(f, color) for f in result.findings]
    for contract in result.contracts:
        lines.extend(finding_line(f, color) for f in contract.findings)
    lines.extend(contract_summary(c, root, color) for c in result.contracts)
    return "".join(line + "\n" for line in lines)
