"""Time windows on ``updated_at`` (``since`` inclusive, ``before`` exclusive) and how to cut them.

A read of one window page that comes back short is a snapshot of the whole window at one instant,
whatever else changes in Eventmaker; so the completeness check cuts the run's window into windows
small enough for one page each. Timestamps are the tap's fixed-width UTC text, so text order is
time order. Eventmaker stores milliseconds, the narrowest window there is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import typing as t

from tap_eventmaker.timestamps import to_utc_iso

MILLISECOND = dt.timedelta(milliseconds=1)


@dataclasses.dataclass(frozen=True)
class Window:
    """``since <= updated_at < before``; ``since`` None = from the beginning."""

    since: str | None
    before: str

    def __contains__(self, timestamp: str) -> bool:
        return (self.since is None or timestamp >= self.since) and timestamp < self.before

    def params(self) -> dict[str, str]:
        """The API's ``updated_since`` / ``updated_before`` for this window."""
        bounds = {"updated_before": self.before}
        if self.since is not None:
            bounds["updated_since"] = self.since
        return bounds

    def __str__(self) -> str:
        return f"[{self.since or '...'}, {self.before})"


def window_end(now: dt.datetime, margin_seconds: float) -> str:
    """The run's upper bound: ``now`` minus the clock-skew margin, down to the millisecond.

    Anything changed after it (during the run, by the server's clock) is left to the next run.
    """
    moment = now - dt.timedelta(seconds=margin_seconds)
    return to_utc_iso(moment.replace(microsecond=moment.microsecond // 1000 * 1000))


def after(timestamp: str) -> str:
    """The first millisecond after ``timestamp``."""
    return to_utc_iso(dt.datetime.fromisoformat(timestamp) + MILLISECOND)


def cut(window: Window, timestamps: t.Iterable[str], capacity: int) -> list[Window]:
    """Cut ``window`` into consecutive windows holding at most ``capacity`` of ``timestamps`` each.

    Every piece holds at least one of them (a gap belongs to the piece on its left); one instant
    holding more than ``capacity`` is a piece of its own, which cannot be cut further. No
    timestamps: the window itself.
    """
    groups = [(stamp, len(list(same))) for stamp, same in itertools.groupby(sorted(timestamps))]
    starts: list[str | None] = [window.since]
    held = 0
    for stamp, count in groups:
        if held and held + count > capacity:
            starts.append(stamp)
            held = 0
        held += count
        if held > capacity and stamp != groups[-1][0]:
            starts.append(after(stamp))  # an over-full instant ends its piece
            held = 0
    ends = [*starts[1:], window.before]
    return [Window(since, before) for since, before in zip(starts, ends, strict=True) if since != before]
