"""The platform's HTTP API as a Starlette application (docs/e2e.md).

Every route needs the admin bearer token. Bodies are JSON objects; unknown
fields are ignored, known fields of the wrong type are a 400. Errors are always
`{"error": "...", ...fields}`; no request ends in a 500 or in a partial change
(each store call is one transaction). Secret values are accepted and stored but
never returned, echoed or logged.

Decisions where the design leaves room (the end-to-end runner relies on them):

- `POST /workspaces` takes `"secrets"` as an object `{"KEY": "value"}` (canonical)
  or as a list `[{"key": "KEY", "value": "value"}]`; both are normalised the same
  way, and two entries naming the same key after normalisation are a 400.
- Key names are environment-variable names (`[A-Za-z_][A-Za-z0-9_]*`, at most 256
  characters) after trimming; they are stored and compared upper-cased.
- A workspace's billing mode resolves from its own override, else the default
  `platform_managed` — no inheritance from the parent.
- `DELETE /workspaces/:id` deletes the workspace and its secrets, and is refused
  with 409 (listing the children) while child workspaces exist: no silent cascade.
- `POST /workspaces/:id/secrets` answers 201 for a new key and 200 when it
  replaces the value of an existing key.
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from driftcheck.platform.keys import MAX_KEY_LENGTH, canonical_key, normalise_key
from driftcheck.platform.store import (
    MODES,
    BillingMode,
    BlockedKey,
    HasChildren,
    ParentNotFound,
    SecretNotFound,
    Store,
    StoreError,
    Workspace,
    WorkspaceNotFound,
)

logger = logging.getLogger("driftcheck.platform")

MAX_BODY_BYTES = 1024 * 1024
MAX_NAME_LENGTH = 200
MAX_VALUE_BYTES = 64 * 1024
BILLING_PATH = "/admin/workspaces/:id/llm-billing-mode"


def blocked_message(key: str) -> str:
    """The refusal text for a platform-managed key (create payload or secret write)."""
    return (f"{key} is a platform-managed LLM key; set this workspace's billing mode to 'byok' "
            f"via {BILLING_PATH} before writing it")


class ApiError(Exception):
    """A client error: its status and the JSON body `{"error": message, **fields}`."""

    def __init__(self, status: int, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": message, **fields}


class _Json(JSONResponse):
    # ASCII-escaped: a lone surrogate echoed from a bad request still renders (never a 500).
    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


def _error(status: int, message: str, headers: dict[str, str] | None = None, **fields: Any) -> Response:
    return _Json({"error": message, **fields}, status_code=status, headers=headers)


# -- authentication --------------------------------------------------------------------------


class BearerAuth:
    """Pure ASGI middleware: `Authorization: Bearer <token>` on every request, unknown paths included."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # no websockets here
            await send({"type": "websocket.close", "code": 1008})
            return
        values = [v for k, v in scope["headers"] if k == b"authorization"]
        if not values:
            message = "missing admin bearer token: send 'Authorization: Bearer <token>'"
        else:
            scheme, _, credentials = values[0].strip().partition(b" ")
            # compare_digest on bytes: constant time, and no TypeError for non-ASCII input.
            if len(values) == 1 and scheme.lower() == b"bearer" and hmac.compare_digest(credentials.strip(),
                                                                                          self.token):
                await self.app(scope, receive, send)
                return
            message = "invalid admin bearer token"
        response = _error(401, message, headers={"WWW-Authenticate": 'Bearer realm="driftcheck-platform"'})
        await response(scope, receive, send)


# -- request parsing ---------------------------------------------------------------------------


async def _json_object(request: Request) -> dict[str, Any]:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise ApiError(413, f"request body is over {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(413, f"request body is over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise ApiError(400, "request body must be a JSON object; it is empty")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:  # position only: never echo the body (it may hold secret values)
        raise ApiError(400, f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise ApiError(400, "malformed JSON: nested too deeply") from None
    except ValueError:  # not UTF-8, or a number too long to convert
        raise ApiError(400, "malformed JSON: the body is not valid UTF-8 JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, f"request body must be a JSON object, not {_json_type(data)}")
    return data


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from "\udXXX" escapes
        return False
    return True


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _key(raw: Any, field: str) -> str:
    if not isinstance(raw, str):
        raise ApiError(400, f"{field} must be a string, not {_json_type(raw)}", field=field)
    name = normalise_key(raw)
    if name is None:
        raise ApiError(400, f"invalid key name {_clip(raw)!r} in {field}: a key must be an environment-variable "
                            f"name ([A-Za-z_][A-Za-z0-9_]*, at most {MAX_KEY_LENGTH} characters)",
                       key=_clip(raw), field=field)
    return name


def _value(raw: Any, field: str) -> str:
    # Messages name the field only: a value is never echoed.
    if not isinstance(raw, str):
        raise ApiError(400, f"{field} must be a string, not {_json_type(raw)}", field=field)
    if not _encodable(raw):
        raise ApiError(400, f"{field} is not valid Unicode text", field=field)
    if len(raw.encode("utf-8")) > MAX_VALUE_BYTES:
        raise ApiError(400, f"{field} is over {MAX_VALUE_BYTES} bytes", field=field)
    return raw


def _name(body: dict[str, Any]) -> str:
    if "name" not in body:
        raise ApiError(400, "name is required", field="name")
    raw = body["name"]
    if not isinstance(raw, str):
        raise ApiError(400, f"name must be a string, not {_json_type(raw)}", field="name")
    name = raw.strip()
    if not name:
        raise ApiError(400, "name must not be empty", field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise ApiError(400, f"name is over {MAX_NAME_LENGTH} characters", field="name")
    if not _encodable(name) or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ApiError(400, "name must be printable text (no control characters)", field="name")
    return name


def _parent_id(body: dict[str, Any]) -> str | None:
    raw = body.get("parent_id")
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ApiError(400, f"parent_id must be a string or null, not {_json_type(raw)}", field="parent_id")
    if not raw or not _encodable(raw):
        raise ApiError(400, "parent_id must be a workspace id or null", field="parent_id")
    return raw


def _create_secrets(body: dict[str, Any]) -> list[tuple[str, str]]:
    """`secrets` as {KEY: value} or [{"key", "value"}], normalised, in request order."""
    raw = body.get("secrets")
    if raw is None:
        return []
    pairs: list[tuple[Any, Any, str]] = []
    if isinstance(raw, dict):
        pairs = [(k, v, f"secrets.{_clip(k, 80)}") for k, v in raw.items()]
    elif isinstance(raw, list):
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                raise ApiError(400, f"secrets[{i}] must be an object with \"key\" and \"value\", "
                                    f"not {_json_type(item)}", field=f"secrets[{i}]")
            for required in ("key", "value"):
                if required not in item:
                    raise ApiError(400, f"secrets[{i}].{required} is required", field=f"secrets[{i}].{required}")
            pairs.append((item["key"], item["value"], f"secrets[{i}]"))
    else:
        raise ApiError(400, f"secrets must be an object {{\"KEY\": \"value\"}} or a list of "
                            f"{{\"key\", \"value\"}} objects, not {_json_type(raw)}", field="secrets")
    secrets: list[tuple[str, str]] = []
    seen: set[str] = set()
    for raw_key, raw_value, where in pairs:
        key_field = where if isinstance(raw, dict) else f"{where}.key"
        value_field = where if isinstance(raw, dict) else f"{where}.value"
        key = _key(raw_key, f"the key of {key_field}" if isinstance(raw, dict) else key_field)
        value = _value(raw_value, value_field)
        if key in seen:
            raise ApiError(400, f"secrets names {key} more than once (keys compare trimmed and upper-cased)",
                           key=key, field="secrets")
        seen.add(key)
        secrets.append((key, value))
    return secrets


def _mode(body: dict[str, Any]) -> Any:
    if "mode" not in body:
        raise ApiError(400, "mode is required: \"byok\", \"platform_managed\" or null (clears the override)",
                       field="mode")
    mode = body["mode"]
    if mode is not None and not isinstance(mode, str):
        raise ApiError(400, f"mode must be a string or null, not {_json_type(mode)}", field="mode")
    if mode is not None and mode not in MODES:
        raise ApiError(400, f"unknown mode {_clip(mode, 80)!r}: use \"byok\", \"platform_managed\" or null",
                       field="mode", mode=_clip(mode, 80))
    return mode


# -- responses ---------------------------------------------------------------------------------


def _workspace_json(ws: Workspace) -> dict[str, Any]:
    return {"id": ws.id, "name": ws.name, "parent_id": ws.parent_id,
            "llm_billing_mode": ws.billing.resolved_mode, "llm_billing_mode_source": ws.billing.source,
            "secret_keys": list(ws.secret_keys), "created_at": ws.created_at}


def _billing_json(billing: BillingMode) -> dict[str, Any]:
    return {"workspace_id": billing.workspace_id, "mode": billing.mode,
            "resolved_mode": billing.resolved_mode, "source": billing.source}


def _store_error(exc: StoreError) -> Response:
    if isinstance(exc, BlockedKey):
        fields: dict[str, Any] = {"key": exc.key}
        if exc.workspace_id is None:
            fields["keys"] = exc.keys
        else:
            fields.update(workspace_id=exc.workspace_id, resolved_mode="platform_managed")
        return _error(400, blocked_message(exc.key), **fields)
    if isinstance(exc, WorkspaceNotFound):
        return _error(404, f"workspace {_clip(exc.workspace_id, 80)!r} not found",
                      workspace_id=_clip(exc.workspace_id, 80))
    if isinstance(exc, ParentNotFound):
        return _error(404, f"parent workspace {_clip(exc.parent_id, 80)!r} not found",
                      parent_id=_clip(exc.parent_id, 80))
    if isinstance(exc, SecretNotFound):
        return _error(404, f"workspace {exc.workspace_id} has no secret {exc.key}",
                      workspace_id=exc.workspace_id, key=exc.key)
    if isinstance(exc, HasChildren):
        return _error(409, f"workspace {exc.workspace_id} has {len(exc.children)} child workspace(s); "
                           "delete them first", workspace_id=exc.workspace_id, children=exc.children)
    return _error(500, "internal error")


Endpoint = Callable[[Request], Awaitable[Response]]


def _guarded(fn: Endpoint) -> Endpoint:
    """Every outcome is a JSON response: client errors, store errors, and (last resort) our own bugs."""

    @functools.wraps(fn)
    async def endpoint(request: Request) -> Response:
        try:
            return await fn(request)
        except ApiError as exc:
            return _Json(exc.body, status_code=exc.status)
        except StoreError as exc:
            return _store_error(exc)
        except sqlite3.Error as exc:  # busy / disk full: transient from the client's point of view
            logger.error("storage error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
            return _error(503, "storage unavailable; retry the request")
        except Exception as exc:  # noqa: BLE001 — class name only: a message could carry request data
            logger.error("internal error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
            return _error(500, "internal error")

    return endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return _error(404, f"no route {request.method} {_clip(request.url.path, 200)}")
    if exc.status_code == 405:
        allow = (exc.headers or {}).get("Allow", "")
        return _error(405, f"method {request.method} not allowed on {_clip(request.url.path, 200)}",
                      headers=exc.headers, allow=[m.strip() for m in allow.split(",") if m.strip()])
    return _error(exc.status_code, str(exc.detail), headers=exc.headers)


def _route(path: str, **handlers: Endpoint) -> Route:
    """One route per path, dispatching on the method, so a 405 lists every allowed method."""
    guarded = {method: _guarded(fn) for method, fn in handlers.items()}
    if "GET" in guarded:
        guarded["HEAD"] = guarded["GET"]

    async def dispatch(request: Request) -> Response:
        return await guarded[request.method](request)

    return Route(path, dispatch, methods=list(guarded))


# -- the application -------------------------------------------------------------------------------


def build_app(blocked_keys: frozenset[str], token: str, db_path: str = ":memory:") -> Starlette:
    """The platform as an ASGI app; `app.state.store` is its Store, which the caller closes.

    `blocked_keys` are compared trimmed and upper-cased, like the keys written.
    """
    if not token:
        raise ValueError("the admin token must not be empty")
    return create_app(Store(db_path), blocked_keys, token)


def create_app(store: Store, blocked_keys: frozenset[str], token: str) -> Starlette:
    blocked = frozenset(canonical_key(k) for k in blocked_keys)

    async def create_workspace(request: Request) -> Response:
        body = await _json_object(request)
        name, parent_id, secrets = _name(body), _parent_id(body), _create_secrets(body)
        ws = await run_in_threadpool(store.create_workspace, name, parent_id, secrets, blocked)
        return _Json(_workspace_json(ws), status_code=201)

    async def list_workspaces(request: Request) -> Response:
        workspaces = await run_in_threadpool(store.list_workspaces)
        return _Json({"workspaces": [_workspace_json(ws) for ws in workspaces]})

    async def get_workspace(request: Request) -> Response:
        ws = await run_in_threadpool(store.get_workspace, request.path_params["workspace_id"])
        return _Json(_workspace_json(ws))

    async def delete_workspace(request: Request) -> Response:
        await run_in_threadpool(store.delete_workspace, request.path_params["workspace_id"])
        return Response(status_code=204)

    async def get_billing_mode(request: Request) -> Response:
        billing = await run_in_threadpool(store.get_billing_mode, request.path_params["workspace_id"])
        return _Json(_billing_json(billing))

    async def put_billing_mode(request: Request) -> Response:
        body = await _json_object(request)
        mode = _mode(body)
        billing = await run_in_threadpool(store.set_billing_mode, request.path_params["workspace_id"], mode)
        return _Json(_billing_json(billing))

    async def put_secret(request: Request) -> Response:
        body = await _json_object(request)
        for required in ("key", "value"):
            if required not in body:
                raise ApiError(400, f"{required} is required", field=required)
        key, value = _key(body["key"], "key"), _value(body["value"], "value")
        workspace_id = request.path_params["workspace_id"]
        created = await run_in_threadpool(store.put_secret, workspace_id, key, value, blocked)
        return _Json({"workspace_id": workspace_id, "key": key, "created": created},
                     status_code=201 if created else 200)

    async def list_secrets(request: Request) -> Response:
        workspace_id = request.path_params["workspace_id"]
        keys = await run_in_threadpool(store.secret_keys, workspace_id)
        return _Json({"workspace_id": workspace_id, "keys": list(keys)})

    async def delete_secret(request: Request) -> Response:
        workspace_id = request.path_params["workspace_id"]
        key = _key(request.path_params["key"], "the key in the path")
        await run_in_threadpool(store.delete_secret, workspace_id, key)
        return Response(status_code=204)

    routes = [
        _route("/workspaces", POST=create_workspace, GET=list_workspaces),
        _route("/workspaces/{workspace_id}", GET=get_workspace, DELETE=delete_workspace),
        _route("/admin/workspaces/{workspace_id}/llm-billing-mode", GET=get_billing_mode, PUT=put_billing_mode),
        _route("/workspaces/{workspace_id}/secrets", POST=put_secret, GET=list_secrets),
        _route("/workspaces/{workspace_id}/secrets/{key}", DELETE=delete_secret),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(BearerAuth, token=token)],
                    exception_handlers={HTTPException: _http_error})
    app.state.store = store
    app.state.blocked_keys = blocked
    return app
