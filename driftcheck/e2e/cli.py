"""`driftcheck e2e`: the bundled end-to-end runner, always gated by the check (docs/e2e.md).

Exit codes: 0 passed; 1 the gate found drift, a step failed, or the run was
interrupted (SIGINT/SIGTERM — teardown still runs); 2 usage, configuration or
environment error (including a check that could not decide); 4 teardown left
workspaces behind, which wins over every other outcome.

`e2e` takes exactly the options of `check` (`--root --config --source --mirror
--contract --format --output --base -q --color --statistics --select --ignore`; not
`--exit-zero`: the lifecycle starts only when the check passes) plus its own; an unknown
option is click's usage error (exit 2, nothing started). `--output FILE` gets the
check's report in `--format`, in every outcome. Everything printed or written goes through the run's `StepPrinter`
(the redaction choke point, `report.py`).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from driftcheck.cli import check_options, make_options, report_options, use_color
from driftcheck.cli.options import Reporting
from driftcheck.config import CheckOptions
from driftcheck.e2e.arms import ARM_NAMES, ArmError, arm_names, build_arm
from driftcheck.e2e.redact import MIN_SECRET_LENGTH, WITHHELD, Redactor
from driftcheck.e2e.report import (
    EXIT_ERROR,
    EXIT_FAILED,
    EXIT_LEAKED,
    RunReport,
    StepPrinter,
    StepResult,
    render_json,
    render_junit,
    withheld_json,
    withheld_junit,
)

if TYPE_CHECKING:
    from driftcheck.e2e.signals import SignalGuard
    from driftcheck.gate import Gate

DEFAULT_TOKEN_ENV = "DRIFTCHECK_ADMIN_TOKEN"
DEFAULT_TIMEOUT = 30.0


@click.command("e2e")
@check_options
@report_options
@click.option("--platform-url", metavar="URL", default=None,
              help="Base URL of the platform to exercise (or use --local).")
@click.option("--local", is_flag=True,
              help="Start the embedded reference platform on a free loopback port, with a random token and "
                   "the blocked keys of the checked source list; run every arm with dummy values.")
@click.option("--admin-token-env", metavar="NAME", default=DEFAULT_TOKEN_ENV, show_default=True,
              help="Environment variable holding the admin bearer token (never taken from the command line).")
@click.option("--mode", type=click.Choice(["full", "smoke"]), default="full", show_default=True,
              help="smoke: no child workspace.")
@click.option("--arm", type=click.Choice([*ARM_NAMES, "all"]), default=None,
              help="Vendor keys to provision with (default: the first arm whose E2E_*_API_KEY is set, else "
                   "platform; with --local: all).")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write a JSON summary to FILE.")
@click.option("--junit", "junit_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write JUnit XML (one testcase per step) to FILE.")
@click.option("--no-probe", is_flag=True, help="Skip the live contract probe (step 7).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=DEFAULT_TIMEOUT, show_default=True,
              metavar="SECONDS", help="Timeout of each HTTP request.")
def e2e(root: Path, config: Path | None, source: str | None, mirrors: tuple[str, ...], contracts: tuple[str, ...],
        fmt: str, output: Path | None, base: str | None, quiet: bool, exit_zero: bool, color: str,
        statistics: bool, select: tuple[str, ...], ignore: tuple[str, ...], platform_url: str | None, local: bool,
        admin_token_env: str, mode: str, arm: str | None, json_path: Path | None, junit_path: Path | None,
        no_probe: bool, timeout: float) -> None:
    """Run the byok provisioning lifecycle against a platform, gated by the check.

    Exit 0 passed, 1 drift or a failed step, 2 usage/configuration/environment
    error, 4 teardown left workspaces behind.
    """
    if exit_zero:
        raise click.UsageError("--exit-zero does not apply to e2e: the lifecycle starts only when the check passes")
    if statistics and fmt not in ("text", "json"):
        raise click.UsageError(f"--statistics prints text or json, not --format {fmt}")
    reporting = Reporting(fmt=fmt, output=output, base=base, quiet=quiet, color=color, statistics=statistics,
                          select=select, ignore=ignore)
    sys.exit(run_e2e(options=make_options(root, config, source, mirrors, contracts), reporting=reporting,
                     platform_url=platform_url, local=local, admin_token_env=admin_token_env, mode=mode, arm=arm,
                     json_path=json_path, junit_path=junit_path, probe=not no_probe, timeout=timeout))


class _CheckReport:
    """The check's report as `check` makes it (`--format`, `--base`, `-q`, `--statistics`, ...), written once:
    to `--output` in every outcome, else to stderr when the check failed (stdout is the step lines)."""

    def __init__(self, options: CheckOptions, reporting: Reporting) -> None:
        self.options, self.reporting = options, reporting
        self.done = False
        self.base_error = False  # --base REV could not be read: exit 2, as `check` has it

    def keep(self) -> Any:
        return self.reporting.keep if self.reporting.select or self.reporting.ignore else None

    def publish(self, printer: StepPrinter, verdict: Gate | None) -> str | None:
        """Write the report; an error message when --output cannot be written, else None."""
        from driftcheck.report import render, render_statistics

        reporting = self.reporting
        if self.done or (reporting.output is None and (verdict is None or verdict.result.exit_code == 0)
                         and reporting.base is None):
            return None
        self.done = True
        if verdict is None:  # the run stopped before the gate (a usage error): the file still tells the check
            from driftcheck.gate import gate

            verdict = gate(self.options, keep=self.keep())
        result, attribution = verdict.result, None
        if reporting.base is not None:
            from driftcheck.attribution import attribute, with_base_error

            attribution = attribute(result, reporting.base, self.options.root)
            if attribution.error:
                self.base_error = True
                printer.error(attribution.error)
                if reporting.fmt != "text":
                    result = with_base_error(result, attribution)
        if reporting.statistics:
            text = render_statistics(result, reporting.fmt)
        else:
            color = reporting.output is None and reporting.fmt == "text" and use_color(sys.stderr, reporting.color)
            text = render(result, reporting.fmt, color=color, root=str(self.options.root), relative_to_cwd=True,
                          quiet=reporting.quiet, attribution=attribution)
        if reporting.output is None:
            if text.strip():
                printer.error(text.rstrip("\n"))
            return None
        return printer.write_file(reporting.output, text, f"driftcheck: report {WITHHELD}\n")


def run_e2e(*, options: CheckOptions, reporting: Reporting | None = None, platform_url: str | None, local: bool,
            admin_token_env: str, mode: str, arm: str | None, json_path: Path | None, junit_path: Path | None,
            probe: bool, timeout: float) -> int:
    """The whole command; returns the exit code. Signals become `Interrupted` for its duration."""
    from driftcheck.e2e.signals import Interrupted, SignalGuard, signal_name

    guard = SignalGuard()
    guard.install()
    redactor = Redactor()
    printer = StepPrinter(redactor)
    report = RunReport(platform_url=None, mode=mode)
    reporting = reporting or Reporting()
    check_report = _CheckReport(options, reporting)
    logs = _LogsThroughPrinter(printer)
    logs.install()
    try:
        try:
            code = _run(report, redactor, printer, guard, check_report, options=options, platform_url=platform_url,
                        local=local, admin_token_env=admin_token_env, arm=arm, probe=probe, timeout=timeout,
                        report_paths=(("--json", json_path), ("--junit", junit_path), ("--output", reporting.output)))
        except (Interrupted, KeyboardInterrupt) as exc:
            # Outside the runner (which handles signals itself while workspaces exist): during the gate,
            # while the local platform starts or stops.
            name = signal_name(exc)
            report.interrupted = report.interrupted or name
            report.message = f"interrupted by {name}" + ("" if report.arms else
                                                         " before the lifecycle started; nothing was created")
            printer.error(f"driftcheck e2e: {report.message}")
            code = EXIT_LEAKED if report.leaked else EXIT_FAILED
        except ImportError as exc:  # a dependency missing from this installation: say which, and how to fix it
            from driftcheck.platform.server import missing_dependency

            report.message = missing_dependency(exc)
            printer.error(f"driftcheck e2e: error: {report.message}")
            code = EXIT_ERROR
        except Exception as exc:  # noqa: BLE001 — a bug: teardown has run; its text may quote a server, so
            # it goes out through the printer (redaction), not through the CLI's generic handler
            report.message = f"internal error ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
            printer.error(f"driftcheck e2e: {report.message}; please report it")
            code = EXIT_LEAKED if report.leaked else EXIT_ERROR
        report.exit_code = code
        try:
            with guard.protect():  # the reports are written whole, whatever arrives now
                code = _finish(report, redactor, printer, check_report, json_path, junit_path)
        except Interrupted:
            pass  # the run is over and reported; its exit code stands
        return code
    finally:
        logs.restore()
        guard.restore()


class _LogsThroughPrinter(logging.Handler):
    """Log records of the libraries a run uses (the in-process platform, uvicorn, httpx) leave through the
    printer too, so the choke point sees them; they do not reach the root logger meanwhile."""

    LOGGERS = ("driftcheck", "uvicorn", "httpx", "httpcore")

    def __init__(self, printer: StepPrinter) -> None:
        super().__init__(logging.WARNING)
        self.printer = printer
        self._saved: list[tuple[logging.Logger, bool]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.printer.error(f"driftcheck e2e: log {record.name}: {record.getMessage()}")
        except Exception:  # noqa: BLE001 — logging must never break the run
            self.handleError(record)

    def install(self) -> None:
        for name in self.LOGGERS:
            logger = logging.getLogger(name)
            self._saved.append((logger, logger.propagate))
            logger.addHandler(self)
            logger.propagate = False

    def restore(self) -> None:
        for logger, propagate in self._saved:
            logger.removeHandler(self)
            logger.propagate = propagate
        self._saved.clear()


def _run(report: RunReport, redactor: Redactor, printer: StepPrinter, guard: SignalGuard, check_report: _CheckReport,
         *, options: CheckOptions, platform_url: str | None, local: bool, admin_token_env: str, arm: str | None,
         probe: bool, timeout: float, report_paths: tuple[tuple[str, Path | None], ...]) -> int:
    from driftcheck.e2e.signals import Interrupted

    env = os.environ

    # -- usage and environment: all decided before the gate, before any request ---------------------
    def usage(message: str) -> int:
        report.message = message
        printer.error(f"driftcheck e2e: error: {message}")
        return EXIT_ERROR

    if local and platform_url:
        return usage("--platform-url and --local exclude each other: --local starts its own platform")
    if not local and not platform_url:
        return usage("give --platform-url URL (with the admin token in $" + admin_token_env + "), or --local to "
                     "run against the embedded reference platform")
    for option, path in report_paths:
        if path is not None and not (path.parent if str(path.parent) else Path(".")).is_dir():
            return usage(f"{option} {path}: directory {path.parent} does not exist")
    token: str | None = None
    if platform_url:
        url_error = _check_url(platform_url)
        if url_error:
            return usage(url_error)
        if not admin_token_env:
            return usage("--admin-token-env must name an environment variable")
        token = env.get(admin_token_env, "")
        if not token.strip():
            return usage(f"the admin token is read from ${admin_token_env}, which is "
                         f"{'empty' if admin_token_env in env else 'not set'}; export it (the token is never "
                         "taken from the command line), or name another variable with --admin-token-env")
        token = token.strip()
        redactor.add(token)
        if len(token) < MIN_SECRET_LENGTH:
            return usage(f"the admin token in ${admin_token_env} is {len(token)} characters; at least "
                         f"{MIN_SECRET_LENGTH} are needed to redact it safely (no output may show half of it)")
        report.platform_url = _display_url(platform_url)
    try:
        names = arm_names(arm, env, local)
        arms = [build_arm(name, env, dummy=local) for name in names]
    except ArmError as exc:
        return usage(str(exc))
    for built in arms:
        for value in built.secret_values:
            redactor.add(value)

    # -- step 1: the gate --------------------------------------------------------------------------
    from driftcheck.gate import gate as run_gate

    started = time.monotonic()
    gate = run_gate(options, keep=check_report.keep())
    report.gate = _gate_step(gate, time.monotonic() - started)
    report.gate.message = redactor.scrub(report.gate.message)
    error = check_report.publish(printer, gate)
    if error:
        return usage(error)
    if check_report.base_error:
        report.gate.status = "failed"
        report.gate.message = f"--base {check_report.reporting.base} could not be read; no request was made"
        report.message = report.gate.message
        printer.step(report.gate)
        return EXIT_ERROR
    printer.step(report.gate)
    if gate.exit_code != 0:
        report.message = report.gate.message
        return gate.exit_code
    assert gate.source_ref is not None

    # -- the platform and the client -----------------------------------------------------------------
    import httpx

    from driftcheck.e2e.lifecycle import RunConfig, Runner

    running = None
    if local:
        from driftcheck.platform import PlatformError, generate_token, start_platform

        token = generate_token()
        redactor.add(token)
        try:
            running = start_platform(frozenset(gate.blocked), token=token, host="127.0.0.1", port=0)
        except PlatformError as exc:
            report.message = f"cannot start the local platform: {exc}"
            printer.error(f"driftcheck e2e: error: {report.message}")
            return EXIT_ERROR
        platform_url = running.url
        report.platform_url = running.url
        printer.line(f"local platform on {running.url} (blocked keys from {gate.source_ref})")
    assert platform_url is not None and token is not None
    try:
        client = httpx.Client(base_url=platform_url.rstrip("/"), headers={"Authorization": f"Bearer {token}"},
                              timeout=httpx.Timeout(timeout), follow_redirects=False,
                              trust_env=not local)  # loopback: no proxy from the environment
        with client:
            runner = Runner(client, blocked=gate.blocked, source_ref=gate.source_ref,
                            config=RunConfig(mode="smoke" if report.mode == "smoke" else "full", probe=probe),
                            redactor=redactor, printer=printer, guard=guard)
            outcome = runner.run(arms)
            report.arms, report.leaked, report.interrupted = outcome.arms, outcome.leaked, outcome.interrupted
    finally:
        if running is not None:
            try:
                with guard.protect():
                    running.stop()
            except Interrupted as exc:
                report.interrupted = report.interrupted or exc.signal_name
    return outcome.exit_code


def _gate_step(gate: Gate, duration: float) -> StepResult:
    if gate.exit_code == 0:
        return StepResult(1, "gate", "passed", duration, f"{gate.contract} in sync; the source list "
                                                         f"{gate.source_ref} holds {len(gate.blocked)} key(s)")
    if gate.result.exit_code != 0:
        return StepResult(1, "gate", "failed", duration, f"{gate.reason} (exit {gate.exit_code}); no request was made")
    return StepResult(1, "gate", "failed", duration, gate.reason)


def _finish(report: RunReport, redactor: Redactor, printer: StepPrinter, check_report: _CheckReport,
            json_path: Path | None, junit_path: Path | None) -> int:
    """Write the reports, print the verdict; a report that cannot be written is exit 2 (unless 4)."""
    code = report.exit_code
    if not check_report.done:
        try:
            error = check_report.publish(printer, None)
        except Exception as exc:  # noqa: BLE001 — the run's outcome stands; say why the file is missing
            error = f"cannot write --output {check_report.reporting.output}: {type(exc).__name__}"
        if error:
            printer.error(f"driftcheck e2e: error: {error}")
            if code != EXIT_LEAKED:
                code = report.exit_code = EXIT_ERROR
    for path, render, withheld in ((json_path, render_json, withheld_json),
                                   (junit_path, render_junit, withheld_junit)):
        if path is None:
            continue
        error = printer.write_file(path, render(report, redactor), withheld(report))
        if error:
            printer.error(f"driftcheck e2e: error: {error}")
            if code != EXIT_LEAKED:
                code = report.exit_code = EXIT_ERROR
                # Rewrite nothing: the other report (if written) says why the run ended as it did.
    if report.leaked:
        printer.error(f"driftcheck e2e: teardown left {len(report.leaked)} workspace(s) behind; delete them by hand:")
        for leak in report.leaked:
            printer.error(f"  {leak.workspace_id} ({leak.name}): {leak.reason}")
    failed = [f"{a.arm}: {s.title}" for a in report.arms for s in a.steps if s.status == "failed"]
    if report.gate and report.gate.status == "failed":
        failed.insert(0, report.gate.title)
    verdict = report.status
    detail = f"; failed: {', '.join(failed)}" if failed else ""
    printer.line(f"driftcheck e2e: {verdict} (exit {code}){detail}")
    return code


def _check_url(url: str) -> str | None:
    import httpx

    try:
        parsed = httpx.URL(url)
    except Exception:  # noqa: BLE001 — httpx raises several types for malformed URLs
        return f"--platform-url {url!r} is not a valid URL"
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return f"--platform-url must be an http:// or https:// URL with a host, not {url!r}"
    return None


def _display_url(url: str) -> str:
    """The URL without credentials (userinfo), as reports show it."""
    import httpx

    try:
        parsed = httpx.URL(url)
        return str(parsed.copy_with(username=None, password=None)) if parsed.userinfo else url
    except Exception:  # noqa: BLE001
        return url
