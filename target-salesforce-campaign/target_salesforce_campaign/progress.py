"""Periodic progress while a run lasts: a daemon thread calling one report function every few seconds."""

from __future__ import annotations

import threading
from collections.abc import Callable

DEFAULT_PROGRESS_INTERVAL = 5


class ProgressReporter:
    """Calls `report()` every `interval` seconds between `start()` and `stop()` (never after `stop()`)."""

    def __init__(self, report: Callable[[], None], interval: float = DEFAULT_PROGRESS_INTERVAL) -> None:
        self._report = report
        self._interval = interval
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start reporting (once; later calls do nothing)."""
        if self._thread is None and self._interval > 0:
            self._thread = threading.Thread(target=self._loop, name="salesforce-sync-progress", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop reporting and wait for an ongoing report to end."""
        self._stopped.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stopped.wait(self._interval):
            self._report()
