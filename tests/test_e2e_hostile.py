"""A hostile platform: whatever it sends back, no secret reaches any output of `driftcheck e2e`.

The test double is a real HTTP server on 127.0.0.1 (http.server, in a thread) in front of
the reference platform. It forwards every request, and at one chosen place answers instead
with what it received — the key value written, the probe value, the admin token — in an
encoding: the ones a body can carry (JSON escapes as Go writes them, `\\/`, `\\uXXXX`,
percent-encoding in any case, HTML entities, case changes) and more of our own (double
encodings, JSON inside JSON, fullwidth letters, zero-width spaces, a value split between a
header and the body, a value cut by the runner's clip, a workspace id made of the token).

Every run asserts on stdout, stderr, the JSON summary and the JUnit file that none of the
secrets the server saw appears in any of those encodings (nor either half of it), and
that the failure is still reported: the step, the HTTP status, and why the body is withheld.
"""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import pytest

from driftcheck.cli import main
from driftcheck.platform import RunningPlatform, start_platform
from test_e2e import ENV_VARS, KEYS, make_repo

# Values with every character an encoder treats specially: & < > (Go's \u0026...), / (\/), quotes, +, =, %,
# a backslash and a non-ASCII letter.
KEY_VALUE = 'sk-ant-<&>"q"/v\\äl+u%e=' + "3b9c0d2e7f1a4c5e"
TOKEN = "tok-<&>/q+x=%" + "9f3c1a7e5b2d4c6f8a0b"  # printable ASCII without spaces, as a header carries it
UPSTREAM_TOKEN = "upstream-token-0123456789abcdef"
WITHHELD_BODY = "response body withheld because it contained a secret"


def _percent_case(text: str, mode: str) -> str:
    encoded = quote(text, safe="")
    if mode == "lower":
        return re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), encoded)
    return "".join(c.lower() if i % 2 else c for i, c in enumerate(encoded))  # mixed: alternate case


def _go_json(text: str) -> str:
    """A JSON string body as Go's encoding/json writes it: & < > and U+2028/9 as \\u escapes."""
    escaped = json.dumps(text, ensure_ascii=False)[1:-1]
    for char in "&<>\u2028\u2029":
        escaped = escaped.replace(char, f"\\u{ord(char):04x}")
    return escaped


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


ENCODINGS: dict[str, Callable[[str], str]] = {
    "plain": lambda s: s,
    "json": lambda s: json.dumps(s)[1:-1],
    "go-json": _go_json,
    "json-solidus": lambda s: json.dumps(s)[1:-1].replace("/", "\\/"),
    "json-u-every-char": lambda s: "".join(f"\\u{ord(c):04X}" for c in s),
    "json-in-json": lambda s: json.dumps(json.dumps({"value": s}))[1:-1],
    "go-json-in-json": lambda s: json.dumps(_go_json(s))[1:-1],
    "html-named": lambda s: html.escape(s),
    "html-decimal": lambda s: "".join(f"&#{ord(c)};" for c in s),
    "html-hex": lambda s: "".join(f"&#x{ord(c):x};" for c in s),
    "html-of-percent": lambda s: html.escape(quote(s, safe="&<>")),
    "percent-upper": lambda s: quote(s, safe=""),
    "percent-lower": lambda s: _percent_case(s, "lower"),
    "percent-mixed-case": lambda s: _percent_case(s, "mixed"),
    "percent-every-char": lambda s: "".join(f"%{b:02x}" for b in s.encode()),
    "percent-plus": lambda s: quote_plus(s),
    "percent-twice": lambda s: quote(quote(s, safe=""), safe=""),
    "percent-of-go-json": lambda s: quote(_go_json(s), safe=""),
    "x-escapes": lambda s: "".join(f"\\x{b:02x}" for b in s.encode("latin-1", "replace")),
    "upper": str.upper,
    "lower": str.lower,
    "swapcase": str.swapcase,
    "fullwidth": _fullwidth,
    "zero-width-spaces": lambda s: "\u200b".join(s),
    "spaced": lambda s: " ".join(s),
    "clipped-by-the-runner": lambda s: "x" * 275 + s,  # the runner shows 300 characters: 12 of the value
}


def forms_of(secret: str) -> set[str]:
    """What must not appear: each encoding of the secret, and each half of the plain value."""
    half = len(secret) // 2
    forms = {encode(secret) for name, encode in ENCODINGS.items() if name != "clipped-by-the-runner"}
    return forms | {secret[:half], secret[half:]}


# -- the hostile server ----------------------------------------------------------------------------------


@dataclass
class Hostility:
    """Where the server turns hostile and what it sends there.

    `place`: "deferred-write" (the first POST /workspaces/:id/secrets), "create" (the first POST /workspaces),
    "every-request-401", "workspace-id" (creates, but answers an id made of the token), "split" (the first secret
    write: one half of the value in a header, the other in the body), "probe" (the probe's refusals).
    `wrap`: "json" ({"error": ENCODED} as a JSON document) or "text" (the encoded text as text/plain).
    """

    place: str
    encoding: str = "plain"
    wrap: str = "json"
    seen: set[str] = field(default_factory=set)  # every secret the server received: token and values
    fired: int = 0


class HostileHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HostileServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — the base class's name
        pass

    def _forward(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        upstream = urlsplit(self.server.upstream.url)
        conn = HTTPConnection(upstream.hostname, upstream.port, timeout=10)
        try:
            headers = {"Authorization": f"Bearer {UPSTREAM_TOKEN}", "Content-Type": "application/json"}
            conn.request(self.command, self.path, body=body or None, headers=headers)
            response = conn.getresponse()
            return response.status, {"Content-Type": "application/json"}, response.read()
        finally:
            conn.close()

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _echo(self, secret: str) -> tuple[dict[str, str], bytes]:
        hostility = self.server.hostility
        encoded = ENCODINGS[hostility.encoding](secret)
        hostility.fired += 1
        if hostility.wrap == "text":
            return {"Content-Type": "text/plain; charset=utf-8"}, f"cannot store {encoded}".encode()
        return {"Content-Type": "application/json"}, json.dumps({"error": f"cannot store {encoded}"}).encode()

    def _handle(self) -> None:
        hostility = self.server.hostility
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        hostility.seen.add(token)
        data = json.loads(body) if body else None
        values = []
        if isinstance(data, dict):
            if isinstance(data.get("value"), str):
                values.append(data["value"])
            if isinstance(data.get("secrets"), dict):
                values += [v for v in data["secrets"].values() if isinstance(v, str)]
        hostility.seen.update(values)
        path = self.path.split("?")[0]
        is_secret_write = self.command == "POST" and path.endswith("/secrets")
        if hostility.place == "every-request-401":
            self._send(401, *self._echo(f"Bearer {token} is not valid"))
            return
        if hostility.place == "create" and self.command == "POST" and path == "/workspaces" and not hostility.fired:
            self._send(500, *self._echo(f"Authorization: Bearer {token}; body {body.decode()}"))
            return
        if hostility.place == "deferred-write" and is_secret_write and not hostility.fired:
            self._send(400, *self._echo(values[0]))
            return
        if hostility.place == "split" and is_secret_write and not hostility.fired:
            hostility.fired += 1
            half = len(values[0]) // 2
            self._send(400, {"Content-Type": "text/plain", "X-Echo": quote(values[0][:half], safe="")},
                       f"cannot store {ENCODINGS[hostility.encoding](values[0][half:])}".encode())
            return
        if hostility.place == "status-line" and is_secret_write and not hostility.fired:
            # Not HTTP at all: httpx's exception text quotes the line it could not parse.
            hostility.fired += 1
            encoded = ENCODINGS[hostility.encoding](values[0])
            self.wfile.write(f"HTTP/1.1 4OO {encoded}\r\nContent-Length: 0\r\n\r\n".encode())
            self.close_connection = True
            return
        if hostility.place == "probe" and is_secret_write and "-probe" in self.server.names.get(path, ""):
            self._send(400, *self._echo(values[0]))  # a refusal that does not name the key, echoing the value
            return
        status, headers, answer = self._forward(body)
        if self.command == "POST" and path == "/workspaces" and status in (200, 201):
            created = json.loads(answer)
            self.server.names[f"/workspaces/{created['id']}/secrets"] = created.get("name", "")
            if hostility.place == "workspace-id":
                hostility.fired += 1
                created["id"] = ENCODINGS[hostility.encoding](token)
                answer = json.dumps(created).encode()
        self._send(status, headers, answer)

    do_GET = do_POST = do_PUT = do_DELETE = _handle


class HostileServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: RunningPlatform, hostility: Hostility) -> None:
        super().__init__(("127.0.0.1", 0), HostileHandler)
        self.upstream = upstream
        self.hostility = hostility
        self.names: dict[str, str] = {}


@contextmanager
def hostile(upstream: RunningPlatform, hostility: Hostility) -> Iterator[str]:
    server = HostileServer(upstream, hostility)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# -- fixtures and the run ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def upstream() -> Iterator[RunningPlatform]:
    with start_platform(frozenset(KEYS), token=UPSTREAM_TOKEN) as platform:
        yield platform


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("hostile") / "repo")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DRIFTCHECK_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("E2E_ANTHROPIC_API_KEY", KEY_VALUE)


@dataclass
class Outputs:
    code: int
    out: str
    err: str
    summary: str
    junit: str

    @property
    def everything(self) -> str:
        return "\n".join((self.out, self.err, self.summary, self.junit))


def run_against(upstream: RunningPlatform, repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                hostility: Hostility, *extra: str) -> Outputs:
    summary, junit = tmp_path / "summary.json", tmp_path / "junit.xml"
    with hostile(upstream, hostility) as url:
        code = main(["e2e", "--root", str(repo), "--platform-url", url, "--arm", "anthropic", "--mode", "smoke",
                     "--timeout", "5", "--json", str(summary), "--junit", str(junit), *extra])
    out, err = capsys.readouterr()
    return Outputs(code, out, err, summary.read_text(encoding="utf-8"), junit.read_text(encoding="utf-8"))


def assert_nothing_leaked(outputs: Outputs, hostility: Hostility) -> None:
    assert hostility.fired, "the hostile answer was never sent"
    secrets = hostility.seen | {KEY_VALUE, TOKEN}
    assert len(secrets) >= 2
    for where, text in (("stdout", outputs.out), ("stderr", outputs.err), ("JSON", outputs.summary),
                        ("JUnit", outputs.junit)):
        folded = text.casefold()
        for secret in secrets:
            for form in forms_of(secret):
                assert form not in text and form.casefold() not in folded, f"{where} shows {form!r}"
    json.loads(outputs.summary)  # still a document
    assert outputs.junit.startswith('<?xml version="1.0" encoding="UTF-8"?>')


# -- the encodings, where a refused write echoes the value ----------------------------------------------


@pytest.mark.parametrize("wrap", ["json", "text"])
@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_an_echoed_key_value_is_withheld_in_every_encoding(upstream: RunningPlatform, repo: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str], encoding: str,
                                                           wrap: str) -> None:
    hostility = Hostility("deferred-write", encoding, wrap)
    outputs = run_against(upstream, repo, tmp_path, capsys, hostility, "--no-probe")
    assert_nothing_leaked(outputs, hostility)
    assert outputs.code == 1
    line = ("[FAIL] 4 byok opt-in and deferred key writes", "writing deferred key ANTHROPIC_API_KEY: HTTP 400: "
            + WITHHELD_BODY)
    assert re.search(re.escape(line[0]) + r" \(\d+\.\d+s\): " + re.escape(line[1]), outputs.out), outputs.out
    steps = {s["name"]: s for s in json.loads(outputs.summary)["arms"][0]["steps"]}
    assert steps["4 byok opt-in and deferred key writes"]["status"] == "failed"
    assert steps["4 byok opt-in and deferred key writes"]["message"].endswith("HTTP 400: " + WITHHELD_BODY)
    assert WITHHELD_BODY in outputs.junit
    assert steps["8 teardown"]["status"] == "passed"  # teardown still ran and confirmed its workspace gone


@pytest.mark.parametrize("encoding", ["plain", "go-json", "percent-lower", "html-named", "upper", "json-in-json"])
def test_a_token_quoted_by_a_401_is_withheld(upstream: RunningPlatform, repo: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str], encoding: str) -> None:
    hostility = Hostility("every-request-401", encoding)
    outputs = run_against(upstream, repo, tmp_path, capsys, hostility, "--no-probe")
    assert_nothing_leaked(outputs, hostility)
    assert outputs.code == 2
    assert f"the platform rejected the admin token (HTTP 401: {WITHHELD_BODY})" in outputs.out


@pytest.mark.parametrize("encoding", ["plain", "go-json-in-json", "percent-twice", "x-escapes", "fullwidth"])
def test_a_create_error_echoing_the_request_is_withheld(upstream: RunningPlatform, repo: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str], encoding: str) -> None:
    hostility = Hostility("create", encoding, "text")
    outputs = run_against(upstream, repo, tmp_path, capsys, hostility, "--no-probe")
    assert_nothing_leaked(outputs, hostility)
    assert "[FAIL] 3 create parent workspace" in outputs.out
    assert f"POST /workspaces: HTTP 500: {WITHHELD_BODY}" in outputs.out


@pytest.mark.parametrize("encoding", ["plain", "percent-mixed-case", "html-hex", "json-solidus"])
def test_a_value_split_between_a_header_and_the_body_is_withheld(upstream: RunningPlatform, repo: Path,
                                                                 tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                 encoding: str) -> None:
    hostility = Hostility("split", encoding)
    outputs = run_against(upstream, repo, tmp_path, capsys, hostility, "--no-probe")
    assert_nothing_leaked(outputs, hostility)
    assert f"HTTP 400: {WITHHELD_BODY}" in outputs.out


@pytest.mark.parametrize("encoding", ["plain", "percent-upper", "json-u-every-char"])
def test_a_workspace_id_made_of_the_token_is_withheld(upstream: RunningPlatform, repo: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str], encoding: str) -> None:
    hostility = Hostility("workspace-id", encoding)
    outputs = run_against(upstream, repo, tmp_path, capsys, hostility, "--no-probe")
    assert_nothing_leaked(outputs, hostility)
    assert outputs.code in (1, 4)
    assert "withheld: it contained a secret" in outputs.out


@pytest.mark.parametrize("encoding", ["plain", "go-json", "zero-width-spaces"])
def test_the_probe_value_echoed_by_a_refusal_is_withheld(upstream: RunningPlatform, repo: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str], encoding: str) -> None:
    hostility = Hostility("probe", encoding)
    outputs = run_against(upstream, repo, tmp_path, capsys, hostility)
    assert_nothing_leaked(outputs, hostility)
    assert outputs.code == 1
    assert "[FAIL] 7 live contract probe" in outputs.out
    assert any(v.startswith("probe-") for v in hostility.seen)


def test_an_echo_without_a_secret_is_shown(upstream: RunningPlatform, repo: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The control: withholding is about secrets, not about every server text."""
    hostility = Hostility("deferred-write", "plain", "text")
    hostility.place = "deferred-write"
    summary, junit = tmp_path / "summary.json", tmp_path / "junit.xml"

    class Quiet(HostileHandler):
        def _echo(self, secret: str) -> tuple[dict[str, str], bytes]:
            self.server.hostility.fired += 1
            return {"Content-Type": "text/plain"}, b"quota exceeded for this workspace"

    server = HostileServer(upstream, hostility)
    server.RequestHandlerClass = Quiet
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        code = main(["e2e", "--root", str(repo), "--platform-url", f"http://127.0.0.1:{server.server_address[1]}",
                     "--arm", "anthropic", "--mode", "smoke", "--no-probe", "--json", str(summary),
                     "--junit", str(junit)])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    out, _ = capsys.readouterr()
    assert code == 1
    assert "writing deferred key ANTHROPIC_API_KEY: HTTP 400: quota exceeded for this workspace" in out


@pytest.mark.parametrize(("variable", "value", "limit_text"), [
    ("DRIFTCHECK_ADMIN_TOKEN", "abc", "the admin token in $DRIFTCHECK_ADMIN_TOKEN is 3 characters; at least 16"),
    ("E2E_ANTHROPIC_API_KEY", "sk-short-15char", "$E2E_ANTHROPIC_API_KEY holds 15 characters; a key value needs at "
                                                  "least 16"),
])
def test_a_secret_too_short_to_redact_is_refused_before_any_request(upstream: RunningPlatform, repo: Path,
                                                                    tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                    monkeypatch: pytest.MonkeyPatch, variable: str,
                                                                    value: str, limit_text: str) -> None:
    monkeypatch.setenv(variable, value)
    hostility = Hostility("every-request-401")
    summary, junit = tmp_path / "summary.json", tmp_path / "junit.xml"
    with hostile(upstream, hostility) as url:
        code = main(["e2e", "--root", str(repo), "--platform-url", url, "--arm", "anthropic",
                     "--json", str(summary), "--junit", str(junit)])
    out, err = capsys.readouterr()
    assert code == 2
    assert limit_text in err
    assert hostility.seen == set()  # not a single request
    assert value not in out + err + summary.read_text() + junit.read_text()


def test_log_records_leave_through_the_choke_point() -> None:
    """Records of the libraries a run uses (httpx, uvicorn, the in-process platform) are checked too."""
    import io
    import logging

    from driftcheck.e2e.cli import _LogsThroughPrinter
    from driftcheck.e2e.redact import Redactor
    from driftcheck.e2e.report import StepPrinter

    err = io.StringIO()
    logs = _LogsThroughPrinter(StepPrinter(Redactor([KEY_VALUE]), io.StringIO(), err))
    logs.install()
    try:
        logging.getLogger("httpx").warning("echo %s", quote(KEY_VALUE, safe="").lower())
        logging.getLogger("driftcheck.platform").error("storage error on POST /workspaces: OperationalError")
    finally:
        logs.restore()
    assert logging.getLogger("httpx").propagate and not logging.getLogger("httpx").handlers
    lines = err.getvalue().splitlines()
    assert lines == ["driftcheck e2e: output withheld: it contained a secret",
                     "driftcheck e2e: log driftcheck.platform: storage error on POST /workspaces: OperationalError"]


@pytest.mark.parametrize("encoding", ["plain", "x-escapes", "percent-lower", "upper"])
def test_an_exception_quoting_a_broken_status_line_is_withheld(upstream: RunningPlatform, repo: Path,
                                                               tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                               encoding: str) -> None:
    hostility = Hostility("status-line", encoding)
    outputs = run_against(upstream, repo, tmp_path, capsys, hostility, "--no-probe")
    assert_nothing_leaked(outputs, hostility)
    assert outputs.code == 1
    assert re.search(r"\[FAIL\] 4 byok opt-in .*: POST /workspaces/\S+/secrets failed after 1 attempt\(s\): "
                     r"RemoteProtocolError: exception text withheld: it contained a secret", outputs.out), outputs.out
