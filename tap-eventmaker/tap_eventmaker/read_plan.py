"""What one event's read covers: the window from the bookmark (or a full pass) to the run's end.

A bookmark later than the run's end (clock skew, an edited state) is reported and not trusted. A
full pass (the whole event, or from ``start_date``) runs on a first read, after an untrusted
bookmark, and once every ``full_pass_interval_hours``: it finds participants whose ``updated_at`` is
older than the bookmark (an import keeping its original dates), which no incremental read can see.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import typing as t

from tap_eventmaker.timestamps import parse_timestamp, to_utc_iso
from tap_eventmaker.window import Window

LAST_FULL_PASS = "last_full_pass_at"
DEFAULT_FULL_PASS_INTERVAL_HOURS = 24.0
DEFAULT_CLOCK_SKEW_MARGIN_SECONDS = 1.0

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ReadPlan:
    """The window to read, whether it is a full pass, and the bookmark it starts from."""

    window: Window
    full_pass: bool
    bookmark: str | None  # trusted bookmark (or start_date) the window would start from
    stored_bookmark: t.Any  # the value as found in the state, for messages
    last_full_pass: str | None = None  # when the previous full pass of the event ran

    def imported_old(self, created_at: t.Any, updated_at: str) -> bool:
        """Created since the last full pass with an ``updated_at`` before the bookmark: invisible before."""
        created = _canonical(created_at)
        return bool(
            self.full_pass and self.bookmark and self.last_full_pass and created
            and created >= self.last_full_pass and updated_at < self.bookmark
        )


def plan_read(
    *,
    event_id: str | None,
    partition_state: t.Mapping[str, t.Any],
    starting_value: t.Any,
    config: t.Mapping[str, t.Any],
    run_end: str,
) -> ReadPlan:
    """Plan the read of one event from its state partition and the SDK's starting value.

    ``starting_value`` is the SDK's: the bookmark, or ``start_date`` when later or alone.
    """
    start_date = _canonical(config.get("start_date"))
    bookmark = _canonical(starting_value)
    stored = partition_state.get("replication_key_value", starting_value)
    if starting_value is not None and (bookmark is None or bookmark >= run_end):
        logger.warning(
            "Event %s: bookmark %r is %s the run's end %s (clock skew or an edited state): not trusted, "
            "reading the whole event",
            event_id, stored, "not a timestamp, so not before" if bookmark is None else "not before", run_end,
        )
        bookmark = None
    full_pass = bookmark is None or bookmark == start_date or _full_pass_due(partition_state, config, run_end)
    since = start_date if full_pass else bookmark
    return ReadPlan(Window(since, run_end), full_pass, bookmark, stored, _canonical(partition_state.get(LAST_FULL_PASS)))


def _full_pass_due(partition_state: t.Mapping[str, t.Any], config: t.Mapping[str, t.Any], run_end: str) -> bool:
    last = parse_timestamp(partition_state.get(LAST_FULL_PASS))
    hours = float(config.get("full_pass_interval_hours", DEFAULT_FULL_PASS_INTERVAL_HOURS))
    end = parse_timestamp(run_end)
    return last is None or end is None or last > end or end - last >= dt.timedelta(hours=hours)


def _canonical(value: t.Any) -> str | None:
    moment = parse_timestamp(value)
    return to_utc_iso(moment) if moment else None
