"""The two homes of the sync state (writeback_field, contracts §1) and the read-back of the run's first
write-back (issue 9 §3): an account that accepts the PUT but stores nothing stops the run at once."""

from hypothesis import given
from hypothesis import strategies as st

from target_salesforce_campaign.writeback_home import EMPTY_ENTRY, METADATA, METADATA_NAMES, REFS, holds, merged_field, read_entry
from target_salesforce_campaign.errors import ConfigError
from target_salesforce_campaign.writeback import WritebackNotStored

text = st.text(max_size=12)
ids = st.none() | st.text(alphabet="0123456789ABCDEFabcdef", min_size=15, max_size=18)
errors = st.none() | st.fixed_dictionaries({"code": text, "message": text, "fields": st.lists(text, max_size=2),
                                            "hint": st.none() | text, "at": text})
entries = st.fixed_dictionaries({"contact_id": ids, "lead_id": ids, "campaign_member_id": ids, "campaign_id": ids,
                                 "last_synced_at": st.none() | text.filter(bool), "last_error": errors,
                                 "fingerprint": st.none() | text.filter(bool)})
other_refs = st.dictionaries(text.filter(lambda k: k != "salesforce"), st.dictionaries(text, text, max_size=2), max_size=3)
other_fields = st.lists(st.fixed_dictionaries({"name": text.filter(lambda n: n not in METADATA_NAMES.values()),
                                               "value": text}), max_size=4)


@given(entry=entries, others=other_refs, old=entries)
def test_refs_merge_replaces_only_our_entry(entry, others, old):
    guest = {REFS: {**others, "salesforce": old}}
    merged = merged_field(guest, entry, REFS)
    assert {k: v for k, v in merged.items() if k != "salesforce"} == others
    assert read_entry({REFS: merged}, REFS) == entry and holds({REFS: merged}, entry, REFS)


@given(entry=entries, others=other_fields, old=entries)
def test_metadata_merge_replaces_only_our_fields(entry, others, old):
    guest = {METADATA: merged_field({METADATA: others}, old, METADATA)}
    merged = merged_field(guest, entry, METADATA)
    assert [f for f in merged if f["name"] not in METADATA_NAMES.values()] == others
    assert sorted(f["name"] for f in merged if f["name"] in METADATA_NAMES.values()) == sorted(METADATA_NAMES.values())
    assert all(isinstance(f["value"], str) for f in merged)
    assert read_entry({METADATA: merged}, METADATA) == entry and holds({METADATA: merged}, entry, METADATA)


def test_metadata_reading_tolerates_missing_and_malformed_fields():
    fields = [{"name": "salesforce_contact_id", "value": ""}, {"name": "salesforce_last_error", "value": "{oops"},
              {"name": "salesforce_lead_id", "value": "00Q000000000001AAA"}, "junk"]
    assert read_entry({METADATA: fields}, METADATA) == {**EMPTY_ENTRY, "lead_id": "00Q000000000001AAA"}
    assert read_entry({METADATA: []}, METADATA) == read_entry({METADATA: None}, METADATA) == EMPTY_ENTRY


def test_the_metadata_home_without_the_taps_custom_fields_stops_before_any_salesforce_write(pipeline):
    guests_for(pipeline, 3)
    result = pipeline.run(writeback_field=METADATA)  # the tap was not told: its records carry no guest_metadata
    assert isinstance(result.error, ConfigError) and "sync_state_field" in str(result.error), result.error
    assert pipeline.salesforce_writes() == [] and pipeline.writebacks() == []


def guests_for(pipeline, n, **fields):
    return pipeline.add_guests(*[{"email": f"home{i}@x.example", "last_name": f"Home{i}", "status": "registered",
                                  **fields} for i in range(n)])


def test_an_account_that_ignores_refs_stops_the_run_after_one_writeback(pipeline):
    guests_for(pipeline, 7)
    pipeline.em.configure(ignore_refs_writes=True)
    result = pipeline.run(batch_size=5)
    assert isinstance(result.error, WritebackNotStored), result.error
    assert "writeback_field" in str(result.error) and "guest_metadata" in str(result.error)
    assert len(pipeline.writebacks()) == 1, "the run wrote more back after the first write-back was not stored"
    assert len(pipeline.records("Lead")) == 5, "the run went on to the next batch"


def test_guest_metadata_home_keeps_other_custom_fields_and_converges(pipeline):
    other = [{"name": "diet", "value": "vegan"}, {"name": "salesforce_unrelated", "value": "kept"}]
    guests = guests_for(pipeline, 6, guest_metadata=other)
    pipeline.em.configure(ignore_refs_writes=True)  # the account this home is for
    settings = {"writeback_field": METADATA, "batch_size": 4}
    pipeline.tap_settings = {"include_guest_metadata": True}  # what the tap's sync_state_field implies
    assert pipeline.run(**settings).error is None
    for guest in guests:
        stored = pipeline.guest(guest["_id"])
        assert [f for f in stored[METADATA] if f["name"] not in METADATA_NAMES.values()] == other
        entry = read_entry(stored, METADATA)
        assert entry["lead_id"] and entry["campaign_member_id"] and entry["last_synced_at"] and entry["fingerprint"]
        assert read_entry(stored, REFS) == EMPTY_ENTRY  # nothing in the other home
    again = pipeline.run(**settings)
    assert again.error is None and pipeline.writebacks() == [] and pipeline.salesforce_writes() == []
    assert again.summary.outcomes["unchanged"] == len(guests)


def test_writeback_costs_a_get_and_a_put_per_changed_participant_and_one_read_back_per_run(pipeline):
    guests = guests_for(pipeline, 9)
    assert pipeline.run(batch_size=4, writeback_concurrency=3).error is None
    calls = [(r["method"], r["path"]) for r in pipeline.em.requests() if "/guests/" in r["path"]]
    paths = {f"/api/v1/events/{g['event_id']}/guests/{g['_id']}.json" for g in guests}
    assert sorted(p for m, p in calls if m == "PUT") == sorted(paths)
    gets = [p for m, p in calls if m == "GET"]
    assert len(gets) == len(paths) + 1 and set(gets) == paths  # the fresh reads, and the first one read back
    assert len(calls) == 2 * len(guests) + 1
