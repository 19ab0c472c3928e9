"""Running the platform with uvicorn: in a background thread, or blocking for the CLI.

We bind the listening socket ourselves and hand it to uvicorn: port 0 then has
its real port before the server starts, and "address in use" is a clean
`PlatformError` instead of uvicorn's `sys.exit` inside a thread. uvicorn's
access log is off and its logging configuration is not installed (the host
process's logging is left alone); nothing here logs a body, a value or the token.

starlette and uvicorn are imported only when a platform is started, so importing
this module costs nothing and works without the optional "platform" extra.
"""

from __future__ import annotations

import ipaddress
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

READY_TIMEOUT = 10.0
GRACEFUL_SHUTDOWN_SECONDS = 3


class PlatformError(Exception):
    """The platform cannot start: missing dependencies, bad database, port in use."""


# The installable requirement of each third-party module the platform and the e2e runner import.
_REQUIREMENTS = {"httpx": "httpx>=0.27", "starlette": "starlette>=0.37", "uvicorn": "uvicorn>=0.29"}


def missing_dependency(exc: ImportError) -> str:
    """One line for a module this installation lacks, naming the command that installs it."""
    top = (exc.name or "").partition(".")[0]
    requirement = _REQUIREMENTS.get(top, top) or "driftcheck's dependencies"
    return (f"the Python package {top or '?'} is missing from this installation; install it with "
            f"`pip install '{requirement}'` (or reinstall driftcheck: `pip install -e .` in its repository)")


def generate_token() -> str:
    return secrets.token_urlsafe(32)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name we did not resolve: treat as exposed


def format_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@dataclass
class RunningPlatform:
    """A platform serving in a background thread. Use as a context manager or call `stop()`."""

    url: str
    host: str
    port: int
    blocked_keys: frozenset[str]
    db: str
    token: str = field(repr=False)
    _server: Any = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _store: Any = field(repr=False)
    _socket: socket.socket = field(repr=False)
    _stopped: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self._stopped

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving (open connections get `GRACEFUL_SHUTDOWN_SECONDS`), close the database. Idempotent."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            self._server.should_exit = True
            self._thread.join(timeout)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(5.0)
            self._socket.close()
            self._store.close()

    def __enter__(self) -> RunningPlatform:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


PlatformServer = RunningPlatform  # the handle, under the name some callers expect


def _bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise PlatformError(f"cannot resolve host {host!r}: {exc}") from exc
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise PlatformError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


def start_platform(blocked_keys: frozenset[str], token: str | None = None, host: str = "127.0.0.1",
                   port: int = 0, db: str = ":memory:") -> RunningPlatform:
    """Serve the platform on `host:port` in a background thread; return once it accepts requests.

    `token=None` generates a random admin token (read it from `.token`). Port 0
    picks a free port (read it from `.port`/`.url`). Raises `PlatformError`.
    """
    try:
        import uvicorn

        from driftcheck.platform.app import build_app
    except ImportError as exc:
        raise PlatformError(missing_dependency(exc)) from exc
    from driftcheck.platform.store import StoreOpenError

    token = token if token is not None else generate_token()
    try:
        app = build_app(blocked_keys, token, db)
    except StoreOpenError as exc:
        raise PlatformError(str(exc)) from exc
    except ValueError as exc:
        raise PlatformError(str(exc)) from exc
    store = app.state.store
    try:
        sock = _bind(host, port)
    except PlatformError:
        store.close()
        raise
    config = uvicorn.Config(app, log_config=None, access_log=False, log_level="warning", lifespan="off",
                            ws="none", server_header=False, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS)
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # noqa: BLE001 — includes uvicorn's SystemExit on startup failure
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"driftcheck-platform-{sock.getsockname()[1]}", daemon=True)
    thread.start()
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                why = type(failure[0]).__name__ if failure else "it did not start in time"
                raise PlatformError(f"the platform server failed to start: {why}")
            time.sleep(0.01)
    except BaseException:  # also Ctrl-C while waiting: never leave a half-started server behind
        server.should_exit = True
        thread.join(5.0)
        sock.close()
        store.close()
        raise
    bound_host, bound_port = sock.getsockname()[:2]
    return RunningPlatform(url=format_url(host, bound_port), host=host, port=bound_port,
                           blocked_keys=app.state.blocked_keys, db=db, token=token, _server=server,
                           _thread=thread, _store=store, _socket=sock)


def serve(blocked_keys: frozenset[str], token: str, host: str = "127.0.0.1", port: int = 8765,
          db: str = ":memory:", on_ready: Callable[[RunningPlatform], None] | None = None) -> int:
    """Serve until SIGINT/SIGTERM, then stop cleanly. Returns 0, or 1 if the server died on its own.

    Raises `PlatformError` when it cannot start.
    """
    running = start_platform(blocked_keys, token=token, host=host, port=port, db=db)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        if on_ready is not None:
            on_ready(running)
        while not stop.wait(0.2):
            if not running.alive:
                return 1
        return 0
    finally:
        running.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
