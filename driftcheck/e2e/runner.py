"""The byok provisioning lifecycle (DESIGN.md section 8), as pure logic over an `httpx.Client`.

The caller (driftcheck.e2e.cli) runs the gate, builds the client (base URL,
bearer token, timeout) and hands over the arms; this module does steps 2-8
and decides the exit code. Nothing here prints a request body, a value or the
token: every message goes through the run's `Redactor` before it is recorded.

Decisions:

- Exit codes: 0 passed; 1 a step failed (or the run was interrupted); 2 the
  environment is wrong (the platform is unreachable before anything was
  created, or it rejects the token); 4 teardown left workspaces behind.
  4 wins over everything (leaked resources need a human), then 2, then 1.
- Retries: GET/PUT/DELETE are retried on transport errors and 500/502/503/504,
  `RETRY_DELAYS` apart. POST is retried only when the connection was never
  made (nothing reached the server); a POST that may have been processed is
  never repeated. A create whose outcome is unknown makes teardown sweep
  `GET /workspaces` for this run's name prefix, so an orphan is still found.
  An undecodable body (bad Content-Encoding) counts as a failed exchange too.
- Teardown: a workspace is gone when GET answers 404, whatever the DELETE said.
  An answer that leaves it in doubt (still there, or a 200 that is not it) is
  asked again (`TEARDOWN_ROUNDS`); a leak whose DELETE went through but whose
  absence no GET could confirm says "could not be confirmed gone".
- Interruption: `SignalGuard` turns SIGTERM/SIGINT into `Interrupted` in the
  main thread; the step being run fails, later steps and arms are not run,
  teardown runs with signals deferred (a second signal cannot cut it short;
  every request in it is bounded by the timeout and the retries).
"""

from __future__ import annotations

import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Literal
from urllib.parse import quote

import httpx

from driftcheck.e2e.arms import Arm
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

RETRY_DELAYS: tuple[float, ...] = (0.2, 0.5, 1.0)  # up to 3 retries of an idempotent call
# Teardown asks again (DELETE, then GET) when an answer leaves a workspace's existence in doubt:
# still listed after the DELETE (it may have been lost on the way) or a 200 that is not the workspace.
TEARDOWN_ROUNDS = 3
TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})
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


class StepError(Exception):
    """A step's assertion or request failed; the message is safe to show once redacted."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED, *, sent: bool = True,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.sent = sent  # False: the request never reached the server (connection refused)
        self.status = status  # the HTTP status, when the server answered


class Interrupted(BaseException):
    """SIGTERM/SIGINT arrived: stop the run, but still tear down (BaseException, like KeyboardInterrupt)."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


class SignalGuard:
    """Raises `Interrupted` from SIGTERM/SIGINT in the main thread, except while teardown is protected."""

    def __init__(self) -> None:
        self._protected = 0
        self.pending: str | None = None
        self._previous: dict[int, Any] = {}

    def handler(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self._protected:
            self.pending = self.pending or name  # teardown finishes first; the run still ends as interrupted
            return
        raise Interrupted(name)

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread (e.g. when embedded)
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self.handler)

    def restore(self) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()

    @contextmanager
    def protect(self) -> Iterator[None]:
        """Defer signals for the block; if one arrived, raise it afterwards."""
        self._protected += 1
        try:
            yield
        finally:
            self._protected -= 1
        if not self._protected and self.pending is not None:
            raise Interrupted(self.pending)


@dataclass(frozen=True)
class RunConfig:
    mode: Literal["full", "smoke"] = "full"
    probe: bool = True
    run_id: str = field(default_factory=lambda: time.strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(3))
    retry_delays: tuple[float, ...] | None = None  # None: RETRY_DELAYS

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


def normalise(key: str) -> str:
    """Keys as the platform compares them: trimmed, upper-cased."""
    return key.strip().upper()


def split_keys(arm: Arm, blocked: tuple[str, ...]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(create-time, deferred): a key the source list blocks can only be written after the byok opt-in."""
    blocked_set = {normalise(k) for k in blocked}
    create = [(k, v) for k, v in arm.values if normalise(k) not in blocked_set]
    deferred = [(k, v) for k, v in arm.values if normalise(k) in blocked_set]
    return create, deferred


BeforeStep = Callable[[str, int], None]


class Runner:
    """Runs steps 2-8 for each arm against one platform through `client`."""

    def __init__(self, client: httpx.Client, *, blocked: tuple[str, ...], source_ref: str, config: RunConfig,
                 redactor: Redactor, printer: StepPrinter, guard: SignalGuard | None = None,
                 before_step: BeforeStep | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.blocked = blocked
        self.source_ref = source_ref
        self.config = config
        self.redactor = redactor
        self.printer = printer
        self.guard = guard or SignalGuard()
        self.before_step = before_step  # test hook: may raise to inject a failure before a step
        self.sleep = sleep
        self.leaked: list[Leak] = []
        self._env_error = False
        self._any_response = False
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
            interrupted = exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"
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
                    interrupted = exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"
                    self._record(result, StepResult(number, STEP_NAMES[number], "failed",
                                                    time.monotonic() - started, f"interrupted by {interrupted}"))
                    stopped = f"not run: interrupted by {interrupted}"
                else:
                    self._record(result, StepResult(number, STEP_NAMES[number], "passed",
                                                    time.monotonic() - started, message))
        except (Interrupted, KeyboardInterrupt) as exc:  # between steps (e.g. while recording)
            interrupted = exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"
        finally:
            done = False
            while not done:  # a signal landing just before protection starts must not skip teardown
                try:
                    with self.guard.protect():
                        self._teardown(result, state)
                        done = True
                except (Interrupted, KeyboardInterrupt) as exc:  # deferred during teardown, or just before it
                    interrupted = interrupted or (exc.signal_name if isinstance(exc, Interrupted) else "SIGINT")
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
        billing = self._json(self._call("GET", f"/admin/workspaces/{_q(probe)}/llm-billing-mode", expect=(200,)))
        if billing.get("resolved_mode") != "platform_managed":
            raise StepError(f"a fresh workspace resolves to {billing.get('resolved_mode')!r}, not 'platform_managed'; "
                            "the probe needs a platform-managed workspace")
        accepted: list[str] = []
        unexpected: list[str] = []
        for key in self.blocked:
            response = self._call("POST", f"/workspaces/{_q(probe)}/secrets",
                                  body={"key": key, "value": self._probe_value()})
            if response.is_success:
                accepted.append(key)
            elif response.status_code == 400 and _names_key(response, key):
                continue
            else:
                unexpected.append(f"{key} → {self._describe(response)}")
        canary = _canary(self.blocked)
        canary_response = self._call("POST", f"/workspaces/{_q(probe)}/secrets",
                                     body={"key": canary, "value": self._probe_value()})
        # What the workspace holds is the truth: an answer that did not come from the platform (a gateway's
        # 200, say) must not pass the probe — the canary must be stored, no refused key may be.
        stored = self._listed_keys(probe)
        problems: list[str] = []
        if canary_response.is_success and normalise(canary) not in stored:
            problems.append(f"{canary} was answered {self._describe(canary_response)} but the workspace does not "
                            "list it: that answer did not come from a platform that stored the key")
        stored_refused = [k for k in self.blocked if normalise(k) in stored and k not in accepted]
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
                            f"({self._describe(canary_response)}); it blocks more than {self.source_ref}")
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
            response = self._call("POST", "/workspaces", body=body)
        except StepError as exc:
            # Unknown outcome unless nothing was sent or the server clearly refused (4xx).
            state.ambiguous_create = exc.sent and (exc.status is None or exc.status >= 500)
            raise
        if response.status_code in (400, 401, 403, 404, 409, 422):
            state.ambiguous_create = False  # refused: nothing was created
            data = self._json(response, strict=False)
            refused = data.get("key") if isinstance(data, dict) else None
            if response.status_code == 400 and isinstance(refused, str):
                raise StepError(f"create refused create-time key {refused}: the platform blocks a key that "
                                f"{self.source_ref} does not list (stale deploy, or the source changed without "
                                f"a deploy) — {self._describe(response)}")
            self._raise_for(response, "POST /workspaces")
        if response.status_code not in (200, 201):
            # A 5xx (or odd 2xx/3xx) may have created it anyway: ambiguous_create stays set, teardown sweeps.
            self._raise_for(response, "POST /workspaces")
        data = self._json(response)
        workspace_id = data.get("id")
        if not isinstance(workspace_id, str) or not workspace_id:
            raise StepError("POST /workspaces answered without a workspace id")
        state.created.append(_Created(workspace_id, name, parent))
        state.ambiguous_create = False
        return workspace_id

    def _opt_in_and_defer(self, workspace_id: str, state: _ArmState) -> str:
        path = f"/admin/workspaces/{_q(workspace_id)}/llm-billing-mode"
        if not state.deferred:
            billing = self._json(self._call("GET", path, expect=(200,)))
            if billing.get("resolved_mode") != "platform_managed":
                raise StepError(f"nothing is deferred, so no opt-in fired, but workspace {workspace_id} resolves to "
                                f"{billing.get('resolved_mode')!r}, not 'platform_managed'")
            return "nothing deferred, no opt-in; resolves to platform_managed"
        billing = self._json(self._call("PUT", path, body={"mode": "byok"}, expect=(200,)))
        if billing.get("resolved_mode") != "byok":
            raise StepError(f"after PUT {{\"mode\": \"byok\"}} workspace {workspace_id} resolves to "
                            f"{billing.get('resolved_mode')!r}, not 'byok'")
        for key, value in state.deferred:
            response = self._call("POST", f"/workspaces/{_q(workspace_id)}/secrets", body={"key": key, "value": value})
            if not response.is_success:
                self._raise_for(response, f"writing deferred key {key}")
        return f"byok opt-in (resolved_mode byok); wrote {len(state.deferred)} deferred key(s)"

    def _listed_keys(self, workspace_id: str) -> set[str]:
        """The key names `GET /workspaces/:id/secrets` lists, normalised; names only, or a StepError."""
        response = self._call("GET", f"/workspaces/{_q(workspace_id)}/secrets", expect=(200,))
        if self.redactor.leaks(response.text):
            raise StepError(f"GET /workspaces/{workspace_id}/secrets returned secret values; it must list names only")
        data = self._json(response)
        listed = data.get("keys")
        if not isinstance(listed, list) or not all(isinstance(k, str) for k in listed):
            raise StepError(f"GET /workspaces/{workspace_id}/secrets: 'keys' is not a list of names")
        return {normalise(k) for k in listed}

    def _verify(self, workspace_id: str, state: _ArmState) -> str:
        names = self._listed_keys(workspace_id)
        missing = [k for k in state.arm.keys if normalise(k) not in names]
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
            response = self._call("GET", "/workspaces", expect=(200,))
            listed = self._json(response, strict=False).get("workspaces")
            if isinstance(listed, list):
                return listed
            problem = f'GET /workspaces: expected {{"workspaces": [...]}}, got {self._describe(response)}'
        raise StepError(problem)

    def _delete_one(self, workspace_id: str) -> str | None:
        """None when the workspace is confirmed gone; else why it may still exist.

        Gone is what GET says (404), whatever the DELETE answered: a DELETE that timed out may well
        have happened. Each call has its own retries; on top, an answer that leaves the workspace in
        doubt (still there — the DELETE may have been lost — or a 200 that is not this workspace) starts
        another DELETE + GET round, `TEARDOWN_ROUNDS` in all.
        """
        path = f"/workspaces/{_q(workspace_id)}"
        reason = ""
        for round_ in range(TEARDOWN_ROUNDS):
            if round_:
                self._pause(round_)
            refused: str | None = None  # the DELETE was refused, or failed after its retries
            status: int | None = None
            try:
                response = self._call("DELETE", path)
                status = response.status_code
                if status not in (200, 202, 204, 404):
                    refused = f"DELETE answered {self._describe(response)}"
            except StepError as exc:
                refused = str(exc)
            unconfirmed = f"DELETE answered HTTP {status} but it could not be confirmed gone"
            try:
                check = self._call("GET", path)
            except StepError as exc:
                return refused or f"{unconfirmed}: {exc}"
            if check.status_code == 404:
                return None
            if refused:
                return refused
            if not check.is_success:
                return f"{unconfirmed}: GET answered {self._describe(check)}"
            data = _parse_json(check)
            if isinstance(data, dict) and data.get("id") == workspace_id:
                reason = "still exists after DELETE (GET answered 200)"
            else:
                reason = f"{unconfirmed}: GET answered {self._describe(check)}, which is not a workspace"
        return reason

    def _pause(self, round_: int) -> None:
        delays = RETRY_DELAYS if self.config.retry_delays is None else self.config.retry_delays
        if delays:
            self.sleep(delays[min(round_, len(delays)) - 1])

    # -- HTTP ----------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, body: dict[str, Any] | None = None,
              expect: tuple[int, ...] | None = None) -> httpx.Response:
        """One request with bounded retries; raises StepError on transport failure or an unexpected status."""
        delays = RETRY_DELAYS if self.config.retry_delays is None else self.config.retry_delays
        attempts = 1 + len(delays)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self.client.request(method, path, json=body)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing reached the server: safe to retry even a POST.
                if last:
                    raise self._transport_error(method, path, exc, attempts) from None
            except (httpx.TransportError, httpx.DecodingError) as exc:
                # DecodingError: the body cannot be decoded (e.g. a gateway's bogus Content-Encoding); it is
                # not a TransportError, but just as much a failed exchange, and must not escape as a traceback.
                if last or method not in IDEMPOTENT:
                    raise self._transport_error(method, path, exc, attempt + 1) from None
            else:
                self._any_response = True
                if response.status_code in TRANSIENT_STATUS and method in IDEMPOTENT and not last:
                    response.close()
                else:
                    if response.status_code in (401, 403):
                        raise StepError(f"{method} {path}: the platform rejected the admin token "
                                        f"({self._describe(response)})", EXIT_ERROR, status=response.status_code)
                    if expect is not None and response.status_code not in expect:
                        self._raise_for(response, f"{method} {path}")
                    return response
            self.sleep(delays[attempt])
        raise AssertionError("unreachable")  # pragma: no cover

    def _transport_error(self, method: str, path: str, exc: httpx.RequestError, attempts: int) -> StepError:
        kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
        message = (f"{method} {path} {kind} after {attempts} attempt(s): "
                   f"{type(exc).__name__}: {self.redactor.scrub(str(exc), 'exception text ' + WITHHELD) or 'no detail'}")
        # Unreachable before any answer at all: the URL (or the network) is wrong, not a step.
        unreachable = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)) and not self._any_response
        return StepError(message + ("; is --platform-url right?" if unreachable else ""),
                         EXIT_ERROR if unreachable else EXIT_FAILED,
                         sent=not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)))

    def _raise_for(self, response: httpx.Response, what: str) -> None:
        raise StepError(f"{what}: {self._describe(response)}", status=response.status_code)

    def _describe(self, response: httpx.Response) -> str:
        """`HTTP 400: <server error>`, redacted and clipped; never the request body."""
        detail = response.text
        data = _parse_json(response)
        if isinstance(data, dict) and isinstance(data.get("error"), str):
            detail = data["error"]
        detail = " ".join(detail.split())
        if len(detail) > 300:
            detail = detail[:300] + "..."
        # What is shown is checked, as shown: a value cut in half by the clip is still caught (fragments).
        detail = self.redactor.scrub(detail, "response body withheld because it contained a secret")
        return f"HTTP {response.status_code}" + (f": {detail}" if detail else "")

    def _json(self, response: httpx.Response, strict: bool = True) -> dict[str, Any]:
        data = _parse_json(response)
        if not isinstance(data, dict):
            if strict:
                raise StepError(f"{response.request.method} {response.request.url.path}: expected a JSON object, "
                                f"got {self._describe(response)}")
            return {}
        return data

    def _probe_value(self) -> str:
        value = "probe-" + secrets.token_hex(12)
        self.redactor.add(value)
        return value


@dataclass
class _ArmState:
    arm: Arm
    create: list[tuple[str, str]] = field(default_factory=list)
    deferred: list[tuple[str, str]] = field(default_factory=list)
    parent: str | None = None
    created: list[_Created] = field(default_factory=list)
    ambiguous_create: bool = False


def _q(workspace_id: str) -> str:
    return quote(workspace_id, safe="")


def _names_key(response: httpx.Response, key: str) -> bool:
    """A refusal names the key: `{"key": K}` (compared as the platform does), or K in the error text."""
    data = _parse_json(response, _NOT_JSON)
    if data is _NOT_JSON:
        return key in response.text
    if isinstance(data, dict):
        named = data.get("key")
        if isinstance(named, str) and normalise(named) == normalise(key):
            return True
        error = data.get("error")
        return isinstance(error, str) and (key in error or normalise(key) in error)
    return False


_NOT_JSON = object()


def _parse_json(response: httpx.Response, default: Any = None) -> Any:
    """The decoded body, or `default` when it is not JSON (RecursionError: a body nested deeper than the
    parser's stack, which json.loads raises instead of a ValueError)."""
    try:
        return response.json()
    except (ValueError, RecursionError):
        return default


def _canary(blocked: tuple[str, ...]) -> str:
    taken = {normalise(k) for k in blocked}
    canary = PROBE_ALLOWED_KEY
    while canary in taken:
        canary += "_X"
    return canary


# -- step 1: the gate ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gate:
    """The check's verdict, and the source list the lifecycle enforces when it passed."""

    result: Any  # driftcheck.model.CheckResult
    step: StepResult
    source_ref: str | None = None
    blocked: tuple[str, ...] = ()
    exit_code: int = EXIT_PASSED


def run_gate(options: Any, contract_name: str = "byok-strip-list") -> Gate:
    """Step 1: the contract check. Only an in-sync result with one unambiguous source list passes.

    The source list is what the server enforces: the contract named `byok-strip-list`
    when it is among those checked, else the one source all checked contracts share.
    """
    from driftcheck.check import run_check

    started = time.monotonic()
    result = run_check(options)
    duration = time.monotonic() - started
    name = "gate"
    if result.exit_code != 0:
        why = "the lists drift" if result.exit_code == 1 else "the check could not decide"
        return Gate(result, StepResult(1, name, "failed", duration,
                                       f"{why} (exit {result.exit_code}); no request was made"),
                    exit_code=result.exit_code)
    chosen = [c for c in result.contracts if c.contract.name == contract_name]
    sources = {c.contract.source.ref for c in result.contracts}
    if not chosen and len(sources) == 1:
        chosen = result.contracts[:1]
    if not chosen:
        names = ", ".join(c.contract.name for c in result.contracts) or "none"
        return Gate(result, StepResult(1, name, "failed", duration,
                                       f"several contracts with different sources ({names}); choose the one the "
                                       "platform enforces with --contract NAME"), exit_code=EXIT_ERROR)
    contract = chosen[0]
    seen: dict[str, None] = {}
    for key in contract.source.key_names:
        seen.setdefault(key)
    blocked = tuple(seen)
    message = (f"{contract.contract.name} in sync; the source list {contract.contract.source.ref} "
               f"holds {len(blocked)} key(s)")
    return Gate(result, StepResult(1, name, "passed", duration, message), contract.contract.source.ref, blocked)
