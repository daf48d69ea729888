"""A batch's write-back overlaps the next batch's Salesforce calls, never a bookmark (issue 9 §2)."""

import json

import pytest
from singer_sdk import Target

from target_salesforce_campaign.errors import WritebackFailed


@pytest.fixture
def bookmarks(monkeypatch, fake_em):
    """For each bookmark the target emits: how many write-back PUTs were done at that moment."""
    seen = []
    original = Target._write_state_message

    def recorded(self, state):
        seen.append(len(fake_em.puts))
        original(self, state)

    monkeypatch.setattr(Target, "_write_state_message", recorded)
    return seen


def test_the_next_batch_works_with_salesforce_while_the_write_back_runs(config, fake_sf, fake_em, run, guest, bookmarks):
    fake_em.put_seconds = 0.003  # requests-mock answers one request at a time: 0.3 s per batch of 100
    stdout, _ = run({**config, "batch_size": 100}, [guest(i) for i in range(400)])
    done = sorted(p["done"] for p in fake_em.puts)
    assert len(done) == 400 and len(fake_sf.records["Lead"]) == 400
    # batch 1's write-back is awaited (first write-back verified); batch 2's runs while batch 3 calls Salesforce
    batch_3_lookup = fake_sf.call_times[1 + 2 * 3]  # start call, then 3 calls per batch
    assert batch_3_lookup < done[199], "batch 3 waited for batch 2's write-back"
    assert batch_3_lookup > done[99], "batch 3 started before batch 1's write-back was verified"
    assert bookmarks == [400], "the bookmark was emitted before every write-back was done"
    assert [json.loads(line) for line in stdout.splitlines()] == [{"bookmarks": {"guests": {"replication_key_value": "x"}}}]


def test_a_failed_background_write_back_stops_the_run_without_a_bookmark(config, fake_sf, fake_em, run, guest,
                                                                          bookmarks, requests_mock):
    requests_mock.register_uri("PUT", f"http://em.test/api/v1/events/{'e' * 24}/guests/{150:024x}.json", status_code=500)
    with pytest.raises(WritebackFailed):
        run({**config, "batch_size": 100}, [guest(i) for i in range(400)])
    assert bookmarks == []
