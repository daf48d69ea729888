"""Participant selection rules and error message building (pure functions)."""

from __future__ import annotations

import pytest

from tap_eventmaker import errors
from tap_eventmaker.selection import ParticipantSelection


def test_no_filter_means_the_main_pipeline():
    selection = ParticipantSelection.from_config({"participant_uids": [], "search": ""})
    assert not selection.is_filtered
    assert selection.api_queries() == [{}]


def test_one_listing_per_uid_deduplicated_and_combined_with_search():
    selection = ParticipantSelection.from_config({"participant_uids": ["a", "b", "a"], "search": "status:registered"})
    assert selection.is_filtered
    assert selection.api_queries() == [
        {"search": "status:registered", "uid": "a"},
        {"search": "status:registered", "uid": "b"},
    ]


@pytest.mark.parametrize(
    ("wanted", "statuses", "matches"),
    [
        ("synced", ["synced"], True),
        ("synced", ["synced", "error"], True),
        ("error", ["synced", "error"], True),
        ("error", ["synced"], False),
        ("never", [], True),
        ("never", ["error"], False),
        ("synced", [], False),
    ],
)
def test_sync_status_filters_are_not_exclusive(wanted, statuses, matches):
    selection = ParticipantSelection(sync_status=wanted)
    assert selection.matches({"salesforce_sync_status": statuses}) is matches


def test_uids_are_checked_again_locally():
    selection = ParticipantSelection(uids=("a",))
    assert selection.matches({"uid": "a"})
    assert not selection.matches({"uid": "b"})


def test_redact_hides_the_token_in_query_strings_and_anywhere_verbatim():
    text = "GET /api/v1/events.json?auth_token=abc123&page=1 failed, token abc123"
    assert errors.redact(text, "abc123") == "GET /api/v1/events.json?auth_token=***&page=1 failed, token ***"
    assert "zzz" not in errors.redact("url?auth_token=zzz", None)


@pytest.mark.parametrize(
    ("content_type", "body", "summary"),
    [
        ("text/html", "<html><head><title>We're sorry, but\n something went wrong</title>", "an HTML page"),
        ("application/json", '{"error": "No API endpoint found"}', "No API endpoint found"),
        ("application/json", '{"errors": {"uid": ["is invalid"]}}', '{"errors":{"uid":["is invalid"]}}'),
        ("text/plain", "Bad   gateway", "Bad gateway"),
        ("", "", "empty body"),
    ],
)
def test_summarize_body(content_type, body, summary):
    assert errors.summarize_body(content_type, body).startswith(summary)


def test_html_summary_names_the_page_title():
    body = "<!DOCTYPE html><html><title>We&#39;re sorry</title></html>"
    assert errors.summarize_body("application/json", body) == "an HTML page (\"We're sorry\") instead of JSON"
