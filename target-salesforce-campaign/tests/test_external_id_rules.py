"""external_id_field without a server: matching order, payload stamping, the start-of-run check, and
the Collections upsert call (requests-mock)."""

import dataclasses
import logging

import pytest
import requests
from simple_salesforce import Salesforce

from target_salesforce_campaign.connection import external_id_problems
from target_salesforce_campaign.mapping import DEFAULT_FIELD_MAPPING, build_payload
from target_salesforce_campaign.matching import FoundRecord, Lookup, Matched, StoredIds, ToCreate, match
from target_salesforce_campaign.salesforce_client import SalesforceClient

EXT = "Eventmaker_Id__c"
UPSERT_URL = f"https://sf.test/services/data/v59.0/composite/sobjects/Lead/{EXT}"


def lookup_of(*records):
    lookup = Lookup()
    for record in records:
        lookup.add(record)
    return lookup


def match_ext(lookup, ids=StoredIds(), key="a@x.io", external_id="abc", mode="contacts_then_leads"):
    return match(ids, key, lookup, mode=mode, create_as="Lead", key_field="Email",
                 external_id=external_id, external_id_field=EXT)


def test_external_id_wins_over_the_key_but_not_over_stored_ids():
    lookup = lookup_of(FoundRecord("Contact", "003KEY", "a@x.io"), FoundRecord("Contact", "003EXT", "old@x.io", external_id="abc"),
                       FoundRecord("Contact", "003STORED", "s@x.io"))
    assert match_ext(lookup) == Matched("Contact", "003EXT", "external_id")
    assert match_ext(lookup, ids=StoredIds(contact_id="003STORED")) == Matched("Contact", "003STORED", "stored_id")
    assert match_ext(lookup, external_id=None) == Matched("Contact", "003KEY", "key")


def test_external_id_finds_leads_whatever_the_mode_and_follows_conversion():
    lead = lookup_of(FoundRecord("Lead", "00QEXT", None, external_id="abc"))
    assert match_ext(lead, mode="contacts_only") == Matched("Lead", "00QEXT", "external_id")
    converted = lookup_of(FoundRecord("Lead", "00QEXT", None, converted_contact_id="003C", external_id="abc"))
    assert match_ext(converted, mode="contacts_only") == Matched("Contact", "003C", "converted_lead")


def test_two_contacts_carrying_one_external_id_are_ambiguous():
    lookup = lookup_of(FoundRecord("Contact", "003A", external_id="abc"), FoundRecord("Contact", "003B", external_id="abc"))
    error = match_ext(lookup)
    assert error.code == "AMBIGUOUS_MATCH" and error.fields == (EXT,) and "003A, 003B" in error.message


def test_a_participant_without_key_is_created_only_with_an_external_id():
    assert match_ext(Lookup(), key=None) == ToCreate("Lead")
    assert match_ext(Lookup(), key=None, external_id=None).code == "MISSING_UNIQUENESS_KEY"


def test_payload_carries_the_participant_id_only_when_the_field_is_set():
    guest = {"_id": "64f0aa", "last_name": "Doe", "email": "d@x.io"}
    fields = {"LastName", "Email", "Company", EXT}
    assert build_payload(guest, DEFAULT_FIELD_MAPPING, fields, "Lead", "n/a", EXT)[EXT] == "64f0aa"
    assert EXT not in build_payload(guest, DEFAULT_FIELD_MAPPING, fields, "Lead", "n/a")


def describe(**overrides):
    field = {"name": EXT, "externalId": True, "createable": True, "updateable": True, "unique": True, **overrides}
    return {"fields": [{"name": "Email"}, field]}


def test_external_id_check_names_object_and_reason(caplog):
    assert external_id_problems(EXT, {"Contact": describe(), "Lead": describe()}) == []
    problems = external_id_problems(EXT, {"Contact": describe(externalId=False), "Lead": {"fields": []}})
    assert problems[:2] == [f"external_id_field '{EXT}' is not an External ID field on Contact",
                            f"external_id_field '{EXT}' does not exist on Lead (or is not visible to this user)"]
    assert "Text(255), External ID, Unique" in problems[-1]
    assert "not createable and updateable on Lead" in external_id_problems(EXT, {"Contact": describe(),
                                                                                "Lead": describe(updateable=False)})[0]
    with caplog.at_level(logging.WARNING):
        assert external_id_problems(EXT, {"Contact": describe(unique=False), "Lead": describe()}) == []
    assert "not marked Unique on Contact" in caplog.text


def make_client():
    def connect(session):
        return Salesforce(instance_url="https://sf.test", session_id="token", session=session)

    return SalesforceClient(connect, requests.Session(), backoff_base_seconds=0.001)


RECORDS = [{"attributes": {"type": "Lead"}, "LastName": f"L{i}", EXT: f"id{i}"} for i in range(2)]


def test_upsert_call_is_retried_after_a_timeout(requests_mock):
    created = [{"id": "00Q000000000001EAA", "success": True, "errors": [], "created": True},
               {"id": "00Q000000000002EAA", "success": True, "errors": [], "created": False}]
    requests_mock.patch(UPSERT_URL, [{"exc": requests.ReadTimeout}, {"json": created}])
    assert make_client().upsert("Lead", EXT, RECORDS) == created
    assert requests_mock.call_count == 2
    assert requests_mock.last_request.json() == {"allOrNone": False, "records": RECORDS}


def test_upsert_that_lost_an_insert_race_is_sent_again_alone(requests_mock):
    race = {"success": False, "errors": [{"statusCode": "DUPLICATE_VALUE", "fields": [],
                                          "message": f"duplicate value found: {EXT} duplicates value on record with id: 00QA"}]}
    other_unique = {"success": False, "errors": [{"statusCode": "DUPLICATE_VALUE", "fields": [],
                                                  "message": "duplicate value found: Badge__c duplicates value"}]}
    updated = {"id": "00Q000000000001EAA", "success": True, "errors": [], "created": False}
    requests_mock.patch(UPSERT_URL, [{"json": [race, other_unique]}, {"json": [updated]}])
    assert make_client().upsert("Lead", EXT, RECORDS) == [updated, other_unique]
    assert requests_mock.last_request.json()["records"] == RECORDS[:1]


def test_key_external_id_field_is_checked_at_start():
    from target_salesforce_campaign.batch import Settings
    from target_salesforce_campaign.connection import check_configuration
    from target_salesforce_campaign.errors import ConfigError

    key = "Eventmaker_Key__c"
    settings = Settings("701X", "contacts_then_leads", "Lead", "Email", DEFAULT_FIELD_MAPPING, {}, "n/a",
                        key_external_id_field=key)
    person = set(DEFAULT_FIELD_MAPPING.values()) | {key}
    fields = {"Contact": person, "Lead": person}

    def key_describe(**overrides):
        return {"fields": [{"name": "Email"}, {**describe(**overrides)["fields"][1], "name": key}]}

    check_configuration(settings, [], fields, {"Email"}, {"Contact": key_describe(), "Lead": key_describe()})
    with pytest.raises(ConfigError, match=f"key_external_id_field '{key}' does not exist on Lead"):
        check_configuration(settings, [], fields, {"Email"}, {"Contact": key_describe(), "Lead": {"fields": []}})
    with pytest.raises(ConfigError, match="case-sensitive on Contact"):
        check_configuration(settings, [], fields, {"Email"},
                            {"Contact": key_describe(caseSensitive=True), "Lead": key_describe()})
    with pytest.raises(ConfigError, match="must be a field of its own"):
        check_configuration(dataclasses.replace(settings, key_external_id_field="Email"), [], fields, {"Email"},
                            {"Contact": key_describe(), "Lead": key_describe()})
