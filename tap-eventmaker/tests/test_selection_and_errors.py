"""Participant selection rules and error message building (pure functions)."""

from __future__ import annotations

import pytest

from tap_eventmaker import errors
from tap_eventmaker.selection import ParticipantSelection, parse_sync_status


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
        (["synced", "error"], ["synced", "error"], True),
        (["error", "synced"], ["synced", "error"], True),
        (["synced", "error"], ["synced"], False),
        (["synced", "error"], ["error"], False),
        (["synced", "error"], [], False),
        (["error"], ["synced", "error"], True),
        (["never"], [], True),
        (["never"], ["synced"], False),
    ],
)
def test_sync_status_filters_are_not_exclusive_and_a_list_needs_all(wanted, statuses, matches):
    selection = ParticipantSelection.from_config({"sync_status": wanted})
    assert selection.is_filtered
    assert selection.matches({"salesforce_sync_status": statuses}) is matches


@pytest.mark.parametrize(
    ("setting", "statuses"),
    [
        ("error", ("error",)),
        (["synced", "error", "synced"], ("synced", "error")),
        (["never"], ("never",)),
        ([], ()),
        ("", ()),
        (None, ()),
    ],
)
def test_sync_status_setting_is_one_status_or_a_list_of_them(setting, statuses):
    assert parse_sync_status(setting) == statuses
    assert ParticipantSelection.from_config({"sync_status": setting}).is_filtered is bool(statuses)


@pytest.mark.parametrize("setting", [["never", "error"], ["synced", "never"], ["never", "synced", "error"]])
def test_never_cannot_be_listed_with_another_status(setting):
    with pytest.raises(ValueError, match="'never' .* cannot be combined with"):
        parse_sync_status(setting)


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
