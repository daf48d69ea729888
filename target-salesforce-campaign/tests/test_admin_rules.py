"""Unit tests of the CRM admin controls' pure rules: write policy, truncation, addresses and countries, match_fields."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from target_salesforce_campaign import addresses, write_policy
from target_salesforce_campaign.countries import country_code, normalize
from target_salesforce_campaign.match_fields import match_fields_problems
from target_salesforce_campaign.truncation import TRUNCATED, truncate, warning
from target_salesforce_campaign.validation import field_rules

FAST = settings(max_examples=80, deadline=None, derandomize=True)
values = st.one_of(st.none(), st.just(""), st.just("  "), st.text(min_size=1, max_size=8))


def describe(*fields):
    return {"fields": [{"filterable": True, "createable": True, "updateable": True, **f} for f in fields]}


# --- field write policy -------------------------------------------------------------------------

@FAST
@given(payload=st.dictionaries(st.sampled_from(["Title", "Phone", "Company"]), st.text(min_size=1, max_size=5)),
       policies=st.dictionaries(st.sampled_from(["Title", "Phone", "Company"]), st.sampled_from(write_policy.POLICIES)),
       current=st.dictionaries(st.sampled_from(["Title", "Phone", "Company"]), values))
def test_update_never_overwrites_a_filled_if_empty_field_nor_sends_on_create(payload, policies, current):
    sent = write_policy.for_update(payload, policies, current)
    for name, value in payload.items():
        policy = policies.get(name, write_policy.ALWAYS)
        blank = write_policy.is_blank(current.get(name))
        expected = policy == write_policy.ALWAYS or (policy == write_policy.IF_EMPTY and blank)
        assert (sent.get(name) == value) if expected else name not in sent


def test_policy_fields_to_read_and_problems():
    policies = {"Title": "if_empty", "Phone": "on_create", "Email": "if_empty", "Nope": "always", "Fax": "sometimes",
                "Locked": "always"}
    assert write_policy.fields_to_read(policies) == ["Email", "Title"]
    describes = {"Contact": describe({"name": "Title"}, {"name": "Phone"}, {"name": "Email"},
                                     {"name": "Locked", "updateable": False})}
    problems = " | ".join(write_policy.policy_problems(policies, describes, {"Email"}))
    assert "'Email'" in problems and "used for matching" in problems
    assert "'Nope', not a field" in problems
    assert "'sometimes'" in problems
    assert "Locked is not updateable" in problems
    assert "Title" not in problems and "Phone" not in problems


# --- truncation -----------------------------------------------------------------------------------

RULES = field_rules(describe({"name": "Company", "type": "string", "length": 10}, {"name": "Email", "type": "email",
                             "length": 12}, {"name": "Title", "type": "string", "length": 5}))


@FAST
@given(company=st.text(max_size=30), title=st.text(max_size=30))
def test_truncate_cuts_only_overlong_text_to_its_length(company, title):
    payload = {"Company": company, "Title": title, "Email": "someone.long@example.com"}
    cut, fields = truncate(payload, RULES, keep={"Title"})
    assert len(cut["Company"]) <= 10 and cut["Title"] == title and cut["Email"] == payload["Email"]
    assert fields == (["Company"] if len(company) > 10 else [])
    assert payload["Company"].startswith(cut["Company"])


def test_truncation_warning_names_the_fields():
    assert warning(["Company", "Title"]) == {"code": TRUNCATED, "fields": ["Company", "Title"],
                                             "message": "Value cut to the Salesforce field length: Company, Title"}


# --- countries and addresses --------------------------------------------------------------------

@pytest.mark.parametrize("name, code", [("France", "FR"), ("allemagne", "DE"), ("Deutschland", "DE"),
                                        ("United States of America", "US"), ("USA", "US"), ("Royaume-Uni", "GB"),
                                        ("Côte d'Ivoire", "CI"), ("cote d ivoire", "CI"), ("fr", "FR"), ("FRA", "FR"),
                                        ("España", "ES"), ("Suisse", "CH")])
def test_country_names_and_codes(name, code):
    assert country_code(name) == code


@pytest.mark.parametrize("name", ["Atlantis", "", "   ", None, "Fr ance land"])
def test_unknown_country_is_none(name):
    assert country_code(name) is None


@FAST
@given(st.text(max_size=20))
def test_normalize_is_idempotent_and_case_blind(text):
    assert normalize(normalize(text)) == normalize(text) == normalize(text.casefold())


CONTACT_PICKLISTS = {"MailingStreet", "MailingCity", "MailingPostalCode", "MailingCountry", "MailingCountryCode"}
LEAD_TEXT = {"Street", "City", "PostalCode", "Country"}


def test_address_to_contact_with_country_picklists():
    guest = {"address": " 1 rue de la Paix ", "postal_code": "75002", "city": "Paris", "country_name": "France"}
    payload, error = addresses.address_payload(guest, "Contact", CONTACT_PICKLISTS)
    assert error is None
    assert payload == {"MailingStreet": "1 rue de la Paix", "MailingPostalCode": "75002", "MailingCity": "Paris",
                       "MailingCountryCode": "FR"}


def test_address_to_lead_without_picklists_keeps_the_name():
    payload, error = addresses.address_payload({"city": "Lyon", "country": "FR", "country_name": "France"}, "Lead",
                                               LEAD_TEXT)
    assert error is None and payload == {"City": "Lyon", "Country": "France"}


def test_unknown_country_is_the_participants_error():
    payload, error = addresses.address_payload({"city": "X", "country_name": "Atlantis"}, "Contact", CONTACT_PICKLISTS)
    assert payload == {"MailingCity": "X"}
    assert error.code == addresses.UNKNOWN_COUNTRY and "Atlantis" in error.message
    assert error.fields == ("MailingCountryCode",) and "country" in error.hint


def test_international_phone():
    assert addresses.international_phone({"phone_number": "612345678", "phone_number_prefix": "33"}) == "+33 612345678"
    assert addresses.international_phone({"phone_number": "+33 6", "phone_number_prefix": "+33"}) == "+33 6"
    assert addresses.international_phone({"phone_number": "0612"}) == "0612"
    assert addresses.international_phone({"phone_number_prefix": "+33"}) is None


# --- match_fields -------------------------------------------------------------------------------

def test_match_fields_problems():
    describes = {"Contact": describe({"name": "Email"}, {"name": "Notes__c", "filterable": False}),
                 "Lead": describe({"name": "Email"})}
    problems = " | ".join(match_fields_problems(
        {"Contact": ["Email", "Notes__c", "Nope"], "Lead": [], "Account": ["Name"]}, describes, {"Email", "Notes__c"}))
    assert "'Account'" in problems and "match_fields['Lead'] is empty" in problems
    assert "'Nope' is not a field of Contact" in problems and "'Notes__c' cannot be filtered" in problems
    assert match_fields_problems({"Contact": ["Email"]}, describes, {"FirstName"}) == [
        "match_fields['Contact']: 'Email' is not filled by field_mapping"]


# --- the controls as the batch applies them --------------------------------------------------------

def test_unread_record_keeps_its_if_empty_fields():
    from target_salesforce_campaign.controls import Controls

    controls = Controls(write_policy={"Title": "if_empty", "Phone": "on_create"})
    payload = {"Title": "Intern", "Phone": "1", "LastName": "X"}
    assert controls.for_update(payload, None) == {"LastName": "X"}, "an unread record's value is never guessed blank"
    assert controls.for_update(payload, {"Title": None}) == {"Title": "Intern", "LastName": "X"}
    assert Controls().for_update(payload, None) == payload
    assert controls.read_fields() == ("Title",)


def test_match_fields_accept_only_records_agreeing_on_every_field():
    from target_salesforce_campaign.controls import Controls
    from target_salesforce_campaign.matching import FoundRecord

    controls = Controls(match_fields={"Contact": ("Email", "LastName")}, uniqueness_key="Email")
    assert controls.extra_match_fields == {"Contact": ("LastName",)} and controls.read_fields() == ("LastName",)
    accept = controls.accept(lambda sobject: {"Email": "a@x.io", "LastName": " Jones"})
    assert accept(FoundRecord("Contact", "003A", "a@x.io", values={"LastName": "JONES"}))
    assert not accept(FoundRecord("Contact", "003B", "a@x.io", values={"LastName": "Smith"}))
    assert accept(FoundRecord("Lead", "00QA", "a@x.io")), "Leads: no match_fields of their own, the key alone"
    blank = controls.accept(lambda sobject: {"Email": "a@x.io"})
    assert not blank(FoundRecord("Contact", "003C", "a@x.io", values={"LastName": None})), "an empty value matches nothing"
    assert Controls().accept(lambda sobject: {}) is None
    assert controls.group_values("Contact", {"LastName": "Jones "}) == ("jones",)
