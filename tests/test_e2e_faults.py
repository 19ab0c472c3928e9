"""`driftcheck e2e` under faults and load: it fails closed, never hangs, never leaks.

Every run here is the real runner (`Runner` over httpx) against the real reference
platform on loopback, through `tests.support.faults.FaultProxy`, which answers
chosen requests with a 5xx, a stall past the client timeout, a connection reset or a
malformed 200. 100 seeded plans: each lifecycle step × each fault kind × (before the
platform sees the request | after it processed it), persistent teardown faults, and
random multi-fault plans. An oracle predicts each run's outcome from what the proxy
really did (which request got which fault, in which step): a clear failure of the right
step (exit 1), a bounded retry that succeeds (exit 0), or — only when a teardown fault
never stops — exit 4 with a leftover list that matches what the platform really holds.
"""

from __future__ import annotations

import io
import json
import os
import queue
import random
import re
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_e2e import KEYS, SOURCE_REF, TOKEN, make_repo  # the fixture repo and token of the e2e tests

from driftcheck.cli import main, make_options
from driftcheck.e2e.arms import ARM_NAMES, Arm, build_arm
from driftcheck.e2e.redact import Redactor
from driftcheck.e2e.report import RunReport, StepPrinter, StepResult, render_json, render_junit
from driftcheck.e2e.client import IDEMPOTENT
from driftcheck.e2e.lifecycle import (
    NAME_PREFIX,
    PROBE_ALLOWED_KEY,
    STEP_NAMES,
    RunConfig,
    RunOutcome,
    Runner,
    split_keys,
)
from driftcheck.gate import gate as run_gate
from driftcheck.platform.keys import canonical_key as normalise
from driftcheck.platform import start_platform
from tests.support.faults import (
    FAULT_KINDS,
    MALFORMED_VARIANTS,
    STATUS_VARIANTS,
    FaultProxy,
    FaultRule,
    PlanError,
    ProxyEvent,
    format_plan,
    parse_plan,
)

TIMEOUT = 1.5  # the runner's --timeout in these runs: a stall costs this much per attempt (room for a loaded machine)
RETRIES = 3  # zero-delay retries, as RETRY_DELAYS has three
RUN_LIMIT = 30.0  # a run still going after this is a hang
SEED = 4242
LANES = 4  # runs at once, each through its own proxy (stalls overlap; the platform is shared)
WRITES = "/workspaces/*/secrets"
BILLING = "/admin/workspaces/*/llm-billing-mode"
SECRET_ARMS = ("minimax", "anthropic", "google", "openai")
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SECRET_PATTERN = re.compile(r"dummy-[0-9a-f]{32}|probe-[0-9a-f]{24}")
FIGURES_ENV = "DRIFTCHECK_FAULT_FIGURES"  # a file: the measured figures are appended to it as JSON lines


def record_figures(name: str, figures: dict[str, Any]) -> None:
    path = os.environ.get(FIGURES_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"test": name, **figures}) + "\n")


# -- the platform, the proxy, the source list -----------------------------------------------------


@pytest.fixture(scope="module")
def blocked(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, ...]:
    """The list the platform enforces, read from a fixture repo by the gate, as `driftcheck e2e` does."""
    root = make_repo(tmp_path_factory.mktemp("faults") / "repo")
    gate = run_gate(make_options(root, None, None, (), ()))
    assert gate.exit_code == 0 and gate.source_ref == SOURCE_REF
    assert set(gate.blocked) == set(KEYS)
    return gate.blocked


class StepTracker:
    """Which lifecycle step the runner is in: set by `before_step`, and 8 (teardown) once a step is recorded."""

    def __init__(self) -> None:
        self.current = 0

    def before_step(self, arm: str, number: int) -> None:
        self.current = number


class TrackingPrinter(StepPrinter):
    def __init__(self, redactor: Redactor, tracker: StepTracker) -> None:
        self.stdout, self.stderr = io.StringIO(), io.StringIO()
        super().__init__(redactor, self.stdout, self.stderr)
        self.tracker = tracker

    def step(self, step: StepResult) -> None:
        super().step(step)
        self.tracker.current = 8  # between steps no request is made; after the last one, teardown runs


Rig = tuple[Any, FaultProxy, StepTracker]  # the platform, a proxy in front of it, the step its runner is in


@pytest.fixture(scope="module")
def rigs(blocked: tuple[str, ...]) -> Iterator[list[Rig]]:
    """One platform; `LANES` proxies in front of it, each with the step tracker of the run going through it."""
    with start_platform(frozenset(blocked), token=TOKEN) as platform, ExitStack() as stack:
        lanes = []
        for _ in range(LANES):
            tracker = StepTracker()
            proxy = stack.enter_context(FaultProxy(platform.url, tag=lambda t=tracker: t.current, stall_limit=10))
            lanes.append((platform, proxy, tracker))
        yield lanes


@pytest.fixture
def rig(rigs: list[Rig]) -> Rig:
    return rigs[0]


def real_workspaces(platform: Any) -> list[dict[str, Any]]:
    """What the platform holds, asked directly (no proxy, no faults)."""
    response = httpx.get(f"{platform.url}/workspaces", headers=AUTH, timeout=10)
    assert response.status_code == 200
    return response.json()["workspaces"]


def delete_directly(platform: Any, leftovers: list[dict[str, Any]]) -> None:
    ids = {w["id"] for w in leftovers}
    while ids:  # children first: the platform refuses to delete a parent
        parents = {w["parent_id"] for w in leftovers if w["id"] in ids}
        for wid in [i for i in ids if i not in parents]:
            assert httpx.delete(f"{platform.url}/workspaces/{wid}", headers=AUTH, timeout=10).status_code == 204
            ids.discard(wid)


# -- plans -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """A lifecycle request a fault can target: its step, (method, path pattern) and which matches are it."""

    name: str
    step: int
    method: str
    path: str
    nths: tuple[int, ...]


def sites(deferred: int, blocked: int) -> tuple[list[Site], list[Site]]:
    """(the sites every step × kind is tried on, extra sites for random plans) for an arm deferring `deferred`
    keys, in a full run with the probe. Request order: parent (create, opt-in, writes, verify), child (same),
    probe (create, billing GET, one write per blocked key, the canary, listing), teardown (probe, child,
    parent: DELETE then GET each; GET /workspaces first when a create's outcome was unknown)."""
    opt_in = ("PUT", "billing-mode PUT") if deferred else ("GET", "billing-mode GET")
    core = [
        Site("create parent", 3, "POST", "/workspaces", (1,)),
        Site(opt_in[1], 4, opt_in[0], BILLING, (1,)),
        *([Site("secret write", 4, "POST", WRITES, tuple(range(1, deferred + 1)))] if deferred else []),
        Site("verify GET", 5, "GET", WRITES, (1,)),
        Site("child create", 6, "POST", "/workspaces", (2,)),
        Site("probe write", 7, "POST", WRITES, tuple(range(2 * deferred + 1, 2 * deferred + blocked + 2))),
        Site("teardown DELETE", 8, "DELETE", "/workspaces/*", (1, 2, 3)),
        Site("teardown GET", 8, "GET", "/workspaces/*", (1, 2, 3)),
    ]
    probe_billing = (1,) if deferred else (3,)  # the platform arm GETs the billing mode in steps 4 and 6 too
    extra = [
        Site("child " + opt_in[1], 6, opt_in[0], BILLING, (2,)),
        *([Site("child secret write", 6, "POST", WRITES, tuple(range(deferred + 1, 2 * deferred + 1)))]
          if deferred else []),
        Site("child verify GET", 6, "GET", WRITES, (2,)),
        Site("probe create", 7, "POST", "/workspaces", (3,)),
        Site("probe billing GET", 7, "GET", BILLING, probe_billing),
        Site("probe listing GET", 7, "GET", WRITES, (3,)),
        Site("teardown sweep", 8, "GET", "/workspaces", (1,)),
    ]
    return core, extra


@dataclass
class Plan:
    label: str
    arm: str
    rules: tuple[FaultRule, ...]
    target: FaultRule | None = None  # the systematic runs: this rule must fire
    expect_leak: bool = False  # a teardown fault that never stops: exit 4 expected

    @property
    def can_leak(self) -> bool:
        """Only teardown faults that outlast the retries (alone or stacked, or never stopping) may leave
        something behind."""
        faulted: Counter[tuple[str, str]] = Counter()
        for r in self.rules:
            if r.method == "DELETE" or (r.method == "GET" and r.path in ("/workspaces/*", "/workspaces")):
                faulted[(r.method, r.path)] += 1_000 if r.persistent else r.count
        return any(n >= RETRIES for n in faulted.values())


def variant_for(kind: str, i: int) -> str:
    choices = {"5xx": STATUS_VARIANTS, "malformed": MALFORMED_VARIANTS}.get(kind, ("",))
    return choices[i % len(choices)]


def deferred_count(arm: str, blocked: tuple[str, ...]) -> int:
    return len(split_keys(build_arm(arm, {}, dummy=True), blocked)[1])


def make_plans(blocked: tuple[str, ...], total: int = 100) -> list[Plan]:
    rng = random.Random(SEED)
    plans: list[Plan] = []
    # 1. Every step × every kind, before the platform sees the request and after it processed it.
    i = 0
    for site_index in range(8):
        for kind in FAULT_KINDS:
            for after in (False, True):
                arm = SECRET_ARMS[i % len(SECRET_ARMS)]
                site = sites(deferred_count(arm, blocked), len(blocked))[0][site_index]
                rule = FaultRule(site.method, site.path, kind, rng.choice(site.nths), 1, after, variant_for(kind, i))
                plans.append(Plan(f"{site.name} × {kind}{' (after)' if after else ''}", arm, (rule,), rule))
                i += 1
    # 2. Teardown faults that never stop: exit 4, and the leftover list must be the platform's real state.
    for site_index in (6, 7):
        for kind in FAULT_KINDS:
            arm = SECRET_ARMS[i % len(SECRET_ARMS)]
            site = sites(deferred_count(arm, blocked), len(blocked))[0][site_index]
            rule = FaultRule(site.method, site.path, kind, rng.choice(site.nths), 0, False, variant_for(kind, i))
            plans.append(Plan(f"{site.name} × {kind} (persistent)", arm, (rule,), rule, expect_leak=True))
            i += 1
    # 3. Random multi-fault plans up to `total`: anything anywhere, and (every other plan) transient faults
    #    on idempotent calls only — several per run, which retries must all absorb.
    while len(plans) < total:
        arm = rng.choice(ARM_NAMES)
        core, extra = sites(deferred_count(arm, blocked), len(blocked))
        retryable = len(plans) % 2 == 1
        candidates = [s for s in core + extra if not retryable or s.method in IDEMPOTENT]
        rules = []
        for _ in range(rng.randint(2, 4)):
            site = rng.choice(candidates)
            if retryable and site.step != 8:
                kind, variant = rng.choice([("5xx", v) for v in STATUS_VARIANTS] + [("stall", ""), ("reset", ""),
                                                                                     ("malformed", "bad-gzip")])
                count = rng.choice((1, 1, 2, 3))
            else:
                kind = rng.choice(FAULT_KINDS)
                variant = variant_for(kind, rng.randrange(10))
                count = 0 if site.step == 8 and rng.random() < 0.1 else rng.choice((1, 1, 1, 2, 3, 4))
            if kind == "stall" and count != 1:
                count = 2  # stalls cost TIMEOUT each: keep the file fast
            rules.append(FaultRule(site.method, site.path, kind, rng.choice(site.nths), count, rng.random() < 0.4,
                                   variant))
        plans.append(Plan(f"random #{len(plans) + 1}{' (retryable)' if retryable else ''}", arm, tuple(rules)))
    return plans


# -- one run ---------------------------------------------------------------------------------------------


@dataclass
class Run:
    plan: Plan
    outcome: RunOutcome
    events: list[ProxyEvent]
    output: str
    documents: str
    duration: float
    leftovers: list[dict[str, Any]]
    arm: Arm
    secrets: list[str] = field(default_factory=list)


def run_plan(plan: Plan, index: int, rig: Rig, blocked: tuple[str, ...]) -> Run:
    platform, proxy, tracker = rig
    arm = build_arm(plan.arm, {}, dummy=True)
    redactor = Redactor([TOKEN, *arm.secret_values])
    printer = TrackingPrinter(redactor, tracker)
    config = RunConfig(run_id=f"fault{index:03d}", retry_delays=(0.0,) * RETRIES)
    proxy.set_rules(plan.rules)
    tracker.current = 0
    result: list[RunOutcome] = []
    errors: list[BaseException] = []

    def go() -> None:
        with httpx.Client(base_url=proxy.url, headers=AUTH, timeout=TIMEOUT, trust_env=False) as client:
            runner = Runner(client, blocked=blocked, source_ref=SOURCE_REF, config=config, redactor=redactor,
                            printer=printer, before_step=tracker.before_step)
            try:
                result.append(runner.run([arm]))
            except BaseException as exc:  # noqa: BLE001 — a traceback is exactly what must not happen
                errors.append(exc)

    started = time.monotonic()
    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    thread.join(RUN_LIMIT)
    duration = time.monotonic() - started
    assert not thread.is_alive(), f"{plan.label}: the run hangs ({format_plan(plan.rules)})"
    assert not errors, f"{plan.label}: {type(errors[0]).__name__} escaped the runner: {errors[0]!r}"
    [outcome] = result
    report = RunReport(platform_url=proxy.url, mode="full", exit_code=outcome.exit_code, arms=outcome.arms,
                       leaked=outcome.leaked)
    documents = render_json(report, redactor) + render_junit(report, redactor)
    prefix = f"{NAME_PREFIX}-{config.run_id}-"
    leftovers = [w for w in real_workspaces(platform) if w["name"].startswith(prefix)]
    return Run(plan, outcome, list(proxy.events), printer.stdout.getvalue() + printer.stderr.getvalue(), documents,
               duration, leftovers, arm)


# -- the oracle --------------------------------------------------------------------------------------------


def transport_like(rule: FaultRule) -> bool:
    """Faults the runner sees as a failed exchange (retried on idempotent calls)."""
    return rule.kind in ("5xx", "stall", "reset") or rule.variant == "bad-gzip"


def classify(events: list[ProxyEvent]) -> list[tuple[ProxyEvent, str, int]]:
    """Each faulted request before teardown → (event, "fatal" | "retried" | "tolerated", step the run fails at).

    Idempotent calls are retried `RETRIES` times on transport-like faults; a POST never is. A malformed
    200 to a secret write is only caught later, by a listing (step 5 for the parent's writes, within
    step 6 for the child's, the probe's listing for the canary) — unless it came after the platform stored
    the key, which is then harmless; to a blocked key in the probe it reads as "accepted".
    """
    classified = []
    for i, event in enumerate(events):
        rule, step = event.rule, event.tag
        if rule is None or step == 8:
            continue
        retried = i + 1 < len(events) and (events[i + 1].method, events[i + 1].path) == (event.method, event.path)
        if transport_like(rule):
            if event.method in IDEMPOTENT and retried:
                classified.append((event, "retried", step))
            else:
                classified.append((event, "fatal", step))
        elif event.method == "POST" and event.path.endswith("/secrets"):
            blocked_write = step == 7 and event.key != PROBE_ALLOWED_KEY
            if rule.after and not blocked_write:
                classified.append((event, "tolerated", step))
            else:
                classified.append((event, "fatal", 5 if step == 4 else step))
        else:
            classified.append((event, "fatal", step))
    return classified


MESSAGE_HINTS = {"5xx:500": r"HTTP 500: response body withheld because it contained a secret",
                 "5xx": r"HTTP 50[0-4]", "stall": r"timed out after \d attempt\(s\): ReadTimeout",
                 "reset": r"failed after \d attempt\(s\): ReadError", "bad-gzip": r"DecodingError"}


def check_run(run: Run) -> str:
    """Assert everything a run must satisfy; return its outcome category."""
    plan, outcome = run.plan, run.outcome
    where = f"{plan.label} [{format_plan(plan.rules)}]"
    fired = [e for e in run.events if e.faulted]
    if plan.target is not None:
        assert any(e.rule == plan.target for e in fired), f"{where}: the fault never fired"

    # Secrets: no value, probe value or token anywhere, even though malformed answers echo the request.
    everything = run.output + run.documents + "".join(leak.reason for leak in outcome.leaked)
    for secret in (TOKEN, *run.arm.secret_values):
        assert secret not in everything, where
    assert not SECRET_PATTERN.search(everything), where
    assert "Traceback" not in everything, where

    # Only stalls make a step time out. Not a wall-clock budget: a loaded CI machine stretches every run (the
    # durations are recorded as figures; a hang is what RUN_LIMIT catches).
    stalls = sum(1 for e in fired if e.rule is not None and e.rule.kind == "stall")
    assert stalls or not any("timed out" in s.message for a in run.outcome.arms for s in a.steps), where

    [arm] = outcome.arms
    steps = {s.number: s for s in arm.steps}
    failed = [s for s in arm.steps if s.status == "failed" and s.number != 8]
    teardown = steps[8]
    classified = classify(run.events)
    fatal = [c for c in classified if c[1] == "fatal"]

    # Leftovers: exit 4 exactly when teardown reported some, and then they are the platform's real state.
    if outcome.exit_code == 4:
        assert plan.can_leak, f"{where}: leaked although every teardown fault was transient: {outcome.leaked}"
        assert teardown.status == "failed" and outcome.leaked
        listed = {leak.workspace_id for leak in outcome.leaked}
        real = {w["id"] for w in run.leftovers}
        assert real <= listed, f"{where}: the platform holds {real - listed} that teardown did not report"
        for leak in outcome.leaked:
            if leak.workspace_id not in real:  # reported but gone: only when its absence could not be confirmed
                assert "could not be confirmed gone" in leak.reason, f"{where}: {leak}"
            assert f"{leak.workspace_id} ({leak.name})" in run.output  # listed for a human
    else:
        assert outcome.leaked == [] and run.leftovers == [], f"{where}: {outcome.leaked} {run.leftovers}"
        assert teardown.status == "passed", f"{where}: {teardown.message}"
    if plan.expect_leak:
        assert outcome.exit_code == 4, f"{where}: exit {outcome.exit_code}"

    if fatal:
        # A clear failure of the step the first unrecoverable fault hit; later steps skipped.
        assert outcome.exit_code in (1, 4), f"{where}: exit {outcome.exit_code}, fatal {fatal}"
        expected_step = min(step for _, _, step in fatal)
        assert [s.number for s in failed] == [expected_step], (
            f"{where}: expected step {expected_step} to fail, got {[(s.number, s.message) for s in failed]}")
        step = failed[0]
        assert step.message and f"[FAIL] {step.number} {STEP_NAMES[step.number]}" in run.output
        assert all(s.status == "skipped" for s in arm.steps if 2 < s.number < 8 and s.number > step.number)
        first = min(fatal, key=lambda c: c[2])[0].rule
        assert first is not None
        hint = MESSAGE_HINTS.get(f"{first.kind}:{first.variant}", MESSAGE_HINTS.get(
            first.variant if first.variant == "bad-gzip" else first.kind))
        if hint:  # a transport-like fault is named for what it was; a body echoing the token is withheld
            assert re.search(hint, step.message), f"{where}: {step.message}"
        return "leaked-reported" if outcome.exit_code == 4 else "failed-clearly"
    assert failed == [], f"{where}: no fault was unrecoverable, yet {[(s.number, s.message) for s in failed]}"
    assert outcome.exit_code in (0, 4), where
    if outcome.exit_code == 4:
        return "leaked-reported"
    if not fired:
        return "no-fault-fired"
    if all(c[1] == "tolerated" for c in classified) and not any(e.tag == 8 for e in fired):
        return "tolerated"
    return "recovered-by-retry"


# -- the 100 runs ---------------------------------------------------------------------------------------------


def test_fault_plans_are_seeded_and_cover_every_step_and_kind(blocked: tuple[str, ...]) -> None:
    plans = make_plans(blocked)
    assert len(plans) == 100
    assert [format_plan(p.rules) for p in plans] == [format_plan(p.rules) for p in make_plans(blocked)]
    covered = {(p.label.split(" × ")[0], p.target.kind, p.target.after) for p in plans[:64] if p.target}
    step_sites = {"create parent", "billing-mode PUT", "secret write", "verify GET", "child create", "probe write",
                  "teardown DELETE", "teardown GET"}
    assert covered == {(s, k, a) for s in step_sites for k in FAULT_KINDS for a in (False, True)}
    assert sum(p.expect_leak for p in plans) == 8
    assert all(len(p.rules) >= 2 for p in plans[72:])


def test_one_hundred_fault_runs_fail_closed(rigs: list[Rig], blocked: tuple[str, ...]) -> None:
    platform = rigs[0][0]
    plans = make_plans(blocked)
    lanes: queue.Queue[Rig] = queue.Queue()
    for lane in rigs:
        lanes.put(lane)

    def one(numbered: tuple[int, Plan]) -> tuple[Run, str]:
        index, plan = numbered
        lane = lanes.get()
        try:
            run = run_plan(plan, index, lane, blocked)
        finally:
            lanes.put(lane)
        category = check_run(run)
        if run.leftovers:  # reported (exit 4) and checked against the platform: now clean up
            delete_directly(platform, run.leftovers)
        return run, category

    started = time.monotonic()
    outcomes: Counter[str] = Counter()
    fired_by: Counter[tuple[str, str]] = Counter()
    kinds: Counter[str] = Counter()
    exit_codes: Counter[int] = Counter()
    redacted_echoes = 0
    durations = []
    leaked_before_cleanup = 0
    with ThreadPoolExecutor(LANES) as pool:
        results = list(pool.map(one, enumerate(plans)))
    elapsed = time.monotonic() - started
    for run, category in results:
        outcomes[category] += 1
        exit_codes[run.outcome.exit_code] += 1
        durations.append(run.duration)
        for event in run.events:
            if event.rule is not None:
                step = STEP_NAMES.get(event.tag, "?") if isinstance(event.tag, int) else "?"
                fired_by[(step, event.rule.kind)] += 1
                kinds[event.rule.kind + (f":{event.rule.variant}" if event.rule.variant else "")] += 1
        if "withheld because it contained a secret" in run.output:
            redacted_echoes += 1
        leaked_before_cleanup += len(run.leftovers)
    assert real_workspaces(platform) == []  # every run's own check was by its name prefix; this is all of them
    assert outcomes["failed-clearly"] > 0 and outcomes["recovered-by-retry"] > 0
    assert outcomes["leaked-reported"] >= 8
    assert redacted_echoes > 0  # echoed requests really reached the messages, masked
    # Durations are figures (recorded below), not assertions: a hang is what RUN_LIMIT catches.
    figures = {
        "runs": len(plans),
        "exit_codes": dict(sorted(exit_codes.items())),
        "outcomes": dict(outcomes),
        "faults_injected": sum(fired_by.values()),
        "faults_by_kind": dict(sorted(kinds.items())),
        "faults_by_step_and_kind": {f"{s} / {k}": n for (s, k), n in sorted(fired_by.items())},
        "runs_with_masked_echoes": redacted_echoes,
        "workspaces_reported_and_left_by_persistent_teardown_faults": leaked_before_cleanup,
        "workspaces_left_unreported": 0,  # asserted per run: real leftovers ⊆ reported, and none unless exit 4
        "lanes": LANES,
        "duration_s": {"wall": round(elapsed, 2), "sum_of_runs": round(sum(durations), 2),
                       "max_run": round(max(durations), 2),
                       "mean_run": round(sum(durations) / len(durations), 3)},
    }
    record_figures("fault runs", figures)


@pytest.mark.parametrize("after", [False, True])
def test_probe_canary_needs_the_platform_not_just_a_200(after: bool, rig: Rig, blocked: tuple[str, ...]) -> None:
    """A gateway's 200 to the canary write (never stored) must not pass the probe; after a real write it may."""
    canary = len(blocked) + 1  # platform arm: nothing deferred, so the probe's writes are #1..; the canary is last
    rule = FaultRule("POST", WRITES, "malformed", canary, 1, after, "wrong-shape")
    run = run_plan(Plan("canary × wrong-shape", "platform", (rule,), rule), 900 + after, rig, blocked)
    assert [e.key for e in run.events if e.faulted] == [PROBE_ALLOWED_KEY]
    category = check_run(run)
    probe = {s.number: s for s in run.outcome.arms[0].steps}[7]
    if after:
        assert (category, run.outcome.exit_code, probe.status) == ("tolerated", 0, "passed")
    else:
        assert (category, run.outcome.exit_code, probe.status) == ("failed-clearly", 1, "failed")
        assert f"{PROBE_ALLOWED_KEY} was answered HTTP 200" in probe.message
        assert "the workspace does not list it" in probe.message
    assert run.leftovers == []


# -- the CLI end to end, through the proxy ---------------------------------------------------------------------


def test_cli_exit_4_lists_exactly_what_a_persistent_delete_fault_left(
        tmp_path: Path, rig: Rig, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    platform, proxy, _ = rig
    repo = make_repo(tmp_path / "repo")
    monkeypatch.setenv("DRIFTCHECK_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("E2E_GOOGLE_API_KEY", "AIza-faults-" + "5e8f1c3a0b7d2e9f")
    monkeypatch.setattr("driftcheck.e2e.client.RETRY_DELAYS", (0.0, 0.0, 0.0))
    proxy.set_rules(parse_plan("DELETE /workspaces/*#2x4=reset;GET /workspaces/*/secrets#1=5xx:502"))
    summary_path = tmp_path / "s.json"
    code = main(["e2e", "--root", str(repo), "--platform-url", proxy.url, "--arm", "google", "--timeout", "2",
                 "--json", str(summary_path)])
    out, err = capsys.readouterr()
    leftovers = real_workspaces(platform)
    try:
        assert code == 4
        summary = json.loads(summary_path.read_text())
        assert summary["status"] == "leaked"
        # The probe workspace went (the 1st DELETE); all 4 attempts at the child failed, so the parent could not go.
        assert sorted(leak["id"] for leak in summary["leaked"]) == sorted(w["id"] for w in leftovers)
        assert len(leftovers) == 2
        reasons = {leak["name"].rsplit("-", 1)[1]: leak["reason"] for leak in summary["leaked"]}
        assert "DELETE /workspaces/" in reasons["child"] and "failed after 4 attempt(s): ReadError" in reasons["child"]
        assert reasons["parent"].startswith("DELETE answered HTTP 409")
        assert "delete them by hand" in err and all(w["id"] in err for w in leftovers)
        assert "[ok] 5 verify parent workspace keys" in out  # the 502 on the first listing was retried
        assert "AIza-faults-" not in out + err + summary_path.read_text() and TOKEN not in out + err
    finally:
        proxy.set_rules(())
        delete_directly(platform, leftovers)
    assert real_workspaces(platform) == []


# -- concurrency and load --------------------------------------------------------------------------------------


def read_db(path: Path, query: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the platform's SQLite file directly, read-only (WAL: never blocks the server)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as conn:
        return conn.execute(query, args).fetchall()


def test_twenty_concurrent_lifecycles_do_not_interfere(tmp_path: Path, blocked: tuple[str, ...]) -> None:
    db = tmp_path / "platform.db"
    arms = [build_arm(ARM_NAMES[i % len(ARM_NAMES)], {}, dummy=True) for i in range(20)]
    outcomes: dict[int, RunOutcome] = {}
    during: dict[int, dict[str, dict[str, str]]] = {}
    listed: dict[int, dict[str, list[str]]] = {}
    took: dict[int, float] = {}
    requests: Counter[int] = Counter()
    errors: list[BaseException] = []
    barrier = threading.Barrier(20, timeout=30)
    with start_platform(frozenset(blocked), token=TOKEN, db=str(db)) as platform:

        def lifecycle(i: int) -> None:
            config = RunConfig(run_id=f"conc{i:02d}", retry_delays=(0.05, 0.1, 0.2))
            prefix = f"{config.prefix}-{arms[i].name}-"

            def look(arm: str, step: int) -> None:
                if step == 7:  # parent and child are written and verified; the probe has not started
                    rows = read_db(db, "SELECT w.id, w.name, s.key, s.value FROM workspaces w LEFT JOIN secrets s "
                                       "ON s.workspace_id = w.id WHERE w.name LIKE ? ORDER BY w.name, s.key",
                                   (prefix + "%",))
                    held: dict[str, dict[str, str]] = {}
                    ids: dict[str, str] = {}
                    for wid, name, key, value in rows:
                        ids[name.removeprefix(prefix)] = wid
                        held.setdefault(name.removeprefix(prefix), {})
                        if key is not None:
                            held[name.removeprefix(prefix)][key] = value
                    during[i] = held
                    # And as the API lists them, while 19 other lifecycles write their own.
                    listed[i] = {role: sorted(httpx.get(f"{platform.url}/workspaces/{wid}/secrets", headers=AUTH,
                                                        timeout=10).json()["keys"]) for role, wid in ids.items()}

            def count(request: httpx.Request) -> None:
                requests[i] += 1

            redactor = Redactor([TOKEN, *arms[i].secret_values])
            try:
                with httpx.Client(base_url=platform.url, headers=AUTH, timeout=10, trust_env=False,
                                  event_hooks={"request": [count]}) as client:
                    runner = Runner(client, blocked=blocked, source_ref=SOURCE_REF, config=config, redactor=redactor,
                                    printer=StepPrinter(redactor, io.StringIO(), io.StringIO()), before_step=look)
                    barrier.wait()
                    begun = time.monotonic()
                    outcomes[i] = runner.run([arms[i]])
                    took[i] = time.monotonic() - begun
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        started = time.monotonic()
        threads = [threading.Thread(target=lifecycle, args=(i,), daemon=True) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        elapsed = time.monotonic() - started
        assert not any(t.is_alive() for t in threads), "a concurrent lifecycle hangs"
        assert errors == []
        assert read_db(db, "SELECT count(*) FROM workspaces") == [(0,)]
        assert read_db(db, "SELECT count(*) FROM secrets") == [(0,)]
        assert real_workspaces(platform) == []
    for i, arm in enumerate(arms):
        outcome = outcomes[i]
        assert outcome.exit_code == 0, [(s.title, s.message) for s in outcome.arms[0].steps if s.status == "failed"]
        assert all(s.status == "passed" for s in outcome.arms[0].steps)
        expected = {normalise(k): v for k, v in arm.values}
        # Exactly this run's keys, with this run's values, in its own parent and child: nothing lost or crossed.
        assert during[i] == {"parent": expected, "child": expected}, f"lifecycle {i} ({arm.name})"
        assert listed[i] == {"parent": sorted(expected), "child": sorted(expected)}
    record_figures("concurrent lifecycles", {
        "lifecycles": 20, "arms": dict(Counter(a.name for a in arms)), "exit_0": 20,
        "requests": sum(requests.values()), "wall_s": round(elapsed, 2),
        "lifecycle_s": {"max": round(max(took.values()), 2), "mean": round(sum(took.values()) / 20, 2)},
        "workspaces_left": 0})


def test_load_2000_secret_writes_from_20_threads(tmp_path: Path, blocked: tuple[str, ...]) -> None:
    db = tmp_path / "platform.db"
    statuses: Counter[int] = Counter()
    errors: list[BaseException] = []
    values: dict[tuple[str, str], str] = {}
    lock = threading.Lock()
    with start_platform(frozenset(blocked), token=TOKEN, db=str(db)) as platform:
        with httpx.Client(base_url=platform.url, headers=AUTH, timeout=10) as client:
            shared = client.post("/workspaces", json={"name": "load-shared"}).json()["id"]
            own = [client.post("/workspaces", json={"name": f"load-{i:02d}"}).json()["id"] for i in range(20)]
        barrier = threading.Barrier(20, timeout=30)
        deadline = time.monotonic() + 60

        def writer(i: int) -> None:
            try:
                with httpx.Client(base_url=platform.url, headers=AUTH, timeout=10, trust_env=False) as c:
                    barrier.wait()
                    for j in range(100):
                        if time.monotonic() > deadline:
                            raise TimeoutError("load test over its deadline")
                        workspace = shared if j % 2 == 0 else own[i]  # half contend on one workspace
                        key, value = f"LOAD_T{i:02d}_K{j:03d}", f"v-{i}-{j}-{random.random()}"
                        response = c.post(f"/workspaces/{workspace}/secrets", json={"key": key, "value": value})
                        with lock:
                            statuses[response.status_code] += 1
                            values[(workspace, key)] = value
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        started = time.monotonic()
        threads = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        elapsed = time.monotonic() - started
        assert not any(t.is_alive() for t in threads), "the load test does not stop"
        assert errors == []
        assert statuses == {201: 2000}
        rows = read_db(db, "SELECT workspace_id, key, value FROM secrets")
        assert len(rows) == 2000
        assert {(w, k): v for w, k, v in rows} == values  # every write present, with its own value
        listed = httpx.get(f"{platform.url}/workspaces/{shared}/secrets", headers=AUTH, timeout=10).json()["keys"]
        assert len(listed) == 1000
        for workspace in [*own, shared]:
            assert httpx.delete(f"{platform.url}/workspaces/{workspace}", headers=AUTH, timeout=10).status_code == 204
        assert read_db(db, "SELECT count(*) FROM secrets") == [(0,)] and real_workspaces(platform) == []
    assert elapsed < 60
    record_figures("load", {"writes": 2000, "threads": 20, "rows": len(rows), "wall_s": round(elapsed, 2),
                            "writes_per_s": round(2000 / elapsed), "workspaces_left": 0})


# -- the fault layer itself --------------------------------------------------------------------------------------


def test_plan_text_round_trips_and_rejects_nonsense() -> None:
    text = ("POST /workspaces#2=stall@after;PUT /admin/workspaces/*/llm-billing-mode#1x3=5xx:502;"
            "DELETE /workspaces/*#1+=reset;GET /workspaces/*/secrets#1=malformed:deep-json")
    rules = parse_plan(text)
    assert format_plan(rules) == text
    assert rules[0] == FaultRule("POST", "/workspaces", "stall", 2, 1, True)
    assert rules[2].persistent and rules[2].fires_at(7) and not rules[1].fires_at(4) and rules[1].fires_at(3)
    assert rules[2].matches("DELETE", "/workspaces/abc") and not rules[2].matches("DELETE", "/workspaces/a/secrets")
    assert rules[3].matches("GET", "/workspaces/x/secrets") and not rules[3].matches("GET", "/workspaces/secrets")
    for bad in ("GET /x=explode", "GET /x=5xx:418", "GET /x=stall:1", "GET x=reset", "nonsense"):
        with pytest.raises(PlanError):
            parse_plan(bad)


@pytest.mark.parametrize("rule, error", [
    ("GET /workspaces#1=5xx:504", None),
    ("GET /workspaces#1=stall", httpx.ReadTimeout),
    ("GET /workspaces#1=reset", httpx.ReadError),
    ("GET /workspaces#1=malformed:bad-gzip", httpx.DecodingError),
    ("GET /workspaces#1=malformed:invalid-json", None),
])
def test_each_fault_kind_on_the_wire(rule: str, error: type[Exception] | None,
                                     rig: Rig) -> None:
    _, proxy, _ = rig
    proxy.set_rules(parse_plan(rule))
    try:
        with httpx.Client(base_url=proxy.url, headers=AUTH, timeout=TIMEOUT) as client:
            started = time.monotonic()
            if error is not None:
                with pytest.raises(error):
                    client.get("/workspaces")
            else:
                first = client.get("/workspaces")
                if "5xx" in rule:
                    assert first.status_code == 504 and first.json() == {"error": "injected fault: HTTP 504"}
                else:  # a 200 that is not JSON and echoes the request, token included
                    assert first.status_code == 200 and f"Bearer {TOKEN}" in first.text
                    with pytest.raises(ValueError):
                        first.json()
            assert time.monotonic() - started < TIMEOUT + 0.4
            second = client.get("/workspaces")  # only the 1st matching request is faulted
            assert second.status_code == 200 and second.json() == {"workspaces": []}
        assert [e.faulted for e in proxy.events] == [True, False]
    finally:
        proxy.set_rules(())
