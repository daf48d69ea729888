"""Flows 1, 2 and 8: the sync job, the participant list with its filters, the error guide."""

import csv
import io

import pytest

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
    contacts = seeded.salesforce()["records"]["Contact"]
    assert next(c for c in contacts if c["Id"] == fixed["contact_id"])["Email"] == "fixed.address@example.com"
    seeded.assert_no_duplicates()


def test_error_guide_lists_cause_and_fix(project, sandbox):
    guide = project.monitor("errors", "REQUIRED_FIELD_MISSING")
    assert "REQUIRED_FIELD_MISSING" in guide and "LastName" in guide and "Fill the missing field" in guide
    assert len(project.monitor_json("errors")) >= 10
