"""HTTP to the platform: one request with bounded retries, and what its answer may show.

The retry rule lives in one place (`retryable`): GET/PUT/DELETE are retried on transport
errors and 500/502/503/504, `RETRY_DELAYS` apart; a POST only when the connection was
never made (nothing reached the server) — a POST that may have been processed is never
repeated. An undecodable body (a bogus Content-Encoding) counts as a failed exchange.

Everything a server sent that the runner may show — an error body, an exception text —
goes through the run's `Redactor` here, clipped to what is shown, so a step message says
"HTTP 400: response body withheld because it contained a secret" instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from driftcheck.e2e.redact import WITHHELD, Redactor
from driftcheck.e2e.report import EXIT_ERROR, EXIT_FAILED
from driftcheck.platform.keys import canonical_key

RETRY_DELAYS: tuple[float, ...] = (0.2, 0.5, 1.0)  # up to 3 retries of an idempotent call
TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})
SHOWN_BODY = 300  # characters of a server's error text a message shows
BODY_WITHHELD = "response body withheld because it contained a secret"
# Nothing reached the server: the connection was never made.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout)


class StepError(Exception):
    """A step's assertion or request failed; the message is checked for secrets when it is recorded."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED, *, sent: bool = True,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.sent = sent  # False: the request never reached the server (connection refused)
        self.status = status  # the HTTP status, when the server answered


def retryable(method: str, failure: Exception | None, status: int | None) -> bool:
    """Whether an attempt may be repeated: a failed exchange (`failure`) or an answer (`status`)."""
    if failure is not None:
        return isinstance(failure, _NOT_SENT) or method in IDEMPOTENT
    return status in TRANSIENT_STATUS and method in IDEMPOTENT


class PlatformClient:
    """Requests to one platform through an `httpx.Client` (base URL, token and timeout already set)."""

    def __init__(self, client: httpx.Client, redactor: Redactor, *, retry_delays: tuple[float, ...] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.redactor = redactor
        self._retry_delays = retry_delays
        self.sleep = sleep
        self.any_response = False  # an answer arrived: a later connection failure is not a wrong URL

    @property
    def delays(self) -> tuple[float, ...]:
        return RETRY_DELAYS if self._retry_delays is None else self._retry_delays

    def request(self, method: str, path: str, *, body: dict[str, Any] | None = None,
                expect: tuple[int, ...] | None = None) -> httpx.Response:
        """One request with bounded retries; raises StepError on transport failure or an unexpected status."""
        delays = self.delays
        attempt = 0
        while True:
            last = attempt == len(delays)
            try:
                response = self.client.request(method, path, json=body)
            except (httpx.TransportError, httpx.DecodingError) as exc:
                # DecodingError is not a TransportError, but just as much a failed exchange.
                if last or not retryable(method, exc, None):
                    raise self._transport_error(method, path, exc, attempt + 1) from None
            else:
                self.any_response = True
                if last or not retryable(method, None, response.status_code):
                    return self._checked(method, path, response, expect)
                response.close()
            self.sleep(delays[attempt])
            attempt += 1

    def _checked(self, method: str, path: str, response: httpx.Response,
                 expect: tuple[int, ...] | None) -> httpx.Response:
        if response.status_code in (401, 403):
            raise StepError(f"{method} {path}: the platform rejected the admin token ({self.describe(response)})",
                            EXIT_ERROR, status=response.status_code)
        if expect is not None and response.status_code not in expect:
            self.fail(response, f"{method} {path}")
        return response

    def _transport_error(self, method: str, path: str, exc: Exception, attempts: int) -> StepError:
        kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
        detail = self.redactor.scrub(str(exc), "exception text " + WITHHELD) or "no detail"
        message = f"{method} {path} {kind} after {attempts} attempt(s): {type(exc).__name__}: {detail}"
        # Unreachable before any answer at all: the URL (or the network) is wrong, not a step.
        unreachable = isinstance(exc, _NOT_SENT) and not self.any_response
        return StepError(message + ("; is --platform-url right?" if unreachable else ""),
                         EXIT_ERROR if unreachable else EXIT_FAILED, sent=not isinstance(exc, _NOT_SENT))

    def fail(self, response: httpx.Response, what: str) -> None:
        raise StepError(f"{what}: {self.describe(response)}", status=response.status_code)

    def describe(self, response: httpx.Response) -> str:
        """`HTTP 400: <server error>`, clipped, or withheld when it reveals a secret; never the request body."""
        detail = response.text
        data = parse_json(response)
        if isinstance(data, dict) and isinstance(data.get("error"), str):
            detail = data["error"]
        detail = " ".join(detail.split())
        if len(detail) > SHOWN_BODY:
            detail = detail[:SHOWN_BODY] + "..."
        # What is shown is checked, as shown: a value cut in half by the clip is still caught (fragments).
        detail = self.redactor.scrub(detail, BODY_WITHHELD)
        return f"HTTP {response.status_code}" + (f": {detail}" if detail else "")

    def json(self, response: httpx.Response, strict: bool = True) -> dict[str, Any]:
        """The body as a JSON object; not one: StepError (`strict`), else {}."""
        data = parse_json(response)
        if not isinstance(data, dict):
            if strict:
                raise StepError(f"{response.request.method} {response.request.url.path}: expected a JSON object, "
                                f"got {self.describe(response)}", status=response.status_code)
            return {}
        return data


def q(workspace_id: str) -> str:
    """A workspace id as one path segment."""
    return quote(workspace_id, safe="")


_NOT_JSON = object()


def parse_json(response: httpx.Response, default: Any = None) -> Any:
    """The decoded body, or `default` when it is not JSON (RecursionError: a body nested deeper than the
    parser's stack, which json.loads raises instead of a ValueError)."""
    try:
        return response.json()
    except (ValueError, RecursionError):
        return default


def names_key(response: httpx.Response, key: str) -> bool:
    """A refusal names the key: `{"key": K}` (compared as the platform does), or K in the error text."""
    data = parse_json(response, _NOT_JSON)
    if data is _NOT_JSON:
        return key in response.text
    if isinstance(data, dict):
        named = data.get("key")
        if isinstance(named, str) and canonical_key(named) == canonical_key(key):
            return True
        error = data.get("error")
        return isinstance(error, str) and (key in error or canonical_key(key) in error)
    return False
