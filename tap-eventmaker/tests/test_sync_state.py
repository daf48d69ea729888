"""Flattening the Salesforce entry of third_party_applications_refs (contracts §1, §2)."""

from __future__ import annotations

import json

import pytest

from tap_eventmaker.records import prepare_guest
from tap_eventmaker.sync_state import sync_columns

ERROR = {"code": "INVALID_EMAIL_ADDRESS", "message": "Email: invalid email address: x", "fields": ["Email"]}


def test_a_synced_participant_with_a_later_error_is_both_synced_and_error():
    refs = {
        "salesforce": {
            "contact_id": "003000000000001AAA",
            "lead_id": None,
            "campaign_member_id": "00v000000000001AAA",
            "campaign_id": "701000000000001AAA",
            "last_synced_at": "2026-11-25T10:00:00Z",
            "last_error": ERROR,
            "fingerprint": "ab" * 32,
        },
        "hubspot": {"id": "42"},
    }
    assert sync_columns(refs) == {
        "salesforce_contact_id": "003000000000001AAA",
        "salesforce_lead_id": None,
        "salesforce_campaign_member_id": "00v000000000001AAA",
        "salesforce_campaign_id": "701000000000001AAA",
        "salesforce_last_synced_at": "2026-11-25T10:00:00Z",
        "salesforce_fingerprint": "ab" * 32,
        "salesforce_last_error": ERROR,
        "salesforce_last_error_code": "INVALID_EMAIL_ADDRESS",
        "salesforce_last_error_message": "Email: invalid email address: x",
        "salesforce_sync_status": ["synced", "error"],
    }


@pytest.mark.parametrize(
    ("entry", "status"),
    [
        ({"last_synced_at": "2026-11-25T10:00:00Z", "last_error": None}, ["synced"]),
        ({"last_synced_at": None, "last_error": ERROR}, ["error"]),
        ({"last_synced_at": None, "last_error": None}, []),
    ],
)
def test_sync_status_lists_every_status_that_applies(entry, status):
    assert sync_columns({"salesforce": entry})["salesforce_sync_status"] == status


@pytest.mark.parametrize("refs", [None, {}, {"other_app": {"id": 1}}, "not json", 42, {"salesforce": "x"}])
def test_missing_or_unreadable_refs_mean_never_synced(refs):
    columns = sync_columns(refs)
    assert columns["salesforce_sync_status"] == []
    assert columns["salesforce_contact_id"] is None
    assert columns["salesforce_last_error"] is None


def test_ids_imported_with_the_participant_surface_without_a_sync_status():
    columns = sync_columns({"salesforce": {"lead_id": "00Q000000000001AAA"}})
    assert columns["salesforce_lead_id"] == "00Q000000000001AAA"
    assert columns["salesforce_contact_id"] is None
    assert columns["salesforce_sync_status"] == []


def test_a_bare_string_error_is_kept_as_the_message():
    columns = sync_columns({"salesforce": {"last_error": "boom"}})
    assert columns["salesforce_last_error_message"] == "boom"
    assert columns["salesforce_last_error_code"] is None
    assert columns["salesforce_sync_status"] == ["error"]


def test_refs_given_as_json_text_are_read_and_emitted_as_an_object():
    refs = {"salesforce": {"contact_id": "003000000000002AAA"}}
    guest = prepare_guest(
        {"_id": "g1", "updated_at": "2026-11-25T11:00:00+01:00", "third_party_applications_refs": json.dumps(refs)},
        include_metadata=False,
    )
    assert guest["third_party_applications_refs"] == refs
    assert guest["salesforce_contact_id"] == "003000000000002AAA"
    assert guest["updated_at"] == "2026-11-25T10:00:00.000000Z"


def test_guest_metadata_is_dropped_unless_asked_for():
    raw = {"_id": "g1", "guest_metadata": [{"name": "diet", "value": "vegan"}]}
    assert "guest_metadata" not in prepare_guest(raw, include_metadata=False)
    assert prepare_guest(raw, include_metadata=True)["guest_metadata"] == raw["guest_metadata"]


def test_an_unreadable_updated_at_becomes_null_instead_of_failing():
    assert prepare_guest({"_id": "g1", "updated_at": "yesterday"}, include_metadata=False)["updated_at"] is None
