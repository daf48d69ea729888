"""Shared helpers for the tap's tests: run the tap in-process and collect its Singer output."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import json

import backoff
import pytest

from tap_eventmaker.client import EventmakerStream
from tap_eventmaker.tap import TapEventmaker


@dataclasses.dataclass
class SyncOutput:
    """What one tap run wrote on stdout."""

    messages: list[dict]

    def records(self, stream: str) -> list[dict]:
        """RECORD payloads of one stream, in order."""
        return [m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream]

    @property
    def final_state(self) -> dict:
        """The last STATE message's value."""
        return [m["value"] for m in self.messages if m["type"] == "STATE"][-1]

    def bookmark(self, event_id: str) -> dict:
        """The ``guests`` state partition of one event."""
        partitions = self.final_state["bookmarks"]["guests"]["partitions"]
        return next(p for p in partitions if p["context"] == {"event_id": event_id})


@pytest.fixture
def run_tap():
    """Run TapEventmaker with a config and optional state; return its parsed stdout."""

    def run(config: dict, state: dict | None = None) -> SyncOutput:
        tap = TapEventmaker(config=config, state=copy.deepcopy(state))  # the SDK edits it in place
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            tap.sync_all()
        return SyncOutput([json.loads(line) for line in stdout.getvalue().splitlines() if line])

    return run


@pytest.fixture(autouse=True)
def no_backoff_wait(monkeypatch):
    """Keep the SDK's retries, drop their waiting, so failure tests stay fast."""
    monkeypatch.setattr(EventmakerStream, "backoff_wait_generator", lambda self: backoff.constant(0))
    monkeypatch.setattr(EventmakerStream, "backoff_jitter", lambda self, value: 0)
