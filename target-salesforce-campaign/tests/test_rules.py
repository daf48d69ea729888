"""Unit tests of the pure rules: classification, mapping, validation, matching, membership, fingerprints."""

import dataclasses

import pytest

from target_salesforce_campaign.errors import ErrorClass, RecordError, classify, error_from_save_result
from target_salesforce_campaign.fingerprint import fingerprint
from target_salesforce_campaign.mapping import DEFAULT_FIELD_MAPPING, DEFAULT_STATUS_MAPPING, build_payload, member_status
from target_salesforce_campaign.matching import FoundRecord, Lookup, Matched, StoredIds, ToCreate, match, normalize_key
from target_salesforce_campaign.membership import Member, new_member, status_update
from target_salesforce_campaign.salesforce_client import parse_limit_info
from target_salesforce_campaign.validation import field_rules, validate_required, validate_values
from target_salesforce_campaign.batch import Participant
from target_salesforce_campaign.writeback import needs_writeback, new_entry
from target_salesforce_campaign.writeback_home import EMPTY_ENTRY, merged_field

CONTACT_FIELDS = {"FirstName", "LastName", "Email", "Phone", "Title"}


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        ("UNABLE_TO_LOCK_ROW", "", ErrorClass.TRANSIENT),
        ("INVALID_SESSION_ID", "", ErrorClass.AUTH),
        ("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", ErrorClass.BUDGET),
        ("REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.", ErrorClass.TRANSIENT),
        ("INVALID_EMAIL_ADDRESS", "", ErrorClass.DATA),
        ("FIELD_CUSTOM_VALIDATION_EXCEPTION", "", ErrorClass.DATA),
        ("INVALID_FIELD", "", ErrorClass.CONFIG),
    ],
)
def test_classification_by_error_code(code, message, expected):
    assert classify(code, message) is expected


def test_save_result_error_skips_rolled_back_and_keeps_hint():
    error = error_from_save_result(
        {"success": False, "errors": [{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "x"},
                                      {"statusCode": "INVALID_EMAIL_ADDRESS", "message": "Email: invalid", "fields": ["Email"]}]}
    )
    assert error == RecordError("INVALID_EMAIL_ADDRESS", "Email: invalid", ("Email",))
    assert "email" in error.to_state("2026-01-01T00:00:00Z")["hint"].lower()


def test_fingerprint_is_canonical_and_sensitive():
    a = fingerprint({"LastName": "Doe", "Email": "a@x.io"}, "Registered", "701", "Contact")
    assert a == fingerprint({"Email": "a@x.io", "LastName": "Doe"}, "Registered", "701", "Contact")
    assert a != fingerprint({"Email": "a@x.io", "LastName": "Doe"}, "Attended", "701", "Contact")
    assert a != fingerprint({"Email": "a@x.io", "LastName": "Doe"}, "Registered", "701", "Lead")


def test_payload_drops_empty_and_unknown_fields_and_fills_lead_company():
    guest = {"first_name": " Ann ", "last_name": "Doe", "email": "", "company_name": None, "position": "CTO"}
    contact = build_payload(guest, DEFAULT_FIELD_MAPPING, CONTACT_FIELDS, "Contact", "n/a")
    assert contact == {"FirstName": "Ann", "LastName": "Doe", "Title": "CTO"}
    lead = build_payload(guest, DEFAULT_FIELD_MAPPING, CONTACT_FIELDS | {"Company"}, "Lead", "Unknown Co")
    assert lead["Company"] == "Unknown Co"


@pytest.mark.parametrize(
    ("guest", "expected"),
    [
        ({"status": "registered", "showed_up": True}, "Attended"),
        ({"status": "registered", "deleted_at": "2026-01-01T00:00:00Z", "showed_up": True}, "Cancelled"),
        ({"status": "declined"}, "Cancelled"),
        ({"status": "pending"}, "Invited"),
        ({"status": "imported"}, "Sent"),
        ({"status": "mystery"}, None),
    ],
)
def test_member_status(guest, expected):
    assert member_status(guest, DEFAULT_STATUS_MAPPING) == expected


DESCRIBE = {
    "fields": [
        {"name": "LastName", "type": "string", "length": 80, "nillable": False, "createable": True},
        {"name": "Email", "type": "email", "length": 80, "nillable": True, "createable": True},
        {"name": "Status", "type": "picklist", "length": 40, "nillable": False, "createable": True,
         "defaultedOnCreate": True, "restrictedPicklist": True, "picklistValues": [{"value": "Open", "active": True}]},
    ]
}


def test_validation_against_describe():
    rules = field_rules(DESCRIBE)
    codes = [e.code for e in validate_values({"LastName": "x" * 81, "Email": "not-an-email", "Status": "Bogus"}, rules)]
    assert codes == ["STRING_TOO_LONG", "INVALID_EMAIL_ADDRESS", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"]
    assert validate_values({"LastName": "Doe", "Email": "a@b.io", "Status": "Open"}, rules) == []
    assert [e.fields for e in validate_required({"Email": "a@b.io"}, rules)] == [("LastName",)]
    assert validate_required({"LastName": "Doe"}, rules) == []


def _lookup(*records):
    lookup = Lookup()
    for record in records:
        lookup.add(record)
    return lookup


def _match(ids, key, lookup, mode="contacts_then_leads"):
    return match(ids, normalize_key(key), lookup, mode=mode, create_as="Lead", key_field="Email")


def test_stored_contact_id_wins_over_key():
    lookup = _lookup(FoundRecord("Contact", "003A", "a@x.io"), FoundRecord("Contact", "003B", "b@x.io"))
    assert _match(StoredIds(contact_id="003B"), "a@x.io", lookup) == Matched("Contact", "003B", "stored_id")


def test_deleted_stored_id_falls_back_to_key():
    lookup = _lookup(FoundRecord("Contact", "003A", "a@x.io"))
    assert _match(StoredIds(contact_id="003GONE"), "A@X.io ", lookup) == Matched("Contact", "003A", "key")


def test_converted_lead_followed_to_its_contact():
    lookup = _lookup(FoundRecord("Lead", "00QA", "a@x.io", converted_contact_id="003C"))
    assert _match(StoredIds(lead_id="00QA"), "a@x.io", lookup) == Matched("Contact", "003C", "converted_lead")


def test_contacts_before_leads_and_mode():
    lookup = _lookup(FoundRecord("Lead", "00QA", "a@x.io"))
    assert _match(StoredIds(), "a@x.io", lookup) == Matched("Lead", "00QA", "key")
    assert _match(StoredIds(), "a@x.io", lookup, mode="contacts_only") == ToCreate("Lead")
    lookup.add(FoundRecord("Contact", "003A", "a@x.io"))
    assert _match(StoredIds(), "a@x.io", lookup) == Matched("Contact", "003A", "key")


def test_several_matches_is_an_ambiguous_error():
    lookup = _lookup(FoundRecord("Contact", "003A", "a@x.io"), FoundRecord("Contact", "003B", "a@x.io"))
    result = _match(StoredIds(), "a@x.io", lookup)
    assert isinstance(result, RecordError) and result.code == "AMBIGUOUS_MATCH"
    assert "003A" in result.message and "003B" in result.message


def test_no_key_and_no_ids_is_not_created_blindly():
    result = _match(StoredIds(), None, Lookup())
    assert isinstance(result, RecordError) and result.code == "MISSING_UNIQUENESS_KEY"
    assert _match(StoredIds(), "new@x.io", Lookup()) == ToCreate("Lead")


def test_member_payloads_never_carry_both_links():
    assert new_member("701", "Lead", "00QA", "Sent") == {
        "attributes": {"type": "CampaignMember"}, "CampaignId": "701", "LeadId": "00QA", "Status": "Sent"}
    member = Member("00vA", "003A", None, "Sent")
    assert status_update(member, "Sent") is None
    assert status_update(member, "Attended")["Status"] == "Attended"


@pytest.mark.parametrize(
    ("header", "used", "limit"),
    [("api-usage=18/5000", 18, 5000), ("api-usage=10018/100000; api-bursts=1/750", 10018, 100000),
     ("api-usage=25/5000; per-app-api-usage=17/250(appName=x)", 25, 5000)],
)
def test_limit_info_parsing(header, used, limit):
    usage = parse_limit_info(header)
    assert (usage.used, usage.limit) == (used, limit)


def test_limit_info_absent():
    assert parse_limit_info(None) is None
    assert parse_limit_info("per-app-api-usage=1/2") is None


def test_writeback_only_when_more_than_a_timestamp_changed():
    old = {"contact_id": "003A", "last_synced_at": "2026-01-01T00:00:00Z", "last_error": None, "fingerprint": "f"}
    assert not needs_writeback(old, {**old, "last_synced_at": "2026-02-01T00:00:00Z"}, force=False)
    assert needs_writeback(old, {**old, "fingerprint": "g"}, force=False)
    assert needs_writeback(old, old, force=True)


def test_other_applications_are_kept():
    guest = {"third_party_applications_refs": {"hubspot": {"id": 1}, "salesforce": {"contact_id": None}}}
    assert merged_field(guest, {"contact_id": "003A"}) == {"hubspot": {"id": 1},
                                                           "salesforce": {**EMPTY_ENTRY, "contact_id": "003A"}}


AT = "2026-03-01T10:00:00Z"
EARLIER = {**EMPTY_ENTRY, "lead_id": "00QOLD", "campaign_member_id": "00vOLD", "last_synced_at": "2026-01-01T00:00:00Z",
           "fingerprint": "old"}


def participant(**attrs):
    p = Participant({}, dict(EARLIER), StoredIds(lead_id="00QOLD"), "Registered", "Email")
    for name, value in attrs.items():
        setattr(p, name, value)
    return p


def test_success_sets_the_one_person_id_and_clears_the_error():
    entry = new_entry(participant(result="updated", sobject="Contact", person_id="003NEW", member_id="00vNEW",
                                  fingerprint="new"), AT)
    assert entry == {"contact_id": "003NEW", "lead_id": None, "campaign_member_id": "00vNEW", "campaign_id": None,
                     "last_synced_at": AT, "last_error": None, "fingerprint": "new"}


def test_a_data_error_keeps_earlier_ids_and_fingerprints_the_attempt():
    error = RecordError("INVALID_EMAIL_ADDRESS", "Email: invalid email address: x", ("Email",))
    entry = new_entry(participant(result="failed", error=error, fingerprint="bad"), AT)
    assert entry == {**EARLIER, "last_error": error.to_state(AT), "fingerprint": "bad"}


def test_a_transient_error_keeps_the_earlier_fingerprint_so_it_is_retried():
    error = RecordError("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access")
    entry = new_entry(participant(result="failed", error=error, fingerprint=None), AT)
    assert entry["fingerprint"] == "old" and entry["last_error"]["code"] == "UNABLE_TO_LOCK_ROW"


def test_left_for_next_run_keeps_its_state_plus_ids_already_established():
    assert new_entry(participant(), AT) == EARLIER
    entry = new_entry(participant(sobject="Lead", person_id="00QNEW"), AT)
    assert entry == {**EARLIER, "lead_id": "00QNEW", "contact_id": None}


def test_configuration_errors_name_what_to_fix_all_at_once():
    from target_salesforce_campaign.batch import Settings
    from target_salesforce_campaign.campaigns import Campaigns, CampaignSettings, status_problems
    from target_salesforce_campaign.connection import check_configuration
    from target_salesforce_campaign.errors import ConfigError

    settings = Settings("701X", "contacts_then_leads", "Lead", "Email", {**DEFAULT_FIELD_MAPPING, "uid": "Eventmaker_Uid__c"},
                        {**DEFAULT_STATUS_MAPPING, "registered": "Signed up"}, "[not provided]")
    fields = {"Contact": CONTACT_FIELDS, "Lead": CONTACT_FIELDS | {"Company"}}
    statuses = set(DEFAULT_STATUS_MAPPING.values())

    def campaign_problems(labels):
        return status_problems(settings.status_mapping, Campaigns(CampaignSettings(campaign_id="701X"), statuses={"701X": labels}))

    check_configuration(settings, campaign_problems(statuses | {"Signed up"}),
                        {**fields, "Contact": CONTACT_FIELDS | {"Eventmaker_Uid__c"}}, {"Email"})
    with pytest.raises(ConfigError) as failure:
        check_configuration(settings, campaign_problems(statuses), fields, {"Email"})
    assert "['Signed up']" in str(failure.value) and "['Eventmaker_Uid__c']" in str(failure.value)
    with pytest.raises(ConfigError, match="uniqueness_key 'Phone2' is not a filterable field"):
        check_configuration(dataclasses.replace(settings, uniqueness_key="Phone2"), campaign_problems(statuses | {"Signed up"}),
                            {**fields, "Lead": fields["Lead"] | {"Eventmaker_Uid__c"}}, {"Email"})


@pytest.mark.parametrize(
    ("login_url", "audience"),
    [
        ("https://login.salesforce.com", "https://login.salesforce.com"),
        ("https://acme.my.salesforce.com/", "https://login.salesforce.com"),
        ("https://test.salesforce.com", "https://test.salesforce.com"),
        ("https://acme--uat.sandbox.my.salesforce.com", "https://test.salesforce.com"),
        ("https://127.0.0.1:8766", "https://127.0.0.1:8766"),
        ("https://events.example.com/customers", "https://events.example.com/customers"),
    ],
)
def test_jwt_audience_is_salesforces_authorization_server(login_url, audience):
    from target_salesforce_campaign.auth import jwt_audience

    assert jwt_audience(login_url) == audience
