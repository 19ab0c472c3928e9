"""The platform's state in SQLite (standard library `sqlite3`).

One connection, guarded by a lock, serves every request thread: SQLite
serialises writers anyway, and a single connection is the only way an
in-memory database is shared. Every public method is one transaction
(`BEGIN IMMEDIATE` … `COMMIT`), so a request either changes everything it
asked for or nothing — and a check (workspace exists, billing mode, blocked
key) and the write it guards can never be split by a concurrent request.

Secret values are stored (the platform is meant to be realistic) but no
method returns them.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

Mode = Literal["byok", "platform_managed"]
MODES: tuple[Mode, ...] = ("byok", "platform_managed")
DEFAULT_MODE: Mode = "platform_managed"

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS workspaces (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    parent_id TEXT REFERENCES workspaces(id),
    llm_billing_mode TEXT CHECK (llm_billing_mode IS NULL OR llm_billing_mode IN ('byok', 'platform_managed')),
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS workspaces_parent ON workspaces(parent_id);
CREATE TABLE IF NOT EXISTS secrets (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, key)
);
"""
_TABLES = {"workspaces", "secrets", "sqlite_sequence"}


class StoreError(Exception):
    """Base of the domain errors the HTTP layer maps to status codes."""


class StoreOpenError(StoreError):
    """The database file cannot be used (unreadable, corrupt, someone else's)."""


class WorkspaceNotFound(StoreError):
    def __init__(self, workspace_id: str) -> None:
        super().__init__(workspace_id)
        self.workspace_id = workspace_id


class ParentNotFound(StoreError):
    def __init__(self, parent_id: str) -> None:
        super().__init__(parent_id)
        self.parent_id = parent_id


class SecretNotFound(StoreError):
    def __init__(self, workspace_id: str, key: str) -> None:
        super().__init__(workspace_id, key)
        self.workspace_id = workspace_id
        self.key = key


class HasChildren(StoreError):
    def __init__(self, workspace_id: str, children: list[str]) -> None:
        super().__init__(workspace_id)
        self.workspace_id = workspace_id
        self.children = children


class BlockedKey(StoreError):
    """A platform-managed key written while the workspace resolves to platform-managed."""

    def __init__(self, key: str, keys: list[str], workspace_id: str | None) -> None:
        super().__init__(key)
        self.key = key  # the first blocked key, in request order
        self.keys = keys  # every blocked key of the request
        self.workspace_id = workspace_id  # None at create time


@dataclass(frozen=True)
class BillingMode:
    workspace_id: str
    mode: Mode | None  # the workspace's own override
    resolved_mode: Mode
    source: Literal["default", "workspace_override"]


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str
    parent_id: str | None
    billing: BillingMode
    secret_keys: tuple[str, ...]  # sorted names; never values
    created_at: str


def resolve_mode(workspace_id: str, mode: str | None) -> BillingMode:
    """A workspace's own override wins; otherwise the platform default.

    Deliberately no inheritance from a parent: each workspace opts in to byok
    itself, as the end-to-end lifecycle does for the child too.
    """
    if mode is None:
        return BillingMode(workspace_id, None, DEFAULT_MODE, "default")
    return BillingMode(workspace_id, mode, mode, "workspace_override")  # type: ignore[arg-type]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Store:
    """Workspaces, their billing-mode overrides and their secrets."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, one transaction per call.
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10.0)
        except sqlite3.Error as exc:
            raise StoreOpenError(f"cannot open database {path}: {exc}") from exc
        try:
            self._setup()
        except sqlite3.Error as exc:
            self._conn.close()
            raise StoreOpenError(f"cannot use database {path}: {exc}") from exc
        except StoreOpenError:
            self._conn.close()
            raise

    def _setup(self) -> None:
        conn = self._conn
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 10000")
        if self.path != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")  # readers never block the writer; survives restarts
            conn.execute("PRAGMA synchronous = NORMAL")
        with self._transaction() as tx:
            version = tx.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in tx.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if version not in (0, SCHEMA_VERSION) or (version == 0 and tables - _TABLES):
                raise StoreOpenError(f"{self.path} is not a driftcheck platform database "
                                     f"(schema version {version}, tables {sorted(tables)}); use another --db file")
            tx.executescript_safe(_SCHEMA)
            tx.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _transaction(self) -> Iterator[_Tx]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _Tx(self._conn)
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:  # COMMIT itself may fail (disk full, busy): undo, never leave it open
                    self._conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- workspaces -----------------------------------------------------------------------

    def create_workspace(self, name: str, parent_id: str | None, secrets: Sequence[tuple[str, str]],
                         blocked: frozenset[str]) -> Workspace:
        """Create a workspace with its initial secrets, atomically.

        A new workspace has no override, so it resolves to platform-managed and
        no blocked key may be in `secrets`; the check is here so that nothing is
        stored when it fails.
        """
        hits = [key for key, _ in secrets if key in blocked]
        if hits:
            raise BlockedKey(hits[0], hits, None)
        workspace_id = str(uuid.uuid4())
        now = _now()
        with self._transaction() as tx:
            if parent_id is not None and not tx.exists(parent_id):
                raise ParentNotFound(parent_id)
            tx.execute("INSERT INTO workspaces (id, name, parent_id, llm_billing_mode, created_at) "
                       "VALUES (?, ?, ?, NULL, ?)", (workspace_id, name, parent_id, now))
            tx.executemany("INSERT INTO secrets (workspace_id, key, value, updated_at) VALUES (?, ?, ?, ?)",
                           [(workspace_id, key, value, now) for key, value in secrets])
            return tx.workspace(workspace_id)

    def list_workspaces(self) -> list[Workspace]:
        with self._transaction() as tx:
            rows = tx.execute("SELECT id FROM workspaces ORDER BY seq").fetchall()
            return [tx.workspace(r[0]) for r in rows]

    def get_workspace(self, workspace_id: str) -> Workspace:
        with self._transaction() as tx:
            return tx.workspace(workspace_id)

    def delete_workspace(self, workspace_id: str) -> None:
        """Delete a workspace and its secrets; refused while it has children (no silent cascade)."""
        with self._transaction() as tx:
            tx.require(workspace_id)
            children = [r[0] for r in tx.execute("SELECT id FROM workspaces WHERE parent_id = ? ORDER BY seq",
                                                  (workspace_id,))]
            if children:
                raise HasChildren(workspace_id, children)
            tx.execute("DELETE FROM secrets WHERE workspace_id = ?", (workspace_id,))
            tx.execute("DELETE FROM workspaces WHERE id = ?", (workspace_id,))

    # -- billing mode ---------------------------------------------------------------------

    def get_billing_mode(self, workspace_id: str) -> BillingMode:
        with self._transaction() as tx:
            return tx.billing(workspace_id)

    def set_billing_mode(self, workspace_id: str, mode: Mode | None) -> BillingMode:
        """Set (or with None, clear) the override. Secrets already written stay."""
        with self._transaction() as tx:
            tx.require(workspace_id)
            tx.execute("UPDATE workspaces SET llm_billing_mode = ? WHERE id = ?", (mode, workspace_id))
            return tx.billing(workspace_id)

    # -- secrets --------------------------------------------------------------------------

    def put_secret(self, workspace_id: str, key: str, value: str, blocked: frozenset[str]) -> bool:
        """Write (or replace) one secret; True when it is new. The secret-write gate lives here."""
        with self._transaction() as tx:
            billing = tx.billing(workspace_id)
            if key in blocked and billing.resolved_mode == "platform_managed":
                raise BlockedKey(key, [key], workspace_id)
            existed = tx.execute("SELECT 1 FROM secrets WHERE workspace_id = ? AND key = ?",
                                 (workspace_id, key)).fetchone() is not None
            tx.execute("INSERT INTO secrets (workspace_id, key, value, updated_at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (workspace_id, key) DO UPDATE SET value = excluded.value, "
                       "updated_at = excluded.updated_at", (workspace_id, key, value, _now()))
            return not existed

    def secret_keys(self, workspace_id: str) -> tuple[str, ...]:
        with self._transaction() as tx:
            tx.require(workspace_id)
            return tx.keys(workspace_id)

    def delete_secret(self, workspace_id: str, key: str) -> None:
        with self._transaction() as tx:
            tx.require(workspace_id)
            cursor = tx.execute("DELETE FROM secrets WHERE workspace_id = ? AND key = ?", (workspace_id, key))
            if cursor.rowcount == 0:
                raise SecretNotFound(workspace_id, key)


class _Tx:
    """Queries that run inside one transaction (the caller holds the lock)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.execute = conn.execute
        self.executemany = conn.executemany

    def executescript_safe(self, script: str) -> None:
        # executescript() would COMMIT our transaction first; run statement by statement instead.
        for statement in script.split(";"):
            if statement.strip():
                self._conn.execute(statement)

    def exists(self, workspace_id: str) -> bool:
        return self.execute("SELECT 1 FROM workspaces WHERE id = ?", (workspace_id,)).fetchone() is not None

    def require(self, workspace_id: str) -> None:
        if not self.exists(workspace_id):
            raise WorkspaceNotFound(workspace_id)

    def billing(self, workspace_id: str) -> BillingMode:
        row = self.execute("SELECT llm_billing_mode FROM workspaces WHERE id = ?", (workspace_id,)).fetchone()
        if row is None:
            raise WorkspaceNotFound(workspace_id)
        return resolve_mode(workspace_id, row[0])

    def keys(self, workspace_id: str) -> tuple[str, ...]:
        rows = self.execute("SELECT key FROM secrets WHERE workspace_id = ? ORDER BY key", (workspace_id,))
        return tuple(r[0] for r in rows)

    def workspace(self, workspace_id: str) -> Workspace:
        row = self.execute("SELECT id, name, parent_id, llm_billing_mode, created_at FROM workspaces WHERE id = ?",
                           (workspace_id,)).fetchone()
        if row is None:
            raise WorkspaceNotFound(workspace_id)
        return Workspace(id=row[0], name=row[1], parent_id=row[2], billing=resolve_mode(row[0], row[3]),
                         secret_keys=self.keys(workspace_id), created_at=row[4])
