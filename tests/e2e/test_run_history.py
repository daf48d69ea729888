"""Flow 6: run history from Meltano's `runs` table and logs; retry of failed runs with their filters."""

import json
from datetime import date, timedelta

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

UNKNOWN_CAMPAIGN = "701000000000999AAA"


def test_failed_runs_are_listed_shown_and_retried_with_the_same_filter(project, seeded):
    uid = seeded.guests()[0]["uid"]
    broken_sync = {"TARGET_SALESFORCE_CAMPAIGN_CAMPAIGN_ID": UNKNOWN_CAMPAIGN}
    broken_resend = {"TARGET_SALESFORCE_CAMPAIGN__RESEND_CAMPAIGN_ID": UNKNOWN_CAMPAIGN}
    assert project.monitor("sync", env=broken_sync, ok=False).startswith("FAILED")
    assert project.monitor("resend", "--uid", uid, env=broken_resend, ok=False).startswith("FAILED")

    failed = project.monitor_json("runs", "list", "--status", "failed")
    assert len(failed) == 2 and {run["error"] for run in failed} == {"Loader failed"}
    today, tomorrow = date.today().isoformat(), (date.today() + timedelta(days=1)).isoformat()
    assert project.monitor_json("runs", "list", "--status", "failed", "--since", tomorrow) == []
    assert len(project.monitor_json("runs", "list", "--pipeline", "sync", "--until", today)) == 1
    failed_resend = next(run for run in failed if ":tap-eventmaker--resend-" in run["state_id"])

    shown = project.monitor("runs", "show", failed_resend["run_id"])
    assert "FAILED" in shown and "error: Loader failed" in shown and "elt.log" in shown
    assert UNKNOWN_CAMPAIGN in shown  # the target's own message, from the run's log
    assert "sandbox-password" not in shown and "SANDBOXTOKEN" not in shown

    retried = project.monitor("runs", "retry", failed_resend["run_id"])
    assert "SUCCESS" in retried and project.outcomes(retried)["updated"] + project.outcomes(retried)["created"] == 1
    newest_resend = project.monitor_json("runs", "list", "--pipeline", "resend")[0]
    trigger = json.loads(newest_resend["trigger"])
    assert trigger["filter"] == {"participant_uids": [uid]} and trigger["retry_of"] == failed_resend["run_id"]

    all_failed_syncs = project.monitor("runs", "retry", "--failed", "--pipeline", "sync", "--since", today)
    assert all_failed_syncs.count("retrying ") == 1 and "SUCCESS" in all_failed_syncs
    statuses = [run["status"] for run in project.monitor_json("runs", "list", "--pipeline", "sync")]
    assert statuses == ["success", "failed"]
    seeded.assert_no_duplicates()
