"""The embedded reference platform, over real loopback sockets (no mocked transport).

Every server a test starts is stopped by its fixture or `with` block. Every
secret value sent carries the marker SECRET_MARK; the `client` fixture checks
that no response body ever contains it (values are stored, never returned).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from driftcheck.platform import PlatformError, RunningPlatform, build_app, normalise_key, start_platform
from driftcheck.platform.app import blocked_message
from driftcheck.platform.cli import platform as platform_group
from driftcheck.platform.keys import load_blocked_keys, parse_key_list
from driftcheck.platform.server import is_loopback
from repogen import CANONICAL_KEYS

CANONICAL = list(CANONICAL_KEYS)  # the 23 fixture keys, defined once in benchmarks/repogen.py
BLOCKED = frozenset(CANONICAL)
SECRET_MARK = "SeCrEtVaLuE"
TOKEN = "test-admin-token-0123456789"
BILLING = "/admin/workspaces/{}/llm-billing-mode"
REPO = Path(__file__).resolve().parent.parent


def value(n: object = 0) -> str:
    return f"sv-{SECRET_MARK}-{n}"


@pytest.fixture(scope="module")
def shared_server() -> Iterator[RunningPlatform]:
    with start_platform(BLOCKED, token=TOKEN) as running:
        yield running


@pytest.fixture
def server(shared_server: RunningPlatform) -> RunningPlatform:
    """One server for the module (starting and stopping costs ~0.2 s), emptied before each test."""
    with shared_server._store._transaction() as tx:
        tx.execute("DELETE FROM secrets")
        tx.execute("DELETE FROM workspaces")
    return shared_server


class Recorder:
    def __init__(self) -> None:
        self.bodies: list[str] = []

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        self.bodies.append(response.text)


def make_client(url: str, token: str | None = TOKEN, recorder: Recorder | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    hooks = {"response": [recorder]} if recorder is not None else {}
    # Plain HTTP to loopback: no TLS context to build, and no proxy from the environment in the way.
    return httpx.Client(base_url=url, headers=headers, timeout=10.0, event_hooks=hooks, verify=False,
                        trust_env=False)


@pytest.fixture
def client(server: RunningPlatform) -> Iterator[httpx.Client]:
    recorder = Recorder()
    with make_client(server.url, recorder=recorder) as c:
        yield c
    assert recorder.bodies, "the test made no request"
    leaked = [b for b in recorder.bodies if SECRET_MARK in b]
    assert not leaked, f"a response echoed a secret value: {leaked[:1]}"


def create(client: httpx.Client, name: str = "ws", **body: object) -> dict:
    r = client.post("/workspaces", json={"name": name, **body})
    assert r.status_code == 201, r.text
    return r.json()


def assert_error(r: httpx.Response, status: int, contains: str = "") -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert isinstance(body["error"], str) and body["error"]
    assert contains in body["error"], body["error"]
    return body


def workspace_count(client: httpx.Client) -> int:
    r = client.get("/workspaces")
    assert r.status_code == 200
    return len(r.json()["workspaces"])


# -- authentication ------------------------------------------------------------------------------

ROUTES = [
    ("POST", "/workspaces"), ("GET", "/workspaces"), ("GET", "/workspaces/x"), ("DELETE", "/workspaces/x"),
    ("GET", BILLING.format("x")), ("PUT", BILLING.format("x")), ("POST", "/workspaces/x/secrets"),
    ("GET", "/workspaces/x/secrets"), ("DELETE", "/workspaces/x/secrets/FOO"), ("GET", "/no/such/route"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_requires_the_bearer_token(server, method, path):
    bad = [None, "wrong-token", TOKEN + "x", TOKEN[:-1], TOKEN.upper()]
    for token in bad:
        with make_client(server.url, token=token) as c:
            r = c.request(method, path, json={"name": "x", "key": "FOO", "value": value(), "mode": "byok"})
        body = assert_error(r, 401, "token")
        assert set(body) == {"error"}
        assert r.headers["www-authenticate"].startswith("Bearer")
    with make_client(server.url) as c:
        assert c.get("/workspaces").json() == {"workspaces": []}  # nothing was created by the refused requests


def test_auth_scheme_must_be_bearer_and_is_case_insensitive(server):
    for header, status in [(f"Basic {TOKEN}", 401), (TOKEN, 401), (f"bearer {TOKEN}", 200),
                           (f"BEARER  {TOKEN}", 200), (f"Bearer {TOKEN}é", 401), ("Bearer", 401),
                           (f"Bearer{TOKEN}", 401), (f"Bearer {TOKEN} {TOKEN}", 401)]:
        r = httpx.get(server.url + "/workspaces", headers={"Authorization": header.encode()}, timeout=10,
                      trust_env=False)
        assert r.status_code == status, header


# -- create / list / get / delete workspaces -----------------------------------------------------


def test_create_workspace_returns_the_workspace_without_values(client):
    r = client.post("/workspaces", json={"name": "  parent  ", "secrets": {"zeta": value(1), " E2E_FLAG ": value(2)}})
    assert r.status_code == 201
    ws = r.json()
    assert ws["name"] == "parent"
    assert ws["parent_id"] is None
    assert ws["llm_billing_mode"] == "platform_managed"
    assert ws["llm_billing_mode_source"] == "default"
    assert ws["secret_keys"] == ["E2E_FLAG", "ZETA"]
    assert set(ws) == {"id", "name", "parent_id", "llm_billing_mode", "llm_billing_mode_source", "secret_keys",
                       "created_at"}
    assert client.get(f"/workspaces/{ws['id']}").json() == ws


def test_create_accepts_secrets_as_a_list_of_key_value_objects(client):
    ws = create(client, secrets=[{"key": "b_key", "value": value(1)}, {"key": "A_KEY", "value": value(2)}])
    assert ws["secret_keys"] == ["A_KEY", "B_KEY"]


def test_create_with_null_or_empty_secrets_and_ignored_unknown_fields(client):
    assert create(client, secrets=None, parent_id=None)["secret_keys"] == []
    assert create(client, secrets={})["secret_keys"] == []
    ws = create(client, secrets=[], tier="gold", extra={"nested": [1, 2]}, llm_billing_mode="byok")
    # an unknown field never changes what the server enforces: a new workspace is platform-managed
    assert ws["llm_billing_mode"] == "platform_managed"


@pytest.mark.parametrize("secrets", [
    {"ANTHROPIC_API_KEY": value()},
    {"OTHER": value(1), "GEMINI_API_KEY": value(2)},
    {" anthropic_api_key ": value()},
    [{"key": "anthropic_api_key", "value": value()}],
])
def test_create_with_a_blocked_key_is_refused_and_stores_nothing(client, secrets):
    r = client.post("/workspaces", json={"name": "p", "secrets": secrets})
    body = assert_error(r, 400)
    expected = "GEMINI_API_KEY" if "OTHER" in secrets else "ANTHROPIC_API_KEY"
    assert body["key"] == expected
    assert body["error"] == blocked_message(expected)
    assert body["error"] == (f"{expected} is a platform-managed LLM key; set this workspace's billing mode to "
                             "'byok' via /admin/workspaces/:id/llm-billing-mode before writing it")
    assert body["keys"] == [expected]
    assert workspace_count(client) == 0


def test_create_reports_the_first_blocked_key_and_all_of_them(client):
    r = client.post("/workspaces", json={"name": "p", "secrets": {"OK": value(0), "MINIMAX_API_KEY": value(1),
                                                                   "groq_api_key": value(2)}})
    body = assert_error(r, 400, "MINIMAX_API_KEY is a platform-managed LLM key")
    assert body["key"] == "MINIMAX_API_KEY"
    assert body["keys"] == ["MINIMAX_API_KEY", "GROQ_API_KEY"]
    assert workspace_count(client) == 0


@pytest.mark.parametrize(("payload", "status", "contains"), [
    ({}, 400, "name is required"),
    ({"name": 5}, 400, "name must be a string"),
    ({"name": None}, 400, "name must be a string"),
    ({"name": "   "}, 400, "must not be empty"),
    ({"name": "x" * 201}, 400, "over 200"),
    ({"name": "a\nb"}, 400, "control"),
    ({"name": "p", "parent_id": 7}, 400, "parent_id must be a string or null"),
    ({"name": "p", "parent_id": ""}, 400, "parent_id"),
    ({"name": "p", "secrets": "A=B"}, 400, "secrets must be an object"),
    ({"name": "p", "secrets": 3}, 400, "secrets must be an object"),
    ({"name": "p", "secrets": {"A": 1}}, 400, "must be a string"),
    ({"name": "p", "secrets": {"A": None}}, 400, "must be a string"),
    ({"name": "p", "secrets": {"A": ["x"]}}, 400, "must be a string"),
    ({"name": "p", "secrets": {"FOO-BAR": value()}}, 400, "invalid key name 'FOO-BAR'"),
    ({"name": "p", "secrets": {"1ABC": value()}}, 400, "invalid key name"),
    ({"name": "p", "secrets": {"": value()}}, 400, "invalid key name"),
    ({"name": "p", "secrets": {"A B": value()}}, 400, "invalid key name"),
    ({"name": "p", "secrets": {"ÄPI_KEY": value()}}, 400, "invalid key name"),
    ({"name": "p", "secrets": {"ﬃ": value()}}, 400, "invalid key name"),  # upper() would make it "FFI"
    ({"name": "p", "secrets": {"K" * 257: value()}}, 400, "invalid key name"),
    ({"name": "p", "secrets": {"foo": value(1), "FOO ": value(2)}}, 400, "more than once"),
    ({"name": "p", "secrets": [{"key": "A"}]}, 400, "secrets[0].value is required"),
    ({"name": "p", "secrets": [{"value": value()}]}, 400, "secrets[0].key is required"),
    ({"name": "p", "secrets": [{"key": 1, "value": value()}]}, 400, "secrets[0].key must be a string"),
    ({"name": "p", "secrets": ["A"]}, 400, "secrets[0] must be an object"),
    ({"name": "p", "secrets": [{"key": "A", "value": value(1)}, {"key": "a", "value": value(2)}]}, 400,
     "more than once"),
    ({"name": "p", "secrets": {"BIG": SECRET_MARK + "x" * (64 * 1024)}}, 400, "over 65536 bytes"),
])
def test_create_rejects_bad_payloads_and_creates_nothing(client, payload, status, contains):
    body = assert_error(client.post("/workspaces", json=payload), status, contains)
    assert "field" in body
    assert workspace_count(client) == 0


def test_invalid_key_name_error_names_the_key(client):
    body = assert_error(client.post("/workspaces", json={"name": "p", "secrets": {"bad.key": value()}}), 400)
    assert body["key"] == "bad.key"
    assert "environment-variable name" in body["error"]


@pytest.mark.parametrize(("content", "contains"), [
    (b"{not json", "malformed JSON"),
    (b'{"name": "p",}', "malformed JSON"),
    (b"", "empty"),
    (b"   ", "empty"),
    (b"[]", "JSON object, not an array"),
    (b'"name"', "JSON object, not a string"),
    (b"null", "JSON object, not null"),
    (b"42", "JSON object, not a number"),
    (b"true", "JSON object, not a boolean"),
    (b'{"name": "\xff"}', "malformed JSON"),
    (b"[" * 50000, "malformed JSON"),
    (b'{"name": "p", "n": ' + b"9" * 5000 + b"}", "malformed JSON"),
])
def test_malformed_bodies_are_400_never_500(client, content, contains):
    r = client.post("/workspaces", content=content, headers={"content-type": "application/json"})
    assert_error(r, 400, contains)
    assert workspace_count(client) == 0


def test_lone_surrogates_never_cause_a_500(client):
    for content in [b'{"name": "\\ud800"}', b'{"name": "p", "secrets": {"A": "\\udfff"}}',
                    b'{"name": "p", "secrets": {"\\ud800": "x"}}', b'{"name": "p", "parent_id": "\\ud800"}']:
        r = client.post("/workspaces", content=content)
        assert r.status_code == 400, (content, r.text)
    assert workspace_count(client) == 0


def test_oversized_body_is_413(client):
    big = json.dumps({"name": "p", "pad": "x" * (1024 * 1024)}).encode()
    assert_error(client.post("/workspaces", content=big), 413, "over")
    assert workspace_count(client) == 0


def test_child_workspace_and_unknown_parent(client):
    parent = create(client, "parent")
    child = create(client, "child", parent_id=parent["id"])
    assert child["parent_id"] == parent["id"]
    body = assert_error(client.post("/workspaces", json={"name": "orphan", "parent_id": "nope"}), 404, "parent")
    assert body["parent_id"] == "nope"
    # the parent check is atomic with the secrets: nothing from the refused create is left behind
    assert_error(client.post("/workspaces", json={"name": "o", "parent_id": "nope", "secrets": {"A": value()}}), 404)
    assert [w["id"] for w in client.get("/workspaces").json()["workspaces"]] == [parent["id"], child["id"]]


def test_list_and_get_workspaces(client):
    assert client.get("/workspaces").json() == {"workspaces": []}
    a = create(client, "a", secrets={"X": value()})
    b = create(client, "b")
    listed = client.get("/workspaces").json()["workspaces"]
    assert [w["id"] for w in listed] == [a["id"], b["id"]]  # creation order
    assert listed[0]["secret_keys"] == ["X"]
    assert client.get(f"/workspaces/{b['id']}").json()["name"] == "b"
    body = assert_error(client.get("/workspaces/does-not-exist"), 404, "not found")
    assert body["workspace_id"] == "does-not-exist"


def test_delete_workspace_deletes_its_secrets(client):
    ws = create(client, secrets={"A": value(1), "B": value(2)})
    r = client.delete(f"/workspaces/{ws['id']}")
    assert r.status_code == 204 and r.content == b""
    assert_error(client.get(f"/workspaces/{ws['id']}"), 404)
    assert_error(client.get(f"/workspaces/{ws['id']}/secrets"), 404)
    assert_error(client.delete(f"/workspaces/{ws['id']}"), 404)
    assert workspace_count(client) == 0


def test_delete_is_refused_while_children_exist(client):
    parent = create(client, "parent")
    child = create(client, "child", parent_id=parent["id"])
    body = assert_error(client.delete(f"/workspaces/{parent['id']}"), 409, "delete them first")
    assert body["children"] == [child["id"]]
    assert body["workspace_id"] == parent["id"]
    assert client.get(f"/workspaces/{parent['id']}").status_code == 200
    assert client.delete(f"/workspaces/{child['id']}").status_code == 204
    assert client.delete(f"/workspaces/{parent['id']}").status_code == 204
    assert workspace_count(client) == 0


# -- billing mode ----------------------------------------------------------------------------------


def test_billing_mode_default_override_and_clear(client):
    ws = create(client)
    path = BILLING.format(ws["id"])
    assert client.get(path).json() == {"workspace_id": ws["id"], "mode": None, "resolved_mode": "platform_managed",
                                       "source": "default"}
    r = client.put(path, json={"mode": "byok"})
    assert r.status_code == 200
    assert r.json() == {"workspace_id": ws["id"], "mode": "byok", "resolved_mode": "byok",
                        "source": "workspace_override"}
    assert client.get(path).json()["resolved_mode"] == "byok"
    assert client.get(f"/workspaces/{ws['id']}").json()["llm_billing_mode"] == "byok"
    assert client.put(path, json={"mode": "platform_managed"}).json() == {
        "workspace_id": ws["id"], "mode": "platform_managed", "resolved_mode": "platform_managed",
        "source": "workspace_override"}
    assert client.put(path, json={"mode": None, "note": "ignored"}).json() == {
        "workspace_id": ws["id"], "mode": None, "resolved_mode": "platform_managed", "source": "default"}


@pytest.mark.parametrize(("payload", "contains"), [
    ({}, "mode is required"),
    ({"mode": "BYOK"}, "unknown mode 'BYOK'"),
    ({"mode": "managed"}, "unknown mode"),
    ({"mode": ""}, "unknown mode"),
    ({"mode": 1}, "must be a string or null"),
    ({"mode": True}, "must be a string or null"),
    ({"mode": ["byok"]}, "must be a string or null"),
])
def test_billing_mode_rejects_bad_modes_without_change(client, payload, contains):
    ws = create(client)
    path = BILLING.format(ws["id"])
    client.put(path, json={"mode": "byok"})
    body = assert_error(client.put(path, json=payload), 400, contains)
    assert body["field"] == "mode"
    assert client.get(path).json()["mode"] == "byok"


def test_billing_mode_bad_json_and_unknown_workspace(client):
    ws = create(client)
    assert_error(client.put(BILLING.format(ws["id"]), content=b"{mode: byok}"), 400, "malformed JSON")
    assert_error(client.put(BILLING.format(ws["id"]), content=b'"byok"'), 400, "JSON object")
    assert assert_error(client.get(BILLING.format("nope")), 404)["workspace_id"] == "nope"
    assert_error(client.put(BILLING.format("nope"), json={"mode": "byok"}), 404)


def test_child_does_not_inherit_the_parents_byok_mode(client):
    parent = create(client, "parent")
    client.put(BILLING.format(parent["id"]), json={"mode": "byok"})
    child = create(client, "child", parent_id=parent["id"])
    assert client.get(BILLING.format(child["id"])).json() == {
        "workspace_id": child["id"], "mode": None, "resolved_mode": "platform_managed", "source": "default"}
    r = client.post(f"/workspaces/{child['id']}/secrets", json={"key": "OPENAI_API_KEY", "value": value()})
    assert assert_error(r, 400)["key"] == "OPENAI_API_KEY"


# -- secrets ------------------------------------------------------------------------------------------


def test_secret_write_gate_then_byok_opt_in(client):
    ws = create(client)
    secrets_path = f"/workspaces/{ws['id']}/secrets"
    r = client.post(secrets_path, json={"key": "ANTHROPIC_API_KEY", "value": value()})
    body = assert_error(r, 400)
    assert body == {"error": blocked_message("ANTHROPIC_API_KEY"), "key": "ANTHROPIC_API_KEY",
                    "workspace_id": ws["id"], "resolved_mode": "platform_managed"}
    assert client.get(secrets_path).json() == {"workspace_id": ws["id"], "keys": []}

    assert client.put(BILLING.format(ws["id"]), json={"mode": "byok"}).json()["resolved_mode"] == "byok"
    r = client.post(secrets_path, json={"key": "ANTHROPIC_API_KEY", "value": value()})
    assert r.status_code == 201
    assert r.json() == {"workspace_id": ws["id"], "key": "ANTHROPIC_API_KEY", "created": True}
    assert client.get(secrets_path).json()["keys"] == ["ANTHROPIC_API_KEY"]

    # back to platform-managed: new blocked writes are refused again; what is stored stays
    client.put(BILLING.format(ws["id"]), json={"mode": "platform_managed"})
    assert assert_error(client.post(secrets_path, json={"key": "GROQ_API_KEY", "value": value()}), 400)["key"] == \
        "GROQ_API_KEY"
    assert client.get(secrets_path).json()["keys"] == ["ANTHROPIC_API_KEY"]


@pytest.mark.parametrize("raw", [" anthropic_api_key ", "anthropic_api_key", "\tAnthropic_Api_Key\n"])
def test_secret_key_normalisation_applies_to_the_gate(client, raw):
    ws = create(client)
    r = client.post(f"/workspaces/{ws['id']}/secrets", json={"key": raw, "value": value()})
    body = assert_error(r, 400, "ANTHROPIC_API_KEY is a platform-managed LLM key")
    assert body["key"] == "ANTHROPIC_API_KEY"


def test_secret_write_of_unlisted_key_is_stored_normalised_and_replace_is_200(client):
    ws = create(client)
    path = f"/workspaces/{ws['id']}/secrets"
    r = client.post(path, json={"key": " e2e_model ", "value": value(1)})
    assert r.status_code == 201 and r.json() == {"workspace_id": ws["id"], "key": "E2E_MODEL", "created": True}
    r = client.post(path, json={"key": "E2E_MODEL", "value": value(2), "comment": "ignored"})
    assert r.status_code == 200 and r.json()["created"] is False
    client.post(path, json={"key": "A_FIRST", "value": value(3)})
    assert client.get(path).json() == {"workspace_id": ws["id"], "keys": ["A_FIRST", "E2E_MODEL"]}
    assert client.get(f"/workspaces/{ws['id']}").json()["secret_keys"] == ["A_FIRST", "E2E_MODEL"]


@pytest.mark.parametrize(("payload", "contains"), [
    ({"value": value()}, "key is required"),
    ({"key": "A"}, "value is required"),
    ({"key": 1, "value": value()}, "key must be a string"),
    ({"key": None, "value": value()}, "key must be a string"),
    ({"key": "A", "value": 1}, "value must be a string"),
    ({"key": "A", "value": None}, "value must be a string"),
    ({"key": "A", "value": {"v": value()}}, "value must be a string"),
    ({"key": "FOO-BAR", "value": value()}, "invalid key name"),
    ({"key": "9LIVES", "value": value()}, "invalid key name"),
    ({"key": "   ", "value": value()}, "invalid key name"),
    ({"key": "A=B", "value": value()}, "invalid key name"),
])
def test_secret_write_rejects_bad_payloads(client, payload, contains):
    ws = create(client)
    path = f"/workspaces/{ws['id']}/secrets"
    assert_error(client.post(path, json=payload), 400, contains)
    assert_error(client.post(path, content=b"{"), 400, "malformed JSON")
    assert_error(client.post(path, content=b"[1]"), 400, "JSON object")
    assert client.get(path).json()["keys"] == []


def test_secret_routes_on_unknown_workspace_are_404(client):
    assert_error(client.post("/workspaces/nope/secrets", json={"key": "A", "value": value()}), 404, "not found")
    assert_error(client.post("/workspaces/nope/secrets", json={"key": "ANTHROPIC_API_KEY", "value": value()}), 404)
    assert_error(client.get("/workspaces/nope/secrets"), 404)
    assert_error(client.delete("/workspaces/nope/secrets/A"), 404)


def test_delete_secret(client):
    ws = create(client, secrets={"A": value(1), "B": value(2)})
    path = f"/workspaces/{ws['id']}/secrets"
    r = client.delete(f"{path}/a")  # normalised like writes
    assert r.status_code == 204 and r.content == b""
    assert client.get(path).json()["keys"] == ["B"]
    body = assert_error(client.delete(f"{path}/A"), 404, "no secret A")
    assert body["key"] == "A"
    assert_error(client.delete(f"{path}/not-a-name"), 400, "invalid key name")
    assert client.get(path).json()["keys"] == ["B"]


def test_live_probe_every_listed_key_is_refused_and_an_unlisted_one_accepted(client):
    ws = create(client, "probe")
    path = f"/workspaces/{ws['id']}/secrets"
    for key in CANONICAL:
        body = assert_error(client.post(path, json={"key": key, "value": value(key)}), 400)
        assert body["key"] == key
    assert client.post(path, json={"key": "DRIFTCHECK_PROBE_UNLISTED", "value": value()}).status_code == 201
    assert client.get(path).json()["keys"] == ["DRIFTCHECK_PROBE_UNLISTED"]


def test_unknown_routes_and_methods_are_json(client):
    body = assert_error(client.get("/nope"), 404, "no route GET /nope")
    assert set(body) == {"error"}
    body = assert_error(client.patch("/workspaces"), 405, "PATCH")
    assert set(body["allow"]) == {"GET", "HEAD", "POST"}
    assert set(client.patch("/workspaces").headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "POST"}
    assert_error(client.put("/workspaces/x/secrets", json={}), 405)


def test_values_are_stored_but_never_returned(server, client):
    ws = create(client, secrets={"A": value("create")})
    client.put(BILLING.format(ws["id"]), json={"mode": "byok"})
    client.post(f"/workspaces/{ws['id']}/secrets", json={"key": "OPENAI_API_KEY", "value": value("write")})
    for path in ["/workspaces", f"/workspaces/{ws['id']}", f"/workspaces/{ws['id']}/secrets",
                 BILLING.format(ws["id"])]:
        assert client.get(path).status_code == 200
    store = server._store
    with store._transaction() as tx:  # the store really keeps the values (realism), only HTTP hides them
        rows = dict(tx.execute("SELECT key, value FROM secrets").fetchall())
    assert rows == {"A": value("create"), "OPENAI_API_KEY": value("write")}


# -- concurrency and persistence -------------------------------------------------------------------


def test_concurrent_creates_and_writes_are_all_stored(server):
    errors: list[str] = []
    created: dict[int, str] = {}

    def worker(n: int) -> None:
        try:
            with make_client(server.url) as c:
                ws = c.post("/workspaces", json={"name": f"w{n}", "secrets": {f"K{n}": value(n)}}).json()
                created[n] = ws["id"]
                assert c.put(BILLING.format(ws["id"]), json={"mode": "byok"}).status_code == 200
                for i in range(5):
                    r = c.post(f"/workspaces/{ws['id']}/secrets", json={"key": f"S{i}", "value": value(i)})
                    assert r.status_code == 201, r.text
                r = c.post(f"/workspaces/{ws['id']}/secrets", json={"key": "ANTHROPIC_API_KEY", "value": value()})
                assert r.status_code == 201, r.text
        except Exception as exc:  # noqa: BLE001 — reported below with the worker's number
            errors.append(f"{n}: {exc!r}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    with make_client(server.url) as c:
        listed = c.get("/workspaces").json()["workspaces"]
    assert len(listed) == 20
    by_id = {w["id"]: w for w in listed}
    for n, ws_id in created.items():
        assert by_id[ws_id]["name"] == f"w{n}"
        assert by_id[ws_id]["secret_keys"] == sorted(["ANTHROPIC_API_KEY", f"K{n}", "S0", "S1", "S2", "S3", "S4"])
        assert by_id[ws_id]["llm_billing_mode"] == "byok"


def test_db_file_persists_across_restarts(tmp_path):
    db = str(tmp_path / "platform.db")
    with start_platform(BLOCKED, token=TOKEN, db=db) as first, make_client(first.url) as c:
        parent = create(c, "parent", secrets={"E2E_FLAG": value(1)})
        child = create(c, "child", parent_id=parent["id"])
        c.put(BILLING.format(parent["id"]), json={"mode": "byok"})
        assert c.post(f"/workspaces/{parent['id']}/secrets",
                      json={"key": "GEMINI_API_KEY", "value": value(2)}).status_code == 201
    assert not first.alive
    with start_platform(BLOCKED, token="another-token", db=db) as second, \
            make_client(second.url, token="another-token") as c:
        assert c.get(f"/workspaces/{parent['id']}").json()["secret_keys"] == ["E2E_FLAG", "GEMINI_API_KEY"]
        assert c.get(BILLING.format(parent["id"])).json()["resolved_mode"] == "byok"
        assert c.get(f"/workspaces/{child['id']}").json()["parent_id"] == parent["id"]
        assert c.delete(f"/workspaces/{child['id']}").status_code == 204
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT count(*) FROM workspaces").fetchone()[0] == 1
    finally:
        conn.close()


def test_memory_state_is_not_shared_between_servers():
    with start_platform(BLOCKED, token=TOKEN) as a, start_platform(BLOCKED, token=TOKEN) as b:
        assert a.port != b.port
        with make_client(a.url) as ca, make_client(b.url) as cb:
            create(ca, "only-in-a")
            assert workspace_count(cb) == 0


def test_a_file_that_is_not_a_platform_database_is_refused(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(PlatformError, match="junk.db"):
        start_platform(BLOCKED, db=str(junk))
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(PlatformError, match="not a driftcheck platform database"):
        start_platform(BLOCKED, db=str(other))
    with pytest.raises(PlatformError, match="cannot"):
        start_platform(BLOCKED, db=str(tmp_path))  # a directory
    with pytest.raises(PlatformError, match="cannot"):
        start_platform(BLOCKED, db=str(tmp_path / "missing-dir" / "x.db"))


def test_importing_the_platform_does_not_load_the_http_stack():
    code = ("import sys, driftcheck, driftcheck.platform, driftcheck.platform.cli, driftcheck.platform.server; "
            "loaded = sorted(m for m in ('starlette', 'uvicorn', 'httpx') if m in sys.modules); "
            "print(loaded); sys.exit(1 if loaded else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr


# -- the server handle ---------------------------------------------------------------------------------


def test_start_platform_generates_a_token_and_stops_quickly():
    running = start_platform(frozenset({" a_key "}))
    try:
        assert running.url == f"http://127.0.0.1:{running.port}" and running.port > 0
        assert len(running.token) >= 32
        assert running.token not in repr(running)
        assert running.blocked_keys == frozenset({"A_KEY"})
        with make_client(running.url, token=running.token) as c:
            ws = create(c)
            assert c.post(f"/workspaces/{ws['id']}/secrets", json={"key": "a_key", "value": "v"}).status_code == 400
            assert c.get("/workspaces").status_code == 200  # keep-alive connection open while stopping
            started = time.monotonic()
            running.stop()
            assert time.monotonic() - started < 5
    finally:
        running.stop()
    running.stop()  # idempotent
    assert not running.alive
    with pytest.raises(httpx.ConnectError):
        httpx.get(running.url + "/workspaces", timeout=2, trust_env=False)


def test_port_in_use_is_a_platform_error():
    with start_platform(BLOCKED, token=TOKEN) as running:
        with pytest.raises(PlatformError, match="cannot listen"):
            start_platform(BLOCKED, token=TOKEN, port=running.port)


def test_build_app_refuses_an_empty_token():
    with pytest.raises(ValueError, match="token"):
        build_app(BLOCKED, "")


def test_key_helpers():
    assert normalise_key("  openai_api_key\t") == "OPENAI_API_KEY"
    assert normalise_key("_x1") == "_X1"
    for bad in ["", " ", "1A", "A-B", "A.B", "ÄB", "ﬃ", "A B", "K" * 257]:
        assert normalise_key(bad) is None, bad
    assert parse_key_list("a, B ,,c_d") == (frozenset({"A", "B", "C_D"}), [])
    assert parse_key_list("") == (frozenset(), [])
    assert parse_key_list("A,b-c, 9") == (frozenset({"A"}), ["b-c", "9"])
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.1.2.3")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.1") and not is_loopback("example.com")


# -- blocked keys from the Go source -------------------------------------------------------------------

GO_SOURCE = "package handlers\n\nvar platformManagedDirectLLMBypassKeys = map[string]struct{}{\n" + "".join(
    f'\t"{k}": {{}},\n' for k in CANONICAL) + "}\n"
SOURCE_PATH = "workspace-server/internal/handlers/secrets.go"


def write_go_repo(root: Path, text: str = GO_SOURCE) -> None:
    path = root / SOURCE_PATH
    path.parent.mkdir(parents=True)
    path.write_text(text)


def test_loader_reports_an_unreadable_source(tmp_path):
    from driftcheck.config import parse_list_ref

    keys, findings = load_blocked_keys(tmp_path, parse_list_ref(f"{SOURCE_PATH}:platformManagedDirectLLMBypassKeys",
                                                                tmp_path))
    assert keys is None
    assert [(f.code, f.path, f.line, f.column) for f in findings] == [("DC105", SOURCE_PATH, 1, 1)]


def test_loader_reads_the_go_map(tmp_path):
    from driftcheck.config import parse_list_ref

    write_go_repo(tmp_path)
    keys, findings = load_blocked_keys(tmp_path, parse_list_ref(f"{SOURCE_PATH}:platformManagedDirectLLMBypassKeys",
                                                                tmp_path))
    assert keys == BLOCKED
    assert findings == ()


# -- the command line -----------------------------------------------------------------------------------


def run_cli(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(platform_group, args, env=env or {})
    return result.exit_code, result.stdout, result.stderr


def test_cli_refuses_to_serve_when_the_source_cannot_be_read(tmp_path):
    code, out, err = run_cli(["serve", "--port", "0", "--root", str(tmp_path)])
    assert code == 2
    assert "listening" not in out
    lines = err.splitlines()
    assert lines[0].startswith(f"{SOURCE_PATH}:1:1: DC105 cannot read {SOURCE_PATH}: no such file")
    assert "not serving" in lines[-1]


def test_cli_refuses_to_serve_a_list_it_cannot_evaluate(tmp_path):
    write_go_repo(tmp_path, "package handlers\n\nvar platformManagedDirectLLMBypassKeys = loadKeys()\n")
    code, out, err = run_cli(["serve", "--port", "0", "--root", str(tmp_path)])
    assert code == 2
    assert "listening" not in out
    assert f"{SOURCE_PATH}:3:" in err and "DC102" in err


@pytest.mark.parametrize(("args", "env", "contains"), [
    (["serve", "--source", "a.go:X", "--blocked-keys", "A"], {}, "mutually exclusive"),
    (["serve", "--blocked-keys", "A,bad-name"], {}, "bad-name"),
    (["serve", "--source", "no-symbol"], {}, "PATH:SYMBOL"),
    (["serve", "--port", "70000"], {}, "70000"),
    (["serve", "--blocked-keys", "A"], {"DRIFTCHECK_ADMIN_TOKEN": ""}, "DRIFTCHECK_ADMIN_TOKEN"),
    (["serve", "--blocked-keys", "A"], {"DRIFTCHECK_ADMIN_TOKEN": "has space"}, "DRIFTCHECK_ADMIN_TOKEN"),
    # A token shorter than 16 characters is refused (a generated one stays the default).
    (["serve", "--blocked-keys", "A"], {"DRIFTCHECK_ADMIN_TOKEN": "x"}, "DRIFTCHECK_ADMIN_TOKEN is 1 characters; a "
                                                                         "token needs at least 16"),
    (["serve", "--blocked-keys", "A"], {"DRIFTCHECK_ADMIN_TOKEN": "fifteen-chars15"}, "at least 16"),
])
def test_cli_usage_errors_exit_2(args, env, contains):
    code, out, err = run_cli(args, env)
    assert code == 2
    assert contains in err
    assert "listening" not in out
    assert "has space" not in out + err  # a token from the environment is never printed


def test_cli_port_in_use_exits_2():
    with start_platform(BLOCKED, token=TOKEN) as running:
        code, out, err = run_cli(["serve", "--port", str(running.port), "--blocked-keys", "A"],
                                 {"DRIFTCHECK_ADMIN_TOKEN": TOKEN})
    assert code == 2
    assert "cannot listen" in err
    assert TOKEN not in out + err


class Served:
    """A `driftcheck platform serve` subprocess; always killed at the end of the test."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        full_env = {k: v for k, v in os.environ.items() if k != "DRIFTCHECK_ADMIN_TOKEN"}
        full_env.update(env)
        full_env["PYTHONUNBUFFERED"] = "1"
        self.proc = subprocess.Popen([sys.executable, "-m", "driftcheck.platform.cli", "serve", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env, cwd=cwd,
                                     text=True)
        self.out_lines: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put("")  # end of output

    def read_line(self, timeout: float = 15.0) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no output from driftcheck platform serve") from None
        self.out_lines.append(line)
        return line

    def port(self) -> int:
        line = self.read_line()
        assert line.startswith("driftcheck platform listening on http://127.0.0.1:"), line
        return int(line.split("http://127.0.0.1:")[1].split()[0])

    def finish(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> tuple[int, str, str]:
        started = time.monotonic()
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        assert time.monotonic() - started < timeout
        self._reader.join(timeout)
        while (line := self.read_line(timeout=1)) != "":
            pass
        assert self.proc.stderr is not None
        return code, "".join(self.out_lines), self.proc.stderr.read()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_a_simulated_stale_list_and_exits_on_signals(sig):
    served = Served(["--port", "0", "--blocked-keys", "A_KEY, b_key"], {"DRIFTCHECK_ADMIN_TOKEN": TOKEN})
    try:
        port = served.port()
        assert "(2 blocked keys from --blocked-keys)" in served.out_lines[0]
        with make_client(f"http://127.0.0.1:{port}") as c:
            ws = create(c)
            r = c.post(f"/workspaces/{ws['id']}/secrets", json={"key": "B_KEY", "value": value()})
            assert assert_error(r, 400)["key"] == "B_KEY"
            # a stale deploy: a key of the real list that this server does not block
            assert c.post(f"/workspaces/{ws['id']}/secrets",
                          json={"key": "ANTHROPIC_API_KEY", "value": value()}).status_code == 201
            assert_error(c.get("/nope"), 404)
        with make_client(f"http://127.0.0.1:{port}", token="wrong") as c:
            assert_error(c.get("/workspaces"), 401)
        code, out, err = served.finish(sig)
    finally:
        served.kill()
    assert code == 0
    assert "stopped" in err
    for text in (out, err):
        assert TOKEN not in text  # the token came from the environment: never printed
        assert SECRET_MARK not in text  # no values, no bodies in any log


def test_cli_prints_a_generated_token_exactly_once(tmp_path):
    db = tmp_path / "state.db"
    served = Served(["--port", "0", "--blocked-keys", "", "--db", str(db)], {})
    try:
        port = served.port()
        assert "(0 blocked keys" in served.out_lines[0]
        token_line = served.read_line()
        assert token_line.startswith("admin token (generated; set DRIFTCHECK_ADMIN_TOKEN to choose one): ")
        token = token_line.rsplit(" ", 1)[1].strip()
        with make_client(f"http://127.0.0.1:{port}", token=token) as c:
            create(c, "persisted", secrets={"ANTHROPIC_API_KEY": value()})  # nothing blocked
        code, out, err = served.finish()
    finally:
        served.kill()
    assert code == 0
    assert (out + err).count(token) == 1
    assert SECRET_MARK not in out + err
    assert db.exists()


def test_cli_loads_the_default_source_from_the_root(tmp_path):
    write_go_repo(tmp_path)
    served = Served(["--port", "0"], {"DRIFTCHECK_ADMIN_TOKEN": TOKEN}, cwd=tmp_path)
    try:
        port = served.port()
        assert f"({len(CANONICAL)} blocked keys from {SOURCE_PATH}:platformManagedDirectLLMBypassKeys)" in \
            served.out_lines[0]
        with make_client(f"http://127.0.0.1:{port}") as c:
            ws = create(c)
            for key in CANONICAL:
                r = c.post(f"/workspaces/{ws['id']}/secrets", json={"key": key.lower(), "value": value()})
                assert assert_error(r, 400)["key"] == key
        code, _, _ = served.finish()
    finally:
        served.kill()
    assert code == 0
