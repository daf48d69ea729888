"""Flow 4: resend one participant, a filtered list, a whole event; the main bookmark never moves."""

import json

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


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


def test_resend_needs_a_selection(project, sandbox):
    result = project.meltano("invoke", "sync-monitor:resend")
    assert result.returncode != 0 and "say whom to resend" in result.stderr
