"""Every matching path and status rule, end to end: tap -> target on both sandboxes."""

import pytest
from sandbox.seed import generate


@pytest.fixture
def seeded(pipeline):
    """60 participants with every special case of the seed catalogue, synced once."""
    dataset = pipeline.load(generate(participants=60, events=2, seed=3))
    result = pipeline.run()
    assert result.error is None, result.error
    return dataset


def case(dataset, key):
    return dataset.cases[key][0]


def test_seeded_run_leaves_one_person_and_one_member_per_participant(pipeline, seeded):
    guests = {g["_id"]: g for g in seeded.eventmaker["guests"]}
    failed = {case(seeded, k) for k in ("invalid_email", "missing_last_name", "overlong_company", "trashed_never_synced")}
    for guest_id, guest in guests.items():
        entry = pipeline.entry(guest_id)
        if guest_id in failed:
            continue
        person = entry["contact_id"] or entry["lead_id"]
        assert person, f"{guest_id} has no Contact/Lead written back: {entry}"
        member = pipeline.member_of(entry["contact_id"]) or pipeline.member_of(entry["lead_id"])
        assert member and member["Id"] == entry["campaign_member_id"]
    people = [m["ContactId"] or m["LeadId"] for m in pipeline.members()]
    assert len(people) == len(set(people)), "a person has two CampaignMembers"
    emails = [r["Email"].casefold() for o in ("Contact", "Lead") for r in pipeline.records(o)
              if r["Email"] and not r.get("IsConverted")]
    assert len(emails) == len(set(emails)), "a participant was created twice"


@pytest.mark.parametrize("key", ["imported_contact_id", "imported_contact_and_member_ids", "imported_all_ids",
                                 "imported_contact_and_lead_ids"])
def test_imported_contact_id_is_used(pipeline, seeded, key):
    guest_id = case(seeded, key)
    imported = next(g for g in seeded.eventmaker["guests"] if g["_id"] == guest_id)
    contact_id = imported["third_party_applications_refs"]["salesforce"]["contact_id"]
    entry = pipeline.entry(guest_id)
    assert entry["contact_id"] == contact_id
    assert entry["campaign_member_id"] == pipeline.member_of(contact_id)["Id"]
    assert entry["last_error"] is None and entry["last_synced_at"]


def test_imported_lead_id_is_used(pipeline, seeded):
    guest_id = case(seeded, "imported_lead_id")
    imported = next(g for g in seeded.eventmaker["guests"] if g["_id"] == guest_id)
    lead_id = imported["third_party_applications_refs"]["salesforce"]["lead_id"]
    entry = pipeline.entry(guest_id)
    assert entry["lead_id"] == lead_id and entry["contact_id"] is None
    assert pipeline.member_of(lead_id)["Id"] == entry["campaign_member_id"]


def test_imported_member_id_only_reuses_that_member(pipeline, seeded):
    guest_id = case(seeded, "imported_campaign_member_id")
    imported = next(g for g in seeded.eventmaker["guests"] if g["_id"] == guest_id)
    member_id = imported["third_party_applications_refs"]["salesforce"]["campaign_member_id"]
    entry = pipeline.entry(guest_id)
    member = next(m for m in pipeline.members() if m["Id"] == member_id)
    assert entry["campaign_member_id"] == member_id
    assert entry["contact_id"] == member["ContactId"]


def test_imported_lead_and_member_ids_update_that_member(pipeline, seeded):
    guest_id = case(seeded, "imported_lead_and_member_ids")
    imported = next(g for g in seeded.eventmaker["guests"] if g["_id"] == guest_id)
    ids = imported["third_party_applications_refs"]["salesforce"]
    entry = pipeline.entry(guest_id)
    [member] = [m for m in pipeline.records("CampaignMember") if m["Id"] == ids["campaign_member_id"]]
    assert entry["lead_id"] == ids["lead_id"] == member["LeadId"]
    # The seed puts the imported member in the campaign of the participant's own event; this pipeline
    # sends every event to one campaign, so a member of another campaign is never taken for its member.
    assert member["CampaignId"] != pipeline.sf.campaign_id
    assert entry["campaign_member_id"] != ids["campaign_member_id"]
    assert pipeline.member_of(entry["lead_id"])["Id"] == entry["campaign_member_id"]
    assert entry["campaign_id"] == pipeline.sf.campaign_id


def test_key_matching_only_a_converted_lead_goes_to_its_contact(pipeline, seeded):
    guest_id = case(seeded, "converted_lead")
    email = pipeline.guest(guest_id)["email"]
    [lead] = [r for r in pipeline.records("Lead") if r["Email"] == email]
    entry = pipeline.entry(guest_id)
    assert lead["IsConverted"] and entry["contact_id"] == lead["ConvertedContactId"]
    assert entry["lead_id"] is None
    assert pipeline.member_of(lead["ConvertedContactId"])["Id"] == entry["campaign_member_id"]


def test_stored_converted_lead_id_leads_to_converted_contact(pipeline):
    [contact_id] = pipeline.add_salesforce("Contact", {"LastName": "Conv", "Email": "new@x.example"})
    [lead_id] = pipeline.add_salesforce("Lead", {"LastName": "Conv", "Company": "C", "Email": "old@x.example",
                                                 "IsConverted": True, "ConvertedContactId": contact_id})
    [guest] = pipeline.add_guests({"email": "old@x.example", "last_name": "Conv", "status": "registered",
                                   "third_party_applications_refs": {"salesforce": {"lead_id": lead_id}}})
    assert pipeline.run().error is None
    entry = pipeline.entry(guest["_id"])
    assert entry["contact_id"] == contact_id
    assert entry["lead_id"] is None, "the participant's record is now the Contact, not the converted Lead"
    assert pipeline.member_of(contact_id)["Status"] == "Registered"
    assert pipeline.member_of(lead_id) is None
    assert len(pipeline.records("Lead")) == 1 and len(pipeline.records("Contact")) == 1


def test_deleted_stored_contact_falls_back_to_the_key(pipeline):
    gone, here = pipeline.add_salesforce("Contact", {"LastName": "Gone", "Email": "back@x.example"},
                                         {"LastName": "Here", "Email": "back@x.example"})
    pipeline.sf.store.delete("Contact", gone)
    [guest] = pipeline.add_guests({"email": "back@x.example", "last_name": "Here", "status": "invited",
                                   "third_party_applications_refs": {"salesforce": {"contact_id": gone}}})
    assert pipeline.run().error is None
    entry = pipeline.entry(guest["_id"])
    assert entry["contact_id"] == here
    assert pipeline.member_of(here)["Status"] == "Invited"


def test_contact_wins_over_lead_and_leads_match_second(pipeline):
    [contact_id] = pipeline.add_salesforce("Contact", {"LastName": "Both", "Email": "both@x.example"})
    both_lead, lead_id = pipeline.add_salesforce(
        "Lead", {"LastName": "Both", "Company": "C", "Email": "both@x.example"},
        {"LastName": "Lead", "Company": "C", "Email": "lead@x.example"})
    both, lead = pipeline.add_guests({"email": "BOTH@x.example", "last_name": "Both", "status": "registered"},
                                     {"email": "lead@x.example", "last_name": "Lead", "status": "registered"})
    assert pipeline.run().error is None
    assert pipeline.entry(both["_id"])["contact_id"] == contact_id
    assert pipeline.entry(lead["_id"])["lead_id"] == lead_id
    assert pipeline.member_of(both_lead) is None
    assert len(pipeline.records("Lead")) == 2 and len(pipeline.records("Contact")) == 1


def test_contacts_only_ignores_leads_and_creates_contacts(pipeline):
    [lead_id] = pipeline.add_salesforce("Lead", {"LastName": "Lead", "Company": "C", "Email": "lead@x.example"})
    [guest] = pipeline.add_guests({"email": "lead@x.example", "last_name": "Lead", "status": "registered"})
    assert pipeline.run(match_mode="contacts_only", create_as="Contact").error is None
    entry = pipeline.entry(guest["_id"])
    assert entry["lead_id"] is None and entry["contact_id"].startswith("003")
    assert pipeline.member_of(lead_id) is None


def test_ambiguous_match_is_a_per_participant_error(pipeline):
    pipeline.add_salesforce("Contact", {"LastName": "One", "Email": "twin@x.example"},
                            {"LastName": "Two", "Email": "twin@x.example"})
    twin, other = pipeline.add_guests({"email": "twin@x.example", "last_name": "Twin", "status": "registered"},
                                      {"email": "other@x.example", "last_name": "Other", "status": "registered"})
    assert pipeline.run().error is None
    error = pipeline.entry(twin["_id"])["last_error"]
    assert error["code"] == "AMBIGUOUS_MATCH" and error["hint"]
    assert pipeline.entry(twin["_id"])["contact_id"] is None
    assert pipeline.entry(other["_id"])["lead_id"]
    assert len(pipeline.members()) == 1


@pytest.mark.parametrize("create_as", ["Lead", "Contact"])
def test_unmatched_participant_is_created_as_configured(pipeline, create_as):
    [guest] = pipeline.add_guests({"email": "new@x.example", "first_name": "Ada", "last_name": "Lovelace",
                                   "company_name": "Analytical Engines", "position": "Engineer", "status": "registered"})
    assert pipeline.run(create_as=create_as).error is None
    [record] = pipeline.records(create_as)
    assert (record["FirstName"], record["LastName"], record["Email"], record["Title"]) == (
        "Ada", "Lovelace", "new@x.example", "Engineer")
    if create_as == "Lead":
        assert record["Company"] == "Analytical Engines"
    entry = pipeline.entry(guest["_id"])
    assert entry["contact_id" if create_as == "Contact" else "lead_id"] == record["Id"]


def test_lead_without_company_gets_the_fallback(pipeline):
    pipeline.add_guests({"email": "solo@x.example", "last_name": "Solo", "status": "registered"})
    assert pipeline.run(lead_company_fallback="Individual").error is None
    [lead] = pipeline.records("Lead")
    assert lead["Company"] == "Individual"


STATUS_CASES = [
    ({"status": "registered", "showed_up": True}, "Attended"),
    ({"status": "registered"}, "Registered"),
    ({"status": "invited"}, "Invited"),
    ({"status": "pending"}, "Invited"),
    ({"status": "imported"}, "Sent"),
    ({"status": "declined"}, "Cancelled"),
    ({"status": "cancelled"}, "Cancelled"),
]


def test_statuses_are_mapped(pipeline):
    guests = pipeline.add_guests(*[{"email": f"s{i}@x.example", "last_name": f"S{i}", **fields}
                                   for i, (fields, _) in enumerate(STATUS_CASES)])
    assert pipeline.run().error is None
    for guest, (_, label) in zip(guests, STATUS_CASES):
        entry = pipeline.entry(guest["_id"])
        assert pipeline.member_of(entry["lead_id"])["Status"] == label, guest


def test_check_in_then_trash_updates_the_member(pipeline):
    [guest] = pipeline.add_guests({"email": "t@x.example", "last_name": "T", "status": "registered"})
    assert pipeline.run().error is None
    lead_id = pipeline.entry(guest["_id"])["lead_id"]
    pipeline.em.store.update_guest(guest["event_id"], guest["_id"], {"showed_up": True})
    assert pipeline.run().error is None
    assert pipeline.member_of(lead_id)["Status"] == "Attended"
    pipeline.em.store.update_guest(guest["event_id"], guest["_id"], {"deleted_at": "2026-12-02T00:00:00Z"})
    assert pipeline.run().error is None
    assert pipeline.member_of(lead_id)["Status"] == "Cancelled"
    assert len(pipeline.records("Lead")) == 1


def test_trashed_participants(pipeline, seeded):
    synced = pipeline.entry(case(seeded, "trashed_synced"))
    assert pipeline.member_of(synced["contact_id"])["Status"] == "Cancelled"
    never = case(seeded, "trashed_never_synced")
    email = pipeline.guest(never)["email"]
    assert not [r for o in ("Contact", "Lead") for r in pipeline.records(o) if r["Email"] == email]
    entry = pipeline.entry(never)
    assert not any(entry[k] for k in ("contact_id", "lead_id", "campaign_member_id", "last_synced_at", "last_error"))
