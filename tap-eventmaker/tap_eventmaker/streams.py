"""The streams: ``events``, and per event ``guest_categories`` and ``guests`` (participants)."""

from __future__ import annotations

import functools
import typing as t

from singer_sdk.pagination import SinglePagePaginator
from singer_sdk.singerlib.catalog import REPLICATION_FULL_TABLE

from tap_eventmaker import schemas
from tap_eventmaker.client import EventmakerStream, ShortPagePaginator
from tap_eventmaker.records import prepare_guest
from tap_eventmaker.selection import ParticipantSelection
from tap_eventmaker.timestamps import parse_timestamp, to_utc_iso

if t.TYPE_CHECKING:
    import datetime as dt

    import requests
    from singer_sdk.helpers.types import Context


class EventsStream(EventmakerStream):
    """Events the token can see, or only those listed in ``event_ids`` (fetched one by one)."""

    name = "events"
    primary_keys = ("_id",)
    replication_key = None
    schema = schemas.EVENT
    # Full-table stream: one stream-level state entry, no per-event clutter in the state.
    state_partitioning_keys: t.ClassVar[list[str]] = []

    @property
    def event_ids(self) -> list[str]:
        """The ``event_ids`` setting; empty means every event."""
        return list(self.config.get("event_ids") or [])

    @property
    def path(self) -> str:  # type: ignore[override]
        """One event when ``event_ids`` is set (that reply carries ``guest_count``), else the list."""
        return "/api/v1/events/{event_id}.json" if self.event_ids else "/api/v1/events.json"

    @property
    def partitions(self) -> list[dict] | None:
        """One context per configured event id."""
        return [{"event_id": event_id} for event_id in self.event_ids] or None

    def get_new_paginator(self) -> ShortPagePaginator | SinglePagePaginator:
        """Single objects when reading listed events, pages for the whole list."""
        return SinglePagePaginator() if self.event_ids else super().get_new_paginator()

    def get_url_params(self, context: Context | None, next_page_token: int | None) -> dict:
        """Paging parameters for the list only."""
        return {} if self.event_ids else super().get_url_params(context, next_page_token)

    def get_child_context(self, record: dict, context: Context | None) -> dict:
        """The event id, plus its ``guest_count`` for the participants' count cross-check."""
        return {"event_id": record["_id"], "guest_count": record.get("guest_count")}


class GuestCategoriesStream(EventmakerStream):
    """Guest categories of each event."""

    name = "guest_categories"
    parent_stream_type = EventsStream
    path = "/api/v1/events/{event_id}/guest_categories.json"
    primary_keys = ("_id",)
    replication_key = None
    schema = schemas.GUEST_CATEGORY
    state_partitioning_keys: t.ClassVar[list[str]] = []

    def post_process(self, row: dict, context: Context | None = None) -> dict:
        """Make sure every category names its event."""
        row.setdefault("event_id", (context or {}).get("event_id"))
        return row


class GuestsStream(EventmakerStream):
    """Participants of each event with their Salesforce sync state; incremental on ``updated_at``.

    State partition: ``{"event_id": ...}``. The API's ``updated_since`` is sent, and
    ``updated_at`` is checked here too, since the real API ignores parameters it does not know.
    """

    name = "guests"
    parent_stream_type = EventsStream
    path = "/api/v1/events/{event_id}/guests.json"
    primary_keys = ("_id",)
    replication_key = "updated_at"
    is_sorted = False  # the API orders nothing: bookmarks move at the end of each event
    schema = schemas.GUEST

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Set up the per-event bookkeeping of the partition being read."""
        super().__init__(*args, **kwargs)
        self._query: dict[str, str] = {}
        self._expected_count: int | None = None
        self._pages_read = 0

    @functools.cached_property
    def selection(self) -> ParticipantSelection:
        """Participant filters of this run (none for the main pipeline)."""
        return ParticipantSelection.from_config(self.config)

    @property
    def replication_method(self) -> str:
        """Full table for a filtered run: it ignores bookmarks and never moves one."""
        if self.selection.is_filtered:
            return REPLICATION_FULL_TABLE
        return super().replication_method

    def get_replication_key_signpost(self, context: Context | None = None) -> t.Any:
        """No signpost (no bookmark at all) in a filtered run."""
        return None if self.selection.is_filtered else super().get_replication_key_signpost(context)

    def preprocess_context(self, context: Context) -> dict:
        """Keep ``guest_count`` aside; the state partition is ``{"event_id": ...}`` only."""
        self._expected_count = context.get("guest_count")
        return {"event_id": context["event_id"]}

    def get_url_params(self, context: Context | None, next_page_token: int | None) -> dict:
        """Paging, the current filter query, custom fields if asked, and ``updated_since``."""
        params = {**super().get_url_params(context, next_page_token), **self._query}
        if self.config.get("include_guest_metadata"):
            params["guest_metadata"] = "true"
        if since := self.get_starting_timestamp(context):
            params["updated_since"] = to_utc_iso(since)
        return params

    def request_records(self, context: Context | None) -> t.Iterable[dict]:
        """Run each listing the selection needs: one in general, one per ``participant_uids`` uid."""
        for query in self.selection.api_queries():
            self._query = query
            yield from super().request_records(context)
        self._query = {}

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        """Count the page, then yield its guests."""
        self._pages_read += 1
        yield from super().parse_response(response)

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        """Yield each wanted participant once, then log the event's page and record counts."""
        since = self.get_starting_timestamp(context)
        self._pages_read = 0
        seen: set[str] = set()
        emitted = 0
        for raw in super().get_records(context):
            guest_id = raw.get("_id")
            if not guest_id:
                self.logger.warning("Skipping a participant without _id (uid=%r)", raw.get("uid"))
                continue
            if guest_id in seen:
                continue
            seen.add(guest_id)
            guest = prepare_guest(raw, include_metadata=bool(self.config.get("include_guest_metadata")))
            if guest["updated_at"] is None:
                self.logger.warning(
                    "Participant %s has no readable updated_at (%r): emitted, moves no bookmark",
                    guest_id, raw.get("updated_at"),
                )
            if self._is_wanted(guest, since):
                emitted += 1
                yield guest
        event_id = (context or {}).get("event_id")
        self.logger.info(
            "Event %s: %d pages read, %d distinct participants read, %d emitted",
            event_id, self._pages_read, len(seen), emitted,
        )
        if since is None and not self.selection.is_filtered:
            self._check_guest_count(event_id, len(seen))

    def _is_wanted(self, guest: dict, since: dt.datetime | None) -> bool:
        """Changed since the bookmark (a guest without timestamp always is) and selected."""
        updated_at = parse_timestamp(guest.get("updated_at"))
        if since and updated_at and updated_at < since:
            return False
        return self.selection.matches(guest)

    def _check_guest_count(self, event_id: str | None, read: int) -> None:
        """Warn when a full read disagrees with the event's ``guest_count``."""
        expected = self._expected_count
        if isinstance(expected, int) and expected != read:
            self.logger.warning(
                "Event %s: read %d distinct participants but the event's guest_count is %d",
                event_id, read, expected,
            )
