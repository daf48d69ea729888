"""Ids and keys compared as Salesforce compares them (issue 10, classes 4 and 8).

Class 4: every Id read is put in its canonical 18-character form first, so a 15-character Id, its
18-character form and that form with a lower-case suffix are one record; a malformed stored Id is
the participant's error, never a query that fails the batch. Class 8: the uniqueness key is
compared by lower case like SOQL, not by Unicode case folding (`straße` is not `strasse`).
The sandbox's own store is the judge of "the same record" and of SOQL's text equality.
"""

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sandbox.salesforce.store import SalesforceStore

from target_salesforce_campaign.ids import canonical_id, case_safe_suffix
from target_salesforce_campaign.matching import normalize_key, stored_ids

BASE62 = string.digits + string.ascii_letters
bodies = st.text(BASE62, min_size=12, max_size=12).map(lambda tail: "003" + tail)


def spellings(body):
    """The spellings Salesforce accepts for one record: 15 characters, 18, 18 with a lower-case suffix."""
    full = body + case_safe_suffix(body)
    return [body, full, full[:15] + full[15:].lower()]


@settings(max_examples=200, deadline=None)
@given(bodies)
def test_every_spelling_of_an_id_is_one_canonical_id(body):
    canonical = {canonical_id(s, "Contact") for s in spellings(body)}
    assert canonical == {body + case_safe_suffix(body)}
    other_case = body[:3] + body[3:].swapcase()
    if other_case != body:  # the 15-character body is case-sensitive: another record
        assert canonical_id(other_case, "Contact") != body + case_safe_suffix(body)


STORE = SalesforceStore()
CONTACT_IDS = STORE.load({"records": {"Contact": [{"LastName": f"C{i}"} for i in range(40)]}})["ids"]["Contact"]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(CONTACT_IDS), st.integers(0, 2))
def test_every_spelling_reaches_the_same_record_in_the_sandbox(record_id, spelling):
    written = spellings(record_id[:15])[spelling]
    assert STORE.get("Contact", canonical_id(written, "Contact"))["Id"] == record_id


@pytest.mark.parametrize("bad", ["003abc", "003" + "x" * 13, "003000000000001AAA!", "003000000000001ZZZ",
                                 "00Q000000000001AAA", "", "   ", "003 00000000001AAA"])
def test_a_malformed_or_foreign_stored_id_is_refused_or_absent(bad):
    found = stored_ids({"contact_id": bad, "lead_id": None, "campaign_member_id": None})
    if bad.strip():
        assert found.code == "INVALID_STORED_ID" and found.fields == ("contact_id",) and bad[:10] in found.message
    else:
        assert found.contact_id is None


def test_stored_ids_are_canonical():
    lead = "00Q000000000001" + case_safe_suffix("00Q000000000001")
    found = stored_ids({"contact_id": "003000000000001", "lead_id": lead[:15] + lead[15:].lower(), "campaign_member_id": None})
    assert (found.contact_id, found.lead_id) == ("003000000000001AAA", lead)


# --- class 8: the key ----------------------------------------------------------------------------

TRICKY = "ßsSſﬀfFıiIİKkKΣσςǅǄǆÅåÅæÆøØ@."
texts = st.text(st.sampled_from(TRICKY + "abcxyz"), min_size=1, max_size=8)


def spelled_like(text, draw_case):
    return "".join(getattr(c, draw_case[i % len(draw_case)])() for i, c in enumerate(text))


@settings(max_examples=300, deadline=None)
@given(texts, st.lists(st.sampled_from(["upper", "lower", "casefold", "title", "swapcase"]), min_size=1, max_size=4),
       texts)
def test_the_key_is_equal_exactly_when_soql_finds_the_record(text, cases, other):
    """Keys equal <=> the sandbox's SOQL text comparison finds the record stored under the other spelling."""
    store = SalesforceStore()
    store.load({"records": {"Contact": [{"LastName": "K", "Eventmaker_Key__c": text}]}})
    for candidate in (spelled_like(text, cases), other):
        found = bool(store.find("Contact", "Eventmaker_Key__c", candidate))
        assert (normalize_key(candidate) == normalize_key(text)) is found, (text, candidate)


@pytest.mark.parametrize(("a", "b", "same"), [
    ("straße@x.example", "strasse@x.example", False),
    ("ﬀ@x.example", "ff@x.example", False),
    ("ıstanbul@x.example", "istanbul@x.example", False),
    ("STRAßE@X.EXAMPLE", "straße@x.example", True),
    ("Ärger@X.example", "ärger@x.example", True),
    (" padded@x.example ", "PADDED@x.example", True),
])
def test_key_examples(a, b, same):
    assert (normalize_key(a) == normalize_key(b)) is same


def test_unicode_lookalikes_are_not_joined_end_to_end(pipeline):
    """Contacts `straße@` and `ﬀ@`; participants `strasse@`, `ff@` get people of their own, `STRAßE@` is matched."""
    street, ligature = pipeline.add_salesforce("Contact", {"LastName": "Street", "Email": "straße@x.example"},
                                               {"LastName": "Lig", "Email": "ﬀ@x.example"})
    guests = pipeline.add_guests(*({"email": e, "last_name": "P", "status": "registered"}
                                   for e in ("strasse@x.example", "ff@x.example", "STRAßE@x.example")))
    result = pipeline.run(key_external_id_field="Eventmaker_Key__c")
    assert result.error is None, result.error
    people = [pipeline.entry(g["_id"])["contact_id"] or pipeline.entry(g["_id"])["lead_id"] for g in guests]
    assert people[2] == street and street not in people[:2] and ligature not in people
    assert len(set(people)) == 3


@pytest.mark.parametrize("spelling", [0, 1, 2])
def test_a_stored_id_in_any_spelling_keeps_its_contact(pipeline, spelling):
    contact_id, = pipeline.add_salesforce("Contact", {"LastName": "Kept", "Email": "kept@x.example"})
    written = spellings(contact_id[:15])[spelling]
    [guest] = pipeline.add_guests({"email": "other@x.example", "last_name": "Kept", "status": "registered",
                                   "third_party_applications_refs": {"salesforce": {"contact_id": written}}})
    assert pipeline.run().error is None
    assert pipeline.entry(guest["_id"])["contact_id"] == contact_id and pipeline.records("Lead") == []


def test_a_malformed_stored_id_fails_only_its_participant(pipeline):
    guests = pipeline.add_guests(
        {"email": "bad@x.example", "last_name": "Bad", "status": "registered",
         "third_party_applications_refs": {"salesforce": {"contact_id": "003abc"}}},
        *({"email": f"ok{i}@x.example", "last_name": "Ok", "status": "registered"} for i in range(3)),
    )
    result = pipeline.run()
    assert result.error is None, result.error
    error = pipeline.entry(guests[0]["_id"])["last_error"]
    assert error["code"] == "INVALID_STORED_ID" and error["hint"]
    assert all(pipeline.entry(g["_id"])["lead_id"] for g in guests[1:])
    refused = [r for r in pipeline.sf.requests() if r["status"] >= 400]
    assert refused == [], "a query was refused"
