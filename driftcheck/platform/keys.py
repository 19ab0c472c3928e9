"""Key names as the platform sees them, and where its blocked-key list comes from.

The platform compares secret keys after trimming and upper-casing (docs/e2e.md).
Names must be environment-variable names, because that is what the
workspaces turn them into; we validate *before* upper-casing, on ASCII only, so
that no non-ASCII input can become a valid name through Unicode case mapping
(e.g. "ﬃ".upper() == "FFI").
"""

from __future__ import annotations

import re
from pathlib import Path

from driftcheck.config import DEFAULT_SOURCE
from driftcheck.model import ExtractedList, Finding, ListRef

__all__ = ["DEFAULT_SOURCE", "MAX_KEY_LENGTH", "canonical_key", "load_blocked_keys", "normalise_key",
           "parse_key_list"]

MAX_KEY_LENGTH = 256
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def canonical_key(raw: str) -> str:
    """A key name as the platform compares it: trimmed, upper-cased. The one definition, shared by the
    platform's gate and the e2e runner (which must split and verify keys exactly as the server does)."""
    return raw.strip().upper()


def normalise_key(raw: str) -> str | None:
    """The stored form of a key name (`canonical_key`), or None when it is not a valid name."""
    if len(raw.strip()) > MAX_KEY_LENGTH or not _NAME.fullmatch(raw.strip()):
        return None
    return canonical_key(raw)


def parse_key_list(text: str) -> tuple[frozenset[str], list[str]]:
    """`A,B` → (normalised keys, invalid entries). Empty entries are ignored."""
    keys: set[str] = set()
    invalid: list[str] = []
    for entry in text.split(","):
        if not entry.strip():
            continue
        name = normalise_key(entry)
        if name is None:
            invalid.append(entry.strip())
        else:
            keys.add(name)
    return frozenset(keys), invalid


def load_blocked_keys(root: Path, ref: ListRef) -> tuple[frozenset[str] | None, tuple[Finding, ...]]:
    """The blocked-key set from the source list, through the core extractor.

    Returns (None, findings) when the list cannot be extracted: the platform must
    never serve with a list it could not read (fail closed). With keys, findings
    may still hold non-fatal ones (e.g. DC003 duplicates).
    """
    from driftcheck.languages.driver import extract_list
    from driftcheck.sources import SourceFiles

    extracted: ExtractedList = extract_list(ref, SourceFiles(root))
    if extracted.keys is None:
        return None, extracted.findings
    # Keys that are not valid names can never be written, so they need no blocking;
    # the rest are stored in the form the gate compares against.
    blocked = frozenset(n for n in (normalise_key(k) for k in extracted.key_names) if n is not None)
    return blocked, extracted.findings
