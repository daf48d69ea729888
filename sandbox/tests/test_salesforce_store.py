"""The in-memory org: its rules, transactions, bulk load, persistence and indexed lookups."""

import json

import pytest

from sandbox.salesforce.errors import SalesforceError
from sandbox.salesforce import store as store_module
from sandbox.salesforce.soql_eval import bind
from sandbox.salesforce.soql_parser import parse
from sandbox.salesforce.store import SANDBOX_CAMPAIGN_ID, SalesforceStore


@pytest.fixture
def store():
    return SalesforceStore()


def error_of(action):
    with pytest.raises(SalesforceError) as caught:
        action()
    return caught.value


def test_fresh_org_has_the_sandbox_campaign_and_statuses(store):
    campaign = store.get("Campaign", SANDBOX_CAMPAIGN_ID)
    assert campaign["Name"] == "Eventmaker Sandbox Event"
    statuses = store.member_statuses(SANDBOX_CAMPAIGN_ID)
    assert [s["Label"] for s in statuses] == ["Sent", "Responded", "Invited", "Registered", "Attended",
                                              "No Show", "Cancelled"]
    assert [s["Label"] for s in statuses if s["IsDefault"]] == ["Sent"]
    assert {s["Label"] for s in statuses if s["HasResponded"]} == {"Responded", "Attended"}


@pytest.mark.parametrize("sobject, payload, code, fields", [
    ("Contact", {"FirstName": "A"}, "REQUIRED_FIELD_MISSING", ["LastName"]),
    ("Lead", {"LastName": "A"}, "REQUIRED_FIELD_MISSING", ["Company"]),
    ("Lead", {}, "REQUIRED_FIELD_MISSING", ["LastName", "Company"]),
    ("Contact", {"LastName": "A", "Email": "not-an-email"}, "INVALID_EMAIL_ADDRESS", ["Email"]),
    ("Contact", {"LastName": "A" * 81}, "STRING_TOO_LONG", ["LastName"]),
    ("Lead", {"LastName": "A", "Company": "C" * 256}, "STRING_TOO_LONG", ["Company"]),
    ("Contact", {"LastName": "A", "Nope__c": 1}, "INVALID_FIELD", []),
    ("Contact", {"LastName": "A", "Name": "x"}, "INVALID_FIELD_FOR_INSERT_UPDATE", ["Name"]),
    ("Contact", {"LastName": "A", "AccountId": "001000000000009AAA"}, "INVALID_CROSS_REFERENCE_KEY", ["AccountId"]),
    ("Contact", {"LastName": "A", "AccountId": "garbage"}, "MALFORMED_ID", ["AccountId"]),
])
def test_create_rules(store, sobject, payload, code, fields):
    error = error_of(lambda: store.create(sobject, payload))
    assert (error.code, error.fields) == (code, fields)


def test_error_messages_match_salesforce(store):
    assert error_of(lambda: store.create("Contact", {"LastName": "A", "Email": "x"})).message == \
        "Email: invalid email address: x"
    assert error_of(lambda: store.create("Lead", {})).message == "Required fields are missing: [LastName, Company]"


def test_campaign_member_rules(store):
    contact = store.create("Contact", {"LastName": "C"})
    lead = store.create("Lead", {"LastName": "L", "Company": "Co"})
    member = store.create("CampaignMember", {"CampaignId": SANDBOX_CAMPAIGN_ID, "ContactId": contact,
                                             "LeadId": lead, "Status": "attended"})
    record = store.get("CampaignMember", member)
    assert (record["ContactId"], record["LeadId"]) == (contact, None)  # Contact wins over Lead
    assert (record["Status"], record["HasResponded"], record["Type"]) == ("Attended", True, "Contact")

    duplicate = error_of(lambda: store.create("CampaignMember", {"CampaignId": SANDBOX_CAMPAIGN_ID,
                                                                 "ContactId": contact}))
    assert (duplicate.code, duplicate.message) == ("DUPLICATE_VALUE", "Already a campaign member.")

    lead_member = store.create("CampaignMember", {"CampaignId": SANDBOX_CAMPAIGN_ID, "LeadId": lead,
                                                  "Status": "No Such Status"})
    assert store.get("CampaignMember", lead_member)["Status"] == "Sent"  # the campaign's default

    store.update("CampaignMember", member, {"Status": "Cancelled"})
    assert store.get("CampaignMember", member)["HasResponded"] is False
    frozen = error_of(lambda: store.update("CampaignMember", member, {"ContactId": None}))
    assert (frozen.code, frozen.fields) == ("INVALID_FIELD_FOR_INSERT_UPDATE", ["ContactId"])


def test_deleting_a_contact_frees_its_membership(store):
    contact = store.create("Contact", {"LastName": "C"})
    member = store.create("CampaignMember", {"CampaignId": SANDBOX_CAMPAIGN_ID, "ContactId": contact})
    store.delete("Contact", contact)
    assert error_of(lambda: store.get("CampaignMember", member)).code == "ENTITY_IS_DELETED"
    assert error_of(lambda: store.update("Contact", contact, {"LastName": "D"})).code == "ENTITY_IS_DELETED"
    query = bind(parse("SELECT Id FROM CampaignMember"))
    assert store.select(query) == [] and len(store.select(query, include_deleted=True)) == 1


def test_converted_leads_refuse_updates(store):
    contact = store.create("Contact", {"LastName": "C"})
    lead = store.load({"records": {"Lead": [{"LastName": "L", "Company": "Co", "IsConverted": True,
                                             "ConvertedContactId": contact}]}})["ids"]["Lead"][0]
    error = error_of(lambda: store.update("Lead", lead, {"Title": "x"}))
    assert error.code == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_duplicate_rule(store):
    store.create("Contact", {"LastName": "C", "Email": "dup@x.com"})
    store.create("Lead", {"LastName": "L", "Company": "Co", "Email": "DUP@x.com"})  # rule off: allowed
    store.duplicate_rule = True
    error = error_of(lambda: store.create("Lead", {"LastName": "M", "Company": "Co", "Email": "dup@X.com"}))
    assert error.code == "DUPLICATES_DETECTED"
    matches = error.extra["duplicateResult"]["matchResults"]
    assert {m["entityType"] for m in matches} == {"Contact", "Lead"}
    store.create("Contact", {"LastName": "C", "Email": "unique@x.com"})


def test_upsert_by_external_id(store):
    first, created = store.upsert("Contact", "eventmaker_id__c", "G1", {"LastName": "A"})
    again, created_again = store.upsert("Contact", "Eventmaker_Id__c", "g1", {"LastName": "B"})
    assert (created, created_again, again) == (True, False, first)
    assert store.get("Contact", first)["LastName"] == "B"
    store.load({"records": {"Contact": [{"LastName": "X", "Eventmaker_Id__c": "G1"}]}})
    assert error_of(lambda: store.upsert("Contact", "Eventmaker_Id__c", "G1", {})).status == 300
    assert error_of(lambda: store.upsert("Contact", "Email", "a@b.c", {})).code == "NOT_FOUND"
    assert error_of(lambda: store.upsert("CampaignMember", "Id", "00v000000000001", {})).code == "INVALID_TYPE"


def test_transaction_rolls_back_creates_updates_and_deletes(store):
    kept = store.create("Contact", {"LastName": "Kept", "Email": "kept@x.com"})
    with pytest.raises(SalesforceError):
        with store.transaction():
            store.create("Contact", {"LastName": "New", "Email": "new@x.com"})
            store.update("Contact", kept, {"Email": "changed@x.com"})
            store.delete("Contact", kept)
            store.create("Contact", {})
    assert store.get("Contact", kept)["Email"] == "kept@x.com"
    assert store.find("Contact", "Email", "new@x.com") == []
    assert store.find("Contact", "Email", "changed@x.com") == []
    assert [r["Id"] for r in store.find("Contact", "Email", "kept@x.com")] == [kept]


def test_persistence_round_trip(store):
    contact = store.create("Contact", {"LastName": "C", "Email": "c@x.com"})
    token = store.issue_session()
    restored = SalesforceStore.from_dict(json.loads(json.dumps(store.to_dict())))
    assert restored.get("Contact", contact)["Email"] == "c@x.com"
    assert restored.find("Contact", "Email", "C@X.COM")[0]["Id"] == contact
    assert restored.session_valid(token, ttl_seconds=None)
    assert restored.create("Contact", {"LastName": "D"}) != contact


def test_load_returns_ids_in_input_order_and_rejects_unknown_fields(store):
    result = store.load({"records": {
        "CampaignMember": [{"CampaignId": SANDBOX_CAMPAIGN_ID, "ContactId": "003000000000777AAA", "Status": "Attended"}],
        "Contact": [{"Id": "003000000000777AAA", "LastName": "Own"}, {"LastName": "Generated"}],
    }})
    assert result["ids"]["Contact"][0] == "003000000000777AAA"
    assert store.get("CampaignMember", result["ids"]["CampaignMember"][0])["HasResponded"] is True
    with pytest.raises(ValueError):
        store.load({"records": {"Contact": [{"LastName": "x", "Bogus": 1}]}})


def test_indexed_filters_touch_only_matching_rows(store, monkeypatch):
    """With 100,000 contacts, an Email IN (...) query evaluates only the indexed candidates."""
    store.load({"records": {"Contact": [{"LastName": f"L{i}", "Email": f"p{i}@x.com"} for i in range(100_000)]}})
    evaluated = []
    real_evaluate = store_module.evaluate
    monkeypatch.setattr(store_module, "evaluate", lambda node, record, parent: evaluated.append(record["Id"])
                        or real_evaluate(node, record, parent))
    rows = store.select(bind(parse("SELECT Id FROM Contact WHERE Email IN ('p5@x.com', 'P99999@x.com') AND LastName != null")))
    assert [r["LastName"] for r in rows] == ["L5", "L99999"]
    assert len(evaluated) < 20


def test_bulk_load_keeps_unique_fields_unique(store):
    store.load({"records": {"Lead": [{"LastName": "A", "Company": "C", "Eventmaker_Key__c": "k@x.com"}]}})
    with pytest.raises(ValueError, match="Lead: duplicate value found: Eventmaker_Key__c"):
        store.load({"records": {"Lead": [{"LastName": "B", "Company": "C", "Eventmaker_Key__c": "K@X.com"}]}})
