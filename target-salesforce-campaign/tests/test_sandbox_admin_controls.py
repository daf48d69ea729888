"""The CRM admin controls (issue 12) on both sandboxes: field_write_policy, truncate_long_values, map_address."""

import pytest

from target_salesforce_campaign.errors import ConfigError


def contact(pipeline, **fields):
    [contact_id] = pipeline.add_salesforce("Contact", {"LastName": "Known", **fields})
    return contact_id


def record(pipeline, sobject, record_id):
    return next(r for r in pipeline.records(sobject) if r["Id"] == record_id)


def test_if_empty_never_overwrites_and_on_create_is_set_once(pipeline):
    filled = contact(pipeline, Email="filled@x.example", Title="CEO", Phone="+1 555 0100")
    blank = contact(pipeline, Email="blank@x.example")
    guests = pipeline.add_guests(
        {"email": "filled@x.example", "last_name": "Known", "position": "Intern", "phone_number": "0600",
         "status": "registered"},
        {"email": "blank@x.example", "last_name": "Known", "position": "Intern", "phone_number": "0601",
         "status": "registered"},
        {"email": "new@x.example", "last_name": "New", "position": "Intern", "phone_number": "0602",
         "status": "registered"},
    )
    policy = {"Title": "if_empty", "Phone": "on_create"}
    assert pipeline.run(field_write_policy=policy, create_as="Contact").error is None
    assert (record(pipeline, "Contact", filled)["Title"], record(pipeline, "Contact", filled)["Phone"]) == (
        "CEO", "+1 555 0100"), "a value entered in Salesforce was overwritten"
    assert (record(pipeline, "Contact", blank)["Title"], record(pipeline, "Contact", blank)["Phone"]) == ("Intern", None)
    new = record(pipeline, "Contact", pipeline.entry(guests[2]["_id"])["contact_id"])
    assert (new["Title"], new["Phone"]) == ("Intern", "0602"), "a new record gets every field"
    pipeline.em.store.update_guest(guests[2]["event_id"], guests[2]["_id"], {"position": "Boss", "phone_number": "0699"})
    assert pipeline.run(field_write_policy=policy, create_as="Contact").error is None
    new = record(pipeline, "Contact", new["Id"])
    assert (new["Title"], new["Phone"]) == ("Intern", "0602"), "if_empty keeps its value; on_create is never updated"


def test_without_a_policy_every_field_is_written(pipeline):
    filled = contact(pipeline, Email="filled@x.example", Title="CEO")
    pipeline.add_guests({"email": "filled@x.example", "last_name": "Known", "position": "Intern", "status": "registered"})
    assert pipeline.run().error is None
    assert record(pipeline, "Contact", filled)["Title"] == "Intern"


def test_truncate_long_values_syncs_and_warns(pipeline):
    long_company = "Acme " * 60  # 300 characters; Lead.Company has 255
    [cut, fine] = pipeline.add_guests(
        {"email": "long@x.example", "last_name": "Long", "company_name": long_company, "status": "registered"},
        {"email": "fine@x.example", "last_name": "Fine", "company_name": "Acme", "status": "registered"})
    assert pipeline.run(truncate_long_values=True).error is None
    entry = pipeline.entry(cut["_id"])
    assert entry["last_error"] is None and entry["lead_id"]
    assert entry["warnings"] == [{"code": "TRUNCATED", "fields": ["Company"],
                                  "message": "Value cut to the Salesforce field length: Company"}]
    assert record(pipeline, "Lead", entry["lead_id"])["Company"] == long_company[:255].rstrip()
    assert "warnings" not in pipeline.entry(fine["_id"])
    pipeline.em.store.update_guest(cut["event_id"], cut["_id"], {"company_name": "Acme"})
    assert pipeline.run(truncate_long_values=True).error is None
    assert "warnings" not in pipeline.entry(cut["_id"]), "the warning goes once the value fits"


def test_without_truncation_an_overlong_value_is_the_participants_error(pipeline):
    [cut] = pipeline.add_guests({"email": "long@x.example", "last_name": "Long", "company_name": "A" * 300,
                                 "status": "registered"})
    assert pipeline.run().error is None
    assert pipeline.entry(cut["_id"])["last_error"]["code"] == "STRING_TOO_LONG" and pipeline.records("Lead") == []


ADDRESS = {"address": "1 rue de la Paix", "postal_code": "75002", "city": "Paris", "phone_number": "612345678",
           "phone_number_prefix": "+33"}


def test_address_and_country_codes_with_state_and_country_picklists(pipeline):
    known = contact(pipeline, Email="known@x.example")
    [to_contact, to_lead, unknown] = pipeline.add_guests(
        {"email": "known@x.example", "last_name": "Known", "country_name": "Allemagne", "status": "registered", **ADDRESS},
        {"email": "lead@x.example", "last_name": "Lead", "country_name": "France", "status": "registered", **ADDRESS},
        {"email": "where@x.example", "last_name": "Where", "country_name": "Atlantis", "status": "registered"})
    assert pipeline.run(map_address=True).error is None
    person = record(pipeline, "Contact", known)
    assert (person["MailingStreet"], person["MailingPostalCode"], person["MailingCity"], person["MailingCountryCode"]) == (
        "1 rue de la Paix", "75002", "Paris", "DE")
    assert person["Phone"] == "+33 612345678"
    lead = record(pipeline, "Lead", pipeline.entry(to_lead["_id"])["lead_id"])
    assert (lead["Street"], lead["City"], lead["CountryCode"]) == ("1 rue de la Paix", "Paris", "FR")
    error = pipeline.entry(unknown["_id"])["last_error"]
    assert error["code"] == "UNKNOWN_COUNTRY" and "Atlantis" in error["message"] and error["hint"]
    assert pipeline.entry(to_contact["_id"])["last_error"] is None


def test_address_without_picklists_sends_the_country_name(pipeline):
    pipeline.sf.configure(state_country_picklists=False)
    [guest] = pipeline.add_guests({"email": "lead@x.example", "last_name": "Lead", "country_name": "France",
                                   "status": "registered", **ADDRESS})
    assert pipeline.run(map_address=True).error is None
    lead = record(pipeline, "Lead", pipeline.entry(guest["_id"])["lead_id"])
    assert (lead["City"], lead["Country"]) == ("Paris", "France") and "CountryCode" not in lead


@pytest.mark.parametrize("settings, fragment", [
    ({"field_write_policy": {"Nope__c": "if_empty"}}, "'Nope__c', not a field"),
    ({"field_write_policy": {"Email": "on_create"}}, "used for matching"),
    ({"field_write_policy": {"Name": "always"}}, "Name is not createable"),
])
def test_bad_controls_fail_at_start(pipeline, settings, fragment):
    pipeline.add_guests({"email": "a@x.example", "last_name": "A", "status": "registered"})
    result = pipeline.run(**settings)
    assert isinstance(result.error, ConfigError) and fragment in str(result.error)
    assert pipeline.salesforce_writes() == []


def test_match_fields_are_and_combined_and_ambiguity_is_still_reported(pipeline):
    smith = contact(pipeline, Email="dup@x.example", LastName="Smith")
    jones = contact(pipeline, Email="dup@x.example", LastName="Jones")
    contact(pipeline, Email="twice@x.example", LastName="Twin")
    contact(pipeline, Email="twice@x.example", LastName="Twin")
    [g_jones, g_brown, g_twin] = pipeline.add_guests(
        {"email": "dup@x.example", "last_name": "JONES ", "status": "registered"},
        {"email": "dup@x.example", "last_name": "Brown", "status": "registered"},
        {"email": "twice@x.example", "last_name": "Twin", "status": "registered"})
    assert pipeline.run(match_fields={"Contact": ["Email", "LastName"]}).error is None
    assert pipeline.entry(g_jones["_id"])["contact_id"] == jones != smith
    brown = pipeline.entry(g_brown["_id"])
    assert brown["contact_id"] is None and brown["lead_id"], "no Contact shares Email and LastName: a new Lead"
    assert pipeline.entry(g_twin["_id"])["last_error"]["code"] == "AMBIGUOUS_MATCH"


def test_without_match_fields_the_shared_email_is_ambiguous(pipeline):
    contact(pipeline, Email="dup@x.example", LastName="Smith")
    contact(pipeline, Email="dup@x.example", LastName="Jones")
    [guest] = pipeline.add_guests({"email": "dup@x.example", "last_name": "Jones", "status": "registered"})
    assert pipeline.run().error is None
    assert pipeline.entry(guest["_id"])["last_error"]["code"] == "AMBIGUOUS_MATCH"


@pytest.mark.parametrize("settings, fragment", [
    ({"match_fields": {"Contact": ["LastName"]}}, "must include uniqueness_key 'Email'"),
    ({"match_fields": {"Contact": ["Email", "Nope__c"]}}, "'Nope__c' is not a field of Contact"),
    ({"match_fields": {"Account": ["Name"]}}, "use Contact and/or Lead"),
    ({"match_fields": {"Contact": ["Email", "LastName"]}, "key_external_id_field": "Eventmaker_Key__c"},
     "key_external_id_field holds the uniqueness key alone"),
])
def test_bad_match_fields_fail_at_start(pipeline, settings, fragment):
    pipeline.add_guests({"email": "a@x.example", "last_name": "A", "status": "registered"})
    result = pipeline.run(**settings)
    assert isinstance(result.error, ConfigError) and fragment in str(result.error)
