"""Flow 4: resend one participant, a filtered list, a whole event; the main bookmark never moves."""

import json

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.both_homes
def test_resends_send_unchanged_participants_under_their_own_state_id(project, seeded):
    project.monitor("sync")
    main_bookmark = project.main_state()
    assert main_bookmark is not None
    rows = project.monitor_json("participants")
    synced = next(row for row in rows if row["sync_status"] == ["synced"])

    one = project.monitor("resend", "--uid", synced["uid"])
    assert one.startswith("SUCCESS") and ":tap-eventmaker--resend-to-" in one
    assert project.outcomes(one) == {**dict.fromkeys(project.outcomes(one), 0), "updated": 1}

    in_error = [row for row in rows if "error" in row["sync_status"]]
    listed = project.outcomes(project.monitor("resend", "--status", "error"))
    assert listed["failed"] == len(in_error) == sum(listed.values())

    event_id = synced["event_id"]
    whole_event = project.outcomes(project.monitor("resend", "--event", event_id))
    assert sum(whole_event.values()) == sum(row["event_id"] == event_id for row in rows)
    assert whole_event["updated"] > 0 and whole_event.get("unchanged", 0) == 0  # forced, though unchanged

    assert project.main_state() == main_bookmark
    seeded.assert_no_duplicates()
    history = project.monitor_json("runs", "list", "--pipeline", "resend")
    assert [run["status"] for run in history] == ["success"] * 3
    filters = [json.loads(run["trigger"])["filter"] for run in history]
    assert filters == [{"event_ids": [event_id]}, {"sync_status": ["error"]}, {"participant_uids": [synced["uid"]]}]
    # The main pipeline's history holds only the sync itself.
    assert len(project.monitor_json("runs", "list", "--pipeline", "sync")) == 1
    # The resends stored each fingerprint in the home: the next sync sends nobody again.
    after = project.outcomes(project.monitor("sync"))
    assert after.get("created", 0) == after.get("updated", 0) == 0 and after["unchanged"] > 0


def test_resend_needs_a_selection(project, sandbox):
    result = project.meltano("invoke", "sync-monitor:resend")
    assert result.returncode != 0 and "say whom to resend" in result.stderr


def test_a_selection_or_a_sync_that_reads_nobody_says_so(project, seeded):
    resent = project.monitor("resend", "--uid", "doesnotexist")
    assert resent.startswith("SUCCESS") and "0 participants selected by --uid doesnotexist" in resent
    assert "0 participants selected by --uid doesnotexist" in project.monitor("participants", "--uid", "doesnotexist")
    event = seeded.guests()[0]["event_id"]
    dry = project.monitor("dry-run", "--event", event, "--search", "no-such-participant-anywhere")
    assert f"0 participants selected by --event {event} --search no-such-participant-anywhere" in dry

    requests.post(f"{seeded.eventmaker_url}/__sandbox/reset", timeout=30).raise_for_status()  # nobody left to read
    synced = project.monitor("sync")
    assert synced.startswith("SUCCESS") and "read no participant" in synced and "result: read 0" in synced


def test_malformed_arguments_are_refused_before_meltano_runs_anything(project, sandbox):
    for args, accepted in ((["resend", "--event", "not-an-id"], "24 hex characters"),
                           (["runs", "show", "abc"], "a UUID as `runs list` prints it"),
                           (["runs", "list", "--pipeline", "nightly"], "one of sync, resend, dry-run, export")):
        result = project.meltano("invoke", f"sync-monitor:{args[0]}", *args[1:])
        assert result.returncode == 2 and accepted in result.stderr
    assert project.run_states("sandbox:tap-eventmaker--resend-to-target-salesforce-campaign--resend") == []
