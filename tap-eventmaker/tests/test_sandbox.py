"""The tap against the Eventmaker sandbox (a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import collections
import logging

import pytest
from sandbox.seed import generate
from singer_sdk.exceptions import FatalAPIError

GUESTS_PATH = r"GET /api/v1/events/[0-9a-f]+/guests\.json"


@pytest.fixture
def seeded(eventmaker_sandbox):
    """1,234 participants over 2 events."""
    dataset = generate(participants=1234, events=2, seed=7)
    eventmaker_sandbox.store.load(dataset.eventmaker)
    eventmaker_sandbox.dataset = dataset
    return eventmaker_sandbox


def config(sandbox, **overrides) -> dict:
    # Same clock as the sandbox, which stamps the seed just before: no skew margin.
    return {"api_url": sandbox.url, "auth_token": sandbox.auth_token, "clock_skew_margin_seconds": 0, **overrides}


def guest_requests(sandbox) -> list[dict]:
    return [r for r in sandbox.requests() if r["path"].endswith("/guests.json")]


def test_every_seeded_participant_is_emitted_once_over_pages(seeded, run_tap, caplog):
    with caplog.at_level(logging.INFO):
        output = run_tap(config(seeded))
    guests = output.records("guests")
    seeded_ids = [g["_id"] for g in seeded.dataset.eventmaker["guests"]]
    assert len(guests) == len(seeded_ids) == 1234
    assert sorted(g["_id"] for g in guests) == sorted(seeded_ids)
    assert len(output.records("events")) == 2
    pages = collections.Counter(r["path"] for r in guest_requests(seeded))
    # ~617 per event at 500 per page: a full page then a short one. Then the completeness check: the
    # seed stamps the participants in one or two milliseconds, so either one page per instant, or
    # (more than a page in one instant) two more reads of two pages.
    assert all(count in (4, 6) for count in pages.values()), pages
    assert "guest_count is" not in caplog.text


def test_second_run_emits_only_participants_changed_since(seeded, run_tap):
    first = run_tap(config(seeded))
    changed = seeded.dataset.eventmaker["guests"][10:13]
    for guest in changed:
        seeded.store.update_guest(guest["event_id"], guest["_id"], {"position": "Chief Data Officer"})
    second = run_tap(config(seeded), state=first.final_state)
    emitted = {g["_id"]: g for g in second.records("guests")}
    assert {g["_id"] for g in changed} <= emitted.keys()
    assert all(emitted[g["_id"]]["position"] == "Chief Data Officer" for g in changed)
    # At-least-once: besides the changes, only participants updated exactly at an event's previous
    # bookmark are read again (the bound is inclusive so that none updated in that instant is lost;
    # the seed stamps them all in one instant).
    bookmarks = {p["context"]["event_id"]: p["replication_key_value"] for p in first.final_state["bookmarks"]["guests"]["partitions"]}
    unchanged = [g for i, g in emitted.items() if i not in {c["_id"] for c in changed}]
    assert all(g["updated_at"] == bookmarks[g["event_id"]] for g in unchanged)


def test_imported_ids_surface_in_the_sync_columns(seeded, run_tap):
    by_id = {g["_id"]: g for g in run_tap(config(seeded)).records("guests")}
    imported = {g["_id"]: g for g in seeded.dataset.eventmaker["guests"] if g.get("third_party_applications_refs")}
    assert imported
    for guest_id, source in imported.items():
        entry = source["third_party_applications_refs"]["salesforce"]
        record = by_id[guest_id]
        assert record["salesforce_contact_id"] == entry["contact_id"]
        assert record["salesforce_lead_id"] == entry["lead_id"]
        assert record["salesforce_campaign_member_id"] == entry["campaign_member_id"]
        assert record["salesforce_sync_status"] == (["synced"] if entry["last_synced_at"] else [])
    lead_only = seeded.dataset.cases["imported_lead_id"]
    assert all(by_id[i]["salesforce_lead_id"] and not by_id[i]["salesforce_contact_id"] for i in lead_only)


def mark(sandbox, guest: dict, refs: dict) -> None:
    sandbox.store.update_guest(guest["event_id"], guest["_id"], {"third_party_applications_refs": refs})


def test_filters_by_uid_search_and_sync_status(seeded, run_tap):
    guests = seeded.dataset.eventmaker["guests"]
    event_id = guests[0]["event_id"]
    synced, failed, both = [g for g in guests if g["event_id"] == event_id][:3]
    error = {"code": "INVALID_EMAIL_ADDRESS", "message": "Email: invalid email address"}
    mark(seeded, synced, {"salesforce": {"contact_id": "003000000000009AAA", "last_synced_at": "2026-11-25T10:00:00Z"}})
    mark(seeded, failed, {"salesforce": {"last_error": error}})
    mark(seeded, both, {"salesforce": {"contact_id": "003000000000008AAA", "last_synced_at": "2026-11-25T10:00:00Z", "last_error": error}})
    only_event = config(seeded, event_ids=[event_id])

    def ids(**filters) -> set[str]:
        return {g["_id"] for g in run_tap({**only_event, **filters}).records("guests")}

    already_synced = {g["_id"] for g in guests if g["event_id"] == event_id and (g.get("third_party_applications_refs") or {}).get("salesforce", {}).get("last_synced_at")}
    assert ids(sync_status="error") == {failed["_id"], both["_id"]}
    assert ids(sync_status="synced") == {synced["_id"], both["_id"]} | already_synced
    assert ids(sync_status=["synced", "error"]) == {both["_id"]}
    seeded.clear_requests()
    assert ids(participant_uids=[synced["uid"], failed["uid"]]) == {synced["_id"], failed["_id"]}
    assert len(guest_requests(seeded)) == 2
    registered = {g["_id"] for g in guests if g["event_id"] == event_id and g["status"] == "registered"}
    assert ids(search="status:registered") == registered


def test_a_filtered_run_keeps_the_main_bookmark(seeded, run_tap):
    first = run_tap(config(seeded))
    resend = run_tap(config(seeded, sync_status="never"), state=first.final_state)
    assert resend.records("guests")
    assert resend.final_state["bookmarks"]["guests"] == first.final_state["bookmarks"]["guests"]


def test_403_for_a_wrong_token(seeded, run_tap):
    with pytest.raises(FatalAPIError, match="auth_token rejected"):
        run_tap(config(seeded, auth_token="wrong-token"))


def test_500_html_and_a_slow_response_are_retried(seeded, run_tap, caplog):
    seeded.inject_fault(GUESTS_PATH, count=1, status=500, body={"error": "boom"})
    seeded.inject_fault(GUESTS_PATH, count=1, status=502, body="<html><title>Bad Gateway</title></html>", content_type="text/html")
    seeded.inject_fault(GUESTS_PATH, count=1, kind="delay", delay_ms=2500)
    output = run_tap(config(seeded, request_timeout=1))
    assert len(output.records("guests")) == 1234
    statuses = [r["status"] for r in guest_requests(seeded)]
    # All three faults reached the tap: the timed-out request is logged as abandoned (499).
    assert statuses.count(500) == statuses.count(502) == statuses.count(499) == 1
    assert sum("Backing off" in r.getMessage() for r in caplog.records) == 3  # each cost one retry


def test_debug_logs_of_a_real_http_run_never_show_the_token(seeded, run_tap, caplog):
    with caplog.at_level(logging.DEBUG):
        run_tap(config(seeded, event_ids=[seeded.dataset.eventmaker["events"][0]["_id"]]))
    assert any(r.name.startswith("urllib3") for r in caplog.records)  # urllib3 did log request lines
    assert seeded.auth_token not in caplog.text
