"""The streams: ``events``, and per event ``guest_categories`` and ``guests`` (participants)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import typing as t
from http import HTTPStatus
from urllib.parse import quote, urlsplit

from singer_sdk.pagination import SinglePagePaginator
from singer_sdk.singerlib.catalog import REPLICATION_FULL_TABLE

from tap_eventmaker import schemas, sync_state
from tap_eventmaker.client import EventmakerStream, ShortPagePaginator, page_records
from tap_eventmaker.completeness import Check, Unproven, stamp
from tap_eventmaker.read_plan import DEFAULT_CLOCK_SKEW_MARGIN_SECONDS, LAST_FULL_PASS, ReadPlan, plan_read
from tap_eventmaker.records import prepare_guest
from tap_eventmaker.selection import ParticipantSelection
from tap_eventmaker.window import Window, window_end

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

ONE_GUEST_PATH = re.compile(r"/guests/[^/]+\.json$")


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
        """The event id."""
        return {"event_id": record["_id"]}


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

    State partition: ``{"event_id": ...}``, with ``last_full_pass_at``. Each run reads one window,
    ``bookmark <= updated_at < run start - clock_skew_margin_seconds`` (the whole event on a full
    pass), checks that the read missed nothing (``completeness.py``), and only then lets the SDK move
    the bookmark, to the latest ``updated_at`` read. ``updated_at`` is checked here too, since the real
    API ignores parameters it does not know.
    """

    name = "guests"
    parent_stream_type = EventsStream
    path = "/api/v1/events/{event_id}/guests.json"
    primary_keys = ("_id",)
    replication_key = "updated_at"
    is_sorted = False  # the API orders nothing: bookmarks move at the end of each event
    schema = schemas.GUEST

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Set up the bookkeeping of the partition being read."""
        super().__init__(*args, **kwargs)
        self._query: dict[str, str] = {}
        self._window: Window | None = None
        self._read_context: Context | None = None
        self._pages_read = 0

    @functools.cached_property
    def selection(self) -> ParticipantSelection:
        """Participant filters of this run (none for the main pipeline)."""
        return ParticipantSelection.from_config(self.config)

    @functools.cached_property
    def run_end(self) -> str:
        """The run's window end, the same for every event: start minus the clock-skew margin."""
        margin = float(self.config.get("clock_skew_margin_seconds", DEFAULT_CLOCK_SKEW_MARGIN_SECONDS))
        return window_end(dt.datetime.now(dt.timezone.utc), margin)

    @property
    def state_field(self) -> str:
        """Where participants keep their sync state (``sync_state_field``)."""
        return str(self.config.get("sync_state_field") or sync_state.REFS_FIELD)

    @property
    def _metadata_param(self) -> dict[str, str]:
        """``guest_metadata=true`` when custom fields are wanted or hold the sync state."""
        wanted = self.config.get("include_guest_metadata") or self.state_field == sync_state.METADATA_FIELD
        return {"guest_metadata": "true"} if wanted else {}

    @property
    def replication_method(self) -> str:
        """Full table for a filtered run: it ignores bookmarks and never moves one."""
        if self.selection.is_filtered:
            return REPLICATION_FULL_TABLE
        return super().replication_method

    def get_replication_key_signpost(self, context: Context | None = None) -> str | None:
        """The run's window end (no bookmark at all in a filtered run)."""
        return None if self.selection.is_filtered else self.run_end

    def preprocess_context(self, context: Context) -> dict:
        """The state partition is ``{"event_id": ...}`` only."""
        return {"event_id": context["event_id"]}

    def get_url_params(self, context: Context | None, next_page_token: int | None) -> dict:
        """Paging, the current filter query, custom fields if asked, and the window's bounds."""
        params = {**super().get_url_params(context, next_page_token), **self._query, **self._metadata_param}
        if self._window is not None:
            params.update(self._window.params())
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

    def window_page(self, window: Window, page: int) -> tuple[dict, ...]:
        """One page of ``window`` (for the completeness check)."""
        self._window = window
        return page_records(self._send(self.prepare_request(self._read_context, page)))

    def guest(self, guest_id: str) -> dict | None:
        """One guest as it is now, ``None`` once deleted (for the completeness check)."""
        url = f"{self.get_url(self._read_context).removesuffix('.json')}/{quote(guest_id, safe='')}.json"
        request = self.build_prepared_request(method="GET", url=url, params=self._metadata_param, headers=self.http_headers)
        response = self._send(request)
        return None if response.status_code == HTTPStatus.NOT_FOUND else page_records(response)[0]

    def _send(self, request: requests.PreparedRequest) -> requests.Response:
        """Send one request with the stream's retries."""
        return self.request_decorator(self._request)(request, self._read_context)

    def validate_response(self, response: requests.Response) -> None:
        """As for every stream, except that a 404 for one guest means it was deleted."""
        if response.status_code == HTTPStatus.NOT_FOUND and ONE_GUEST_PATH.search(urlsplit(response.url).path):
            return
        super().validate_response(response)

    def _increment_stream_state(self, latest_record: dict, *, context: Context | None = None) -> None:
        """Not per record: ``get_records`` hands the SDK one value once the read is proven complete."""

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        """Yield each wanted participant once; move the bookmark only over a read proven complete."""
        self._read_context, self._pages_read = context, 0
        event_id = (context or {}).get("event_id")
        plan = None if self.selection.is_filtered else plan_read(
            event_id=event_id,
            partition_state=self.get_context_state(context),
            starting_value=self.get_starting_replication_key_value(context),
            config=self.config,
            run_end=self.run_end,
        )
        self._window = plan.window if plan else None
        read = ReadLog()
        for raw in super().get_records(context):
            yield from self._emit(raw, plan, read)
        proven = plan is not None and (yield from self._check(plan, read, event_id))
        self._window = None
        self.logger.info(
            "Event %s: %d pages read, %d distinct participants read, %d emitted%s",
            event_id, self._pages_read, len(read.ids), read.emitted,
            f", {read.recovered} found by the completeness check" if read.recovered else "",
        )
        if proven:
            self._release_bookmark(plan, read, context)

    def _emit(self, raw: dict, plan: ReadPlan | None, read: ReadLog) -> t.Iterator[dict]:
        """Yield ``raw`` as a record if it is new, in the window (if any) and selected."""
        guest_id = raw.get("_id")
        if not guest_id:
            self.logger.warning("Skipping a participant without _id (uid=%r)", raw.get("uid"))
            return
        moment = stamp(raw)
        if (guest_id, moment) in read.versions:
            return
        read.versions.add((guest_id, moment))
        read.ids.add(guest_id)
        if moment is None:
            self.logger.warning(
                "Participant %s has no readable updated_at (%r): emitted, moves no bookmark",
                guest_id, raw.get("updated_at"),
            )
        elif plan is not None:
            if moment not in plan.window:
                read.outside += 1  # the API ignored the bounds, or it changed since: the next run's
                return
            read.known[guest_id] = moment
            read.latest = max(read.latest or moment, moment)
            read.imported_old += plan.imported_old(raw.get("created_at"), moment)
        guest = prepare_guest(
            raw, include_metadata=bool(self.config.get("include_guest_metadata")), state_field=self.state_field
        )
        if self.selection.matches(guest):
            read.emitted += 1
            yield guest

    def _check(self, plan: ReadPlan, read: ReadLog, event_id: str | None) -> t.Iterator[dict]:
        """Run the completeness check, emitting what it finds; return whether the read is proven."""
        check = Check(self, plan.window, dict(read.known), bounds_honoured=not read.outside)
        try:
            for raw in check.run():
                read.recovered += 1
                yield from self._emit(raw, plan, read)
        except Unproven as why:
            self.logger.warning(
                "Event %s: the read of %s cannot be shown complete (%s): the bookmark stays at %s",
                event_id, plan.window, why, plan.stored_bookmark,
            )
            return False
        return True

    def _release_bookmark(self, plan: ReadPlan, read: ReadLog, context: Context | None) -> None:
        """Hand the SDK the latest ``updated_at`` read, and note a completed full pass."""
        if read.latest is not None:
            super()._increment_stream_state({self.replication_key: read.latest}, context=context)
        if plan.full_pass:
            self.get_context_state(context)[LAST_FULL_PASS] = plan.window.before
            if read.imported_old:
                self.logger.warning(
                    "Event %s: the full pass found %d participants created since the last one with an "
                    "updated_at before the bookmark %s (imported with their original dates?); they were sent",
                    (context or {}).get("event_id"), read.imported_old, plan.bookmark,
                )


@dataclasses.dataclass
class ReadLog:
    """What one event's read saw."""

    versions: set = dataclasses.field(default_factory=set)
    ids: set = dataclasses.field(default_factory=set)
    known: dict = dataclasses.field(default_factory=dict)
    latest: str | None = None
    emitted: int = 0
    recovered: int = 0
    outside: int = 0
    imported_old: int = 0
