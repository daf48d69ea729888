"""external_id_field on both sandboxes: idempotent creates (upserts), matching and stamping by the
participant's _id, the start-of-run check, and the economy and convergence rules with it on."""

import re
import time

import pytest

from target_salesforce_campaign.errors import ConfigError

EXT = "Eventmaker_Id__c"
LEAD_UPSERT = r"PATCH /services/data/v[\d.]+/composite/sobjects/Lead/"
PLAIN_CREATE = r"POST /services/data/v[\d.]+/composite/sobjects$"
LATE_MS = 3000


def new_people(pipeline, count, prefix="p"):
    return pipeline.add_guests(*[{"email": f"{prefix}{i}@x.example", "last_name": f"P{i}", "status": "registered"}
                                 for i in range(count)])


def run_with_a_late_write(pipeline, where, **settings):
    """One run whose first `where` request times out (request_timeout=1) and is served 3 s late;
    returns once that late request has had time to land."""
    pipeline.sf.inject_fault(where, count=1, kind="delay", delay_ms=LATE_MS)
    started = time.monotonic()
    result = pipeline.run(request_timeout=1, **settings)
    assert result.error is None, result.error
    assert time.monotonic() - started < LATE_MS / 1000, "the run waited for the late response"
    time.sleep(max(0.0, started + LATE_MS / 1000 + 1.0 - time.monotonic()))
    sent = [r for r in pipeline.sf.requests() if re.match(where, f"{r['method']} {r['path']}")]
    assert len(sent) >= 2, "the write was not sent again after its timeout"
    return result


def leads_by_external_id(pipeline):
    found = {}
    for lead in pipeline.records("Lead"):
        found.setdefault(lead[EXT], []).append(lead["Id"])
    return found


def test_late_upsert_leaves_one_record_per_participant(pipeline):
    guests = new_people(pipeline, 5)
    run_with_a_late_write(pipeline, LEAD_UPSERT, external_id_field=EXT)
    assert leads_by_external_id(pipeline) == {g["_id"]: [pipeline.entry(g["_id"])["lead_id"]] for g in guests}
    assert len(pipeline.members()) == 5
    again = pipeline.run(external_id_field=EXT)
    assert again.error is None and pipeline.salesforce_writes() == []
    assert len(pipeline.records("Lead")) == len(pipeline.members()) == 5
    assert all(pipeline.entry(g["_id"])["last_error"] is None for g in guests)


def test_without_external_id_a_late_create_makes_a_second_record(pipeline):
    """The known limit that external_id_field removes: this fault really lands a second create."""
    new_people(pipeline, 3)
    run_with_a_late_write(pipeline, PLAIN_CREATE)
    assert len(pipeline.records("Lead")) == 6


def test_record_carrying_the_participant_id_wins_over_the_key(pipeline):
    [guest] = pipeline.add_guests({"email": "moved@x.example", "last_name": "Moved", "status": "registered"})
    ours, = pipeline.add_salesforce("Contact", {"LastName": "Moved", "Email": "old@x.example", EXT: guest["_id"]})
    pipeline.add_salesforce("Contact", {"LastName": "Other", "Email": "moved@x.example"})
    result = pipeline.run(external_id_field=EXT)
    assert result.error is None and result.summary.outcomes["updated"] == 1
    entry = pipeline.entry(guest["_id"])
    assert entry["contact_id"] == ours and pipeline.member_of(ours)["Id"] == entry["campaign_member_id"]
    assert pipeline.sf.store.tables["Contact"].records[ours]["Email"] == "moved@x.example"
    assert pipeline.records("Lead") == []


def test_lead_carrying_the_participant_id_is_matched_in_contacts_only_mode(pipeline):
    [guest] = pipeline.add_guests({"email": "lead@x.example", "last_name": "Lead", "status": "registered"})
    ours, = pipeline.add_salesforce("Lead", {"LastName": "Lead", "Company": "Acme", EXT: guest["_id"]})
    result = pipeline.run(external_id_field=EXT, match_mode="contacts_only", create_as="Contact")
    assert result.error is None
    assert pipeline.entry(guest["_id"])["lead_id"] == ours and pipeline.records("Contact") == []


def test_key_match_stamps_the_id_and_later_runs_match_by_it(pipeline):
    [guest] = pipeline.add_guests({"email": "known@x.example", "last_name": "Known", "status": "registered"})
    known, = pipeline.add_salesforce("Contact", {"LastName": "Known", "Email": "known@x.example"})
    assert pipeline.run(external_id_field=EXT).error is None
    assert pipeline.sf.store.tables["Contact"].records[known][EXT] == guest["_id"]
    # The stored ID is lost (e.g. a fresh Eventmaker import) and the email changes: the stamp still finds it.
    refs = {"salesforce": {**pipeline.entry(guest["_id"]), "contact_id": None, "fingerprint": None}}
    pipeline.em.store.update_guest(guest["event_id"], guest["_id"],
                                   {"email": "changed@x.example", "third_party_applications_refs": refs})
    assert pipeline.run(external_id_field=EXT).error is None
    assert pipeline.entry(guest["_id"])["contact_id"] == known
    assert len(pipeline.records("Contact")) == 1 and pipeline.records("Lead") == []


def test_participant_without_email_is_upserted_by_its_id(pipeline):
    [guest] = pipeline.add_guests({"email": None, "last_name": "NoMail", "status": "registered"})
    assert pipeline.run(external_id_field=EXT).error is None
    refs = {"salesforce": {**pipeline.entry(guest["_id"]), "lead_id": None, "fingerprint": None}}
    pipeline.em.store.update_guest(guest["event_id"], guest["_id"], {"third_party_applications_refs": refs})
    assert pipeline.run(external_id_field=EXT).error is None  # stored ID lost: found again by _id
    assert leads_by_external_id(pipeline) == {guest["_id"]: [pipeline.entry(guest["_id"])["lead_id"]]}


@pytest.mark.parametrize(("field", "create_as", "problem"), [
    ("Missing__c", "Lead", "'Missing__c' does not exist on Contact"),
    ("Email", "Contact", "'Email' is not an External ID field on Lead"),
])
def test_unusable_external_id_field_is_a_config_error_before_any_write(pipeline, field, create_as, problem):
    new_people(pipeline, 2)
    result = pipeline.run(external_id_field=field, create_as=create_as)
    assert isinstance(result.error, ConfigError) and problem in str(result.error)
    assert "External ID, Unique" in str(result.error)
    assert pipeline.salesforce_writes() == [] and pipeline.writebacks() == []


def test_turning_it_on_stamps_everyone_once_then_converges(pipeline):
    guests = new_people(pipeline, 12)
    assert pipeline.run().error is None
    stamped = pipeline.run(external_id_field=EXT)
    assert stamped.error is None and stamped.summary.outcomes["updated"] == 12
    assert leads_by_external_id(pipeline) == {g["_id"]: [pipeline.entry(g["_id"])["lead_id"]] for g in guests}
    second = pipeline.run(external_id_field=EXT)
    assert second.error is None and second.calls == 1
    assert pipeline.salesforce_writes() == [] and pipeline.writebacks() == []


@pytest.mark.slow
def test_calls_per_thousand_new_participants_with_external_id(pipeline):
    new_people(pipeline, 1000, prefix="new")
    result = pipeline.run(external_id_field=EXT)
    assert result.error is None
    assert pipeline.salesforce_calls() == result.calls <= 16  # 1 start call + 5 x (lookup, upsert, member create)
    assert result.summary.outcomes["created"] == 1000
    assert len(leads_by_external_id(pipeline)) == len(pipeline.members()) == 1000
    again = pipeline.run(external_id_field=EXT)
    assert again.calls == 1 and pipeline.salesforce_writes() == [] and pipeline.writebacks() == []
