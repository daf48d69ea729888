"""Issue 9 §3, the tap's share: with sync_state_field: guest_metadata the sync columns come from custom fields."""

from __future__ import annotations

import pytest
from singer_sdk.exceptions import ConfigValidationError

from tap_eventmaker.records import prepare_guest
from tap_eventmaker.sync_state import METADATA_FIELD, metadata_entry
from tap_eventmaker.tap import TapEventmaker

EVENT = "d" * 24
CATEGORY = "c" * 24
ERROR = '{"code":"INVALID_EMAIL_ADDRESS","message":"Email: invalid email address: x"}'
OURS = [
    {"name": "diet", "value": "vegan"},
    {"name": "salesforce_contact_id", "value": "003000000000001AAA"},
    {"name": "salesforce_lead_id", "value": ""},
    {"name": "salesforce_campaign_member_id", "value": "00v000000000001AAA"},
    {"name": "salesforce_last_synced_at", "value": "2026-11-25T10:00:00Z"},
    {"name": "salesforce_last_error", "value": ERROR},
    {"name": "salesforce_fingerprint", "value": "ab" * 32},
]


def test_custom_fields_become_the_same_flat_columns():
    guest = prepare_guest({"_id": "1" * 24, "guest_metadata": OURS, "third_party_applications_refs": {}},
                          include_metadata=False, state_field=METADATA_FIELD)
    assert guest["salesforce_contact_id"] == "003000000000001AAA"
    assert guest["salesforce_lead_id"] is None  # "" is no value
    assert guest["salesforce_campaign_member_id"] == "00v000000000001AAA"
    assert guest["salesforce_last_error_code"] == "INVALID_EMAIL_ADDRESS"
    assert guest["salesforce_fingerprint"] == "ab" * 32
    assert guest["salesforce_sync_status"] == ["synced", "error"]
    assert guest["guest_metadata"] == OURS  # kept: it holds the state the target merges into


def test_the_refs_object_is_ignored_in_that_mode_and_used_otherwise():
    raw = {"_id": "1" * 24, "guest_metadata": [], "third_party_applications_refs": {"salesforce": {"contact_id": "003000000000002AAA", "last_synced_at": "2026-11-25T10:00:00Z"}}}
    assert prepare_guest(raw, include_metadata=False, state_field=METADATA_FIELD)["salesforce_sync_status"] == []
    assert prepare_guest(raw, include_metadata=False)["salesforce_contact_id"] == "003000000000002AAA"


@pytest.mark.parametrize(
    ("fields", "entry"),
    [
        (None, {}),
        ("not a list", {}),
        ([{"name": "salesforce_last_error", "value": "plain text"}], {"last_error": "plain text"}),
        ([{"name": "salesforce_contact_id", "value": None}, "junk"], {}),
    ],
)
def test_odd_custom_fields_never_break_the_record(fields, entry):
    assert metadata_entry(fields) == entry


def test_an_unknown_home_is_a_config_error():
    with pytest.raises(ConfigValidationError):
        TapEventmaker(config={"api_url": "http://x", "auth_token": "t", "sync_state_field": "somewhere"})


def test_against_the_sandbox_custom_fields_are_asked_for_and_read(eventmaker_sandbox, run_tap):
    eventmaker_sandbox.store.load({
        "events": [{"_id": EVENT, "title": "Metadata"}],
        "guest_categories": [{"_id": CATEGORY, "event_id": EVENT, "name": "All"}],
        "guests": [
            {"event_id": EVENT, "guest_category_id": CATEGORY, "email": "a@x.test", "guest_metadata": OURS},
            {"event_id": EVENT, "guest_category_id": CATEGORY, "email": "b@x.test"},
        ],
    })
    config = {"api_url": eventmaker_sandbox.url, "auth_token": eventmaker_sandbox.auth_token, "event_ids": [EVENT],
              "sync_state_field": "guest_metadata", "clock_skew_margin_seconds": 0}
    by_email = {g["email"]: g for g in run_tap(config).records("guests")}
    assert by_email["a@x.test"]["salesforce_contact_id"] == "003000000000001AAA"
    assert by_email["a@x.test"]["salesforce_sync_status"] == ["synced", "error"]
    assert by_email["b@x.test"]["salesforce_sync_status"] == []
    listings = [r for r in eventmaker_sandbox.requests() if r["path"].endswith("/guests.json")]
    assert listings and all("guest_metadata=true" in r.get("query", r.get("url", "")) for r in listings), listings[:1]
    never = run_tap({**config, "sync_status": "never"}).records("guests")
    assert [g["email"] for g in never] == ["b@x.test"]
