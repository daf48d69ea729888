"""ISO-8601 UTC timestamps as the API serializes them: millisecond precision and a ``Z`` suffix.

One canonical form means timestamps compare correctly as strings, which keeps filters cheap.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

MILLISECOND = timedelta(milliseconds=1)
_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
_OFFSET_WITH_DECODED_PLUS = re.compile(r" (\d\d:?\d\d)$")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def format_timestamp(moment: datetime) -> str:
    moment = moment.astimezone(timezone.utc)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> datetime:
    """Any ISO-8601 date or date-time (a ``+`` decoded to a space in a query string is tolerated).

    A value without offset is UTC. Raises ``ValueError`` (also for non-strings).
    """
    if not isinstance(text, str):
        raise ValueError(f"not a timestamp: {text!r}")
    moment = datetime.fromisoformat(_OFFSET_WITH_DECODED_PLUS.sub(r"+\1", text.strip()))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def canonical_timestamp(text: str) -> str:
    """``text`` in the canonical form; raises ``ValueError`` if it is not a timestamp."""
    if isinstance(text, str) and _CANONICAL.fullmatch(text):
        return text
    return format_timestamp(parse_timestamp(text))


def later_than(previous: str | None, now: datetime) -> str:
    """``now``, or one millisecond after ``previous`` if the clock has not moved past it."""
    if previous is not None:
        now = max(now, parse_timestamp(previous) + MILLISECOND)
    return format_timestamp(now)
