"""Inline exception pragmas: `driftcheck: allow-missing=K -- reason`."""

from __future__ import annotations

from driftcheck.languages.pragmas import parse_pragma
from driftcheck.model import Allowance, Finding


def test_not_a_pragma():
    assert parse_pragma(" Keep this BYTE-IN-SYNC with secrets.go", "h.sh", 3, 1) is None


def test_single_missing_key_with_reason():
    result = parse_pragma(" driftcheck: allow-missing=MINIMAX_API_KEY -- sent at create time", "h.sh", 4, 1)
    assert result == [Allowance("MINIMAX_API_KEY", "missing", "sent at create time", "pragma", "h.sh", 4, 2)]


def test_several_keys_and_kinds():
    result = parse_pragma(" driftcheck: allow-missing=A,B allow-extra=C -- legacy names", "h.sh", 1, 1)
    assert [(a.key, a.kind) for a in result] == [("A", "missing"), ("B", "missing"), ("C", "extra")]
    assert {a.reason for a in result} == {"legacy names"}


def test_missing_reason_is_dc106():
    for text in (" driftcheck: allow-missing=A", " driftcheck: allow-missing=A --", " driftcheck: allow-missing=A --   "):
        result = parse_pragma(text, "h.sh", 9, 5)
        assert isinstance(result, Finding) and result.code == "DC106"
        assert (result.line, result.column) == (9, 6) and "no reason" in result.message


def test_malformed_directive_is_dc106():
    result = parse_pragma(" driftcheck: ignore=A -- because", "h.sh", 2, 1)
    assert isinstance(result, Finding) and result.code == "DC106" and "malformed" in result.message
    result = parse_pragma(" driftcheck: allow-missing=A,,B -- r", "h.sh", 2, 1)
    assert isinstance(result, Finding) and "invalid key" in result.message
