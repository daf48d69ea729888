"""The Eventmaker events, read through the tap (its own settings, its own API client)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from .commands import EVENTS_STREAM


@dataclass(frozen=True)
class Event:
    event_id: str
    title: str | None


def events_from_singer(lines: Iterable[str]) -> list[Event]:
    """The `events` records of a tap's Singer output, in order, each id once (pure)."""
    seen: dict[str, Event] = {}
    for line in lines:
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(message, dict) or message.get("type") != "RECORD" or message.get("stream") != EVENTS_STREAM:
            continue
        record = message.get("record") or {}
        event_id = record.get("_id")
        if isinstance(event_id, str) and event_id and event_id not in seen:
            seen[event_id] = Event(event_id, record.get("title"))
    return list(seen.values())
