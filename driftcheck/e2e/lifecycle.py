"""The byok provisioning lifecycle, steps 2-8 of docs/e2e.md, over a `PlatformClient`.

The caller (driftcheck.e2e.cli) runs the gate (`driftcheck.gate`), builds the client
(base URL, bearer token, timeout) and hands over the arms; this module runs the steps
and decides the exit code. Nothing here prints a request body, a value or the token:
every step message is checked by the run's `Redactor` when it is recorded.

Decisions:

- Exit codes: 0 passed; 1 a step failed (or the run was interrupted); 2 the
  environment is wrong (the platform is unreachable before anything was
  created, or it rejects the token); 4 teardown left workspaces behind.
  4 wins over everything (leaked resources need a human), then 2, then 1.
- Retries are the client's (`client.retryable`). A create whose outcome is unknown
  makes teardown sweep `GET /workspaces` for this run's name prefix, so an orphan
  is still found.
- Teardown: a workspace is gone when GET answers 404, whatever the DELETE said.
  An answer that leaves it in doubt (still there, or a 200 that is not it) is
  asked again (`TEARDOWN_ROUNDS`); a leak whose DELETE went through but whose
  absence no GET could confirm says "could not be confirmed gone".
- Interruption (`signals`): the step being run fails, later steps and arms are
  not run, teardown runs with signals deferred.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from driftcheck.e2e.arms import Arm
from driftcheck.e2e.client import PlatformClient, StepError, names_key, parse_json, q
from driftcheck.e2e.redact import WITHHELD, Redactor
from driftcheck.e2e.report import (
    EXIT_ERROR,
    EXIT_FAILED,
    EXIT_LEAKED,
    EXIT_PASSED,
    ArmResult,
    Leak,
    StepPrinter,
    StepResult,
)
from driftcheck.e2e.signals import Interrupted, SignalGuard, signal_name
from driftcheck.platform.keys import canonical_key

# Teardown asks again (DELETE, then GET) when an answer leaves a workspace's existence in doubt:
# still listed after the DELETE (it may have been lost on the way) or a 200 that is not the workspace.
TEARDOWN_ROUNDS = 3
PROBE_ALLOWED_KEY = "DRIFTCHECK_PROBE_ALLOWED_KEY"
NAME_PREFIX = "driftcheck-e2e"

STEP_SPLIT, STEP_CREATE, STEP_DEFER, STEP_VERIFY, STEP_CHILD, STEP_PROBE, STEP_TEARDOWN = 2, 3, 4, 5, 6, 7, 8
STEP_NAMES = {
    STEP_SPLIT: "split keys by the source list",
    STEP_CREATE: "create parent workspace",
    STEP_DEFER: "byok opt-in and deferred key writes",
    STEP_VERIFY: "verify parent workspace keys",
    STEP_CHILD: "child workspace",
    STEP_PROBE: "live contract probe",
    STEP_TEARDOWN: "teardown",
}


@dataclass(frozen=True)
class RunConfig:
    mode: Literal["full", "smoke"] = "full"
    probe: bool = True
    run_id: str = field(default_factory=lambda: time.strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(3))
    retry_delays: tuple[float, ...] | None = None  # None: client.RETRY_DELAYS

    @property
    def prefix(self) -> str:
        return f"{NAME_PREFIX}-{self.run_id}"


@dataclass
class RunOutcome:
    arms: list[ArmResult]
    leaked: list[Leak]
    exit_code: int
    interrupted: str | None


@dataclass
class _Created:
    workspace_id: str
    name: str
    parent_id: str | None


def split_keys(arm: Arm, blocked: tuple[str, ...]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(create-time, deferred): a key the source list blocks can only be written after the byok opt-in."""
    blocked_set = {canonical_key(k) for k in blocked}
    create = [(k, v) for k, v in arm.values if canonical_key(k) not in blocked_set]
    deferred = [(k, v) for k, v in arm.values if canonical_key(k) in blocked_set]
    return create, deferred


BeforeStep = Callable[[str, int], None]


class Runner:
    """Runs steps 2-8 for each arm against one platform through `client`."""

    def __init__(self, client: httpx.Client, *, blocked: tuple[str, ...], source_ref: str, config: RunConfig,
                 redactor: Redactor, printer: StepPrinter, guard: SignalGuard | None = None,
                 before_step: BeforeStep | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.http = PlatformClient(client, redactor, retry_delays=config.retry_delays, sleep=sleep)
        self.blocked = blocked
        self.source_ref = source_ref
        self.config = config
        self.redactor = redactor
        self.printer = printer
        self.guard = guard or SignalGuard()
        self.before_step = before_step  # test hook: may raise to inject a failure before a step
        self.leaked: list[Leak] = []
        self._env_error = False
        self._probed_in: str | None = None

    # -- the run -----------------------------------------------------------------------------------

    def run(self, arms: list[Arm]) -> RunOutcome:
        results: list[ArmResult] = []
        interrupted: str | None = None
        try:
            for arm in arms:
                self.printer.arm(arm.name)
                result, interrupted = self._run_arm(arm)  # handles signals itself while workspaces exist
                results.append(result)
                if interrupted or self._env_error:
                    break  # a rejected token or an unreachable platform fails every further arm the same way
        except (Interrupted, KeyboardInterrupt) as exc:  # between arms: nothing of ours exists then
            interrupted = signal_name(exc)
        if interrupted:
            self.printer.error(f"driftcheck e2e: interrupted by {interrupted}; teardown done, "
                               f"{len(arms) - len(results)} arm(s) not run")
        if self.leaked:
            code = EXIT_LEAKED
        elif self._env_error:
            code = EXIT_ERROR
        elif interrupted or any(r.failed for r in results):
            code = EXIT_FAILED
        else:
            code = EXIT_PASSED
        return RunOutcome(results, list(self.leaked), code, interrupted)

    def _run_arm(self, arm: Arm) -> tuple[ArmResult, str | None]:
        result = ArmResult(arm.name)
        state = _ArmState(arm)
        plan: list[tuple[int, Callable[[_ArmState], str], str | None]] = [
            (STEP_SPLIT, self._step_split, None),
            (STEP_CREATE, self._step_create, None),
            (STEP_DEFER, self._step_defer, None),
            (STEP_VERIFY, self._step_verify, None),
            (STEP_CHILD, self._step_child, "smoke mode: no child workspace" if self.config.mode == "smoke" else None),
            (STEP_PROBE, self._step_probe, self._probe_skip_reason()),
        ]
        stopped: str | None = None  # why the remaining steps do not run
        interrupted: str | None = None
        try:
            for number, action, skip in plan:
                if stopped or skip:
                    self._record(result, StepResult(number, STEP_NAMES[number], "skipped", 0.0, stopped or skip or ""))
                    continue
                started = time.monotonic()
                try:
                    if self.before_step is not None:
                        self.before_step(arm.name, number)
                    if number == STEP_PROBE:
                        self._probed_in = arm.name  # once per run, passed or failed: repeating it adds nothing
                    message = action(state)
                except StepError as exc:
                    self._env_error = self._env_error or exc.exit_code == EXIT_ERROR
                    self._record(result, StepResult(number, STEP_NAMES[number], "failed",
                                                    time.monotonic() - started, str(exc)), exc.status)
                    stopped = f"not run: step {number} failed"
                except (Interrupted, KeyboardInterrupt) as exc:
                    interrupted = signal_name(exc)
                    self._record(result, StepResult(number, STEP_NAMES[number], "failed",
                                                    time.monotonic() - started, f"interrupted by {interrupted}"))
                    stopped = f"not run: interrupted by {interrupted}"
                else:
                    self._record(result, StepResult(number, STEP_NAMES[number], "passed",
                                                    time.monotonic() - started, message))
        except (Interrupted, KeyboardInterrupt) as exc:  # between steps (e.g. while recording)
            interrupted = signal_name(exc)
        finally:
            done = False
            while not done:  # a signal landing just before protection starts must not skip teardown
                try:
                    with self.guard.protect():
                        self._teardown(result, state)
                        done = True
                except (Interrupted, KeyboardInterrupt) as exc:  # deferred during teardown, or just before it
                    interrupted = interrupted or (signal_name(exc))
        return result, interrupted

    def _probe_skip_reason(self) -> str | None:
        if not self.config.probe:
            return "--no-probe"
        if self._probed_in is not None:
            return f"the probe runs once per run (run in arm {self._probed_in})"
        return None

    def _record(self, result: ArmResult, step: StepResult, status: int | None = None) -> None:
        # A server controls much of a message (ids, names, error texts): the whole message is withheld
        # when any of it reveals a secret; the line still names the step and the HTTP status.
        answered = f" (the platform answered HTTP {status})" if status is not None else ""
        step.message = self.redactor.scrub(step.message, f"message {WITHHELD}{answered}")
        result.steps.append(step)
        self.printer.step(step)

    # -- steps ---------------------------------------------------------------------------------------

    def _step_split(self, state: _ArmState) -> str:
        state.create, state.deferred = split_keys(state.arm, self.blocked)
        if not state.arm.values:
            return "no vendor keys (platform arm): nothing to defer"
        create = ", ".join(k for k, _ in state.create) or "none"
        deferred = ", ".join(k for k, _ in state.deferred) or "none"
        return f"create-time: {create}; deferred (in the source list): {deferred}"

    def _step_create(self, state: _ArmState) -> str:
        state.parent = self._create(f"{self.config.prefix}-{state.arm.name}-parent", None, state)
        return f"workspace {state.parent} with {len(state.create)} create-time key(s)"

    def _step_defer(self, state: _ArmState) -> str:
        assert state.parent is not None
        return self._opt_in_and_defer(state.parent, state)

    def _step_verify(self, state: _ArmState) -> str:
        assert state.parent is not None
        return self._verify(state.parent, state)

    def _step_child(self, state: _ArmState) -> str:
        assert state.parent is not None
        child = self._create(f"{self.config.prefix}-{state.arm.name}-child", state.parent, state)
        deferred = self._opt_in_and_defer(child, state)
        verified = self._verify(child, state)
        return f"workspace {child} (parent {state.parent}): {deferred}; {verified}"

    def _step_probe(self, state: _ArmState) -> str:
        probe = self._create(f"{self.config.prefix}-{state.arm.name}-probe", None, state, with_secrets=False)
        billing = self.http.json(self.http.request("GET", f"/admin/workspaces/{q(probe)}/llm-billing-mode", expect=(200,)))
        if billing.get("resolved_mode") != "platform_managed":
            raise StepError(f"a fresh workspace resolves to {billing.get('resolved_mode')!r}, not 'platform_managed'; "
                            "the probe needs a platform-managed workspace")
        accepted: list[str] = []
        unexpected: list[str] = []
        for key in self.blocked:
            response = self.http.request("POST", f"/workspaces/{q(probe)}/secrets",
                                  body={"key": key, "value": self._probe_value()})
            if response.is_success:
                accepted.append(key)
            elif response.status_code == 400 and names_key(response, key):
                continue
            else:
                unexpected.append(f"{key} → {self.http.describe(response)}")
        canary = _canary(self.blocked)
        canary_response = self.http.request("POST", f"/workspaces/{q(probe)}/secrets",
                                     body={"key": canary, "value": self._probe_value()})
        # What the workspace holds is the truth: an answer that did not come from the platform (a gateway's
        # 200, say) must not pass the probe — the canary must be stored, no refused key may be.
        stored = self._listed_keys(probe)
        problems: list[str] = []
        if canary_response.is_success and canonical_key(canary) not in stored:
            problems.append(f"{canary} was answered {self.http.describe(canary_response)} but the workspace does not "
                            "list it: that answer did not come from a platform that stored the key")
        stored_refused = [k for k in self.blocked if canonical_key(k) in stored and k not in accepted]
        if stored_refused:
            problems.append(f"the workspace lists {', '.join(stored_refused)} although those writes were not "
                            "accepted")
        if accepted:
            problems.append(f"the platform ACCEPTED {len(accepted)} key(s) that {self.source_ref} blocks: "
                            f"{', '.join(accepted)} — the deployed server's blocked list differs from the source "
                            "(stale deploy?)")
        if unexpected:
            problems.append("refusals that do not name the key as expected (400 with the key): "
                            + "; ".join(unexpected))
        if not canary_response.is_success:
            problems.append(f"the platform refused {canary}, a key outside the list "
                            f"({self.http.describe(canary_response)}); it blocks more than {self.source_ref}")
        if problems:
            raise StepError("; ".join(problems))
        return (f"{len(self.blocked)} blocked key(s) refused with 400 naming the key; {canary} accepted "
                "(keys blocked beyond the source list are not detectable in general, only this canary)")

    # -- lifecycle pieces ------------------------------------------------------------------------------

    def _create(self, name: str, parent: str | None, state: _ArmState, *, with_secrets: bool = True) -> str:
        body: dict[str, Any] = {"name": name, "parent_id": parent}
        if with_secrets:
            body["secrets"] = dict(state.create)
        state.ambiguous_create = True  # until we know the id (or a clean refusal), teardown must sweep by name
        try:
            response = self.http.request("POST", "/workspaces", body=body)
        except StepError as exc:
            # Unknown outcome unless nothing was sent or the server clearly refused (4xx).
            state.ambiguous_create = exc.sent and (exc.status is None or exc.status >= 500)
            raise
        if response.status_code in (400, 401, 403, 404, 409, 422):
            state.ambiguous_create = False  # refused: nothing was created
            data = self.http.json(response, strict=False)
            refused = data.get("key") if isinstance(data, dict) else None
            if response.status_code == 400 and isinstance(refused, str):
                raise StepError(f"create refused create-time key {refused}: the platform blocks a key that "
                                f"{self.source_ref} does not list (stale deploy, or the source changed without "
                                f"a deploy) — {self.http.describe(response)}")
            self.http.fail(response, "POST /workspaces")
        if response.status_code not in (200, 201):
            # A 5xx (or odd 2xx/3xx) may have created it anyway: ambiguous_create stays set, teardown sweeps.
            self.http.fail(response, "POST /workspaces")
        data = self.http.json(response)
        workspace_id = data.get("id")
        if not isinstance(workspace_id, str) or not workspace_id:
            raise StepError("POST /workspaces answered without a workspace id")
        state.created.append(_Created(workspace_id, name, parent))
        state.ambiguous_create = False
        return workspace_id

    def _opt_in_and_defer(self, workspace_id: str, state: _ArmState) -> str:
        path = f"/admin/workspaces/{q(workspace_id)}/llm-billing-mode"
        if not state.deferred:
            billing = self.http.json(self.http.request("GET", path, expect=(200,)))
            if billing.get("resolved_mode") != "platform_managed":
                raise StepError(f"nothing is deferred, so no opt-in fired, but workspace {workspace_id} resolves to "
                                f"{billing.get('resolved_mode')!r}, not 'platform_managed'")
            return "nothing deferred, no opt-in; resolves to platform_managed"
        billing = self.http.json(self.http.request("PUT", path, body={"mode": "byok"}, expect=(200,)))
        if billing.get("resolved_mode") != "byok":
            raise StepError(f"after PUT {{\"mode\": \"byok\"}} workspace {workspace_id} resolves to "
                            f"{billing.get('resolved_mode')!r}, not 'byok'")
        for key, value in state.deferred:
            response = self.http.request("POST", f"/workspaces/{q(workspace_id)}/secrets", body={"key": key, "value": value})
            if not response.is_success:
                self.http.fail(response, f"writing deferred key {key}")
        return f"byok opt-in (resolved_mode byok); wrote {len(state.deferred)} deferred key(s)"

    def _listed_keys(self, workspace_id: str) -> set[str]:
        """The key names `GET /workspaces/:id/secrets` lists, normalised; names only, or a StepError."""
        response = self.http.request("GET", f"/workspaces/{q(workspace_id)}/secrets", expect=(200,))
        if self.redactor.leaks(response.text):
            raise StepError(f"GET /workspaces/{workspace_id}/secrets returned secret values; it must list names only")
        data = self.http.json(response)
        listed = data.get("keys")
        if not isinstance(listed, list) or not all(isinstance(k, str) for k in listed):
            raise StepError(f"GET /workspaces/{workspace_id}/secrets: 'keys' is not a list of names")
        return {canonical_key(k) for k in listed}

    def _verify(self, workspace_id: str, state: _ArmState) -> str:
        names = self._listed_keys(workspace_id)
        missing = [k for k in state.arm.keys if canonical_key(k) not in names]
        if missing:
            raise StepError(f"workspace {workspace_id} does not list {', '.join(missing)} "
                            f"(listed: {', '.join(sorted(names)) or 'none'})")
        return f"{len(state.arm.keys)} key(s) listed (names only)"

    # -- teardown ---------------------------------------------------------------------------------------

    def _teardown(self, result: ArmResult, state: _ArmState) -> None:
        started = time.monotonic()
        leaks_before = len(self.leaked)
        notes: list[str] = []
        targets = {c.workspace_id: c for c in state.created}
        if state.ambiguous_create:
            notes.append("a create's outcome was unknown, so this run's workspaces were also looked up by name")
            prefix = f"{self.config.prefix}-{state.arm.name}-"
            try:
                for ws in self._list_workspaces():
                    if isinstance(ws, dict) and str(ws.get("name", "")).startswith(prefix) and ws.get("id"):
                        targets.setdefault(str(ws["id"]), _Created(str(ws["id"]), str(ws["name"]),
                                                                   ws.get("parent_id")))
            except StepError as exc:
                self.leaked.append(Leak("?", prefix + "*", "a create may have succeeded but the workspaces could "
                                                           f"not be listed: {exc}"))
        deleted = self._delete_all(targets)
        duration = time.monotonic() - started
        leaks = self.leaked[leaks_before:]
        if leaks:
            message = "left behind: " + "; ".join(f"{leak.workspace_id} ({leak.name}): {leak.reason}"
                                                 for leak in leaks)
            self._record(result, StepResult(STEP_TEARDOWN, STEP_NAMES[STEP_TEARDOWN], "failed", duration, message))
            return
        message = f"deleted {deleted} workspace(s), each confirmed gone (GET → 404)"
        if notes:
            message += "; " + "; ".join(notes)
        self._record(result, StepResult(STEP_TEARDOWN, STEP_NAMES[STEP_TEARDOWN], "passed", duration, message))

    def _delete_all(self, targets: dict[str, _Created]) -> int:
        """Delete children before parents; confirm each is gone. Returns how many were deleted."""
        remaining = dict(targets)
        deleted = 0
        while remaining:
            # Leaves first: a workspace none of the remaining ones names as parent.
            parents = {c.parent_id for c in remaining.values() if c.parent_id}
            leaves = [c for c in reversed(list(remaining.values())) if c.workspace_id not in parents]
            if not leaves:  # a cycle cannot happen on a sane server; never loop forever
                leaves = list(remaining.values())
            for created in leaves:
                del remaining[created.workspace_id]
                reason = self._delete_one(created.workspace_id)
                if reason is None:
                    deleted += 1
                else:
                    # Its parent is still tried: the refusal says why it stays, and another server may cascade.
                    self.leaked.append(Leak(created.workspace_id, created.name, reason))
        return deleted

    def _list_workspaces(self) -> list[Any]:
        """`GET /workspaces` → its `workspaces` list; an unusable answer is asked again (fail closed: never
        an empty sweep because the body had another shape). Raises StepError."""
        problem = ""
        for round_ in range(TEARDOWN_ROUNDS):
            if round_:
                self._pause(round_)
            response = self.http.request("GET", "/workspaces", expect=(200,))
            listed = self.http.json(response, strict=False).get("workspaces")
            if isinstance(listed, list):
                return listed
            problem = f'GET /workspaces: expected {{"workspaces": [...]}}, got {self.http.describe(response)}'
        raise StepError(problem)

    def _delete_one(self, workspace_id: str) -> str | None:
        """None when the workspace is confirmed gone; else why it may still exist.

        Gone is what GET says (404), whatever the DELETE answered: a DELETE that timed out may well
        have happened. Each call has its own retries; on top, an answer that leaves the workspace in
        doubt (still there — the DELETE may have been lost — or a 200 that is not this workspace) starts
        another DELETE + GET round, `TEARDOWN_ROUNDS` in all.
        """
        path = f"/workspaces/{q(workspace_id)}"
        reason = ""
        for round_ in range(TEARDOWN_ROUNDS):
            if round_:
                self._pause(round_)
            refused: str | None = None  # the DELETE was refused, or failed after its retries
            status: int | None = None
            try:
                response = self.http.request("DELETE", path)
                status = response.status_code
                if status not in (200, 202, 204, 404):
                    refused = f"DELETE answered {self.http.describe(response)}"
            except StepError as exc:
                refused = str(exc)
            unconfirmed = f"DELETE answered HTTP {status} but it could not be confirmed gone"
            try:
                check = self.http.request("GET", path)
            except StepError as exc:
                return refused or f"{unconfirmed}: {exc}"
            if check.status_code == 404:
                return None
            if refused:
                return refused
            if not check.is_success:
                return f"{unconfirmed}: GET answered {self.http.describe(check)}"
            data = parse_json(check)
            if isinstance(data, dict) and data.get("id") == workspace_id:
                reason = "still exists after DELETE (GET answered 200)"
            else:
                reason = f"{unconfirmed}: GET answered {self.http.describe(check)}, which is not a workspace"
        return reason

    def _probe_value(self) -> str:
        value = "probe-" + secrets.token_hex(12)
        self.redactor.add(value)  # a value we write is a secret like any other
        return value

    def _pause(self, round_: int) -> None:
        delays = self.http.delays
        if delays:
            self.http.sleep(delays[min(round_, len(delays)) - 1])


@dataclass
class _ArmState:
    arm: Arm
    create: list[tuple[str, str]] = field(default_factory=list)
    deferred: list[tuple[str, str]] = field(default_factory=list)
    parent: str | None = None
    created: list[_Created] = field(default_factory=list)
    ambiguous_create: bool = False


def _canary(blocked: tuple[str, ...]) -> str:
    taken = {canonical_key(k) for k in blocked}
    canary = PROBE_ALLOWED_KEY
    while canary in taken:
        canary += "_X"
    return canary
