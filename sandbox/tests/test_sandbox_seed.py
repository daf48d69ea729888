"""The seed generator: deterministic, realistic, and every special case of its catalogue present."""

from collections import Counter
from datetime import datetime, timezone

import pytest

from sandbox.eventmaker.store import EventmakerStore
from sandbox.salesforce.store import SANDBOX_CAMPAIGN_ID, SANDBOX_STATUSES, SalesforceStore
from sandbox.seed import EVENT_ID_FIELD, SPECIAL_CASES, case_counts, generate, summary_lines

NOW = datetime(2026, 11, 30, 17, 45, 12, 345000, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def dataset():
    return generate(participants=400, events=3, seed=42, now=NOW)


def _guests_by_id(dataset):
    return {guest["_id"]: guest for guest in dataset.eventmaker["guests"]}


def _records(dataset, name):
    return dataset.salesforce["records"][name]


def _salesforce_refs(guest):
    return (guest.get("third_party_applications_refs") or {}).get("salesforce") or {}


def test_same_seed_same_data_other_seed_other_data(dataset):
    assert generate(participants=400, events=3, seed=42, now=NOW) == dataset
    other = generate(participants=400, events=3, seed=43, now=NOW)
    assert other.eventmaker["guests"] != dataset.eventmaker["guests"]
    assert not {r["Id"] for r in _records(other, "Contact")} & {r["Id"] for r in _records(dataset, "Contact")}


def test_every_case_of_the_catalogue_is_present(dataset):
    assert set(dataset.cases) == {case.key for case in SPECIAL_CASES}
    every = [guest_id for ids in dataset.cases.values() for guest_id in ids]
    assert len(every) == len(set(every))  # one case per participant


def test_varied_statuses_check_ins_and_events(dataset):
    guests = dataset.eventmaker["guests"]
    assert len(guests) == 400 and len(dataset.eventmaker["events"]) == 3
    statuses = Counter(guest["status"] for guest in guests)
    assert set(statuses) == {"imported", "invited", "registered", "pending", "declined", "cancelled"}
    assert all(guest["status"] == "registered" for guest in guests if guest["showed_up"])
    assert 0 < sum(guest["showed_up"] for guest in guests) < statuses["registered"]
    assert len({event["timezone"] for event in dataset.eventmaker["events"]}) == 3
    category_events = {c["_id"]: c["event_id"] for c in dataset.eventmaker["guest_categories"]}
    assert all(category_events[guest["guest_category_id"]] == guest["event_id"] for guest in guests)


def test_email_matches_point_at_the_right_salesforce_records(dataset):
    guests = _guests_by_id(dataset)
    contacts = {r["Email"]: r for r in _records(dataset, "Contact")}
    leads = {r["Email"]: r for r in _records(dataset, "Lead")}
    for guest_id in dataset.cases["contact_match"]:
        assert guests[guest_id]["email"] in contacts
    (other_case,) = dataset.cases["contact_match_other_case"]
    assert guests[other_case]["email"].upper() in contacts and guests[other_case]["email"] not in contacts
    for guest_id in dataset.cases["lead_match"]:
        assert leads[guests[guest_id]["email"]]["IsConverted"] is False
    (converted,) = dataset.cases["converted_lead"]
    lead = leads[guests[converted]["email"]]
    assert lead["IsConverted"] and guests[converted]["email"] not in contacts
    assert lead["ConvertedContactId"] in {r["Id"] for r in _records(dataset, "Contact")}


def test_imported_ids_cover_every_subset_and_point_at_seeded_records(dataset):
    guests = _guests_by_id(dataset)
    ids = {name: {r["Id"]: r for r in _records(dataset, name)} for name in ("Contact", "Lead", "CampaignMember")}
    campaign_of_event = {c["event_id"]: c["campaign_id"] for c in dataset.campaigns}
    subsets = set()
    for key in [case.key for case in SPECIAL_CASES if case.key.startswith("imported_")]:
        for guest_id in dataset.cases[key]:
            refs = _salesforce_refs(guests[guest_id])
            subsets.add(tuple(bool(refs[name]) for name in ("contact_id", "lead_id", "campaign_member_id")))
            assert refs["contact_id"] in ids["Contact"] or refs["contact_id"] is None
            assert refs["lead_id"] in ids["Lead"] or refs["lead_id"] is None
            if refs["campaign_member_id"]:
                member = ids["CampaignMember"][refs["campaign_member_id"]]
                assert member["CampaignId"] == campaign_of_event[guests[guest_id]["event_id"]]
                assert member["ContactId"] in ids["Contact"] or member["LeadId"] in ids["Lead"]
    assert len(subsets) == 7  # every non-empty subset of the three ids


def test_duplicates_trashed_and_bad_records(dataset):
    guests = _guests_by_id(dataset)
    emails = Counter((guest["event_id"], guest["email"]) for guest in guests.values())
    for guest_id in dataset.cases["duplicate_email_same_event"]:
        assert emails[(guests[guest_id]["event_id"], guests[guest_id]["email"])] >= 2
    for guest_id in dataset.cases["duplicate_email_other_event"]:
        same_email = [g for g in guests.values() if g["email"] == guests[guest_id]["email"]]
        assert len({g["event_id"] for g in same_email}) >= 2
    trashed = [guests[i] for key in ("trashed_synced", "trashed_never_synced") for i in dataset.cases[key]]
    assert all(guest["deleted_at"] for guest in trashed)
    assert _salesforce_refs(guests[dataset.cases["trashed_synced"][0]])["last_synced_at"]
    assert "@" not in guests[dataset.cases["invalid_email"][0]]["email"]
    assert guests[dataset.cases["missing_last_name"][0]]["last_name"] is None
    assert len(guests[dataset.cases["overlong_company"][0]]["company_name"]) > 255
    assert sum(1 for guest in guests.values() if guest["deleted_at"]) == 2


def test_the_stores_accept_the_payloads(dataset):
    eventmaker, salesforce = EventmakerStore(), SalesforceStore()
    loaded = eventmaker.load(dataset.eventmaker)
    assert loaded["guests"] == [guest["_id"] for guest in dataset.eventmaker["guests"]]
    assert salesforce.load(dataset.salesforce)["ids"]["Lead"] == [r["Id"] for r in _records(dataset, "Lead")]
    for campaign in dataset.campaigns:
        labels = [s["Label"] for s in sorted(salesforce.member_statuses(campaign["campaign_id"]),
                                             key=lambda s: s["SortOrder"])]
        assert labels == [label for label, _, _ in SANDBOX_STATUSES]  # the sandbox campaign's kept, once
        assert salesforce.get("Campaign", campaign["campaign_id"])[EVENT_ID_FIELD] == campaign[EVENT_ID_FIELD]


def test_one_campaign_per_event_the_first_is_the_sandbox_campaign(dataset):
    events = dataset.eventmaker["events"]
    assert [c["event_id"] for c in dataset.campaigns] == [e["_id"] for e in events]
    assert dataset.campaigns[0]["campaign_id"] == SANDBOX_CAMPAIGN_ID
    assert len({c["campaign_id"] for c in dataset.campaigns}) == 3
    loaded = {r["Id"]: r for r in _records(dataset, "Campaign")}
    assert list(loaded) == [c["campaign_id"] for c in dataset.campaigns]
    assert [c[EVENT_ID_FIELD] for c in dataset.campaigns] == [events[0]["_id"], None, events[2]["_id"]]
    assert [loaded[c["campaign_id"]][EVENT_ID_FIELD] for c in dataset.campaigns] == \
        [events[0]["_id"], None, events[2]["_id"]]
    assert [r["Name"] for r in loaded.values()] == ["Eventmaker Sandbox Event"] + [e["title"] for e in events[1:]]
    assert {s["CampaignId"] for s in _records(dataset, "CampaignMemberStatus")} == set(list(loaded)[1:])
    members = Counter(m["CampaignId"] for m in _records(dataset, "CampaignMember"))
    assert set(members) <= {c["campaign_id"] for c in dataset.campaigns} and len(members) >= 2


def test_participants_are_stamped_at_the_seed_time_so_a_later_sync_reads_them(dataset):
    guests = dataset.eventmaker["guests"]
    assert dataset.stamped_at == "2026-11-30T17:45:12.345Z"
    assert {(g["created_at"], g["updated_at"]) for g in guests} == {(dataset.stamped_at, dataset.stamped_at)}
    assert all(g["registered_at"] <= dataset.stamped_at for g in guests if g["registered_at"])
    before = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")  # a bookmark left by an earlier sync
    fresh = generate(participants=20, events=2, seed=1, now=datetime.now(timezone.utc))  # what `sandbox seed` does
    assert all(g["updated_at"] >= before for g in fresh.eventmaker["guests"])
    store = EventmakerStore()
    store.load(fresh.eventmaker)
    event_id = fresh.eventmaker["events"][0]["_id"]
    assert len(store.guests(event_id, updated_since=before + ".000Z")) == store.guest_count(event_id) > 0


def test_the_summary_names_each_event_campaign_and_the_stamp(dataset):
    text = "\n".join(summary_lines(dataset))
    assert "400 participants in 3 events" in text and dataset.stamped_at in text
    for campaign in dataset.campaigns:
        assert f"event {campaign['event_id']} {campaign['title']!r} -> Campaign {campaign['campaign_id']}" in text
    assert text.count(f"{EVENT_ID_FIELD} empty") == 1 and "2 new Campaigns besides" in text


def test_small_populations_keep_the_catalogue_order():
    counts = case_counts(participants=5, events=1)
    assert sum(counts.values()) == 5
    assert list(counts) == [case.key for case in SPECIAL_CASES if case.key in counts][:len(counts)]
    assert "duplicate_email_other_event" not in case_counts(participants=1000, events=1)
    assert generate(participants=0, events=1).eventmaker["guests"] == []
    with pytest.raises(ValueError):
        generate(participants=10, events=0)


def test_without_now_the_dates_are_fixed():
    first, again = generate(participants=30, seed=4), generate(participants=30, seed=4)
    assert first == again and first.stamped_at == ""
    stamps = sorted(g["updated_at"] for g in first.eventmaker["guests"])
    assert stamps[0].startswith("2026-09-01T") and len(set(stamps)) > 20
    assert all(g["created_at"] < g["updated_at"] for g in first.eventmaker["guests"] if not g["deleted_at"])
