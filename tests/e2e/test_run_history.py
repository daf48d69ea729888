"""Flow 6: run history from Meltano's `runs` table and logs; retry of failed runs with their filters. Every
failure shows the plugin's own first error line, never Meltano's "Loader failed"."""

import json
from datetime import date, timedelta

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

UNKNOWN_STATUS = '{"registered": "No Such Member Status"}'  # a status the campaigns do not have
MELTANO_WORDS = ("Loader failed", "Extractor failed", "BrokenPipeError")


def test_failed_runs_are_listed_shown_and_retried_with_the_same_filter(project, seeded):
    uid = seeded.guests()[0]["uid"]
    broken_sync = {"TARGET_SALESFORCE_CAMPAIGN_STATUS_MAPPING": UNKNOWN_STATUS}
    broken_resend = {"TARGET_SALESFORCE_CAMPAIGN__RESEND_STATUS_MAPPING": UNKNOWN_STATUS}
    failed_sync = project.monitor("sync", env=broken_sync, ok=False)
    assert failed_sync.startswith("FAILED") and "No Such Member Status" in failed_sync
    assert project.monitor("resend", "--uid", uid, env=broken_resend, ok=False).startswith("FAILED")

    failed = project.monitor_json("runs", "list", "--status", "failed")
    assert len(failed) == 2
    assert all(run["error"].startswith("target-salesforce-campaign") and "No Such Member Status" in run["error"]
               for run in failed)
    assert not any(word in run["error"] for run in failed for word in MELTANO_WORDS)
    today, tomorrow = date.today().isoformat(), (date.today() + timedelta(days=1)).isoformat()
    assert project.monitor_json("runs", "list", "--status", "failed", "--since", tomorrow) == []
    assert len(project.monitor_json("runs", "list", "--pipeline", "sync", "--until", today)) == 1
    failed_resend = next(run for run in failed if ":tap-eventmaker--resend-" in run["state_id"])

    shown = project.monitor("runs", "show", failed_resend["run_id"])
    assert "FAILED" in shown and "elt.log" in shown
    error_line = next(line for line in shown.splitlines() if line.startswith("  error: "))
    assert "No Such Member Status" in error_line and "Loader failed" not in error_line
    assert "sandbox-password" not in shown and "SANDBOXTOKEN" not in shown

    retried = project.monitor("runs", "retry", failed_resend["run_id"])
    assert "SUCCESS" in retried and project.outcomes(retried)["updated"] + project.outcomes(retried)["created"] == 1
    newest_resend = project.monitor_json("runs", "list", "--pipeline", "resend")[0]
    trigger = json.loads(newest_resend["trigger"])
    assert trigger["filter"] == {"participant_uids": [uid]} and trigger["retry_of"] == failed_resend["run_id"]

    # The failed resend was completed by its retry: `--failed` re-runs only the failed sync, once.
    all_failed = project.monitor("runs", "retry", "--failed", "--since", today)
    assert all_failed.count("retrying ") == 1 and "SUCCESS" in all_failed
    assert "1 failed run(s) already completed by a later retry: not retried" in all_failed
    statuses = [run["status"] for run in project.monitor_json("runs", "list", "--pipeline", "sync")]
    assert statuses == ["success", "failed"]
    assert project.monitor("runs", "retry", "--failed", "--since", today).strip().endswith("no failed run to retry")
    seeded.assert_no_duplicates()


@pytest.mark.parametrize("env, expected", [
    ({"TARGET_SALESFORCE_CAMPAIGN_PASSWORD": "wrong-password"}, "target-salesforce-campaign: "),
    ({"TAP_EVENTMAKER_AUTH_TOKEN": "revoked-token"}, "tap-eventmaker: "),
])
def test_a_refused_credential_shows_the_plugins_own_error_and_no_secret(project, seeded, env, expected):
    output = project.monitor("sync", env=env, ok=False)
    error = next(line for line in output.splitlines() if line.startswith("  error: "))
    assert error.startswith(f"  error: {expected}"), output
    assert not any(word in error for word in MELTANO_WORDS)
    assert next(iter(env.values())) not in output
    listed = project.monitor_json("runs", "list", "--status", "failed")
    assert listed[0]["error"] == error.removeprefix("  error: ")
