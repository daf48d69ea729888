"""The Eventmaker events, read through the tap (its own settings, its own API client)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
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


ABSENT_LISTINGS_BEFORE_REMOVAL = 3  # with the sensor every 5 minutes: gone for 10 to 15 minutes


@dataclass(frozen=True)
class PartitionChanges:
    """What one listing changes: partitions to add and remove, and the absences still counted."""

    add: list[str]
    remove: list[str]
    absent: dict[str, int]  # known events missing from the latest listings: how many in a row


def partition_changes(known: Iterable[str], listed: list[Event], absent_before: Mapping[str, int],
                      limit: int = ABSENT_LISTINGS_BEFORE_REMOVAL) -> PartitionChanges:
    """New events get a partition; a known event missing from `limit` successful listings in a row
    loses it (deleted, or left out of the tap's `event_ids`). An empty listing changes nothing: an API
    answering `200 []` once does not mean every event was deleted (pure)."""
    listed_ids = [event.event_id for event in listed]
    if not listed_ids:
        return PartitionChanges([], [], dict(absent_before))
    known_ids = set(known)
    absent = {event_id: absent_before.get(event_id, 0) + 1 for event_id in sorted(known_ids - set(listed_ids))}
    return PartitionChanges(
        add=[event_id for event_id in listed_ids if event_id not in known_ids],
        remove=[event_id for event_id, count in absent.items() if count >= limit],
        absent={event_id: count for event_id, count in absent.items() if count < limit},
    )


def absences_from_cursor(cursor: str | None) -> dict[str, int]:
    """The sensor's cursor (JSON: event id -> listings missed in a row); anything unreadable is none."""
    try:
        value = json.loads(cursor or "{}")
    except json.JSONDecodeError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {key: count for key, count in value.items() if isinstance(key, str) and type(count) is int and count > 0}
