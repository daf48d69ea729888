"""Issue 10, class 9 (old timestamps are found by full passes) and untrusted future bookmarks."""

from __future__ import annotations

import copy
import datetime as dt
import logging

import pytest

from tap_eventmaker.client import SameHostRedirectSession
from tap_eventmaker.timestamps import to_utc_iso

EVENT = "f" * 24
CATEGORY = "c" * 24
NOW = dt.datetime.now(dt.timezone.utc)


@pytest.fixture
def event(eventmaker_sandbox):
    eventmaker_sandbox.store.load({
        "events": [{"_id": EVENT, "title": "Full pass"}],
        "guest_categories": [{"_id": CATEGORY, "event_id": EVENT, "name": "All"}],
        "guests": [
            {"event_id": EVENT, "guest_category_id": CATEGORY, "email": f"g{n}@x.test",
             "updated_at": to_utc_iso(NOW - dt.timedelta(minutes=10 - n))}
            for n in range(5)
        ],
    })
    return eventmaker_sandbox


def config(sandbox, **overrides) -> dict:
    return {"api_url": sandbox.url, "auth_token": sandbox.auth_token, "event_ids": [EVENT],
            "clock_skew_margin_seconds": 0, **overrides}


def import_with_its_old_date(sandbox) -> str:
    """A participant created now (by an import) with the updated_at it had elsewhere a month ago."""
    old = to_utc_iso(NOW - dt.timedelta(days=30))
    guest = {"event_id": EVENT, "guest_category_id": CATEGORY, "email": "imported@x.test", "updated_at": old}
    return sandbox.store.add_guest(guest)["_id"]


def ids(output) -> set[str]:
    return {g["_id"] for g in output.records("guests")}


def aged(state: dict, hours: float) -> dict:
    """``state`` as if its last full pass ran ``hours`` ago."""
    state = copy.deepcopy(state)
    for partition in state["bookmarks"]["guests"]["partitions"]:
        partition["last_full_pass_at"] = to_utc_iso(NOW - dt.timedelta(hours=hours))
    return state


def test_an_import_with_an_old_updated_at_is_sent_by_the_next_full_pass(event, run_tap, caplog):
    first = run_tap(config(event))
    assert len(ids(first)) == 5
    imported = import_with_its_old_date(event)
    incremental = run_tap(config(event), state=first.final_state)
    assert imported not in ids(incremental)  # older than the bookmark: no incremental read can see it
    with caplog.at_level(logging.WARNING):  # a day later: the full pass is due
        full = run_tap(config(event, full_pass_interval_hours=0), state=incremental.final_state)
    assert imported in ids(full)
    assert "the full pass found 1 participants created since the last one with an updated_at before" in caplog.text
    assert full.bookmark(EVENT)["replication_key_value"] == first.bookmark(EVENT)["replication_key_value"]
    assert full.bookmark(EVENT)["last_full_pass_at"] > incremental.bookmark(EVENT)["last_full_pass_at"]


def test_a_full_pass_runs_once_its_interval_has_passed(event, run_tap):
    first = run_tap(config(event))
    imported = import_with_its_old_date(event)
    assert imported not in ids(run_tap(config(event), state=aged(first.final_state, hours=23)))
    assert imported in ids(run_tap(config(event), state=aged(first.final_state, hours=25)))


def test_full_pass_interval_zero_reads_everything_every_run(event, run_tap):
    first = run_tap(config(event, full_pass_interval_hours=0))
    imported = import_with_its_old_date(event)
    assert imported in ids(run_tap(config(event, full_pass_interval_hours=0), state=first.final_state))


def test_a_state_without_last_full_pass_at_gets_one_full_pass(event, run_tap):
    """States written before full passes existed: the first run after the upgrade reads in full."""
    first = run_tap(config(event))
    imported = import_with_its_old_date(event)
    state = copy.deepcopy(first.final_state)
    del state["bookmarks"]["guests"]["partitions"][0]["last_full_pass_at"]
    assert imported in ids(run_tap(config(event), state=state))


def test_a_bookmark_in_the_future_is_reported_and_not_trusted(event, run_tap, caplog):
    first = run_tap(config(event))
    state = aged(first.final_state, hours=1)
    state["bookmarks"]["guests"]["partitions"][0]["replication_key_value"] = "2099-01-01T00:00:00.000000Z"
    with caplog.at_level(logging.WARNING):
        output = run_tap(config(event), state=state)
    assert len(ids(output)) == 5
    assert "bookmark '2099-01-01T00:00:00.000000Z' is not before the run's end" in caplog.text
    assert output.bookmark(EVENT)["replication_key_value"] == first.bookmark(EVENT)["replication_key_value"]


def test_an_unproven_read_keeps_the_bookmark_and_says_why(event, run_tap, caplog, monkeypatch):
    first = run_tap(config(event))
    state = aged(first.final_state, hours=1)
    event.store.update_guest(EVENT, sorted(g["_id"] for g in event.store.guests(EVENT))[0], {"position": "new"})
    send = SameHostRedirectSession.send

    def empty_answers_after_the_first_page(session, request, **kwargs):
        response = send(session, request, **kwargs)
        if request.path_url.startswith(f"/api/v1/events/{EVENT}/guests.json?"):
            event.inject_fault(rf"GET /api/v1/events/{EVENT}/guests\.json", count=1, status=200, body=[])
        return response

    monkeypatch.setattr(SameHostRedirectSession, "send", empty_answers_after_the_first_page)
    with caplog.at_level(logging.WARNING):
        output = run_tap(config(event), state=state)
    assert len(output.records("guests")) == 2  # the change and the one at the bookmark, read by the first page
    assert "cannot be shown complete" in caplog.text and "answers lacked participants that are still there" in caplog.text
    assert output.bookmark(EVENT)["replication_key_value"] == first.bookmark(EVENT)["replication_key_value"]
