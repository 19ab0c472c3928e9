"""SIGINT/SIGTERM during a run: the step being run fails, later steps and arms are not run,
and teardown still runs — with signals deferred, so a second signal cannot cut it short.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any


class Interrupted(BaseException):
    """SIGTERM/SIGINT arrived: stop the run, but still tear down (BaseException, like KeyboardInterrupt)."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


def signal_name(exc: BaseException) -> str:
    """The signal an `Interrupted` or a `KeyboardInterrupt` stands for."""
    return exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"


class SignalGuard:
    """Raises `Interrupted` from SIGTERM/SIGINT in the main thread, except while teardown is protected."""

    def __init__(self) -> None:
        self._protected = 0
        self.pending: str | None = None
        self._previous: dict[int, Any] = {}

    def handler(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self._protected:
            self.pending = self.pending or name  # teardown finishes first; the run still ends as interrupted
            return
        raise Interrupted(name)

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread (e.g. when embedded)
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self.handler)

    def restore(self) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()

    @contextmanager
    def protect(self) -> Iterator[None]:
        """Defer signals for the block; if one arrived, raise it afterwards."""
        self._protected += 1
        try:
            yield
        finally:
            self._protected -= 1
        if not self._protected and self.pending is not None:
            raise Interrupted(self.pending)
