"""The target end to end on requests-mock: batching, result mapping, write-back, fingerprints, budget."""

import json

import pytest

from target_salesforce_campaign.errors import BudgetExceeded, ConfigError

CAMPAIGN = "701000000000001AAA"  # the campaign of conftest.py


def test_new_participants_are_batched_and_written_back(config, fake_sf, fake_em, run, guest):
    stdout, _ = run(config, [guest(i) for i in range(450)])
    creates = [c for c in fake_sf.calls if c.startswith("POST") and c.endswith("composite/sobjects")]
    # 3 batches (200, 200, 50): one lookup, one Lead create and one member create each, plus 1 start call.
    assert len(fake_sf.calls) == 1 + 3 * 3
    assert len(creates) == 6
    assert len(fake_sf.records["Lead"]) == 450 and len(fake_sf.records["CampaignMember"]) == 450
    refs = fake_em.refs_by_guest()
    assert len(refs) == 450
    entry = refs[f"{7:024x}"]["salesforce"]
    lead = fake_sf.records["Lead"][entry["lead_id"]]
    assert lead["Email"] == "person7@example.com"  # result mapped back by position
    member = fake_sf.records["CampaignMember"][entry["campaign_member_id"]]
    assert member["LeadId"] == entry["lead_id"] and member["Status"] == "Registered"
    assert entry["last_error"] is None and entry["last_synced_at"] and entry["fingerprint"]
    assert [json.loads(line) for line in stdout.splitlines()] == [{"bookmarks": {"guests": {"replication_key_value": "x"}}}]


def test_second_run_with_written_back_state_sends_nothing(config, fake_sf, fake_em, run, guest, caplog):
    caplog.set_level("INFO")
    first = [guest(i) for i in range(30)]
    run(config, first)
    refs = fake_em.refs_by_guest()
    calls_before, puts_before = len(fake_sf.calls), len(fake_em.puts)
    again = [dict(g, third_party_applications_refs=refs[g["_id"]]) for g in first]
    _, stderr = run(config, again)
    new_calls = fake_sf.calls[calls_before:]
    assert new_calls == ["POST /services/data/v59.0/composite"]  # the start checks only, in one Composite call
    assert len(fake_em.puts) == puts_before
    assert "unchanged=30" in caplog.text


def test_force_resend_sends_again_without_duplicates(config, fake_sf, fake_em, run, guest):
    first = [guest(i) for i in range(5)]
    run(config, first)
    refs = fake_em.refs_by_guest()
    again = [dict(g, third_party_applications_refs=refs[g["_id"]]) for g in first]
    run({**config, "force_resend": True}, again)
    assert len(fake_sf.records["Lead"]) == 5 and len(fake_sf.records["CampaignMember"]) == 5


def test_lost_writeback_rerun_matches_instead_of_duplicating(config, fake_sf, fake_em, run, guest):
    records = [guest(i, status="invited") for i in range(10)]
    run(config, records)
    run(config, [dict(r, status="registered") for r in records])  # no refs: as if write-back was lost
    assert len(fake_sf.records["Lead"]) == 10 and len(fake_sf.records["CampaignMember"]) == 10
    assert {m["Status"] for m in fake_sf.records["CampaignMember"].values()} == {"Registered"}


def test_bad_inputs_become_per_participant_errors(config, fake_sf, fake_em, run, guest, caplog):
    caplog.set_level("INFO")
    fake_sf.record_errors["rejected@example.com"] = "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    records = [
        guest(1, email="not-an-email"),
        guest(2, last_name=None),
        guest(3, email=None),
        guest(4, status="mystery"),
        guest(5, email="rejected@example.com"),
        guest(6, last_name="x" * 81),
        guest(7),
    ]
    _, stderr = run(config, records)
    refs = fake_em.refs_by_guest()
    codes = {int(gid, 16): r["salesforce"]["last_error"]["code"] for gid, r in refs.items() if r["salesforce"]["last_error"]}
    assert codes == {1: "INVALID_EMAIL_ADDRESS", 2: "REQUIRED_FIELD_MISSING", 3: "MISSING_UNIQUENESS_KEY",
                     4: "STATUS_NOT_MAPPED", 5: "FIELD_CUSTOM_VALIDATION_EXCEPTION", 6: "STRING_TOO_LONG"}
    assert refs[f"{7:024x}"]["salesforce"]["lead_id"]
    assert all(r["salesforce"]["fingerprint"] for r in refs.values())  # data errors are final
    assert "failed=6" in caplog.text and "created=1" in caplog.text


def test_unchanged_data_error_is_not_resent(config, fake_sf, fake_em, run, guest):
    fake_sf.record_errors["rejected@example.com"] = "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    record = guest(1, email="rejected@example.com")
    run(config, [record])
    calls = len(fake_sf.calls)
    run(config, [dict(record, third_party_applications_refs=fake_em.refs_by_guest()[record["_id"]])])
    assert len(fake_sf.calls) == calls + 1  # the start checks only


def test_existing_contact_and_member_are_updated(config, fake_sf, fake_em, run, guest):
    contact_id, member_id = "003EXISTING0000Y5B", "00vEXISTING0000Y5B"
    fake_sf.records["Contact"][contact_id] = {"Id": contact_id, "Email": "PERSON1@example.com", "LastName": "Old"}
    fake_sf.records["CampaignMember"][member_id] = {"Id": member_id, "CampaignId": CAMPAIGN, "ContactId": contact_id,
                                                 "Status": "Sent"}
    calls = len(fake_sf.calls)
    run(config, [guest(1, showed_up=True)])
    assert fake_sf.records["Contact"][contact_id]["LastName"] == "Last1"
    assert fake_sf.records["CampaignMember"][member_id]["Status"] == "Attended"
    assert not fake_sf.records["Lead"]
    entry = fake_em.refs_by_guest()[f"{1:024x}"]["salesforce"]
    assert (entry["contact_id"], entry["campaign_member_id"]) == (contact_id, member_id)
    # start, one lookup (the member found by its Contact's email in the same call), one update of both
    assert len(fake_sf.calls) - calls == 3


@pytest.mark.parametrize("member_fails", [False, True])
def test_person_and_member_updates_share_one_call_and_the_persons_error_wins(
    config, fake_sf, fake_em, run, guest, member_fails
):
    contact_id, member_id = "003EXISTING0000Y5B", "00vEXISTING0000Y5B"
    fake_sf.records["Contact"][contact_id] = {"Id": contact_id, "Email": "PERSON1@example.com", "LastName": "Old"}
    fake_sf.records["CampaignMember"][member_id] = {"Id": member_id, "CampaignId": CAMPAIGN, "ContactId": contact_id,
                                                 "Status": "Sent"}
    fake_sf.update_errors[contact_id] = "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    if member_fails:
        fake_sf.update_errors[member_id] = "FIELD_INTEGRITY_EXCEPTION"
    updates = len([c for c in fake_sf.calls if c.startswith("PATCH")])
    run(config, [guest(1, showed_up=True)])
    assert len([c for c in fake_sf.calls if c.startswith("PATCH")]) - updates == 1
    assert fake_sf.records["CampaignMember"][member_id]["Status"] == ("Sent" if member_fails else "Attended")
    entry = fake_em.refs_by_guest()[f"{1:024x}"]["salesforce"]
    assert entry["last_error"]["code"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert (entry["contact_id"], entry["campaign_member_id"]) == (contact_id, member_id)


def test_trashed_never_synced_participant_creates_nothing(config, fake_sf, fake_em, run, guest):
    run(config, [guest(1, deleted_at="2026-01-02T00:00:00Z")])
    assert not fake_sf.records["Lead"] and not fake_em.puts


def test_dry_run_writes_nothing(config, fake_sf, fake_em, run, guest, caplog):
    caplog.set_level("INFO")
    _, stderr = run({**config, "dry_run": True}, [guest(i) for i in range(3)])
    assert not fake_sf.records["Lead"] and not fake_em.puts
    assert "DRY RUN" in caplog.text and "created=3" in caplog.text


def test_budget_stop_emits_no_state_and_says_why(config, fake_sf, fake_em, run, guest):
    fake_sf.usage = [95, 100]
    with pytest.raises(BudgetExceeded, match="max_api_usage_percent"):
        run(config, [guest(i) for i in range(3)])
    assert not fake_sf.records["Lead"] and not fake_em.puts


def test_secrets_stay_out_of_logs_and_writebacks(config, fake_sf, fake_em, run, guest, caplog):
    caplog.set_level("INFO")
    stdout, stderr = run(config, [guest(1, email="bad")])
    bodies = json.dumps([p["body"] for p in fake_em.puts])
    for secret in ("SECRET-ACCESS-TOKEN", "SECRET-EM-TOKEN"):
        assert secret not in stdout + stderr + caplog.text + bodies


def test_unknown_campaign_is_a_config_error_before_any_write(config, fake_sf, fake_em, run, guest):
    with pytest.raises(ConfigError, match="campaign_id"):
        run({**config, "campaign_id": "701000000000009AAA", "status_mapping": {"registered": "Nope"}}, [guest(1)])
    assert not any(c.startswith(("POST", "PATCH")) and "/sobjects" in c for c in fake_sf.calls)



def test_writeback_keeps_at_most_writeback_concurrency_puts_in_flight():
    """A real local HTTP server counts the PUTs in flight (requests-mock serialises requests)."""
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from target_salesforce_campaign.writeback import EventmakerWriter, Writeback

    lock, in_flight, peak, stored = threading.Lock(), [0], [0], {}

    class SlowEventmaker(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(stored.get(self.path.split("?")[0], {})).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_PUT(self):
            stored[self.path.split("?")[0]] = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["guest"]
            with lock:
                in_flight[0] += 1
                peak[0] = max(peak[0], in_flight[0])
            time.sleep(0.05)
            with lock:
                in_flight[0] -= 1
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowEventmaker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        writer = EventmakerWriter(f"http://127.0.0.1:{server.server_port}", "token", max_workers=3)
        outcome = writer.write([Writeback("e1", f"g{i}", {"contact_id": f"003{i}"}) for i in range(13)])
    finally:
        server.shutdown()
    assert outcome.failures == [] and outcome.written == 13
    assert peak[0] == 3


def test_writeback_concurrency_setting_reaches_the_writer():
    from target_salesforce_campaign.connection import writer_from_config

    config = {"eventmaker_api_url": "http://em.test", "eventmaker_auth_token": "t", "writeback_concurrency": 7}
    assert writer_from_config(config).max_workers == 7
