"""ISO-8601 timestamps as Eventmaker writes them (``Z`` or ``+01:00`` offsets)."""

from __future__ import annotations

import datetime as dt
import typing as t


def parse_timestamp(value: t.Any) -> dt.datetime | None:
    """Parse an ISO-8601 timestamp into an aware UTC datetime; ``None`` if it is not one.

    A timestamp without offset is taken as UTC.
    """
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str) and value:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc)


def to_utc_iso(moment: dt.datetime) -> str:
    """Format as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``: one fixed width, so text order is time order.

    The SDK compares bookmark values as strings, hence the fixed format.
    """
    utc = moment.astimezone(dt.timezone.utc)
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
