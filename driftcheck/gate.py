"""The gate: run the check and decide whether a gated command may start (`gate`).

`driftcheck run` lives in `driftcheck.cli.run` (imported here for the old location);
`driftcheck e2e` takes its verdict and the source list it enforces from `gate()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from driftcheck.cli.run import run_command
from driftcheck.config import CheckOptions
from driftcheck.model import CheckResult

__all__ = ["BYOK_CONTRACT", "Gate", "gate", "refusal", "run_command"]

# -- the gate as a library: what `e2e` (and any gated command) decides before it starts ----------------

BYOK_CONTRACT = "byok-strip-list"


@dataclass(frozen=True)
class Gate:
    """The check's verdict for a gated command, and the source list it enforces when it passed.

    `exit_code` is the check's (0, 1, 2), or 2 when the check passed but no single source list
    can be chosen; `reason` says why the command does not start (empty when it may).
    """

    result: CheckResult
    exit_code: int
    reason: str = ""
    contract: str | None = None  # the contract whose source list is enforced
    source_ref: str | None = None
    blocked: tuple[str, ...] = ()  # the source list's keys, in order, once each


def refusal(exit_code: int) -> str:
    """Why a gated command does not start, for a failed check's exit code."""
    return "the lists drift" if exit_code == 1 else "the check could not decide"


def gate(options: CheckOptions, contract_name: str = BYOK_CONTRACT,
         keep: Callable[[str], bool] | None = None) -> Gate:
    """Run the check; only an in-sync result with one unambiguous source list passes.

    The source list is what the server enforces: the contract named `contract_name` when it
    is among those checked, else the one source all checked contracts share. `keep`: which
    drift rules count (`--select`/`--ignore`), as `check` applies them.
    """
    from driftcheck.check import keep_only, run_check

    result = run_check(options)
    if keep is not None:
        result = keep_only(result, keep)
    if result.exit_code != 0:
        return Gate(result, result.exit_code, refusal(result.exit_code))
    chosen = [c for c in result.contracts if c.contract.name == contract_name]
    if not chosen and len({c.contract.source.ref for c in result.contracts}) == 1:
        chosen = list(result.contracts[:1])
    if not chosen:
        names = ", ".join(c.contract.name for c in result.contracts) or "none"
        return Gate(result, 2, f"several contracts with different sources ({names}); choose the one the platform "
                               "enforces with --contract NAME")
    contract = chosen[0]
    return Gate(result, 0, contract=contract.contract.name, source_ref=contract.contract.source.ref,
                blocked=tuple(dict.fromkeys(contract.source.key_names)))
