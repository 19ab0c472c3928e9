"""`driftcheck e2e` against the real reference platform on loopback — never a mocked transport.

Servers here are the platform itself (`start_platform`, `build_app` served by uvicorn, or
`driftcheck platform serve` in a subprocess), sometimes wrapped in a small ASGI layer
that stalls, flakes or echoes, to reproduce what a real deploy can do.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from driftcheck.cli import main
from driftcheck.e2e.arms import ARM_NAMES, build_arm
from driftcheck.e2e.redact import Redactor
from driftcheck.e2e.report import StepPrinter
from driftcheck.e2e.client import StepError
from driftcheck.e2e.lifecycle import RunConfig, Runner, split_keys
from driftcheck.e2e.signals import Interrupted
from repogen import CANONICAL_KEYS

KEYS = list(CANONICAL_KEYS)  # the 23 fixture keys, defined once in benchmarks/repogen.py
GO_PATH = "workspace-server/internal/handlers/secrets.go"
SH_PATH = "tests/e2e/test_staging_full_saas.sh"
SOURCE_REF = f"{GO_PATH}:platformManagedDirectLLMBypassKeys"
TOKEN = "tok-" + "9f3c1a7e5b2d4c6f8a0b1c2d3e4f5a6b"
ARM_VALUES = {
    "E2E_MINIMAX_API_KEY": "mm-secret-7d1e4f0a9c2b8e6d",
    "E2E_ANTHROPIC_API_KEY": "sk-ant-secret-3b9c0d2e7f1a4c5e",
    "E2E_GOOGLE_API_KEY": "AIza-secret-5e8f1c3a0b7d2e9f",
    "E2E_OPENAI_API_KEY": "sk-openai-secret-1a2b3c4d5e6f7a8b",
}
REPO = Path(__file__).resolve().parents[1]
ENV_VARS = ("DRIFTCHECK_ADMIN_TOKEN", *ARM_VALUES, "E2E_OPENAI_BASE_URL", "E2E_OPENAI_MODEL", "NO_COLOR")


# -- fixture repositories ----------------------------------------------------------------------------


def make_repo(root: Path, go_keys: list[str] = KEYS, sh_keys: list[str] = KEYS, pragma: str = "") -> Path:
    """A repository laid out like the real one: gofmt'd Go map and the harness's strip list."""
    width = max(len(k) for k in go_keys) + 3
    entries = "".join(f'\t{(chr(34) + k + chr(34) + ":").ljust(width)} {{}},\n' for k in go_keys)
    go = (f"package handlers\n\n// Direct writes of these keys are refused while a workspace is platform-managed.\n"
          f"var platformManagedDirectLLMBypassKeys = map[string]struct{{}}{{\n{entries}}}\n")
    sh = ("#!/usr/bin/env bash\nset -euo pipefail\n\n"
          "# Keep this strip-list BYTE-IN-SYNC with secrets.go platformManagedDirectLLMBypassKeys.\n"
          f"{pragma}BYOK_STRIP_KEYS=\"{' '.join(sh_keys)}\"\n\necho \"strip: $BYOK_STRIP_KEYS\"\n")
    (root / GO_PATH).parent.mkdir(parents=True, exist_ok=True)
    (root / SH_PATH).parent.mkdir(parents=True, exist_ok=True)
    (root / GO_PATH).write_text(go)
    (root / SH_PATH).write_text(sh)
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


@pytest.fixture
def drifted(tmp_path: Path) -> Path:
    # The Go list gained NEW_VENDOR_API_KEY; the harness did not.
    return make_repo(tmp_path / "drifted", go_keys=[*KEYS, "NEW_VENDOR_API_KEY"])


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


# -- servers on loopback -----------------------------------------------------------------------------


@contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """Serve an ASGI app on a free loopback port in a thread; stops on exit."""
    import uvicorn

    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only then (else ~40 ms per request).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", log_level="critical",
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "test server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def platform_app(blocked: list[str] = KEYS) -> Any:
    from driftcheck.platform.app import build_app

    return build_app(frozenset(blocked), TOKEN)


def workspaces(app: Any) -> list[Any]:
    """What the platform really holds, straight from its store."""
    return app.state.store.list_workspaces()


class Recorder:
    """ASGI wrapper counting requests by (method, path pattern) and optionally altering them."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = app.state
        self.requests: list[tuple[str, str]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.requests.append((scope["method"], scope["path"]))
            if await self.intercept(scope, receive, send):
                return
        await self.app(scope, receive, send)

    async def intercept(self, scope: dict[str, Any], receive: Any, send: Any) -> bool:
        return False


async def respond(send: Any, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


async def read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


@contextmanager
def connection_recorder() -> Iterator[tuple[str, list[Any]]]:
    """A listening socket that records every connection (and answers nothing)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.1)
    seen: list[Any] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, address = sock.accept()
            except (TimeoutError, OSError):
                continue
            seen.append(address)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", seen
    finally:
        stop.set()
        thread.join(5)
        sock.close()


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["e2e", *args])
    out, err = capsys.readouterr()
    return code, out, err


def steps_of(summary: dict[str, Any], arm: str) -> dict[str, tuple[str, str]]:
    [entry] = [a for a in summary["arms"] if a["arm"] == arm]
    return {s["name"]: (s["status"], s["message"]) for s in entry["steps"]}


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env.update(extra, NO_COLOR="1", PYTHONUNBUFFERED="1")
    return env


# -- step 1: the gate --------------------------------------------------------------------------------


def test_gate_drift_refuses_before_any_request(drifted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTCHECK_ADMIN_TOKEN", TOKEN)
    summary_path = tmp_path / "summary.json"
    with connection_recorder() as (url, connections):
        code, out, err = run_cli(["--root", str(drifted), "--platform-url", url, "--json", str(summary_path)],
                                 capsys)
        time.sleep(0.2)  # a stray connection attempt would have been accepted by now
    assert code == 1
    assert connections == []
    assert "DC001" in err and "NEW_VENDOR_API_KEY" in err
    assert "[FAIL] 1 gate" in out and "no request was made" in out
    summary = json.loads(summary_path.read_text())
    assert summary["status"] == "failed" and summary["exit_code"] == 1
    assert summary["gate"]["status"] == "failed" and summary["arms"] == [] and summary["leaked"] == []


def test_gate_error_exits_2_before_any_request(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo(tmp_path / "repo")
    (root / SH_PATH).unlink()
    monkeypatch.setenv("DRIFTCHECK_ADMIN_TOKEN", TOKEN)
    with connection_recorder() as (url, connections):
        code, out, err = run_cli(["--root", str(root), "--platform-url", url], capsys)
        time.sleep(0.2)
    assert code == 2
    assert connections == []
    assert "DC105" in err


def test_local_on_drift_exits_1_without_starting_a_server(drifted: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import driftcheck.platform

    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a server was started although the gate refused")

    monkeypatch.setattr(driftcheck.platform, "start_platform", forbidden)
    code, out, err = run_cli(["--root", str(drifted), "--local"], capsys)
    assert code == 1
    assert "NEW_VENDOR_API_KEY" in err
    assert "local platform on" not in out


# -- usage and environment ---------------------------------------------------------------------------


def test_missing_token_is_exit_2_with_no_request(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with connection_recorder() as (url, connections):
        code, out, err = run_cli(["--root", str(repo), "--platform-url", url, "--admin-token-env", "MY_TOKEN"],
                                 capsys)
    assert code == 2
    assert "$MY_TOKEN" in err and "not set" in err and "never taken from the command line" in err
    assert connections == []


@pytest.mark.parametrize("args, expected", [
    (["--local", "--platform-url", "http://127.0.0.1:1"], "exclude each other"),
    ([], "--platform-url URL"),
    (["--platform-url", "ftp://example"], "http:// or https://"),
    (["--platform-url", "http://127.0.0.1:1", "--arm", "anthropic"], "$E2E_ANTHROPIC_API_KEY"),
    (["--local", "--json", "/nonexistent-dir/summary.json"], "does not exist"),
    (["--platform-url", "http://127.0.0.1:1", "--arm", "all"], "$E2E_MINIMAX_API_KEY"),
])
def test_usage_errors_exit_2(repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                             args: list[str], expected: str) -> None:
    monkeypatch.setenv("DRIFTCHECK_ADMIN_TOKEN", TOKEN)
    code, out, err = run_cli(["--root", str(repo), *args], capsys)
    assert code == 2
    assert expected in err


def test_unreachable_platform_is_exit_2(repo: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    monkeypatch.setenv("DRIFTCHECK_ADMIN_TOKEN", TOKEN)
    monkeypatch.setattr("driftcheck.e2e.client.RETRY_DELAYS", (0.0, 0.0, 0.0))
    code, out, err = run_cli(["--root", str(repo), "--platform-url", f"http://127.0.0.1:{port}",
                              "--arm", "platform", "--timeout", "2"], capsys)
    assert code == 2
    assert "[FAIL] 3 create parent workspace" in out and "is --platform-url right?" in out


def test_wrong_token_is_exit_2(repo: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    app = Recorder(platform_app())
    monkeypatch.setenv("DRIFTCHECK_ADMIN_TOKEN", "not-the-token-1234")
    with serve_app(app) as url:
        code, out, err = run_cli(["--root", str(repo), "--platform-url", url, "--arm", "platform"], capsys)
    assert code == 2
    assert "rejected the admin token" in out
    assert "not-the-token-1234" not in out + err
    assert workspaces(app) == []


# -- the lifecycle against the real platform -----------------------------------------------------------


@pytest.fixture(scope="module")
def shared_platform() -> Iterator[tuple[str, Any]]:
    app = platform_app()
    with serve_app(app) as url:
        yield url, app


@pytest.mark.parametrize("arm", ARM_NAMES)
def test_full_lifecycle_every_arm_exits_0(arm: str, repo: Path, tmp_path: Path, shared_platform: tuple[str, Any],
                                          capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    url, app = shared_platform
    monkeypatch.setenv("DRIFTCHECK_ADMIN_TOKEN", TOKEN)
    for name, value in ARM_VALUES.items():
        monkeypatch.setenv(name, value)
    summary_path, junit_path = tmp_path / "s.json", tmp_path / "junit.xml"
    code, out, err = run_cli(["--root", str(repo), "--platform-url", url + "/", "--arm", arm,
                              "--json", str(summary_path), "--junit", str(junit_path)], capsys)
    assert code == 0, out + err
    assert re.search(r"^\[ok\] 3 create parent workspace \(\d+\.\d\ds\): workspace ", out, re.M)
    summary = json.loads(summary_path.read_text())
    assert summary["status"] == "passed" and summary["exit_code"] == 0 and summary["leaked"] == []
    assert summary["platform_url"] == url + "/"
    steps = steps_of(summary, arm)
    assert list(steps) == ["2 split keys by the source list", "3 create parent workspace",
                           "4 byok opt-in and deferred key writes", "5 verify parent workspace keys",
                           "6 child workspace", "7 live contract probe", "8 teardown"]
    assert all(status == "passed" for status, _ in steps.values()), steps
    expected_split = {
        "platform": "no vendor keys",
        "minimax": "create-time: none; deferred (in the source list): MINIMAX_API_KEY",
        "anthropic": "deferred (in the source list): ANTHROPIC_API_KEY",
        "google": "deferred (in the source list): GOOGLE_API_KEY, GEMINI_API_KEY",
        "openai": "create-time: HERMES_CUSTOM_MODEL; deferred (in the source list): OPENAI_API_KEY, "
                  "OPENAI_BASE_URL, HERMES_CUSTOM_API_KEY, HERMES_CUSTOM_BASE_URL",
    }[arm]
    assert expected_split in steps["2 split keys by the source list"][1]
    defer = steps["4 byok opt-in and deferred key writes"][1]
    assert ("resolves to platform_managed" in defer) == (arm == "platform")
    assert "7 live contract probe" in steps and "23 blocked key(s) refused" in steps["7 live contract probe"][1]
    assert "deleted 3 workspace(s)" in steps["8 teardown"][1]  # parent, child, probe workspace
    assert workspaces(app) == []
    suite = ET.parse(junit_path).getroot().find("testsuite")
    assert suite is not None
    cases = [(c.get("classname"), c.get("name")) for c in suite.iter("testcase")]
    assert cases[0] == ("e2e", "1 gate")
    assert [c for c, _ in cases[1:]] == [f"e2e.{arm}"] * 7
    assert suite.get("failures") == "0" and suite.get("tests") == "8"
    for value in [TOKEN, *ARM_VALUES.values()]:
        for text in (out, err, summary_path.read_text(), junit_path.read_text()):
            assert value not in text


def test_lifecycle_state_on_the_server(repo: Path, shared_platform: tuple[str, Any]) -> None:
    """Before the probe, the server really holds what the steps claim (fault-injection hook as a window)."""
    url, app = shared_platform
    seen: dict[str, Any] = {}

    def look(arm: str, step: int) -> None:
        if step == 7:
            [parent] = [w for w in workspaces(app) if w.parent_id is None]
            [child] = [w for w in workspaces(app) if w.parent_id == parent.id]
            seen["parent"], seen["child"] = parent, child

    arm = build_arm("openai", {"E2E_OPENAI_API_KEY": ARM_VALUES["E2E_OPENAI_API_KEY"]}, dummy=False)
    outcome = run_runner(url, [arm], before_step=look)
    assert outcome.exit_code == 0
    expected = sorted(["OPENAI_API_KEY", "OPENAI_BASE_URL", "HERMES_CUSTOM_API_KEY", "HERMES_CUSTOM_BASE_URL",
                       "HERMES_CUSTOM_MODEL"])
    for workspace in (seen["parent"], seen["child"]):
        assert list(workspace.secret_keys) == expected
        assert workspace.billing.resolved_mode == "byok"
    assert workspaces(app) == []


def test_smoke_mode_skips_the_child(repo: Path, tmp_path: Path, shared_platform: tuple[str, Any],
                                    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    url, app = shared_platform
    monkeypatch.setenv("DRIFTCHECK_ADMIN_TOKEN", TOKEN)
    summary_path = tmp_path / "s.json"
    code, out, err = run_cli(["--root", str(repo), "--platform-url", url, "--mode", "smoke", "--no-probe",
                              "--json", str(summary_path)], capsys)
    assert code == 0
    steps = steps_of(json.loads(summary_path.read_text()), "platform")  # default arm: no E2E_* variable set
    assert steps["6 child workspace"] == ("skipped", "smoke mode: no child workspace")
    assert steps["7 live contract probe"] == ("skipped", "--no-probe")
    assert "deleted 1 workspace(s)" in steps["8 teardown"][1]
    assert "[skip] 6 child workspace: smoke mode" in out


def test_split_follows_the_source_not_the_mirror_exception(tmp_path: Path, shared_platform: tuple[str, Any],
                                                           capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # The harness documents MINIMAX_API_KEY as sent at create; the server still refuses it there,
    # so the runner must defer it anyway.
    root = make_repo(tmp_path / "repo", sh_keys=[k for k in KEYS if k != "MINIMAX_API_KEY"],
                     pragma="# driftcheck: allow-missing=MINIMAX_API_KEY -- sent at create time as the byok signal\n")
    url, app = shared_platform
    monkeypatch.setenv("DRIFTCHECK_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("E2E_MINIMAX_API_KEY", ARM_VALUES["E2E_MINIMAX_API_KEY"])
    summary_path = tmp_path / "s.json"
    code, out, err = run_cli(["--root", str(root), "--platform-url", url, "--no-probe",
                              "--json", str(summary_path)], capsys)
    assert code == 0, out + err
    steps = steps_of(json.loads(summary_path.read_text()), "minimax")  # the default arm: its variable is set
    assert "create-time: none; deferred" in steps["2 split keys by the source list"][1]
    assert "MINIMAX_API_KEY" in steps["2 split keys by the source list"][1]
    assert workspaces(app) == []


def test_local_runs_every_arm_in_seconds(repo: Path, tmp_path: Path) -> None:
    summary_path, junit_path = tmp_path / "s.json", tmp_path / "j.xml"
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "driftcheck", "e2e", "--local", "--root", str(repo),
                           "--json", str(summary_path), "--junit", str(junit_path)],
                          capture_output=True, text=True, env=subprocess_env(), timeout=60, cwd=REPO)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert elapsed < 15
    summary = json.loads(summary_path.read_text())
    assert [a["arm"] for a in summary["arms"]] == list(ARM_NAMES)
    assert all(s["status"] in ("passed", "skipped") for a in summary["arms"] for s in a["steps"])
    probes = [s["status"] for a in summary["arms"] for s in a["steps"] if s["name"] == "7 live contract probe"]
    assert probes == ["passed"] + ["skipped"] * 4  # once per run
    assert summary["platform_url"].startswith("http://127.0.0.1:")
    assert "local platform on http://127.0.0.1:" in proc.stdout
    # Generated values, probe values and the random token never show.
    everything = proc.stdout + proc.stderr + summary_path.read_text() + junit_path.read_text()
    assert not re.search(r"dummy-[0-9a-f]{32}|probe-[0-9a-f]{24}", everything)
    assert "Bearer" not in everything and "Traceback" not in proc.stderr


# -- the live contract probe ---------------------------------------------------------------------------


@contextmanager
def platform_subprocess(blocked: list[str]) -> Iterator[str]:
    """`driftcheck platform serve --blocked-keys ...` on a free port; the URL it prints."""
    proc = subprocess.Popen([sys.executable, "-m", "driftcheck", "platform", "serve", "--port", "0",
                             "--blocked-keys", ",".join(blocked)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=subprocess_env(DRIFTCHECK_ADMIN_TOKEN=TOKEN), cwd=REPO)
    killer = threading.Timer(60, proc.kill)  # never outlive the test
    killer.start()
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        assert match, f"platform did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}"
        yield match.group(1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        killer.cancel()


def test_probe_catches_a_stale_deploy(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    stale = [k for k in KEYS if k != "GROQ_API_KEY"]
    monkeypatch.setenv("DRIFTCHECK_ADMIN_TOKEN", TOKEN)
    summary_path = tmp_path / "s.json"
    with platform_subprocess(stale) as url:
        code, out, err = run_cli(["--root", str(repo), "--platform-url", url, "--json", str(summary_path)], capsys)
        left = httpx.get(f"{url}/workspaces", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert code == 1
    steps = steps_of(json.loads(summary_path.read_text()), "platform")
    status, message = steps["7 live contract probe"]
    assert status == "failed"
    assert "ACCEPTED 1 key(s)" in message and "GROQ_API_KEY" in message and "stale deploy" in message
    assert "[FAIL] 7 live contract probe" in out
    assert steps["8 teardown"][0] == "passed"
    assert left == {"workspaces": []}


def test_probe_catches_a_platform_blocking_more(repo: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # A deploy that blocks a key the source does not list: only the canary key can show it.
    app = platform_app([*KEYS, "DRIFTCHECK_PROBE_ALLOWED_KEY"])
    monkeypatch.setenv("DRIFTCHECK_ADMIN_TOKEN", TOKEN)
    with serve_app(app) as url:
        code, out, err = run_cli(["--root", str(repo), "--platform-url", url], capsys)
    assert code == 1
    assert re.search(r"\[FAIL\] 7 live contract probe .*refused DRIFTCHECK_PROBE_ALLOWED_KEY", out)
    assert workspaces(app) == []


# -- teardown ------------------------------------------------------------------------------------------


def run_runner(url: str, arms: list[Any], **kwargs: Any) -> Any:
    redactor = Redactor([TOKEN])
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5) as client:
        runner = Runner(client, blocked=tuple(KEYS), source_ref=SOURCE_REF,
                        config=RunConfig(retry_delays=(0.0, 0.0, 0.0)), redactor=redactor,
                        printer=StepPrinter(redactor), **kwargs)
        return runner.run(arms)


@pytest.mark.parametrize("fault", [StepError("injected failure"), Interrupted("SIGTERM")])
def test_teardown_after_a_failure_injected_mid_run(fault: BaseException, shared_platform: tuple[str, Any]) -> None:
    url, app = shared_platform
    arms = [build_arm(name, {}, dummy=True) for name in ("google", "openai")]

    def inject(arm: str, step: int) -> None:
        if step == 7:  # parent and child exist (the server refuses to delete a parent first)
            assert len(workspaces(app)) == 2
            raise fault

    outcome = run_runner(url, arms, before_step=inject)
    assert outcome.exit_code == 1
    assert outcome.leaked == []
    first = outcome.arms[0]
    statuses = {s.number: s.status for s in first.steps}
    assert statuses == {2: "passed", 3: "passed", 4: "passed", 5: "passed", 6: "passed", 7: "failed", 8: "passed"}
    assert "deleted 2 workspace(s)" in first.steps[-1].message
    if isinstance(fault, Interrupted):
        assert outcome.interrupted == "SIGTERM" and len(outcome.arms) == 1  # the next arm never starts
    else:
        assert len(outcome.arms) == 2  # a failed arm does not stop the others
    assert workspaces(app) == []


class StallingPlatform(Recorder):
    """Holds the byok opt-in (PUT llm-billing-mode) until released: a slow step to interrupt."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.stalled = threading.Event()
        self.release = threading.Event()

    async def intercept(self, scope: dict[str, Any], receive: Any, send: Any) -> bool:
        if scope["method"] == "PUT" and scope["path"].endswith("/llm-billing-mode"):
            self.stalled.set()
            deadline = time.monotonic() + 30
            while not self.release.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            await respond(send, 503, {"error": "stalled"})
            return True
        return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_to_a_running_e2e_tears_down(signum: int, repo: Path, tmp_path: Path) -> None:
    app = StallingPlatform(platform_app())
    summary_path = tmp_path / "s.json"
    with serve_app(app) as url:
        proc = subprocess.Popen([sys.executable, "-m", "driftcheck", "e2e", "--root", str(repo), "--platform-url",
                                 url, "--arm", "anthropic", "--json", str(summary_path)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                                env=subprocess_env(DRIFTCHECK_ADMIN_TOKEN=TOKEN,
                                                   E2E_ANTHROPIC_API_KEY=ARM_VALUES["E2E_ANTHROPIC_API_KEY"]))
        try:
            assert app.stalled.wait(30), "the run never reached the byok opt-in"
            assert len(workspaces(app)) == 1
            proc.send_signal(signum)
            out, err = proc.communicate(timeout=30)
        finally:
            app.release.set()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        remaining = workspaces(app)
    name = signal.Signals(signum).name
    assert proc.returncode == 1, out + err
    assert remaining == []
    assert f"[FAIL] 4 byok opt-in and deferred key writes" in out and f"interrupted by {name}" in out
    assert re.search(r"^\[ok\] 8 teardown .*deleted 1 workspace\(s\), each confirmed gone", out, re.M)
    summary = json.loads(summary_path.read_text())
    assert summary["interrupted"] == name and summary["exit_code"] == 1 and summary["leaked"] == []
    assert ARM_VALUES["E2E_ANTHROPIC_API_KEY"] not in out + err and TOKEN not in out + err
    assert "Traceback" not in err


class SlowCreate(Recorder):
    """Creates the workspace, then answers too late: the client times out not knowing the id."""

    async def intercept(self, scope: dict[str, Any], receive: Any, send: Any) -> bool:
        if scope["method"] == "POST" and scope["path"] == "/workspaces":
            captured: dict[str, Any] = {}

            async def hold(message: dict[str, Any]) -> None:
                captured.setdefault("messages", []).append(message)

            await self.app(scope, receive, hold)
            await asyncio.sleep(1.5)
            for message in captured["messages"]:
                await send(message)
            return True
        return False


def test_timeout_on_create_still_tears_down_the_orphan(repo: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    app = SlowCreate(platform_app())
    monkeypatch.setenv("DRIFTCHECK_ADMIN_TOKEN", TOKEN)
    summary_path = tmp_path / "s.json"
    with serve_app(app) as url:
        code, out, err = run_cli(["--root", str(repo), "--platform-url", url, "--timeout", "0.5",
                                  "--json", str(summary_path)], capsys)
        remaining = workspaces(app)
    assert code == 1
    steps = steps_of(json.loads(summary_path.read_text()), "platform")
    assert steps["3 create parent workspace"][0] == "failed"
    assert "POST /workspaces timed out after 1 attempt(s)" in steps["3 create parent workspace"][1]
    assert steps["8 teardown"][0] == "passed"
    assert "looked up by name" in steps["8 teardown"][1] and "deleted 1 workspace(s)" in steps["8 teardown"][1]
    assert ("POST", "/workspaces") in app.requests and app.requests.count(("POST", "/workspaces")) == 1
    assert remaining == []


class RefusingDelete(Recorder):
    async def intercept(self, scope: dict[str, Any], receive: Any, send: Any) -> bool:
        if scope["method"] == "DELETE":
            await respond(send, 400, {"error": "deletes are disabled"})
            return True
        return False


def test_teardown_leak_is_exit_4(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    app = RefusingDelete(platform_app())
    monkeypatch.setenv("DRIFTCHECK_ADMIN_TOKEN", TOKEN)
    summary_path, junit_path = tmp_path / "s.json", tmp_path / "j.xml"
    with serve_app(app) as url:
        code, out, err = run_cli(["--root", str(repo), "--platform-url", url, "--mode", "smoke", "--no-probe",
                                  "--json", str(summary_path), "--junit", str(junit_path)], capsys)
        remaining = workspaces(app)
    assert code == 4
    [leftover] = remaining
    summary = json.loads(summary_path.read_text())
    assert summary["status"] == "leaked" and summary["exit_code"] == 4
    assert summary["leaked"] == [{"id": leftover.id, "name": leftover.name,
                                  "reason": "DELETE answered HTTP 400: deletes are disabled"}]
    assert leftover.id in err and "delete them by hand" in err
    junit = ET.parse(junit_path).getroot()
    assert any(c.get("name") == "teardown leaks" for c in junit.iter("testcase"))
    app.app.state.store.delete_workspace(leftover.id)


# -- retries ---------------------------------------------------------------------------------------------


class Flaky(Recorder):
    """The first N answers to a (method, path suffix) are 503."""

    def __init__(self, app: Any, method: str, suffix: str, failures: int) -> None:
        super().__init__(app)
        self.method, self.suffix, self.failures = method, suffix, failures

    async def intercept(self, scope: dict[str, Any], receive: Any, send: Any) -> bool:
        if scope["method"] == self.method and scope["path"].endswith(self.suffix) and self.failures > 0:
            self.failures -= 1
            await respond(send, 503, {"error": "try again"})
            return True
        return False


def test_idempotent_calls_are_retried(shared_platform: tuple[str, Any]) -> None:
    _, real = shared_platform
    app = Flaky(real, "GET", "/secrets", 2)
    with serve_app(app) as url:
        outcome = run_runner(url, [build_arm("minimax", {}, dummy=True)])
    assert outcome.exit_code == 0
    gets = [p for m, p in app.requests if m == "GET" and p.endswith("/secrets")]
    assert len(gets) == 5  # parent: 2 × 503 then 200; child: 200; the probe workspace (its listing): 200
    assert workspaces(real) == []


def test_posts_are_not_blindly_retried(shared_platform: tuple[str, Any]) -> None:
    _, real = shared_platform
    app = Flaky(real, "POST", "/secrets", 1)
    with serve_app(app) as url:
        outcome = run_runner(url, [build_arm("minimax", {}, dummy=True)])
    assert outcome.exit_code == 1
    step = {s.number: s for s in outcome.arms[0].steps}[4]
    assert step.status == "failed" and "writing deferred key MINIMAX_API_KEY: HTTP 503: try again" in step.message
    posts = [p for m, p in app.requests if m == "POST" and p.endswith("/secrets")]
    assert len(posts) == 1
    assert workspaces(real) == []


# -- secrets never shown -----------------------------------------------------------------------------------


class Echoing(Recorder):
    """A badly behaved server: its refusal echoes the value, the raw body and the Authorization header."""

    async def intercept(self, scope: dict[str, Any], receive: Any, send: Any) -> bool:
        if scope["method"] == "POST" and scope["path"].endswith("/secrets"):
            body = (await read_body(receive)).decode()
            value = json.loads(body)["value"]
            auth = dict(scope["headers"]).get(b"authorization", b"").decode()
            await respond(send, 400, {"error": f"cannot store {value!s} ({quote(value, safe='')}); body {body}; "
                                               f"{auth}"})
            return True
        return False


def test_secrets_are_redacted_even_when_the_server_echoes_them(repo: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    value = 'sk-ant-"tricky"/value+&=é-' + "0123456789abcdef"
    app = Echoing(platform_app())
    monkeypatch.setenv("DRIFTCHECK_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("E2E_ANTHROPIC_API_KEY", value)
    summary_path, junit_path = tmp_path / "s.json", tmp_path / "j.xml"
    with serve_app(app) as url:
        code, out, err = run_cli(["--root", str(repo), "--platform-url", url, "--arm", "anthropic",
                                  "--json", str(summary_path), "--junit", str(junit_path)], capsys)
        remaining = workspaces(app)
    assert code == 1
    assert remaining == []
    everything = out + err + summary_path.read_text() + junit_path.read_text()
    for secret in (value, json.dumps(value)[1:-1], quote(value, safe=""), TOKEN):
        assert secret not in everything
    # The failure is still reported: the step and the status, and why the body is not shown.
    assert re.search(r"\[FAIL\] 4 byok opt-in .*writing deferred key ANTHROPIC_API_KEY: HTTP 400: response body "
                     r"withheld because it contained a secret", out)


def test_redactor_withholds_every_decoded_form() -> None:
    value = 'a"b/c d+é&<>-0123456789'
    redactor = Redactor([value, "model-x"])  # a short setting from the environment is matched whole
    for form in (value, json.dumps(value)[1:-1], json.dumps(json.dumps(value)[1:-1])[1:-1], quote(value, safe=""),
                 json.dumps(value, ensure_ascii=False)[1:-1], quote(value, safe="").lower(), value.upper(),
                 json.dumps(value)[1:-1].replace("&", "\\u0026").replace("<", "\\u003c").replace("/", "\\/"),
                 "".join(f"&#{ord(c)};" for c in value), value[10:18], value[-8:], "MODEL-X"):
        assert redactor.leaks(f"<{form}>"), form
        assert redactor.scrub(f"<{form}>", "gone") == "gone"
    assert redactor.scrub("nothing to see", "gone") == "nothing to see"
    assert not redactor.leaks(value[:7]) and not redactor.leaks("model")


def test_split_keys_uses_the_platform_comparison() -> None:
    arm = build_arm("openai", {}, dummy=True)
    create, deferred = split_keys(arm, (" openai_api_key", "HERMES_CUSTOM_BASE_URL"))
    assert [k for k, _ in create] == ["OPENAI_BASE_URL", "HERMES_CUSTOM_API_KEY", "HERMES_CUSTOM_MODEL"]
    assert [k for k, _ in deferred] == ["OPENAI_API_KEY", "HERMES_CUSTOM_BASE_URL"]
    assert "dummy-" not in repr(arm)
