"""Smoke test of the benchmark (benchmarks/run.py --quick): every row is there, every command exits
as expected, every ratio is a number, and the traps table covers the Go/bash fixtures.

No timing assertions: timings depend on the machine. The quick run takes well under a minute.
"""

from __future__ import annotations

import importlib.util
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
RUN = REPO / "benchmarks" / "run.py"

QUICK_ROWS = {
    "python:pass", "python:imports", "python:imports+libcst",
    "floor:1x", "floor:1x-lean", "floor:1x-direct", "driftcheck:1x", "naive:1x", "ast-grep:1x",
    "driftcheck:1x+sh-config", "floor:1x+py", "driftcheck:1x+py",
    "floor:4x", "driftcheck:4x",
    "floor:100x", "driftcheck:100x",
    "floor:c10", "driftcheck:c10", "floor:c10-files", "driftcheck:c10-files",
    "floor:py-ast", "driftcheck:py-extract",
}
NUMBERS = ("median_s", "min_s", "max_s", "cpu_median_s", "ratio_to_floor", "ratio_to_floor_1x", "cpu_ratio_to_floor")


def _load_run_module():
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


def _ast_grep_available() -> bool:
    return (Path(sys.executable).parent / "ast-grep").exists() or shutil.which("ast-grep") is not None


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if not _ast_grep_available():
        pytest.skip("ast-grep is not installed: pip install -e '.[bench]'")
    out = tmp_path_factory.mktemp("bench") / "latest.json"
    proc = subprocess.run([sys.executable, str(RUN), "--quick", "--json", str(out)], capture_output=True,
                          text=True, timeout=240, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text())


def test_quick_run_has_every_row_with_the_expected_exit_codes(report: dict) -> None:
    rows = {row["id"]: row for row in report["rows"]}
    assert set(rows) == QUICK_ROWS
    assert report["quick"] is True and report["runs"] == 2
    for row in rows.values():
        assert row["skipped"] is None, row["id"]
        assert row["runs"] == 2, row["id"]
        assert row["exit_codes"] == [row["expected_exit"]], (row["id"], row["output_if_unexpected"])
        assert row["exit_ok"] is True, row["id"]
    # Only the repository over the size limit is refused (DC105, exit 2); everything else is in sync.
    assert {row_id for row_id, row in rows.items() if row["expected_exit"] != 0} == {"driftcheck:100x"}
    assert report["all_exit_codes_as_expected"] is True


def test_quick_run_ratios_are_numbers(report: dict) -> None:
    for row in report["rows"]:
        for name in NUMBERS:
            value = row[name]
            assert isinstance(value, (int, float)) and math.isfinite(value) and value > 0, (row["id"], name, value)
        assert row["min_s"] <= row["median_s"] <= row["max_s"], row["id"]
    rows = {row["id"]: row for row in report["rows"]}
    for row_id in ("floor:1x", "floor:4x", "floor:c10", "floor:c10-files", "floor:1x+py"):
        assert rows[row_id]["ratio_to_floor"] == 1.0
    assert rows["driftcheck:1x+py"]["floor"] == "floor:1x+py"
    assert rows["driftcheck:c10"]["floor"] == "floor:c10"
    assert rows["driftcheck:c10-files"]["floor"] == "floor:c10-files"
    # Ten contracts in one real-sized pair of files read about the real size; ten pairs read ten times more.
    assert 150_000 < rows["floor:c10"]["size_bytes"] < 250_000
    assert rows["floor:c10-files"]["size_bytes"] > 9 * 150_000
    targets = report["targets"]
    assert isinstance(targets["check_1x_within_1.25x_floor"]["ratio"], float)
    assert isinstance(targets["python_extract_within_3x_ast"]["ratio"], float)
    assert isinstance(targets["check_1x_within_1.25x_floor"]["ratio_to_lean_floor"], float)
    assert isinstance(targets["check_1x_within_1.25x_floor"]["ratio_to_direct_floor"], float)
    for key in ("paired", "paired_to_direct_floor"):
        paired = targets["check_1x_within_1.25x_floor"][key]
        assert paired["pairs"] == 4 and paired["order"] == "ABBA"
        for kind in ("wall", "cpu"):
            spread = paired[kind]
            assert 0 < spread["p25"] <= spread["median"] <= spread["p75"], (key, kind, spread)
    paired = targets["check_1x_within_1.25x_floor"]["paired"]
    met = targets["check_1x_within_1.25x_floor"]["met"]
    assert met is (paired["wall"]["median"] <= 1.25)
    assert [entry["scale"] for entry in targets["linearity"]] == [4]


def test_traps_cover_the_go_and_bash_fixtures(report: dict) -> None:
    traps = report["traps"]
    by_name = {entry["fixture"]: entry for entry in traps["fixtures"]}
    assert {"in-sync", "drift-missing", "drift-extra", "duplicate", "exception", "stale-exception",
            "go-error-syntax", "go-slice-consts"} <= set(by_name)
    assert not any(name.startswith("py-") for name in by_name)  # Python mirrors: the alternatives cannot read them
    for entry in by_name.values():
        assert set(entry["tools"]) == {"driftcheck", "naive", "ast-grep"}
        assert entry["tools"]["driftcheck"] == {"exit": entry["expected_exit"], "right": True}, entry
    total = len(by_name)
    assert traps["totals"]["driftcheck"] == {"right": total, "total": total}
    # Blind spots of the alternatives that the fixtures are there to show.
    for tool in ("naive", "ast-grep"):
        assert by_name["exception"]["tools"][tool] == {"exit": 1, "right": False}  # no documented exceptions
        assert by_name["stale-exception"]["tools"][tool] == {"exit": 0, "right": False}
        assert by_name["go-slice-consts"]["tools"][tool] == {"exit": 2, "right": False}  # constants not resolved
        assert by_name["in-sync"]["tools"][tool] == {"exit": 0, "right": True}
        assert by_name["drift-missing"]["tools"][tool] == {"exit": 1, "right": True}


def test_verdict_rule_and_readme_parsing() -> None:
    run = _load_run_module()
    assert run.right_verdict(2, 1, "naive") and run.right_verdict(2, 2, "ast-grep")
    assert not run.right_verdict(2, 0, "naive")
    assert not run.right_verdict(1, 2, "naive") and not run.right_verdict(0, 1, "naive")
    assert not run.right_verdict(2, 1, "driftcheck") and run.right_verdict(2, 2, "driftcheck")
    for text, code in [("Expected: exit 0, no findings.", 0), ("Expected: `driftcheck check` exits 1 (DC001)", 1),
                       ("does not parse. Expected: exit 2, one DC101", 2)]:
        match = run._EXPECTED.search(text)
        assert match and int(match.group(1)) == code


def test_largest_scale_under_the_limit_is_exact() -> None:
    run = _load_run_module()
    limit = 2 * 1024 * 1024
    scale = run.max_scale_under_limit(limit)
    keys = list(run.repogen.CANONICAL_KEYS)

    def biggest(n: int) -> int:
        return max(len(run.repogen.sh_source(keys, filler_functions=252 * n).encode()),
                   len(run.repogen.go_source(keys, filler_functions=47 * n).encode()))

    assert biggest(scale) <= limit < biggest(scale + 1)
