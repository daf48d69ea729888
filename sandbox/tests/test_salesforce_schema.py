"""The org's schema through describe, and the rules of its custom and address fields, driven over
HTTPS by simple-salesforce 1.12.10 (and concurrent threads for the unique key)."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sandbox.salesforce import org_rules
from sandbox.salesforce.store import SalesforceStore

SOBJECT_KEYS = {"name", "label", "labelPlural", "keyPrefix", "custom", "createable", "updateable", "deletable",
                "queryable", "retrieveable", "searchable", "layoutable", "replicateable", "triggerable", "urls"}
FIELD_KEYS = {"name", "label", "type", "soapType", "length", "byteLength", "precision", "scale", "digits",
              "nillable", "createable", "updateable", "custom", "externalId", "unique", "caseSensitive", "idLookup",
              "filterable", "sortable", "groupable", "defaultedOnCreate", "calculated", "autoNumber",
              "picklistValues", "referenceTo", "relationshipName", "restrictedPicklist", "dependentPicklist"}
DESCRIBED = ("Account", "Campaign", "CampaignMember", "CampaignMemberStatus", "Contact", "Lead", "User")


def by_name(fields):
    return {f["name"]: f for f in fields}


def test_describe_global_and_each_object_carry_what_clients_read(sf):
    listed = {s["name"]: s for s in sf.describe()["sobjects"]}
    assert set(DESCRIBED) <= set(listed)
    for name in DESCRIBED:
        assert SOBJECT_KEYS <= set(listed[name])
        described = getattr(sf, name).describe()
        assert SOBJECT_KEYS <= set(described) and described["labelPlural"] == listed[name]["labelPlural"]
        fields = by_name(described["fields"])
        assert {"Id", "SystemModstamp", "LastModifiedDate", "CreatedDate", "IsDeleted"} <= set(fields)
        for field in fields.values():
            assert FIELD_KEYS <= set(field), (name, field["name"])
        assert (fields["Id"]["type"], fields["Id"]["soapType"], fields["Id"]["nillable"]) == ("id", "tns:ID", False)
        assert fields["SystemModstamp"]["type"] == "datetime" and not fields["SystemModstamp"]["updateable"]
    assert listed["CampaignMemberStatus"]["labelPlural"] == "Campaign Member Statuses"
    assert listed["User"]["keyPrefix"] == "005" and not listed["User"]["createable"]


def test_field_attributes_have_real_values(sf):
    contact = by_name(sf.Contact.describe()["fields"])
    assert (contact["LastName"]["length"], contact["LastName"]["byteLength"], contact["LastName"]["nillable"]) == (80, 240, False)
    assert contact["AccountId"]["referenceTo"] == ["Account"] and contact["AccountId"]["relationshipName"] == "Account"
    assert contact["OwnerId"]["referenceTo"] == ["User"] and contact["OwnerId"]["defaultedOnCreate"]
    assert contact["Email"]["type"] == "email" and contact["Email"]["idLookup"]
    key = contact["Eventmaker_Key__c"]
    assert (key["custom"], key["externalId"], key["unique"], key["caseSensitive"], key["length"]) == (True, True, True, False, 255)
    assert not contact["Name"]["createable"] and contact["Name"]["nameField"]
    lead = by_name(sf.Lead.describe()["fields"])
    assert [v["value"] for v in lead["Status"]["picklistValues"] if v["defaultValue"]] == ["Open - Not Contacted"]
    member = by_name(sf.CampaignMember.describe()["fields"])
    assert member["ContactId"]["relationshipName"] == "Contact" and member["LeadId"]["referenceTo"] == ["Lead"]
    campaign = by_name(sf.Campaign.describe()["fields"])
    assert campaign["Eventmaker_Event_Id__c"]["externalId"] and campaign["Eventmaker_Event_Id__c"]["unique"]
    users = sf.query("SELECT Id, Username, Name FROM User")["records"]
    assert [(u["Username"], u["Name"]) for u in users] == [("integration@sandbox.example", "Integration User")]
    created = sf.Contact.get(sf.Contact.create({"LastName": "Owned"})["id"])
    assert created["OwnerId"] == created["CreatedById"] == users[0]["Id"]


# ------------------------------------------------------------------ the unique key


def test_unique_key_refuses_a_second_record_case_insensitively(sf):
    lead = sf.Lead.create({"LastName": "L", "Company": "C", "Eventmaker_Key__c": "ada@x.com"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as duplicate:
        sf.Lead.create({"LastName": "M", "Company": "C", "Eventmaker_Key__c": "ADA@x.com"})
    assert duplicate.value.content == [{
        "message": f"duplicate value found: Eventmaker_Key__c duplicates value on record with id: {lead}",
        "errorCode": "DUPLICATE_VALUE", "fields": ["Eventmaker_Key__c"]}]
    other = sf.Lead.create({"LastName": "N", "Company": "C", "Eventmaker_Key__c": "bob@x.com"})["id"]
    with pytest.raises(SalesforceMalformedRequest):
        sf.Lead.update(other, {"Eventmaker_Key__c": "Ada@X.com"})
    assert sf.Contact.create({"LastName": "C", "Eventmaker_Key__c": "ada@x.com"})["success"]  # per object
    assert sf.Lead.update(lead, {"Eventmaker_Key__c": "ADA@x.com"}) == 204  # itself


def test_upsert_by_unique_key_matches_case_insensitively(sf):
    first = sf.Lead.upsert("Eventmaker_Key__c/ada@x.com", {"LastName": "L", "Company": "C"}, raw_response=True)
    again = sf.Lead.upsert("Eventmaker_Key__c/ADA@X.COM", {"Title": "Dr"}, raw_response=True)
    assert first.status_code == 201 and again.status_code == 200 and again.json()["id"] == first.json()["id"]
    results = sf.restful("composite/sobjects/Lead/Eventmaker_Key__c", method="PATCH", json={"allOrNone": False, "records": [
        {"attributes": {"type": "Lead"}, "Eventmaker_Key__c": "Ada@x.com", "LastName": "L", "Company": "C"},
        {"attributes": {"type": "Lead"}, "Eventmaker_Key__c": "new@x.com", "LastName": "N", "Company": "C"},
        {"attributes": {"type": "Lead"}, "Eventmaker_Key__c": "two@x.com", "LastName": "T", "Company": "C"},
        {"attributes": {"type": "Lead"}, "Eventmaker_Key__c": "NEW@x.com", "LastName": "N", "Company": "C"},
    ]})
    assert (results[0]["id"], results[0]["created"]) == (first.json()["id"], False)
    assert results[2]["success"] and results[2]["created"]
    assert [results[i]["errors"] for i in (1, 3)] == [
        [{"statusCode": "DUPLICATE_VALUE", "message": f"Duplicate external id specified: {key}",
          "fields": ["Eventmaker_Key__c"]}] for key in ("new@x.com", "NEW@x.com")]  # every record sharing a key
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 2


def test_collections_upsert_matching_several_records_fails_that_record(sf_box, sf):
    sf_box.store.load({"records": {"Contact": [{"LastName": "A", "Eventmaker_Id__c": "G1"},
                                               {"LastName": "B", "Eventmaker_Id__c": "G1"}]}})
    results = sf.restful("composite/sobjects/Contact/Eventmaker_Id__c", method="PATCH", json={"records": [
        {"attributes": {"type": "Contact"}, "Eventmaker_Id__c": "G1", "LastName": "x"},
        {"attributes": {"type": "Contact"}, "Eventmaker_Id__c": "G2", "LastName": "y"}]})
    assert results[0]["errors"][0]["statusCode"] == "DUPLICATE_EXTERNAL_ID" and results[1]["created"]


def test_concurrent_upserts_of_one_key_create_one_record(sf_box):
    """32 clients upsert the same key (in varying case) at once: one Lead, every answer names it."""
    token = sf_box.store.issue_session()

    def upsert(index):
        client = Salesforce(instance_url=sf_box.url, session_id=token, session=sf_box.session())
        key = "Race@X.com" if index % 2 else "race@x.COM"
        return client.restful("composite/sobjects/Lead/Eventmaker_Key__c", method="PATCH", json={"records": [
            {"attributes": {"type": "Lead"}, "Eventmaker_Key__c": key, "LastName": f"R{index}", "Company": "C"}]})[0]

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(upsert, range(32)))
    assert all(r["success"] for r in results) and len({r["id"] for r in results}) == 1
    assert sum(r["created"] for r in results) == 1
    assert len(sf_box.store.find("Lead", "Eventmaker_Key__c", "RACE@x.com")) == 1


def test_store_serialises_direct_callers_between_lookup_and_create(monkeypatch):
    """Threads calling the store directly: a thread switch between the match and the create (forced
    here by a pause in the lookup) must not let two creates through."""
    store = SalesforceStore()
    real_find = SalesforceStore.find

    def slow_find(self, *args):
        found = real_find(self, *args)
        time.sleep(0.01)
        return found

    monkeypatch.setattr(SalesforceStore, "find", slow_find)
    start = threading.Barrier(8)

    def upsert(index):
        start.wait()
        return store.upsert("Lead", "Eventmaker_Key__c", "same@x.com", {"LastName": f"T{index}", "Company": "C"})

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(upsert, range(8)))
    assert sum(created for _, created in results) == 1 and len({i for i, _ in results}) == 1


# ------------------------------------------------------------------ campaigns and their statuses


def test_new_campaign_gets_default_statuses_and_a_unique_event_id(sf):
    campaign = sf.Campaign.create({"Name": "Event 2", "Eventmaker_Event_Id__c": "64b7f0c2a1b2c3d4e5f60718"})["id"]
    statuses = sf.query(f"SELECT Label, IsDefault, HasResponded, SortOrder FROM CampaignMemberStatus "
                        f"WHERE CampaignId = '{campaign}' ORDER BY SortOrder")["records"]
    assert [(s["Label"], s["IsDefault"], s["HasResponded"], s["SortOrder"]) for s in statuses] == [
        ("Sent", True, False, 1), ("Responded", False, True, 2)]
    with pytest.raises(SalesforceMalformedRequest) as duplicate:
        sf.Campaign.create({"Name": "Twin", "Eventmaker_Event_Id__c": "64B7F0C2A1B2C3D4E5F60718"})
    assert duplicate.value.content[0]["errorCode"] == "DUPLICATE_VALUE"
    assert sf.Campaign.get_by_custom_id("Eventmaker_Event_Id__c", "64b7f0c2a1b2c3d4e5f60718")["Id"] == campaign


def test_member_status_rules(sf):
    campaign = sf.Campaign.create({"Name": "Statuses"})["id"]
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": [
        {"attributes": {"type": "CampaignMemberStatus"}, "CampaignId": campaign, "Label": "Attended", "HasResponded": True},
        {"attributes": {"type": "CampaignMemberStatus"}, "CampaignId": campaign, "Label": "attended"},
        {"attributes": {"type": "CampaignMemberStatus"}, "CampaignId": campaign, "Label": "Invited", "SortOrder": 1},
        {"attributes": {"type": "CampaignMemberStatus"}, "Label": "Orphan"},
        {"attributes": {"type": "CampaignMemberStatus"}, "CampaignId": campaign, "Label": "Registered", "IsDefault": True},
    ]})
    assert [r["success"] for r in results] == [True, False, False, False, True]
    assert [r["errors"][0]["statusCode"] for r in results[1:4]] == ["DUPLICATE_VALUE", "DUPLICATE_VALUE",
                                                                   "REQUIRED_FIELD_MISSING"]
    statuses = sf.query(f"SELECT Label, IsDefault, SortOrder FROM CampaignMemberStatus WHERE CampaignId = '{campaign}' "
                        "ORDER BY SortOrder")["records"]
    assert [(s["Label"], s["IsDefault"], s["SortOrder"]) for s in statuses] == [
        ("Sent", False, 1), ("Responded", False, 2), ("Attended", False, 3), ("Registered", True, 4)]
    with pytest.raises(SalesforceMalformedRequest):
        sf.CampaignMemberStatus.update(results[4]["id"], {"IsDefault": False})
    contact = sf.Contact.create({"LastName": "M"})["id"]
    member = sf.CampaignMember.create({"CampaignId": campaign, "ContactId": contact})["id"]
    assert sf.CampaignMember.get(member)["Status"] == "Registered"


# ------------------------------------------------------------------ addresses and State and Country Picklists


def test_country_and_state_picklists_describe_iso_codes(sf):
    contact = by_name(sf.Contact.describe()["fields"])
    country_code = contact["MailingCountryCode"]
    assert (country_code["type"], country_code["restrictedPicklist"]) == ("picklist", True)
    codes = {v["value"]: v["label"] for v in country_code["picklistValues"]}
    assert len(codes) == 249 and codes["DE"] == "Germany" and codes["US"] == "United States"
    state_code = contact["MailingStateCode"]
    assert state_code["dependentPicklist"] and state_code["controllerName"] == "MailingCountryCode"
    assert {"MailingStreet", "MailingCity", "MailingPostalCode", "MailingCountry", "Phone"} <= set(contact)
    lead = by_name(sf.Lead.describe()["fields"])
    assert {"Street", "City", "State", "PostalCode", "Country", "StateCode", "CountryCode", "Phone"} <= set(lead)
    assert lead["CountryCode"]["label"] == "Country Code"


def test_addresses_keep_codes_and_names_in_step_and_refuse_unknown_values(sf):
    contact = sf.Contact.create({"LastName": "A", "MailingCountryCode": "DE", "MailingCity": "Berlin"})["id"]
    assert sf.Contact.get(contact)["MailingCountry"] == "Germany"
    sf.Contact.update(contact, {"MailingCountry": "France"})
    assert sf.Contact.get(contact)["MailingCountryCode"] == "FR"
    lead = sf.Lead.create({"LastName": "B", "Company": "C", "CountryCode": "US", "StateCode": "CA"})["id"]
    assert (sf.Lead.get(lead)["Country"], sf.Lead.get(lead)["State"]) == ("United States", "California")
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": [
        {"attributes": {"type": "Lead"}, "LastName": "ok", "Company": "C", "Country": "Canada", "State": "Ontario"},
        {"attributes": {"type": "Lead"}, "LastName": "code", "Company": "C", "CountryCode": "XX"},
        {"attributes": {"type": "Lead"}, "LastName": "name", "Company": "C", "Country": "Atlantis"},
        {"attributes": {"type": "Lead"}, "LastName": "state", "Company": "C", "CountryCode": "DE", "StateCode": "CA"},
        {"attributes": {"type": "Contact"}, "LastName": "state", "MailingStateCode": "CA"},
    ]})
    assert results[0]["success"] and sf.Lead.get(results[0]["id"])["StateCode"] == "ON"
    assert results[1]["errors"] == [{"statusCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                                     "message": "Country Code: bad value for restricted picklist field: XX",
                                     "fields": ["CountryCode"]}]
    assert results[2]["errors"][0]["statusCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert results[2]["errors"][0]["fields"] == ["Country"]
    assert [r["errors"][0]["fields"] for r in results[3:]] == [["StateCode"], ["MailingStateCode"]]


def test_without_the_picklists_setting_addresses_are_free_text(sf_box, sf):
    refused = sf_box.session().post(f"{sf_box.url}/__sandbox/config", json={"state_country_picklists": "no"})
    assert refused.status_code == 400 and sf_box.store.state_country_picklists is True
    sf_box.session().post(f"{sf_box.url}/__sandbox/config", json={"state_country_picklists": False})
    assert "MailingCountryCode" not in by_name(sf.Contact.describe()["fields"])
    contact = sf.Contact.create({"LastName": "Free", "MailingCountry": "Atlantis"})["id"]
    assert sf.Contact.get(contact)["MailingCountry"] == "Atlantis"
    with pytest.raises(SalesforceMalformedRequest) as unknown:
        sf.Contact.create({"LastName": "X", "MailingCountryCode": "DE"})
    assert unknown.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_duplicate_value_message_names_the_field_and_record():
    error = org_rules.duplicate_value("Eventmaker_Key__c", "00Q000000000001AAA")
    assert error.as_rest()["message"] == ("duplicate value found: Eventmaker_Key__c duplicates value on record "
                                          "with id: 00Q000000000001AAA")
