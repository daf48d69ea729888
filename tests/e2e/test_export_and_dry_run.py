"""Flows 3 and 7: CSV export through target-csv, and a dry run that writes nothing anywhere."""

import csv
import json

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.both_homes
def test_export_writes_every_participants_sync_information(project, seeded):
    project.monitor("sync")
    main_bookmark = project.main_state()
    expected = {row["uid"]: row for row in project.monitor_json("participants")}

    output = project.monitor("export", "--output-dir", str(project.output_dir))

    assert output.startswith("SUCCESS") and f"({len(expected)} participants)" in output
    [path] = project.output_dir.glob("*.csv")
    with path.open(encoding="utf-8", newline="") as file:
        exported = {row["uid"]: row for row in csv.DictReader(file)}
    assert exported.keys() == expected.keys()
    for uid, row in exported.items():
        assert row["salesforce_contact_id"] == (expected[uid]["contact_id"] or "")
        assert row["salesforce_campaign_member_id"] == (expected[uid]["campaign_member_id"] or "")
        assert row["salesforce_last_error_code"] == (expected[uid]["error_code"] or "")
        assert json.loads(row["salesforce_sync_status"]) == expected[uid]["sync_status"]  # JSON, not a Python repr
        assert json.loads(row["showed_up"]) in (True, False)
    assert project.main_state() == main_bookmark
    nobody = project.monitor("export", "--uid", "doesnotexist", "--output-dir", str(project.output_dir / "none"))
    assert "0 participants selected by --uid doesnotexist" in nobody


def test_dry_run_reports_what_a_sync_would_do_and_writes_nothing(project, seeded):
    salesforce_before = seeded.salesforce()["records"]
    guests_before = seeded.guests()

    output = project.monitor("dry-run")

    assert output.startswith("SUCCESS") and "DRY RUN, nothing written" in output
    would = project.outcomes(output)
    assert would["created"] > 0 and would["failed"] >= 3  # the seed's invalid email, missing name, long company
    assert seeded.salesforce()["records"] == salesforce_before
    assert seeded.guests() == guests_before
    assert project.main_state() is None
