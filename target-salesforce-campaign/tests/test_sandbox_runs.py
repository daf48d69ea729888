"""Whole runs on both sandboxes: write-back shape, convergence, dry run, resend, bad inputs, economy."""

import pytest
from sandbox.seed import generate

OTHER_APP = {"hubspot": {"contact_id": "hs-42"}}


def test_write_back_keeps_other_apps_and_fills_the_entry(pipeline):
    [guest] = pipeline.add_guests({"email": "wb@x.example", "last_name": "Wb", "status": "registered",
                                   "third_party_applications_refs": dict(OTHER_APP)})
    assert pipeline.run().error is None
    refs = pipeline.guest(guest["_id"])["third_party_applications_refs"]
    assert refs["hubspot"] == OTHER_APP["hubspot"]
    entry = refs["salesforce"]
    assert set(entry) == {"contact_id", "lead_id", "campaign_member_id", "campaign_id", "last_synced_at", "last_error", "fingerprint"}
    assert entry["lead_id"].startswith("00Q") and entry["campaign_member_id"].startswith("00v")
    assert entry["last_synced_at"].endswith("Z") and entry["last_error"] is None and len(entry["fingerprint"]) == 64


def test_ids_are_kept_after_a_later_failure_and_the_error_clears_on_success(pipeline):
    [guest] = pipeline.add_guests({"email": "later@x.example", "last_name": "Later", "status": "registered"})
    assert pipeline.run().error is None
    synced = pipeline.entry(guest["_id"])
    pipeline.em.store.update_guest(guest["event_id"], guest["_id"], {"email": "broken at x.example"})
    assert pipeline.run().error is None
    failed = pipeline.entry(guest["_id"])
    assert failed["last_error"]["code"] == "INVALID_EMAIL_ADDRESS" and failed["last_error"]["hint"]
    assert (failed["lead_id"], failed["campaign_member_id"], failed["last_synced_at"]) == (
        synced["lead_id"], synced["campaign_member_id"], synced["last_synced_at"])
    pipeline.em.store.update_guest(guest["event_id"], guest["_id"], {"email": "fixed@x.example"})
    assert pipeline.run().error is None
    fixed = pipeline.entry(guest["_id"])
    assert fixed["last_error"] is None and fixed["lead_id"] == synced["lead_id"]
    [lead] = pipeline.records("Lead")
    assert lead["Email"] == "fixed@x.example"


def test_second_run_converges_to_zero_writes(pipeline):
    dataset = pipeline.load(generate(participants=40, events=2, seed=5))
    first = pipeline.run()
    assert first.error is None
    assert pipeline.salesforce_writes() and len(pipeline.writebacks()) == len(dataset.eventmaker["guests"]) - 1
    second = pipeline.run()
    assert second.error is None
    assert pipeline.salesforce_writes() == [], "the second run wrote to Salesforce"
    assert pipeline.writebacks() == [], "the second run wrote back"
    assert second.calls == 1  # start checks only: campaign statuses, describe Contact and Lead in one Composite call
    assert second.summary.outcomes["unchanged"] + second.summary.outcomes["skipped"] == len(dataset.eventmaker["guests"])


def test_data_errors_are_not_resent_until_the_data_changes(pipeline):
    pipeline.add_guests({"email": "bad at x.example", "last_name": "Bad", "status": "registered"})
    assert pipeline.run().error is None
    assert len(pipeline.writebacks()) == 1
    again = pipeline.run()
    assert again.summary.outcomes["unchanged"] == 1 and pipeline.writebacks() == []


def test_dry_run_writes_nothing_anywhere(pipeline):
    pipeline.load(generate(participants=30, events=1, seed=6))
    before_sf = pipeline.sf.store.to_dict()["records"]
    result = pipeline.run(dry_run=True)
    assert result.error is None
    assert pipeline.salesforce_writes() == [] and pipeline.writebacks() == []
    assert pipeline.sf.store.to_dict()["records"] == before_sf
    assert result.summary.outcomes["created"] > 0


def test_force_resend_sends_again_without_duplicates(pipeline):
    pipeline.load(generate(participants=30, events=1, seed=8))
    assert pipeline.run().error is None
    counts = {o: len(pipeline.records(o)) for o in ("Contact", "Lead", "CampaignMember")}
    resend = pipeline.run(force_resend=True)
    assert resend.error is None
    assert pipeline.salesforce_writes(), "force_resend sent nothing"
    assert {o: len(pipeline.records(o)) for o in counts} == counts
    assert resend.summary.outcomes["created"] == 0


def test_bad_inputs_get_written_back_errors_while_the_rest_syncs(pipeline):
    bad = pipeline.add_guests(
        {"email": "no at x.example", "last_name": "Mail", "status": "registered"},
        {"email": "nolast@x.example", "last_name": None, "status": "registered"},
        {"email": "long@x.example", "last_name": "Long", "company_name": "C" * 256, "status": "registered"},
    )
    good = pipeline.add_guests(*[{"email": f"ok{i}@x.example", "last_name": f"Ok{i}", "status": "invited"}
                                 for i in range(5)])
    result = pipeline.run()
    assert result.error is None
    codes = [pipeline.entry(g["_id"])["last_error"]["code"] for g in bad]
    assert codes == ["INVALID_EMAIL_ADDRESS", "REQUIRED_FIELD_MISSING", "STRING_TOO_LONG"]
    assert pipeline.entry(bad[1]["_id"])["last_error"]["fields"] == ["LastName"]
    assert all(pipeline.entry(g["_id"])["last_synced_at"] for g in good)
    assert len(pipeline.records("Lead")) == 5 and len(pipeline.members()) == 5
    assert dict(result.summary.failures) == {"INVALID_EMAIL_ADDRESS": 1, "REQUIRED_FIELD_MISSING": 1, "STRING_TOO_LONG": 1}


def test_no_secret_in_written_back_errors_or_state(pipeline):
    pipeline.add_guests({"email": "no at x.example", "last_name": "Mail", "status": "registered"})
    result = pipeline.run()
    written = str([g for e in pipeline.em.store.events() for g in pipeline.em.store.guests(e["_id"])]) + str(result.states)
    for secret in (pipeline.sf.credentials["password"], pipeline.sf.credentials["security_token"], pipeline.em.auth_token):
        assert secret not in written


STATUSES = ("registered", "invited", "imported", "pending", "declined", "cancelled")


@pytest.mark.slow
def test_calls_per_thousand_new_participants(pipeline, capsys):
    """1,000 distinct people unknown to Salesforce (the seed's duplicate emails are not new people)."""
    pipeline.add_guests(*[
        {"email": f"new{i}@x.example", "first_name": f"F{i}", "last_name": f"L{i}", "company_name": "Acme",
         "status": STATUSES[i % len(STATUSES)], "showed_up": i % 7 == 0}
        for i in range(1000)
    ])
    result = pipeline.run()
    assert result.error is None
    calls = pipeline.salesforce_calls()
    with capsys.disabled():
        print(f"\nSalesforce API calls for 1,000 new participants: {calls} "
              f"(by endpoint: {pipeline.sf.counters()['by_endpoint']})")
    assert calls == result.calls, "the target's own count disagrees with the sandbox's"
    assert calls <= 16  # 1 start call + 5 batches x (lookup, Lead create, member create)
    assert result.summary.outcomes["created"] == 1000
    assert len(pipeline.records("Lead")) == len(pipeline.members()) == 1000


def test_changed_participants_find_their_members_in_the_lookup_call(pipeline):
    guests = pipeline.add_guests(*({"email": f"chg{i}@x.example", "last_name": f"Chg{i}", "status": "registered"}
                                   for i in range(25)))
    assert pipeline.run(batch_size=10).error is None
    for guest in guests:
        pipeline.em.store.update_guest(guest["event_id"], guest["_id"], {"first_name": "Renamed", "status": "cancelled"})
    changed = pipeline.run(batch_size=10)
    assert changed.error is None and changed.summary.outcomes["updated"] == 25
    queries = [r for r in pipeline.sf.requests() if r["method"] == "GET" and "/query" in r["path"]]
    assert queries == [], "members come with the batch's lookup call (the start reads are a Composite call too)"
    assert changed.calls == 1 + 3 * 2  # start reads; per batch: lookup, one update of Leads and member Status
    assert {m["Status"] for m in pipeline.members()} == {"Cancelled"}


def test_seeded_special_cases_cost_at_most_five_calls_per_batch(pipeline):
    """Every special case of the seed (matches, conversions, imported Ids, duplicates, errors) in 2 batches:
    one start call, then per batch one lookup (people and their members) and at most one call per write
    phase (updates of people with their members' Status, creates, member creates); no follow-up query."""
    pipeline.load(generate(participants=400, seed=0))
    result = pipeline.run(external_id_field="Eventmaker_Id__c", key_external_id_field="Eventmaker_Key__c")
    assert result.error is None, result.error
    by_endpoint = pipeline.sf.counters()["by_endpoint"]
    assert by_endpoint["POST /services/data/{v}/composite"] == 1 + 2
    assert not [e for e in by_endpoint if e.startswith("GET ")], by_endpoint
    assert result.calls <= 1 + 4 * 2
    again = pipeline.run(external_id_field="Eventmaker_Id__c", key_external_id_field="Eventmaker_Key__c")
    assert again.calls == 1 and pipeline.salesforce_writes() == []
