"""Every event in its own campaign (issue 12), on both sandboxes: campaign_mapping, campaign_event_field,
created campaigns, events without a campaign, per-campaign status checks, one person in several events."""

import pytest

from target_salesforce_campaign.errors import ConfigError

FIELD = "Eventmaker_Event_Id__c"
STATUSES = ["Sent", "Responded", "Invited", "Registered", "Attended", "Cancelled"]
EVENTS = ["a1" * 12, "b2" * 12, "c3" * 12]


def load_events(pipeline, guests_by_event, titles=None):
    """Events (with a category each) and their guests; returns {event_id: [guest _id, ...]}."""
    events = [{"_id": e, "title": (titles or {}).get(e, f"Event {e[:2]}"), "start_date": "2026-12-01T09:00:00Z"}
              for e in guests_by_event]
    categories = [{"_id": e[:22] + "ca", "event_id": e, "name": "Attendee"} for e in guests_by_event]
    guests = [{"event_id": e, "guest_category_id": e[:22] + "ca", **g} for e, gs in guests_by_event.items() for g in gs]
    loaded = pipeline.em.store.load({"events": events, "guest_categories": categories, "guests": guests})
    ids = iter(loaded["guests"])
    return {e: [next(ids) for _ in gs] for e, gs in guests_by_event.items()}


def add_campaign(pipeline, name, event_id=None, statuses=STATUSES):
    [cid] = pipeline.add_salesforce("Campaign", {"Name": name, "IsActive": True,
                                                 **({FIELD: event_id} if event_id else {})})
    have = {s["Label"] for s in pipeline.sf.store.member_statuses(cid)}
    pipeline.add_salesforce("CampaignMemberStatus", *[{"CampaignId": cid, "Label": s} for s in statuses if s not in have])
    return cid


def members_of(pipeline, campaign_id):
    return [m for m in pipeline.records("CampaignMember") if m["CampaignId"] == campaign_id]


def by_event(pipeline, **settings):
    return {"campaign_id": None, **settings}


def test_three_events_three_campaigns_and_one_person_in_two_events(pipeline):
    c1 = add_campaign(pipeline, "Explicit")
    c2 = add_campaign(pipeline, "By field", EVENTS[1])
    ids = load_events(pipeline, {
        EVENTS[0]: [{"email": "both@x.example", "last_name": "Both", "status": "registered"},
                    {"email": "one@x.example", "last_name": "One", "status": "registered"}],
        EVENTS[1]: [{"email": "both@x.example", "last_name": "Both", "status": "registered", "showed_up": True}],
        EVENTS[2]: [{"email": "three@x.example", "last_name": "Three", "status": "invited"}],
    }, titles={EVENTS[2]: "Salon de l'auto 2026"})
    result = pipeline.run(**by_event(pipeline, campaign_mapping={EVENTS[0]: c1}, campaign_event_field=FIELD,
                                     create_missing_campaigns=True))
    assert result.error is None
    [c3] = [c["Id"] for c in pipeline.records("Campaign") if c.get(FIELD) == EVENTS[2]]
    assert next(c for c in pipeline.records("Campaign") if c["Id"] == c3)["Name"] == "Salon de l'auto 2026"
    both = [pipeline.entry(ids[EVENTS[0]][0]), pipeline.entry(ids[EVENTS[1]][0])]
    assert both[0]["lead_id"] == both[1]["lead_id"], "one person, one Lead"
    assert len([lead for lead in pipeline.records("Lead") if lead["Email"] == "both@x.example"]) == 1
    statuses = {m["CampaignId"]: m["Status"] for m in pipeline.records("CampaignMember")
                if m["LeadId"] == both[0]["lead_id"]}
    assert statuses == {c1: "Registered", c2: "Attended"}, "each event's member keeps its own status"
    member = {m["Id"]: m["CampaignId"] for m in pipeline.records("CampaignMember")}
    assert member[both[0]["campaign_member_id"]] == c1 and member[both[1]["campaign_member_id"]] == c2
    assert member[pipeline.entry(ids[EVENTS[2]][0])["campaign_member_id"]] == c3
    assert [both[0]["campaign_id"], both[1]["campaign_id"], pipeline.entry(ids[EVENTS[2]][0])["campaign_id"]] == [
        c1, c2, c3], "each entry names its member's campaign"
    assert {m["Status"] for m in members_of(pipeline, c3)} == {"Invited"}
    assert set(STATUSES) <= {s["Label"] for s in pipeline.sf.store.member_statuses(c3)}
    again = pipeline.run(**by_event(pipeline, campaign_mapping={EVENTS[0]: c1}, campaign_event_field=FIELD,
                                    create_missing_campaigns=True))
    assert again.error is None and pipeline.salesforce_writes() == [] and pipeline.writebacks() == []
    assert len([c for c in pipeline.records("Campaign") if c.get(FIELD) == EVENTS[2]]) == 1, "created once"
    pipeline.em.store.update_guest(EVENTS[0], ids[EVENTS[0]][0], {"status": "cancelled"})
    pipeline.em.store.update_guest(EVENTS[1], ids[EVENTS[1]][0], {"first_name": "Renamed"})
    changed = pipeline.run(**by_event(pipeline, campaign_mapping={EVENTS[0]: c1}, campaign_event_field=FIELD))
    assert changed.error is None and changed.summary.outcomes["updated"] == 2
    statuses = {m["CampaignId"]: m["Status"] for m in pipeline.records("CampaignMember")
                if m["LeadId"] == both[0]["lead_id"]}
    assert statuses == {c1: "Cancelled", c2: "Attended"}, "an existing person's members are told apart by campaign"
    assert [pipeline.entry(ids[e][0])["campaign_member_id"] for e in EVENTS[:2]] == [
        both[0]["campaign_member_id"], both[1]["campaign_member_id"]]


def test_event_without_campaign_is_skipped_with_a_reason_never_sent_elsewhere(pipeline):
    c1 = add_campaign(pipeline, "Only one")
    ids = load_events(pipeline, {EVENTS[0]: [{"email": "in@x.example", "last_name": "In", "status": "registered"}],
                                 EVENTS[1]: [{"email": "out@x.example", "last_name": "Out", "status": "registered"}]})
    result = pipeline.run(**by_event(pipeline, campaign_mapping={EVENTS[0]: c1}))
    assert result.error is None
    out = pipeline.entry(ids[EVENTS[1]][0])
    assert out["last_error"]["code"] == "NO_CAMPAIGN_FOR_EVENT" and EVENTS[1] in out["last_error"]["message"]
    assert "campaign_mapping" in out["last_error"]["hint"]
    assert out["lead_id"] is None and out["campaign_member_id"] is None
    assert [lead["Email"] for lead in pipeline.records("Lead")] == ["in@x.example"]
    assert {m["CampaignId"] for m in pipeline.records("CampaignMember")} == {c1}
    assert result.summary.failures["NO_CAMPAIGN_FOR_EVENT"] == 1
    assert pipeline.run(**by_event(pipeline, campaign_mapping={EVENTS[0]: c1})).summary.outcomes["unchanged"] == 2
    c2 = add_campaign(pipeline, "Added later")
    later = pipeline.run(**by_event(pipeline, campaign_mapping={EVENTS[0]: c1, EVENTS[1]: c2}))
    assert later.error is None and pipeline.entry(ids[EVENTS[1]][0])["last_error"] is None
    assert len(members_of(pipeline, c2)) == 1


def test_missing_campaign_fail_stops_before_any_write(pipeline):
    c1 = add_campaign(pipeline, "Only one")
    load_events(pipeline, {EVENTS[0]: [{"email": "in@x.example", "last_name": "In", "status": "registered"}],
                           EVENTS[1]: [{"email": "out@x.example", "last_name": "Out", "status": "registered"}]})
    result = pipeline.run(**by_event(pipeline, campaign_mapping={EVENTS[0]: c1}, missing_campaign="fail"))
    assert isinstance(result.error, ConfigError) and EVENTS[1] in str(result.error)
    assert pipeline.salesforce_writes() == [] and pipeline.writebacks() == []


@pytest.mark.parametrize("settings, fragment", [
    ({"campaign_mapping": {EVENTS[0]: "701000000000009AAA"}}, "no such Campaign"),
    ({"campaign_id": "701000000000001AAA", "campaign_event_field": FIELD}, "cannot be combined"),
    ({"campaign_event_field": "Nope__c"}, "Nope__c"),
])
def test_bad_campaign_settings_fail_at_start(pipeline, settings, fragment):
    load_events(pipeline, {EVENTS[0]: [{"email": "in@x.example", "last_name": "In", "status": "registered"}]})
    result = pipeline.run(**{"campaign_id": None, **settings})
    assert isinstance(result.error, ConfigError) and fragment in str(result.error)
    assert pipeline.salesforce_writes() == []


def test_statuses_are_checked_per_campaign_in_the_start_call(pipeline):
    c1 = add_campaign(pipeline, "Complete")
    c2 = add_campaign(pipeline, "Lacks Attended", EVENTS[1], statuses=["Sent", "Responded", "Invited", "Registered",
                                                                        "Cancelled"])
    load_events(pipeline, {EVENTS[0]: [{"email": "in@x.example", "last_name": "In", "status": "registered"}]})
    result = pipeline.run(**by_event(pipeline, campaign_mapping={EVENTS[0]: c1}, campaign_event_field=FIELD))
    assert isinstance(result.error, ConfigError)
    assert c2 in str(result.error) and "Attended" in str(result.error) and c1 not in str(result.error)
    assert pipeline.salesforce_calls() == 1, "the start checks are one Composite call"


def _new_people(n, prefix):
    return [{"email": f"{prefix}{i}@x.example", "last_name": f"L{i}", "company_name": "Acme",
             "status": ("registered", "invited", "cancelled")[i % 3]} for i in range(n)]


def _calls_for(pipeline, sizes, **settings):
    """Salesforce calls of a first run (all new) and of a run after every participant checked in."""
    campaigns = {e: add_campaign(pipeline, f"Campaign {e[:2]}") for e in sizes}
    ids = load_events(pipeline, {e: _new_people(n, e[:2]) for e, n in sizes.items()})
    first = pipeline.run(**by_event(pipeline, campaign_mapping=campaigns, **settings))
    assert first.error is None and first.summary.outcomes["created"] == sum(sizes.values())
    created_calls = pipeline.salesforce_calls()
    for e, guests in ids.items():
        for g in guests:
            pipeline.em.store.update_guest(e, g, {"showed_up": True})
    second = pipeline.run(**by_event(pipeline, campaign_mapping=campaigns, **settings))
    assert second.error is None and second.summary.outcomes["updated"] == sum(sizes.values())
    for cid in campaigns.values():
        assert {m["Status"] for m in members_of(pipeline, cid)} == {"Attended"}
    return created_calls, pipeline.salesforce_calls()


@pytest.mark.parametrize("events", [EVENTS[:1], EVENTS])
def test_batches_mixing_events_cost_the_calls_of_one_event(pipeline, events):
    """60 participants in batches of 30: with 3 events of 20 two batches hold two events each.

    New: the start call, then per batch lookup, people, members. Checked in: per batch lookup and one
    update of the 30 people with their members' Status (60 records, one Collections call)."""
    sizes = {e: 60 // len(events) for e in events}
    assert _calls_for(pipeline, sizes, batch_size=30) == (1 + 2 * 3, 1 + 2 * 2)


@pytest.mark.slow
def test_calls_per_thousand_new_participants_in_three_campaigns(pipeline, capsys):
    three = _calls_for(pipeline, dict(zip(EVENTS, (334, 333, 333))))  # 1,000 participants, 3 events, 3 campaigns
    with capsys.disabled():
        print(f"\nSalesforce API calls for 1,000 participants in 3 events / 3 campaigns: new {three[0]}, "
              f"all changed {three[1]}")
    assert three == (1 + 5 * 3, 1 + 5 * 3)  # as for one event: start call; per batch of 200: lookup, people, members


def test_dry_run_creates_no_campaign(pipeline):
    ids = load_events(pipeline, {EVENTS[2]: [{"email": "dry@x.example", "last_name": "Dry", "status": "registered"}]})
    before = pipeline.records("Campaign")
    result = pipeline.run(**by_event(pipeline, campaign_event_field=FIELD, create_missing_campaigns=True, dry_run=True))
    assert result.error is None and result.summary.outcomes["created"] == 1
    assert pipeline.records("Campaign") == before and pipeline.salesforce_writes() == [] and pipeline.writebacks() == []
    assert pipeline.entry(ids[EVENTS[2]][0])["last_synced_at"] is None


def test_a_campaign_created_before_its_events_record_arrives_is_named_from_eventmaker(pipeline):
    """The tap writes an event's record after its guests: a full batch before it reads the title."""
    load_events(pipeline, {EVENTS[2]: [{"email": f"early{i}@x.example", "last_name": "Early", "status": "registered"}
                                       for i in range(2)]}, titles={EVENTS[2]: "Read from Eventmaker"})
    result = pipeline.run(**by_event(pipeline, campaign_event_field=FIELD, create_missing_campaigns=True, batch_size=1))
    assert result.error is None and result.summary.outcomes["created"] == 2
    [created] = [c for c in pipeline.records("Campaign") if c.get(FIELD) == EVENTS[2]]
    assert created["Name"] == "Read from Eventmaker"
    reads = [r for r in pipeline.em.requests() if r["method"] == "GET" and r["path"] == f"/api/v1/events/{EVENTS[2]}.json"]
    assert len(reads) == 1, "the title is read once, for the one campaign created"
