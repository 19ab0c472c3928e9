"""Fault injection for the reference platform: a loopback TCP proxy that misbehaves on cue.

`FaultProxy(upstream_url, rules)` listens on 127.0.0.1 (a free port) and forwards
each HTTP/1.1 request to the real platform, except the requests a `FaultRule`
selects: the Nth (to N+count-1th) request matching a method and a path pattern.
Those get one of four kinds of fault:

- `5xx`: an error status (variant: the code, default 503) instead of the platform's answer; a 500
  carries a debugging page's JSON error that echoes the request's Authorization header and body,
  a 502 is a gateway's HTML page;
- `stall`: no answer at all, until the client gives up (closes) or `stall_limit` passes;
- `reset`: the connection is reset (SO_LINGER 0, then close: the client sees RST, no response);
- `malformed`: a 200 whose body the client cannot use. Variants: `invalid-json` (an unterminated
  JSON object that echoes the raw request — Authorization header, body, request line),
  `html` (a non-JSON page, also echoing the body), `wrong-shape` (valid JSON, wrong field types),
  `deep-json` (nesting deep enough to overflow a recursive parser), `bad-gzip` (declares
  `Content-Encoding: gzip` but is not).

`after=True` forwards the request first (the platform processes it) and then faults
the response: the "it happened but you cannot know" case. Otherwise the request
never reaches the platform.

Why a TCP proxy rather than ASGI middleware: a reset must close the socket without
any response, which an ASGI app cannot do (uvicorn answers 500 for an exception
raised before the response starts). The proxy serves one request per connection
(it answers `Connection: close`), which keeps it small; the platform sees one
request per upstream connection.

A plan can be written as text, `parse_plan("PUT /admin/workspaces/*/llm-billing-mode#1x2=5xx:502;
POST /workspaces#1=stall@after")`: rules separated by `;`, each `METHOD PATH[#N[xCOUNT|+]]=KIND[:VARIANT][@after]`
(`+`: every matching request from the Nth on). In a path, `*` matches one segment.

Test tooling: it holds request bodies only while handling them and never logs them;
the echo of the `malformed` fault exists to prove the runner redacts what servers send back.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import struct
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

FAULT_KINDS = ("5xx", "stall", "reset", "malformed")
MALFORMED_VARIANTS = ("invalid-json", "html", "wrong-shape", "deep-json", "bad-gzip")
STATUS_VARIANTS = ("500", "502", "503", "504")
MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 2 * 1024 * 1024
UPSTREAM_TIMEOUT = 30.0
DEEP_NESTING = 100_000

_REASONS = {200: "OK", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
            504: "Gateway Timeout"}
_RULE = re.compile(r"^\s*(?P<method>[A-Z]+)\s+(?P<path>/\S*?)(?:#(?P<nth>\d+)(?:x(?P<count>\d+)|(?P<every>\+))?)?"
                   r"\s*=\s*(?P<kind>[a-z0-9]+)(?::(?P<variant>[a-z0-9-]+))?(?P<after>@after)?\s*$")


class PlanError(ValueError):
    """A fault plan that cannot be parsed or names an unknown kind/variant."""


@dataclass(frozen=True)
class FaultRule:
    """Fault the `nth` .. `nth+count-1`th request matching (method, path); count 0: every one from the nth on."""

    method: str
    path: str
    kind: str
    nth: int = 1
    count: int = 1
    after: bool = False
    variant: str = ""

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise PlanError(f"unknown fault kind {self.kind!r}; use one of {', '.join(FAULT_KINDS)}")
        allowed = {"5xx": STATUS_VARIANTS, "malformed": MALFORMED_VARIANTS}.get(self.kind, ())
        if self.variant and self.variant not in allowed:
            raise PlanError(f"unknown variant {self.variant!r} for {self.kind}"
                            + (f"; use one of {', '.join(allowed)}" if allowed else ": it takes none"))
        if self.nth < 1 or self.count < 0:
            raise PlanError("nth must be >= 1 and count >= 0 (0: every matching request from the nth on)")
        if not self.path.startswith("/"):
            raise PlanError(f"path pattern {self.path!r} must start with /")

    @property
    def persistent(self) -> bool:
        return self.count == 0

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and _pattern(self.path).fullmatch(path) is not None

    def fires_at(self, index: int) -> bool:
        """Whether the `index`th (1-based) matching request is faulted."""
        return index >= self.nth and (self.count == 0 or index < self.nth + self.count)

    def __str__(self) -> str:
        times = "+" if self.count == 0 else (f"x{self.count}" if self.count != 1 else "")
        variant = f":{self.variant}" if self.variant else ""
        return f"{self.method} {self.path}#{self.nth}{times}={self.kind}{variant}{'@after' if self.after else ''}"


def parse_plan(text: str) -> tuple[FaultRule, ...]:
    """`RULE;RULE;...` (see the module docstring) → rules; raises PlanError."""
    rules = []
    for part in text.split(";"):
        if not part.strip():
            continue
        match = _RULE.match(part)
        if match is None:
            raise PlanError(f"cannot parse fault rule {part.strip()!r}; expected METHOD PATH[#N[xCOUNT|+]]="
                            "KIND[:VARIANT][@after]")
        count = 0 if match["every"] else int(match["count"] or 1)
        rules.append(FaultRule(match["method"], match["path"], match["kind"], int(match["nth"] or 1), count,
                               bool(match["after"]), match["variant"] or ""))
    return tuple(rules)


def format_plan(rules: Iterable[FaultRule]) -> str:
    return ";".join(str(r) for r in rules)


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile("/".join("[^/]+" if segment == "*" else re.escape(segment) for segment in path.split("/")))


@dataclass
class ProxyEvent:
    """One request the proxy saw: what it was, which rule (if any) faulted it, and the caller's tag."""

    method: str
    path: str
    rule: FaultRule | None
    tag: Any = None
    key: str | None = None  # the JSON body's "key" field, when it has one (a secret write); never the value

    @property
    def faulted(self) -> bool:
        return self.rule is not None


@dataclass
class _Request:
    method: str
    path: str
    head: bytes
    body: bytes
    lines: list[bytes] = field(default_factory=list)


class FaultProxy:
    """The proxy, serving from a background thread. Use as a context manager, or start()/stop()."""

    def __init__(self, upstream_url: str, rules: Iterable[FaultRule] = (), *, stall_limit: float = 30.0,
                 tag: Callable[[], Any] | None = None) -> None:
        parts = urlsplit(upstream_url)
        if parts.scheme != "http" or not parts.hostname or parts.port is None:
            raise ValueError(f"upstream must be http://HOST:PORT, not {upstream_url!r}")
        self.upstream = (parts.hostname, parts.port)
        self.stall_limit = stall_limit
        self.tag = tag
        self.events: list[ProxyEvent] = []
        self._rules: tuple[FaultRule, ...] = ()
        self._seen: list[int] = []
        self._lock = threading.Lock()
        self.set_rules(rules)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_rules(self, rules: Iterable[FaultRule]) -> None:
        """Install a new plan: counters and the event log start afresh."""
        with self._lock:
            self._rules = tuple(rules)
            self._seen = [0] * len(self._rules)
            self.events = []

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))  # loopback only, always
        sock.listen(128)
        self.port = sock.getsockname()[1]
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)

            async def serve() -> None:
                self._server = await asyncio.start_server(self._accept, sock=sock, limit=MAX_HEAD_BYTES)
                ready.set()

            loop.run_until_complete(serve())
            loop.run_forever()
            # Stopped: finish the handlers' cancellation, then close.
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name=f"fault-proxy-{self.port}", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fault proxy did not start")
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._loop = None

        def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()
            loop.stop()

        loop.call_soon_threadsafe(shutdown)
        thread.join(10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- one connection, one request -------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        reset = False
        try:
            request = await self._read_request(reader)
            if request is None:
                return
            rule = self._decide(request)
            if rule is None:
                writer.write(await self._forward(request))
                await writer.drain()
                return
            if rule.after:
                await self._forward(request)  # the platform processes it; its answer is lost
            if rule.kind == "5xx":
                writer.write(_error_response(int(rule.variant or "503"), request))
            elif rule.kind == "malformed":
                writer.write(_malformed_response(rule.variant or "invalid-json", request))
            elif rule.kind == "stall":
                try:  # until the client hangs up (its timeout), bounded so nothing outlives a test
                    await asyncio.wait_for(reader.read(), self.stall_limit)
                except (asyncio.TimeoutError, ConnectionError):
                    pass
                return
            elif rule.kind == "reset":
                reset = True
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()  # linger 0: RST, no FIN, no response
                return
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError,
                asyncio.TimeoutError, ValueError):
            pass  # the client went away, or sent something this proxy does not handle: just close
        finally:
            self._tasks.discard(task)
            if not reset:
                writer.close()

    async def _read_request(self, reader: asyncio.StreamReader) -> _Request | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None  # connected and closed without a request
        lines = head[:-4].split(b"\r\n")
        method, target, _ = lines[0].decode("latin-1").split(" ", 2)
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
            elif name.strip().lower() == b"transfer-encoding":
                raise ValueError("chunked request bodies are not supported by the fault proxy")
        if length > MAX_BODY_BYTES:
            raise ValueError("request body too large for the fault proxy")
        body = await reader.readexactly(length) if length else b""
        return _Request(method, target.split("?", 1)[0], head, body, lines)

    def _decide(self, request: _Request) -> FaultRule | None:
        with self._lock:
            chosen: FaultRule | None = None
            for i, rule in enumerate(self._rules):
                if rule.matches(request.method, request.path):
                    self._seen[i] += 1
                    if chosen is None and rule.fires_at(self._seen[i]):
                        chosen = rule
            tag = self.tag() if self.tag is not None else None
            self.events.append(ProxyEvent(request.method, request.path, chosen, tag, _body_key(request.body)))
            return chosen

    async def _forward(self, request: _Request) -> bytes:
        """Send the request upstream with `Connection: close`; the raw response, read to EOF."""
        host, port = self.upstream
        kept = [line for line in request.lines[1:] if not line.lower().startswith(b"connection:")]
        head = b"\r\n".join([request.lines[0], *kept, b"Connection: close"]) + b"\r\n\r\n"

        async def exchange() -> bytes:
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(head + request.body)
                await writer.drain()
                return await reader.read()
            finally:
                writer.close()

        return await asyncio.wait_for(exchange(), UPSTREAM_TIMEOUT)


def _body_key(body: bytes) -> str | None:
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return None
    key = data.get("key") if isinstance(data, dict) else None
    return key if isinstance(key, str) else None


def _response(status: int, body: bytes, content_type: bytes, extra: bytes = b"") -> bytes:
    return (f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n".encode() + b"Content-Type: " + content_type
            + b"\r\n" + extra + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)


def _authorization(request: _Request) -> bytes:
    return next((line for line in request.lines[1:] if line.lower().startswith(b"authorization:")), b"")


def _error_response(status: int, request: _Request) -> bytes:
    if status == 502:  # gateways answer in HTML
        return _response(status, b"<html><body><h1>502 Bad Gateway</h1></body></html>", b"text/html")
    message = f"injected fault: HTTP {status}"
    if status == 500:  # a debugging error page: what it was handling, credentials and all
        message += (f" while handling {request.method} {request.path}; "
                    f"{_authorization(request).decode('latin-1')}; body {request.body.decode('utf-8', 'replace')}")
    return _response(status, json.dumps({"error": message}).encode(), b"application/json")


def _malformed_response(variant: str, request: _Request) -> bytes:
    if variant == "invalid-json":
        return _response(200, b'{"garbled": true, "echo": ' + _authorization(request) + b" " + request.body + b" "
                         + request.lines[0], b"application/json")
    if variant == "html":
        return _response(200, b"<html><body>maintenance page; you sent " + request.body + b"</body></html>",
                         b"text/html")
    if variant == "wrong-shape":
        body = json.dumps({"id": 12, "keys": "ALL", "resolved_mode": ["byok"], "workspaces": {"count": 1},
                           "error": 7}).encode()
        return _response(200, body, b"application/json")
    if variant == "deep-json":
        return _response(200, b"[" * DEEP_NESTING + b"]" * DEEP_NESTING, b"application/json")
    if variant == "bad-gzip":
        return _response(200, b"this is not gzip", b"application/json", b"Content-Encoding: gzip\r\n")
    raise PlanError(f"unknown malformed variant {variant!r}")
