"""Comparison rules DC001-DC005 on hand-built lists (no parsing involved)."""

from __future__ import annotations

from driftcheck.compare import compare_contract
from driftcheck.model import Allowance, Contract, ExtractedList, Finding, Key, ListRef, MirrorSpec

SRC = ListRef("s.go:L", "s.go", "L", "go")
MIR = ListRef("m.sh:M", "m.sh", "M", "shell")
MIR2 = ListRef("m.py:P", "m.py", "P", "python")


def listed(ref: ListRef, names: list[str], first_line: int = 10, allowances=(), findings=()) -> ExtractedList:
    keys = tuple(Key(name, first_line + i, 2) for i, name in enumerate(names))
    return ExtractedList(ref, keys, tuple(findings), Key(ref.symbol, first_line - 1, 1), None, tuple(allowances))


def contract(*mirrors: MirrorSpec, order="any", allowances=()) -> Contract:
    return Contract("c", SRC, mirrors or (MirrorSpec(MIR),), order, tuple(allowances))


def codes(result) -> list[tuple[str, str | None, int, int]]:
    return [(f.code, f.key, f.line, f.column) for f in result.findings]


def test_equal_lists_are_in_sync_whatever_the_order():
    result = compare_contract(contract(), listed(SRC, ["A", "B", "C"]), [listed(MIR, ["C", "A", "B"], 40)])
    assert result.status == "in_sync"
    assert result.findings == ()
    assert result.mirrors[0].status == "in_sync"


def test_missing_key_points_at_mirror_definition_and_names_source_location():
    result = compare_contract(contract(), listed(SRC, ["A", "B", "C"]), [listed(MIR, ["A", "C"], 40)])
    assert codes(result) == [("DC001", "B", 39, 1)]
    finding = result.findings[0]
    assert finding.contract == "c"
    assert "s.go:11:2" in finding.message
    assert result.mirrors[0].missing == ("B",) and result.mirrors[0].extra == ()
    assert result.status == "drift"


def test_extra_key_points_at_the_key_in_the_mirror():
    result = compare_contract(contract(), listed(SRC, ["A"]), [listed(MIR, ["A", "Z"], 40)])
    assert codes(result) == [("DC002", "Z", 41, 2)]
    assert result.mirrors[0].extra == ("Z",)


def test_subset_relation_ignores_missing_but_not_extra():
    spec = MirrorSpec(MIR, "subset")
    result = compare_contract(contract(spec), listed(SRC, ["A", "B"]), [listed(MIR, ["A", "Z"], 40)])
    assert codes(result) == [("DC002", "Z", 41, 2)]


def test_superset_relation_ignores_extra_but_not_missing():
    spec = MirrorSpec(MIR, "superset")
    result = compare_contract(contract(spec), listed(SRC, ["A", "B"]), [listed(MIR, ["A", "Z"], 40)])
    assert codes(result) == [("DC001", "B", 39, 1)]


def test_pragma_allows_a_missing_key_and_is_reported():
    allow = Allowance("B", "missing", "sent at create", "pragma", "m.sh", 38, 3)
    result = compare_contract(contract(), listed(SRC, ["A", "B"]), [listed(MIR, ["A"], 40, [allow])])
    assert result.status == "in_sync"
    assert result.mirrors[0].allowed == (allow,)
    assert result.mirrors[0].missing == ()


def test_stale_pragma_is_dc004_at_the_pragma():
    allow = Allowance("Q", "extra", "legacy", "pragma", "m.sh", 38, 3)
    result = compare_contract(contract(), listed(SRC, ["A"]), [listed(MIR, ["A"], 40, [allow])])
    assert codes(result) == [("DC004", "Q", 38, 3)]
    assert result.status == "drift"


def test_allow_of_wrong_kind_does_not_hide_drift():
    allow = Allowance("B", "extra", "wrong kind", "pragma", "m.sh", 38, 3)
    result = compare_contract(contract(), listed(SRC, ["A", "B"]), [listed(MIR, ["A"], 40, [allow])])
    assert sorted(codes(result)) == [("DC001", "B", 39, 1), ("DC004", "B", 38, 3)]


def test_config_allowance_is_contract_wide_and_stale_only_when_unused_everywhere():
    allow = Allowance("B", "missing", "create-time", "config", "driftcheck.toml", 7, 1)
    c = contract(MirrorSpec(MIR), MirrorSpec(MIR2), allowances=[allow])
    # Only the shell mirror lacks B: the exception is used there, and the Python mirror is fine.
    result = compare_contract(c, listed(SRC, ["A", "B"]), [listed(MIR, ["A"], 40), listed(MIR2, ["A", "B"], 5)])
    assert result.findings == ()
    stale = compare_contract(c, listed(SRC, ["A", "B"]), [listed(MIR, ["A", "B"], 40), listed(MIR2, ["A", "B"], 5)])
    assert codes(stale) == [("DC004", "B", 7, 1)]
    assert stale.findings[0].path == "driftcheck.toml"


def test_order_same_reports_first_out_of_order_key():
    result = compare_contract(contract(order="same"), listed(SRC, ["A", "B", "C"]), [listed(MIR, ["A", "C", "B"], 40)])
    assert codes(result) == [("DC005", "C", 41, 2)]


def test_order_is_not_checked_while_keys_differ():
    result = compare_contract(contract(order="same"), listed(SRC, ["A", "B", "C"]), [listed(MIR, ["C", "A"], 40)])
    assert [f.code for f in result.findings] == ["DC001"]


def test_unextractable_mirror_is_error_never_in_sync():
    bad = ExtractedList(MIR, None, (Finding("DC102", "not static", "m.sh", 3, 5),))
    result = compare_contract(contract(), listed(SRC, ["A"]), [bad])
    assert result.status == "error"
    assert result.mirrors[0].status == "error"
    assert codes(result) == [("DC102", None, 3, 5)]
    assert result.findings[0].contract == "c"


def test_unextractable_source_makes_every_mirror_error_and_skips_config_staleness():
    allow = Allowance("B", "missing", "r", "config", "driftcheck.toml", 7, 1)
    bad = ExtractedList(SRC, None, (Finding("DC101", "syntax", "s.go", 1, 1),))
    result = compare_contract(contract(allowances=[allow]), bad, [listed(MIR, ["A"], 40)])
    assert result.status == "error"
    assert [f.code for f in result.findings] == ["DC101"]
    assert result.mirrors[0].status == "error"


def test_duplicates_from_extractor_are_drift_and_counted_once():
    dup = Finding("DC003", "dup", "m.sh", 42, 2, "A")
    result = compare_contract(contract(), listed(SRC, ["A"]), [listed(MIR, ["A", "A"], 40, findings=[dup])])
    assert codes(result) == [("DC003", "A", 42, 2)]
    assert result.status == "drift"
    assert result.mirrors[0].missing == () and result.mirrors[0].extra == ()


def test_keys_compare_byte_for_byte():
    result = compare_contract(contract(), listed(SRC, ["API_KEY"]), [listed(MIR, ["api_key"], 40)])
    assert sorted(f.code for f in result.findings) == ["DC001", "DC002"]
