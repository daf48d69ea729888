"""The Eventmaker stand-in's live config and the behaviours the write-back and the paged read rely on.

Driven over HTTP through the ``eventmaker_sandbox`` fixture (recording/fault middleware included).
"""

import pytest
import requests

from sandbox.common.control import SandboxControlError

REFS = {"salesforce": {"contact_id": "003000000000001AAA", "lead_id": None, "campaign_member_id": None,
                       "last_synced_at": "2026-11-25T10:00:00.000Z", "last_error": None, "fingerprint": "f1"},
        "badges": {"id": "b1"}}


@pytest.fixture
def event(eventmaker_sandbox):
    box = eventmaker_sandbox
    [event_id] = box.load({"events": [{"title": "Config Summit"}]})["events"]
    [category] = box.load({"guest_categories": [{"event_id": event_id, "name": "VIP"}]})["guest_categories"]
    session = requests.Session()

    def call(method, path, params=None, **kwargs):
        return session.request(method, f"{box.url}/api/v1/events/{event_id}{path}",
                               params={"auth_token": box.auth_token, **(params or {})}, timeout=10, **kwargs)

    def add(count):
        return box.load({"guests": [{"event_id": event_id, "guest_category_id": category, "last_name": f"G{index}",
                                     "updated_at": "2026-01-01T00:00:00Z"} for index in range(count)]})["guests"]

    yield box, call, add
    session.close()


def test_config_reads_changes_and_refuses_unknown_or_mistyped_settings(eventmaker_sandbox):
    assert eventmaker_sandbox.call("GET", "config") == {"ignore_refs_writes": False}
    assert eventmaker_sandbox.configure(ignore_refs_writes=True) == {"ignore_refs_writes": True}
    for bad in ({"ignore_ref_writes": True}, {"ignore_refs_writes": "yes"}):
        with pytest.raises(SandboxControlError, match="400"):
            eventmaker_sandbox.call("POST", "config", bad)
    assert eventmaker_sandbox.call("GET", "config") == {"ignore_refs_writes": True}


def test_ignore_refs_writes_drops_the_refs_of_puts_and_creates_silently(event):
    box, call, add = event
    [guest_id] = add(1)
    box.configure(ignore_refs_writes=True)
    path = f"/guests/{guest_id}.json"
    before = call("GET", path).json()

    only_refs = call("PUT", path, json={"guest": {"third_party_applications_refs": REFS}})
    assert (only_refs.status_code, only_refs.content) == (204, b"")
    assert call("GET", path).json() == before  # nothing stored, updated_at not bumped

    both = call("PUT", path, json={"guest": {"third_party_applications_refs": REFS, "email": "new@example.org"}})
    after = call("GET", path).json()
    assert both.status_code == 204 and after["email"] == "new@example.org"
    assert after["third_party_applications_refs"] == before["third_party_applications_refs"]
    assert after["updated_at"] > before["updated_at"]

    created = call("POST", "/guests.json", json={"guest": {"last_name": "New", "guest_category_id":
                                                           before["guest_category_id"],
                                                           "third_party_applications_refs": REFS}})
    assert created.status_code == 201 and created.json()["third_party_applications_refs"]["salesforce"]["contact_id"] is None

    box.configure(ignore_refs_writes=False)
    assert call("PUT", path, json={"guest": {"third_party_applications_refs": REFS}}).status_code == 204
    assert call("GET", path).json()["third_party_applications_refs"] == REFS


def test_unknown_parameters_of_a_put_are_ignored(event):
    _, call, add = event
    [guest_id] = add(1)
    path = f"/guests/{guest_id}.json"
    before = call("GET", path).json()
    reply = call("PUT", path, json={"guest": {"favourite_colour": "blue", "_id": "x", "updated_at": "2030-01-01"}})
    assert reply.status_code == 204 and call("GET", path).json() == before


def test_guest_metadata_is_replaced_whole_and_served_only_when_asked(event):
    _, call, add = event
    [guest_id] = add(1)
    path = f"/guests/{guest_id}.json"
    first = [{"name": "sf_contact", "value": "003"}, {"name": "diet", "value": "vegan"}]
    assert call("PUT", path, json={"guest": {"guest_metadata": first}}).status_code == 204
    assert call("PUT", path, json={"guest": {"guest_metadata": [first[0]]}}).status_code == 204
    assert call("GET", path, {"guest_metadata": "true"}).json()["guest_metadata"] == [first[0]]
    [listed] = call("GET", "/guests.json", {"page": 1, "guest_metadata": "true"}).json()
    assert listed["guest_metadata"] == [first[0]]
    assert "guest_metadata" not in call("GET", path).json()


def test_a_deletion_during_a_paged_read_shifts_the_later_pages_as_offsets_do(event):
    _, call, add = event
    ids = add(5)
    assert ids == sorted(ids)

    def page(number):
        return [g["_id"] for g in call("GET", "/guests.json", {"page": number, "per_page": 2}).json()]

    assert page(1) == ids[:2]
    assert call("DELETE", f"/guests/{ids[0]}.json").status_code == 204
    assert call("GET", f"/guests/{ids[0]}.json").status_code == 404
    assert page(2) == ids[3:5]  # ids[2] moved to page 1: a reader going on to page 2 never sees it
    assert page(3) == []


def test_a_fault_can_serve_an_empty_page_with_200(event):
    box, call, add = event
    ids = add(3)
    box.inject_fault(r"GET /api/v1/events/[^/]+/guests\.json", count=1, status=200, body=[])
    empty = call("GET", "/guests.json", {"page": 1})
    assert (empty.status_code, empty.json()) == (200, [])
    assert [g["_id"] for g in call("GET", "/guests.json", {"page": 1}).json()] == ids
