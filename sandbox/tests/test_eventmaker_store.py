"""Unit tests of the Eventmaker stand-in's store (sandbox/eventmaker/store.py)."""

import re
from datetime import datetime, timezone

import pytest

from sandbox.eventmaker.errors import NotFound, ValidationError
from sandbox.eventmaker.refs import SALESFORCE_REF_FIELDS
from sandbox.eventmaker.store import EventmakerStore

FROZEN = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def store():
    return EventmakerStore(now=lambda: FROZEN)


@pytest.fixture
def event(store):
    loaded = store.load({"events": [{"title": "Conf"}], "guest_categories": []})
    event_id = loaded["events"][0]
    category_id = store.add_guest_category({"event_id": event_id, "name": "VIP"})["_id"]
    return event_id, category_id


def errors_of(call):
    with pytest.raises(ValidationError) as raised:
        call()
    return raised.value.errors


def test_load_generates_ids_and_timestamps_and_returns_ids_in_input_order(store):
    loaded = store.load({"events": [{"_id": "e" * 24, "title": "A"}, {"title": "B"}]})
    assert loaded["events"][0] == "e" * 24
    assert re.fullmatch(r"[0-9a-f]{24}", loaded["events"][1])
    event_id = loaded["events"][1]
    loaded = store.load({"guest_categories": [{"event_id": event_id, "name": "VIP"}]})
    category_id = loaded["guest_categories"][0]
    loaded = store.load({"guests": [
        {"event_id": event_id, "guest_category_id": category_id, "email": f"{n}@y.z"} for n in range(3)
    ]})
    assert [store.guest(event_id, guest_id)["email"] for guest_id in loaded["guests"]] == ["0@y.z", "1@y.z", "2@y.z"]
    guest = store.guest(event_id, loaded["guests"][0])
    assert re.fullmatch(r"[0-9a-z]{10}", guest["uid"])
    assert guest["created_at"] == guest["updated_at"] == "2026-11-25T10:00:00.000Z"


def test_load_keeps_given_fields_and_normalizes_timestamps_and_refs(store, event):
    event_id, category_id = event
    [guest_id] = store.load({"guests": [{
        "_id": "a" * 24, "uid": "MY-UID", "event_id": event_id, "guest_category_id": category_id,
        "last_name": "Doe", "utm_source": "mail", "created_at": "2026-01-02T03:04:05+01:00",
        "third_party_applications_refs": {"salesforce": {"contact_id": "003000000000001AAA"}, "zoom": {"id": 7}},
    }]})["guests"]
    guest = store.guest(event_id, guest_id)
    assert (guest["_id"], guest["uid"], guest["utm_source"]) == ("a" * 24, "MY-UID", "mail")
    assert guest["created_at"] == guest["updated_at"] == "2026-01-02T02:04:05.000Z"
    refs = guest["third_party_applications_refs"]
    assert refs["zoom"] == {"id": 7}
    assert set(refs["salesforce"]) == set(SALESFORCE_REF_FIELDS)
    assert refs["salesforce"]["contact_id"] == "003000000000001AAA"
    assert refs["salesforce"]["last_error"] is None


def test_load_names_the_bad_record(store, event):
    event_id, category_id = event
    good = {"event_id": event_id, "guest_category_id": category_id, "email": "a@b.c"}
    errors = errors_of(lambda: store.load({"guests": [good, {**good, "status": "lost"}]}))
    assert errors == {"guests[1].status": ["is not included in the list"]}


def test_round_trip_through_to_dict_and_from_dict(store, event):
    event_id, category_id = event
    store.create_guest(event_id, {"guest_category_id": category_id, "last_name": "B",
                                  "guest_metadata": [{"name": "diet", "value": "vegan"}]})
    copy = EventmakerStore.from_dict(store.to_dict())
    assert copy.to_dict() == store.to_dict()
    assert copy.guest_count(event_id) == 1


def test_create_validates_like_the_api(store, event):
    event_id, category_id = event
    assert errors_of(lambda: store.create_guest(event_id, {"first_name": "Only"})) == {
        "guest_category_id": ["can't be blank"],
        "last_name": ["should be set, or at least one other element of identity: email, company or uid."],
    }
    assert errors_of(lambda: store.create_guest(event_id, {"guest_category_id": "f" * 24, "email": "a"})) == {
        "guest_category_id": ["is invalid"]}
    bad = {"guest_category_id": category_id, "email": "a", "showed_up": "yes", "label_ids": "l1",
           "guest_metadata": [{"value": "no name"}], "third_party_applications_refs": [],
           "registered_at": "not a date"}
    assert set(errors_of(lambda: store.create_guest(event_id, bad))) == {
        "showed_up", "label_ids", "guest_metadata", "third_party_applications_refs", "registered_at"}


def test_any_one_identity_element_is_enough(store, event):
    event_id, category_id = event
    for identity in ({"last_name": "L"}, {"email": "e"}, {"company_name": "C"}, {"uid": "u1"}):
        store.create_guest(event_id, {"guest_category_id": category_id, **identity})
    assert store.guest_count(event_id) == 4


def test_uid_is_unique_per_event_only(store, event):
    event_id, category_id = event
    store.create_guest(event_id, {"guest_category_id": category_id, "uid": "same"})
    assert errors_of(lambda: store.create_guest(event_id, {"guest_category_id": category_id, "uid": "same"})) == {
        "uid": ["has already been taken"]}
    other_event = store.add_event({"title": "Other"})["_id"]
    other_category = store.add_guest_category({"event_id": other_event, "name": "VIP"})["_id"]
    assert store.create_guest(other_event, {"guest_category_id": other_category, "uid": "same"})["uid"] == "same"


def test_create_ignores_read_only_and_unknown_fields(store, event):
    event_id, category_id = event
    guest = store.create_guest(event_id, {"guest_category_id": category_id, "email": "a", "_id": "b" * 24,
                                          "updated_at": "2000-01-01T00:00:00Z", "hacker": True})
    assert guest["_id"] != "b" * 24
    assert guest["updated_at"] == "2026-11-25T10:00:00.000Z"
    assert "hacker" not in guest
    assert guest["status"] == "registered" and guest["registered_at"] == "2026-11-25T10:00:00.000Z"


def test_update_replaces_sent_fields_keeps_others_and_bumps_updated_at(store, event):
    event_id, category_id = event
    created = store.create_guest(event_id, {"guest_category_id": category_id, "last_name": "Doe", "email": "a@b.c",
                                            "guest_metadata": [{"name": "a", "value": 1}, {"name": "b", "value": 2}]})
    updated = store.update_guest(event_id, created["_id"], {"email": "new@b.c", "guest_metadata": [{"name": "c"}]})
    assert updated["email"] == "new@b.c" and updated["last_name"] == "Doe"
    assert updated["guest_metadata"] == [{"name": "c"}]
    assert updated["updated_at"] == "2026-11-25T10:00:00.001Z"  # frozen clock: still strictly later
    assert updated["created_at"] == created["created_at"]
    assert store.guest(event_id, created["_id"]) is updated


def test_update_without_change_keeps_updated_at(store, event):
    event_id, category_id = event
    created = store.create_guest(event_id, {"guest_category_id": category_id, "last_name": "Doe"})
    same = store.update_guest(event_id, created["_id"], {"last_name": "Doe", "third_party_applications_refs": {}})
    assert same["updated_at"] == created["updated_at"]


def test_update_of_refs_keeps_other_apps_only_if_sent(store, event):
    event_id, category_id = event
    created = store.create_guest(event_id, {"guest_category_id": category_id, "last_name": "Doe",
                                            "third_party_applications_refs": {"zoom": {"id": 1}}})
    refs = {**created["third_party_applications_refs"]}
    refs["salesforce"] = {**refs["salesforce"], "contact_id": "003000000000001AAA"}
    updated = store.update_guest(event_id, created["_id"], {"third_party_applications_refs": refs})
    assert updated["third_party_applications_refs"]["zoom"] == {"id": 1}
    assert updated["third_party_applications_refs"]["salesforce"]["contact_id"] == "003000000000001AAA"


def test_update_validates_the_result_and_changes_nothing_on_error(store, event):
    event_id, category_id = event
    created = store.create_guest(event_id, {"guest_category_id": category_id, "last_name": "Doe"})
    taken = store.create_guest(event_id, {"guest_category_id": category_id, "uid": "taken"})
    assert errors_of(lambda: store.update_guest(event_id, created["_id"], {"status": "gone"})) == {
        "status": ["is not included in the list"]}
    assert errors_of(lambda: store.update_guest(event_id, created["_id"], {"uid": "taken"})) == {
        "uid": ["has already been taken"]}
    assert store.guest(event_id, created["_id"]) is created
    store.update_guest(event_id, created["_id"], {"uid": "fresh"})
    assert store.guest_by_uid(event_id, "fresh")["_id"] == created["_id"]
    assert store.guest_by_uid(event_id, created["uid"]) is None
    assert store.guest_by_uid(event_id, "taken") is taken


def test_delete_removes_for_good(store, event):
    event_id, category_id = event
    guest = store.create_guest(event_id, {"guest_category_id": category_id, "uid": "gone"})
    store.delete_guest(event_id, guest["_id"])
    with pytest.raises(NotFound):
        store.guest(event_id, guest["_id"])
    assert store.guest_by_uid(event_id, "gone") is None
    assert list(store.guests(event_id)) == []


def test_guests_are_listed_in_id_order_whatever_the_load_order(store, event):
    event_id, category_id = event
    ids = ["0000000000000000000000c3", "0000000000000000000000a1", "0000000000000000000000b2"]
    store.load({"guests": [{"_id": i, "event_id": event_id, "guest_category_id": category_id, "last_name": i}
                           for i in ids]})
    assert [guest["_id"] for guest in store.guests(event_id)] == sorted(ids)
    store.delete_guest(event_id, ids[2])
    assert [guest["_id"] for guest in store.guests(event_id)] == [ids[1], ids[0]]


def test_a_guest_is_only_found_under_its_own_event(store, event):
    event_id, category_id = event
    guest = store.create_guest(event_id, {"guest_category_id": category_id, "last_name": "Doe"})
    other = store.add_event({"title": "Other"})["_id"]
    with pytest.raises(NotFound):
        store.guest(other, guest["_id"])
    with pytest.raises(NotFound):
        store.guest_category(other, category_id)
    with pytest.raises(NotFound):
        list(store.guests("0" * 24))


def test_clear_forgets_everything(store, event):
    store.clear()
    assert store.to_dict() == {"events": [], "guest_categories": [], "guests": []}



def test_updated_bounds_are_served_in_id_order_after_out_of_order_loads_updates_and_deletes():
    ticks = iter(range(1, 60))
    store = EventmakerStore(now=lambda: datetime(2026, 11, 25, 10, 0, next(ticks), tzinfo=timezone.utc))
    event_id = store.add_event({"title": "Conf"})["_id"]
    category_id = store.add_guest_category({"event_id": event_id, "name": "VIP"})["_id"]
    stamps = ["2026-01-05", "2026-01-01", "2026-01-09", "2026-01-03", "2026-01-07", "2026-01-02"]
    ids = store.load({"guests": [{"_id": f"{24 - n:024x}", "event_id": event_id, "guest_category_id": category_id,
                                  "last_name": f"G{n}", "updated_at": stamp}
                                 for n, stamp in enumerate(stamps)]})["guests"]
    store.guests(event_id, updated_since="2026-01-01T00:00:00.000Z")  # builds the index before the changes
    store.update_guest(event_id, ids[1], {"last_name": "Moved"})
    store.update_guest(event_id, ids[3], {"last_name": "Moved"})
    store.delete_guest(event_id, ids[2])
    created = store.create_guest(event_id, {"guest_category_id": category_id, "last_name": "New"})["_id"]

    assert [g["_id"] for g in store.guests(event_id, updated_since="2026-11-25T00:00:00.000Z")] == sorted(
        [ids[1], ids[3], created])
    everyone = list(store.guests(event_id))
    for since, before in [("2026-01-03T00:00:00.000Z", None), (None, "2026-01-06T00:00:00.000Z"),
                          ("2026-01-02T00:00:00.000Z", "2026-11-25T10:00:02.000Z"),
                          ("2999-01-01T00:00:00.000Z", None)]:
        expected = [guest["_id"] for guest in everyone if (since is None or guest["updated_at"] >= since)
                    and (before is None or guest["updated_at"] < before)]
        served = [guest["_id"] for guest in store.guests(event_id, updated_since=since, updated_before=before)]
        assert served == expected, (since, before)
