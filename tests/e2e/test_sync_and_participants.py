"""Flows 1, 2 and 8: the sync job, the participant list with its filters, the error guide."""

import csv
import io
import re
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
import requests

from sync_monitor.logs import read_summary

from .conftest import MELTANO, PROJECT

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_sync_is_incremental_and_the_list_shows_sync_columns_with_overlapping_filters(project, seeded):
    first = project.monitor("sync")
    assert first.startswith("SUCCESS") and project.outcomes(first)["created"] > 0
    seeded.assert_no_duplicates()

    rows = project.monitor_json("participants")
    assert len(rows) == len(seeded.guests()) == 30
    synced = [row for row in rows if "synced" in row["sync_status"]]
    assert synced and all((row["contact_id"] or row["lead_id"]) and row["campaign_member_id"]
                          and row["last_synced_at"] for row in synced)
    errors = [row for row in rows if "error" in row["sync_status"]]
    assert errors and all(row["error_code"] and row["hint"] for row in errors)

    # Nothing changed: the next run sends nothing.
    assert project.outcomes(project.monitor("sync")).get("created", 0) == 0

    # A synced participant gets an invalid email: only it is sent again, and it becomes synced AND error.
    victim = next(guest for guest in seeded.guests() if guest["uid"] == synced[0]["uid"])
    seeded.update_guest(victim, {"email": "not an email"})
    again = project.outcomes(project.monitor("sync"))
    assert again["failed"] == 1 and again.get("created", 0) == 0

    both = project.monitor_json("participants", "--status", "synced", "--status", "error")
    assert [row["uid"] for row in both] == [victim["uid"]]
    assert both[0]["error_code"] == "INVALID_EMAIL_ADDRESS" and both[0]["contact_id"] == synced[0]["contact_id"]
    in_error = {row["uid"] for row in project.monitor_json("participants", "--status", "error")}
    assert in_error == {row["uid"] for row in errors} | {victim["uid"]}
    assert {row["uid"] for row in project.monitor_json("participants", "--status", "never")}.isdisjoint(in_error)

    event_rows = project.monitor_json("participants", "--event", victim["event_id"])
    assert event_rows and {row["event_id"] for row in event_rows} == {victim["event_id"]}
    found = project.monitor_json("participants", "--search", victim["uid"])
    assert [row["uid"] for row in found] == [victim["uid"]]

    as_csv = list(csv.DictReader(io.StringIO(project.monitor("participants", "--status", "error", "--format", "csv"))))
    assert {row["uid"] for row in as_csv} == in_error
    table = project.monitor("participants", "--status", "error")
    assert "INVALID_EMAIL_ADDRESS" in table and "Fix the participant's email" in table
    assert f"{len(in_error)} participants" in table

    # Fixing the email is enough: the next sync clears the error and updates Salesforce.
    seeded.update_guest(victim, {"email": "fixed.address@example.com"})
    assert project.outcomes(project.monitor("sync"))["updated"] == 1
    fixed = project.monitor_json("participants", "--search", victim["uid"])[0]
    assert fixed["sync_status"] == ["synced"] and fixed["error_code"] is None
    records = seeded.salesforce()["records"]
    person = next(r for r in records["Contact"] + records["Lead"] if r["Id"] in (fixed["contact_id"], fixed["lead_id"]))
    assert person["Email"] == "fixed.address@example.com"  # the Contact or Lead it was matched to
    seeded.assert_no_duplicates()


def test_error_guide_lists_cause_and_fix(project, sandbox):
    guide = project.monitor("errors", "REQUIRED_FIELD_MISSING")
    assert "REQUIRED_FIELD_MISSING" in guide and "LastName" in guide and "Fill the missing field" in guide
    assert len(project.monitor_json("errors")) >= 10


SUMMARY_KEYS = {"schema_version", "dry_run", "campaign_ids", "received", "outcomes", "failed_by_code", "writebacks",
                "writeback_failures", "salesforce_calls", "api_usage", "duration_seconds", "stopped"}
SLOW_RUN = {"TARGET_SALESFORCE_CAMPAIGN_PROGRESS_INTERVAL_SECONDS": "1", "TARGET_SALESFORCE_CAMPAIGN_BATCH_SIZE": "5"}


def slow_salesforce(sandbox, ms):
    requests.post(f"{sandbox.salesforce_url}/__sandbox/latency", json={"ms": ms}, verify=sandbox.ca_bundle,
                  timeout=30).raise_for_status()


def test_a_long_sync_shows_progress_lines_and_ends_with_one_structured_summary(project, seeded):
    slow_salesforce(seeded, 250)
    try:  # plain `meltano run`, as in CI
        result = project.meltano("run", "sync", env=SLOW_RUN)
    finally:
        slow_salesforce(seeded, 0)
    assert result.returncode == 0, result.stderr[-3000:]
    progress = [line for line in result.stderr.splitlines() if "target-salesforce-campaign Progress: " in line]
    assert len(progress) >= 2, result.stderr[-3000:]
    assert all(re.search(r"Progress: \d+ participants read( of at most \d+)?, \d+ processed \(\d+ sent, \d+ failed\); \d+ "
                         r"Salesforce calls, API budget [\d.]+% used \(\d+/\d+ left\); [\d.]+/s, ETA", line) for line in progress)
    read = [int(re.search(r"Progress: (\d+) participants read", line)[1]) for line in progress]
    assert read == sorted(read) and read[-1] > read[0]  # it moves
    stamps = [datetime.fromisoformat(line.split()[0].replace("Z", "+00:00")) for line in progress]
    assert max((b - a).total_seconds() for a, b in zip(stamps, stamps[1:])) < 3  # every second or so
    [log] = Path(project.env["XDG_STATE_HOME"]).glob("meltano/log/elt/*/*/elt.log")
    summaries = [line for line in log.read_text().splitlines() if "metric_name=salesforce_sync_summary" in line]
    assert len(summaries) == 1
    summary = read_summary(summaries[0])
    assert set(summary) == SUMMARY_KEYS and summary["received"] == 30 == sum(summary["outcomes"].values())
    assert summary["salesforce_calls"] >= 6 and summary["api_usage"]["limit"] > 0 and summary["stopped"] is None


def test_on_a_terminal_sync_monitor_draws_a_progress_bar_and_keeps_the_pipeline_lines(project, seeded):
    slow_salesforce(seeded, 250)
    try:
        env = {**project.env, **SLOW_RUN, "COLUMNS": "200"}
        result = subprocess.run(["script", "-qefc", f"{MELTANO} invoke sync-monitor:sync", "/dev/null"], cwd=PROJECT,
                                env=env, capture_output=True, text=True, timeout=300)
    finally:
        slow_salesforce(seeded, 0)
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", result.stdout)
    assert result.returncode == 0, screen[-3000:]
    assert re.search(r"participants .*read \d+\s+sent \d+\s+failed \d+\s+SF calls \d+ \(budget [\d.]+% used\)", screen)
    assert "Beginning sync of 'guests'" in screen  # the pipeline's own lines, not swallowed
    assert "SUCCESS  run" in screen
