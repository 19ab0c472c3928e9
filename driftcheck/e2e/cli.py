"""`driftcheck e2e`: the bundled end-to-end runner, always gated by the check (DESIGN.md section 8).

Exit codes: 0 passed; 1 the gate found drift, a step failed, or the run was
interrupted (SIGINT/SIGTERM — teardown still runs); 2 usage, configuration or
environment error (including a check that could not decide); 4 teardown left
workspaces behind, which wins over every other outcome.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from driftcheck.cli import check_options, make_options, use_color
from driftcheck.e2e.arms import ARM_NAMES, ArmError, arm_names, build_arm
from driftcheck.e2e.redact import MIN_SECRET_LENGTH, Redactor
from driftcheck.e2e.report import (
    EXIT_ERROR,
    EXIT_FAILED,
    EXIT_LEAKED,
    RunReport,
    StepPrinter,
    render_json,
    render_junit,
    withheld_json,
    withheld_junit,
)

if TYPE_CHECKING:
    from driftcheck.e2e.runner import SignalGuard

DEFAULT_TOKEN_ENV = "DRIFTCHECK_ADMIN_TOKEN"
DEFAULT_TIMEOUT = 30.0


@click.command("e2e")
@check_options
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
        platform_url: str | None, local: bool, admin_token_env: str, mode: str, arm: str | None,
        json_path: Path | None, junit_path: Path | None, no_probe: bool, timeout: float) -> None:
    """Run the byok provisioning lifecycle against a platform, gated by the check.

    Exit 0 passed, 1 drift or a failed step, 2 usage/configuration/environment
    error, 4 teardown left workspaces behind.
    """
    sys.exit(run_e2e(root=root, config=config, source=source, mirrors=mirrors, contracts=contracts,
                     platform_url=platform_url, local=local, admin_token_env=admin_token_env, mode=mode, arm=arm,
                     json_path=json_path, junit_path=junit_path, probe=not no_probe, timeout=timeout))


def run_e2e(*, root: Path, config: Path | None, source: str | None, mirrors: tuple[str, ...],
            contracts: tuple[str, ...], platform_url: str | None, local: bool, admin_token_env: str, mode: str,
            arm: str | None, json_path: Path | None, junit_path: Path | None, probe: bool, timeout: float) -> int:
    """The whole command; returns the exit code. Signals become `Interrupted` for its duration."""
    from driftcheck.e2e.runner import Interrupted, SignalGuard

    guard = SignalGuard()
    guard.install()
    redactor = Redactor()
    printer = StepPrinter(redactor)
    report = RunReport(platform_url=None, mode=mode)
    try:
        try:
            code = _run(report, redactor, printer, guard, root=root, config=config, source=source, mirrors=mirrors,
                        contracts=contracts, platform_url=platform_url, local=local,
                        admin_token_env=admin_token_env, arm=arm, probe=probe, timeout=timeout,
                        report_paths=(("--json", json_path), ("--junit", junit_path)))
        except (Interrupted, KeyboardInterrupt) as exc:
            # Outside the runner (which handles signals itself while workspaces exist): during the gate,
            # while the local platform starts or stops.
            name = exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"
            report.interrupted = report.interrupted or name
            report.message = f"interrupted by {name}" + ("" if report.arms else
                                                         " before the lifecycle started; nothing was created")
            printer.error(f"driftcheck e2e: {report.message}")
            code = EXIT_LEAKED if report.leaked else EXIT_FAILED
        report.exit_code = code
        try:
            with guard.protect():  # the reports are written whole, whatever arrives now
                code = _finish(report, redactor, printer, json_path, junit_path)
        except Interrupted:
            pass  # the run is over and reported; its exit code stands
        return code
    finally:
        guard.restore()


def _run(report: RunReport, redactor: Redactor, printer: StepPrinter, guard: SignalGuard, *, root: Path,
         config: Path | None, source: str | None, mirrors: tuple[str, ...], contracts: tuple[str, ...],
         platform_url: str | None, local: bool, admin_token_env: str, arm: str | None, probe: bool,
         timeout: float, report_paths: tuple[tuple[str, Path | None], ...]) -> int:
    from driftcheck.e2e.runner import Interrupted, RunConfig, Runner, run_gate

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
    options = make_options(root, config, source, mirrors, contracts)
    gate = run_gate(options)
    report.gate = gate.step
    gate.step.message = redactor.scrub(gate.step.message)
    if gate.exit_code != 0:
        if gate.result.exit_code != 0:
            from driftcheck.report import render

            text = render(gate.result, "text", color=use_color(sys.stderr), root=str(root))
            printer.error(text.rstrip("\n"))
        printer.step(gate.step)
        report.message = gate.step.message
        return gate.exit_code
    printer.step(gate.step)
    assert gate.source_ref is not None

    # -- the platform and the client -----------------------------------------------------------------
    import httpx

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


def _finish(report: RunReport, redactor: Redactor, printer: StepPrinter, json_path: Path | None,
            junit_path: Path | None) -> int:
    """Write the reports, print the verdict; a report that cannot be written is exit 2 (unless 4)."""
    code = report.exit_code
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
