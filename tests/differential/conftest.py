"""Prints the differential figures (cases compared per language, declined forms, time) after the run."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from .oracle import STATS, TIMES

    if not STATS:
        return
    terminalreporter.section("driftcheck differential tests")
    for language in sorted(STATS):
        stats = STATS[language]
        refused = stats.get("refused", 0)
        terminalreporter.write_line(
            f"{language}: {stats['compared']} generated lists compared with the real {language}"
            + (f" ({refused} refused by design, allowed)" if refused else "")
            + f", {stats['declined']} declined forms checked (exit 2), {TIMES.get(language, 0.0):.1f} s")
