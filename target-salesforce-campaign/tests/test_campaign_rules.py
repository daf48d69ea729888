"""Unit tests of the pure campaign rules (campaigns.py): which campaign each event goes to, start checks."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from target_salesforce_campaign.campaigns import (
    FAIL,
    NO_CAMPAIGN,
    CampaignSettings,
    campaign_name,
    new_campaign,
    new_statuses,
    no_campaign_error,
    resolve,
    status_problems,
)

C1, C2, C3 = "701000000000001AAA", "701000000000002AAA", "701000000000003AAA"
E1, E2, E3 = "a" * 24, "b" * 24, "c" * 24
FIELD = "Eventmaker_Event_Id__c"
STATUSES = {"Sent", "Responded", "Invited", "Registered", "Attended", "Cancelled"}
MAPPING = {"registered": "Registered", "showed_up": "Attended"}


def status_rows(cid, labels):
    return [{"CampaignId": cid, "Label": label} for label in sorted(labels)]


def test_campaign_id_shorthand_sends_every_event_to_it():
    s = CampaignSettings.from_config({"campaign_id": C1})
    campaigns, problems = resolve(s, [status_rows(C1, STATUSES)])
    assert problems == []
    assert campaigns.campaign_for(E1) == campaigns.campaign_for(E2) == C1
    assert s.start_queries() == [f"SELECT CampaignId, Label FROM CampaignMemberStatus WHERE CampaignId IN ('{C1}')"]


def test_explicit_map_then_event_field_and_explicit_wins():
    s = CampaignSettings.from_config({"campaign_mapping": {E1.upper(): C1}, "campaign_event_field": FIELD})
    by_field = [{"Id": C2, "Name": "Two", FIELD: E2}, {"Id": C3, "Name": "Other", FIELD: E1}]
    statuses = status_rows(C2, STATUSES) + status_rows(C3, STATUSES)
    campaigns, problems = resolve(s, [status_rows(C1, STATUSES), by_field, statuses])
    assert problems == []
    assert campaigns.campaign_for(E1) == C1  # the explicit entry, not the Campaign carrying the id
    assert campaigns.campaign_for(E2) == C2
    assert campaigns.campaign_for(E3) is None
    assert campaigns.unresolved([E3, E1, E3, E2]) == [E3]
    assert len(s.start_queries()) == 3
    assert "IN (SELECT Id FROM Campaign WHERE Eventmaker_Event_Id__c != null)" in s.start_queries()[2]


def test_unknown_campaign_and_duplicate_event_field_are_reported():
    s = CampaignSettings.from_config({"campaign_mapping": {E1: C1}, "campaign_event_field": FIELD})
    by_field = [{"Id": C2, FIELD: E2}, {"Id": C3, FIELD: E2}]
    campaigns, problems = resolve(s, [[], by_field, []])
    assert any(C1 in p and "no such Campaign" in p for p in problems)
    assert any(C2 in p and C3 in p and "Unique" in p for p in problems)
    assert campaigns.campaign_for(E2) is None  # never a random pick of the two


@pytest.mark.parametrize(
    "config, fragment",
    [
        ({"campaign_id": C1, "campaign_mapping": {E1: C2}}, "cannot be combined"),
        ({"campaign_id": C1, "campaign_event_field": FIELD}, "cannot be combined"),
        ({}, "no event has a campaign"),
        ({"campaign_mapping": {E1: C1}, "create_missing_campaigns": True}, "needs campaign_event_field"),
        ({"campaign_id": C1, "missing_campaign": "guess"}, "missing_campaign must be"),
        ({"campaign_mapping": {E1: "003000000000001AAA"}}, "not Campaign Ids"),
        ({"campaign_id": "701X"}, "not Campaign Ids"),
    ],
)
def test_contradictory_settings(config, fragment):
    assert any(fragment in p for p in CampaignSettings.from_config(config).problems())


def test_valid_settings_have_no_problem():
    for config in ({"campaign_id": C1}, {"campaign_mapping": {E1: C1}}, {"campaign_event_field": FIELD,
                   "create_missing_campaigns": True, "missing_campaign": FAIL}):
        assert CampaignSettings.from_config(config).problems() == []


def test_statuses_checked_per_campaign():
    s = CampaignSettings.from_config({"campaign_mapping": {E1: C1, E2: C2}})
    campaigns, _ = resolve(s, [status_rows(C1, STATUSES) + status_rows(C2, {"Sent", "Registered"})])
    problems = status_problems(MAPPING, campaigns)
    assert len(problems) == 1 and C2 in problems[0] and "['Attended']" in problems[0]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    explicit=st.dictionaries(st.sampled_from([E1, E2, E3]), st.sampled_from([C1, C2, C3]), max_size=3),
    carried=st.dictionaries(st.sampled_from([E1, E2, E3]), st.sampled_from([C1, C2, C3]), max_size=3),
)
def test_resolution_never_falls_back(explicit, carried):
    """Every event resolves to its explicit campaign, else the one carrying its id, else to nothing."""
    s = CampaignSettings.from_config({"campaign_mapping": explicit, "campaign_event_field": FIELD})
    by_field = [{"Id": cid, FIELD: event} for event, cid in carried.items()]
    known = status_rows(C1, STATUSES) + status_rows(C2, STATUSES) + status_rows(C3, STATUSES)
    results = ([known] if s.known_ids() else []) + [by_field, known]
    assert len(results) == len(s.start_queries())
    campaigns, _ = resolve(s, results)
    for event in (E1, E2, E3):
        assert campaigns.campaign_for(event) == explicit.get(event, carried.get(event))


def test_no_campaign_error_is_written_back_with_its_event():
    error = no_campaign_error(E1)
    assert error.code == NO_CAMPAIGN and E1 in error.message and error.to_state("t")["code"] == NO_CAMPAIGN


def test_new_campaign_payloads():
    assert campaign_name("  Salon 2026 ", E1) == "Salon 2026"
    assert campaign_name(None, E1) == f"Eventmaker event {E1}"
    assert len(campaign_name("x" * 200, E1)) == 80
    assert new_campaign(E1, "Salon", FIELD) == {"attributes": {"type": "Campaign"}, "Name": "Salon", "IsActive": True,
                                               FIELD: E1}
    created = new_statuses(C1, {"Sent", "Registered", "Attended"}, {"Sent", "Responded"})
    assert [s["Label"] for s in created] == ["Attended", "Registered"]
    assert all(s["CampaignId"] == C1 for s in created)
