"""What a run reports: step lines as they happen, a JSON summary and JUnit XML.

`StepPrinter` is the one way out: every line for stdout or stderr and every
report file goes through its `Redactor` (`redact.py`), which withholds any text
whose decoded forms reveal a secret. Step messages are checked when recorded
(so the withheld line still names the step and the HTTP status), each field of
a report when it is rendered, and the finished text once more when written —
a value must not leak through a field someone adds later.
"""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from driftcheck.e2e.redact import WITHHELD, Redactor

StepStatus = Literal["passed", "failed", "skipped"]

EXIT_PASSED, EXIT_FAILED, EXIT_ERROR, EXIT_LEAKED = 0, 1, 2, 4
RUN_STATUS = {EXIT_PASSED: "passed", EXIT_FAILED: "failed", EXIT_ERROR: "error", EXIT_LEAKED: "leaked"}
_TAGS = {"passed": "ok", "failed": "FAIL", "skipped": "skip"}
# Characters XML 1.0 cannot carry at all; a server's error body could contain them.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass
class StepResult:
    number: int
    name: str
    status: StepStatus
    duration_s: float
    message: str = ""

    @property
    def title(self) -> str:
        return f"{self.number} {self.name}"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.title, "status": self.status, "duration_s": round(self.duration_s, 3),
                "message": self.message}


@dataclass
class ArmResult:
    arm: str
    steps: list[StepResult] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(s.status == "failed" for s in self.steps)


@dataclass
class Leak:
    """A workspace teardown could not confirm gone."""

    workspace_id: str
    name: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.workspace_id, "name": self.name, "reason": self.reason}


@dataclass
class RunReport:
    platform_url: str | None
    mode: str
    exit_code: int = EXIT_PASSED
    gate: StepResult | None = None
    arms: list[ArmResult] = field(default_factory=list)
    leaked: list[Leak] = field(default_factory=list)
    interrupted: str | None = None  # "SIGINT"/"SIGTERM" when a signal cut the run short
    message: str = ""  # run-level explanation (usage error, gate refusal, ...)

    @property
    def status(self) -> str:
        return RUN_STATUS.get(self.exit_code, "failed")

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "status": self.status,
            "exit_code": self.exit_code,
            "platform_url": self.platform_url,
            "mode": self.mode,
            "gate": self.gate.to_json() if self.gate else None,
            "arms": [{"arm": a.arm, "status": "failed" if a.failed else "passed",
                      "steps": [s.to_json() for s in a.steps]} for a in self.arms],
            "leaked": [leak.to_json() for leak in self.leaked],
            "interrupted": self.interrupted,
            "message": self.message,
        }


class StepPrinter:
    """The run's only way out (stdout, stderr, report files), through its `Redactor`.

    Prints each step as it finishes: `[ok] 3 create parent workspace (0.02s)`.
    """

    def __init__(self, redactor: Redactor, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.redactor = redactor
        self.out = out
        self.err = err

    def _write(self, stream: TextIO | None, fallback: TextIO, text: str) -> None:
        target = stream or fallback
        target.write(self.redactor.scrub(text, f"driftcheck e2e: output {WITHHELD}") + "\n")
        target.flush()

    def write_file(self, path: Path, text: str, withheld: str) -> str | None:
        """Write a report file (`withheld` instead when `text` reveals a secret); an error message, or None."""
        return write_report(path, self.redactor.scrub(text, withheld))

    def line(self, text: str) -> None:
        self._write(self.out, sys.stdout, text)

    def error(self, text: str) -> None:
        self._write(self.err, sys.stderr, text)

    def arm(self, name: str) -> None:
        self.line(f"== arm {name} ==")

    def step(self, step: StepResult) -> None:
        timing = f" ({step.duration_s:.2f}s)" if step.status != "skipped" else ""
        message = f": {step.message}" if step.message else ""
        self.line(f"[{_TAGS[step.status]}] {step.title}{timing}{message}")


def render_json(report: RunReport, redactor: Redactor) -> str:
    return json.dumps(_redact_tree(report.to_json(), redactor), indent=2, ensure_ascii=False) + "\n"


def withheld_json(report: RunReport) -> str:
    """The summary written when the rendered one still revealed a secret: no server-derived text at all."""
    return json.dumps({"version": 1, "status": report.status, "exit_code": report.exit_code, "mode": report.mode,
                       "message": f"report {WITHHELD}"}, indent=2) + "\n"


def render_junit(report: RunReport, redactor: Redactor) -> str:
    """JUnit XML: one testcase per step (classname `e2e.<arm>`; the gate is `e2e`), leaks as a failed case."""
    cases: list[tuple[str, StepResult]] = []
    if report.gate is not None:
        cases.append(("e2e", report.gate))
    cases += [(f"e2e.{arm.arm}", step) for arm in report.arms for step in arm.steps]
    suites = ET.Element("testsuites", name="driftcheck e2e")
    suite = ET.SubElement(suites, "testsuite", name="driftcheck-e2e")
    failures = skipped = 0
    total_time = 0.0
    for classname, step in cases:
        case = ET.SubElement(suite, "testcase", classname=classname, name=_xml(step.title, redactor),
                             time=f"{step.duration_s:.3f}")
        total_time += step.duration_s
        if step.status == "failed":
            failures += 1
            failure = ET.SubElement(case, "failure", message=_xml(step.message, redactor), type="StepFailed")
            failure.text = _xml(step.message, redactor)
        elif step.status == "skipped":
            skipped += 1
            ET.SubElement(case, "skipped", message=_xml(step.message, redactor))
    if report.leaked:
        failures += 1
        case = ET.SubElement(suite, "testcase", classname="e2e", name="teardown leaks", time="0.000")
        text = "; ".join(f"{leak.workspace_id} ({leak.name}): {leak.reason}" for leak in report.leaked)
        summary = f"{len(report.leaked)} workspace(s) left behind"
        failure = ET.SubElement(case, "failure", message=_xml(summary, redactor), type="TeardownLeak")
        failure.text = _xml(text, redactor)
    if not cases and report.message:  # nothing ran (usage error): still say why
        failures += 1
        case = ET.SubElement(suite, "testcase", classname="e2e", name="setup", time="0.000")
        failure = ET.SubElement(case, "failure", message=_xml(report.message, redactor), type="UsageError")
    count = len(suite)
    for element in (suite, suites):
        element.set("tests", str(count))
        element.set("failures", str(failures))
        element.set("errors", "0")
        element.set("skipped", str(skipped))
        element.set("time", f"{total_time:.3f}")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def withheld_junit(report: RunReport) -> str:
    """The JUnit file written when the rendered one still revealed a secret."""
    failed = int(report.exit_code != EXIT_PASSED)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="driftcheck e2e">\n'
            f'  <testsuite name="driftcheck-e2e" tests="1" failures="{failed}" errors="0" skipped="0">\n'
            f'    <testcase classname="e2e" name="report">'
            + (f'<failure message="report {WITHHELD}" type="Withheld" />' if failed else "")
            + "</testcase>\n  </testsuite>\n</testsuites>\n")


def write_report(path: Path, text: str) -> str | None:
    """Write one report file; returns an error message instead of raising."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        return f"cannot write {path}: {exc.strerror or exc}"
    return None


def _xml(text: str, redactor: Redactor) -> str:
    return _XML_INVALID.sub("\ufffd", redactor.scrub(text))


def _redact_tree(value: Any, redactor: Redactor) -> Any:
    if isinstance(value, str):
        return redactor.scrub(value)
    if isinstance(value, list):
        return [_redact_tree(v, redactor) for v in value]
    if isinstance(value, dict):
        return {k: _redact_tree(v, redactor) for k, v in value.items()}
    return value
