"""Participant rows, table/CSV/JSON output and the run summary parsed from a run's log."""

import csv
import io
import json
from types import SimpleNamespace

from target_salesforce_campaign.errors import HINTS
from target_salesforce_campaign.summary import RunSummary

from sync_monitor.error_guide import GUIDES, hint_for
from sync_monitor.logs import find_run_log, parse_summary
from sync_monitor.participants import COLUMNS, participant_row, status_counts
from sync_monitor.render import render

SYNCED_THEN_FAILED = {
    "event_id": "e1", "uid": "u1", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@x",
    "salesforce_sync_status": ["synced", "error"], "salesforce_contact_id": "003000000000001AAA",
    "salesforce_campaign_member_id": "00v000000000001AAA", "salesforce_last_synced_at": "2026-11-25T10:00:00Z",
    "salesforce_last_error_code": "STRING_TOO_LONG", "salesforce_last_error_message": "Title: too long",
    "salesforce_last_error": {"code": "STRING_TOO_LONG", "message": "Title: too long"},
}
NEVER = {"event_id": "e1", "uid": "u2", "first_name": "Bob", "salesforce_sync_status": []}


def test_participant_row_shows_ids_and_the_guide_hint_next_to_the_error():
    row = participant_row(SYNCED_THEN_FAILED)
    assert row["name"] == "Ada Lovelace"
    assert row["contact_id"] == "003000000000001AAA" and row["lead_id"] is None
    assert row["error_code"] == "STRING_TOO_LONG"
    assert row["hint"] == GUIDES["STRING_TOO_LONG"].fix
    assert participant_row(NEVER)["hint"] is None


def test_the_target_written_hint_wins_over_the_generic_guide():
    record = {**SYNCED_THEN_FAILED, "salesforce_last_error": {"code": "X_CUSTOM", "hint": "Ask Jane."}}
    record["salesforce_last_error_code"] = "X_CUSTOM"
    assert participant_row(record)["hint"] == "Ask Jane."
    assert hint_for("X_CUSTOM") is None


def test_guide_fixes_are_the_targets_hints_and_every_code_has_cause_and_fix():
    assert all(GUIDES[code].fix == hint for code, hint in HINTS.items() if code in GUIDES)
    assert all(guide.cause and guide.fix for guide in GUIDES.values())


def test_counts_let_synced_and_error_overlap():
    rows = [participant_row(SYNCED_THEN_FAILED), participant_row(NEVER)]
    assert status_counts(rows) == {"participants": 2, "synced": 1, "error": 1, "never": 1}


def test_the_three_formats_carry_the_same_rows():
    rows = [participant_row(SYNCED_THEN_FAILED), participant_row(NEVER)]
    parsed_csv = list(csv.DictReader(io.StringIO(render(rows, COLUMNS, "csv"))))
    assert [r["uid"] for r in parsed_csv] == ["u1", "u2"]
    assert parsed_csv[0]["sync_status"] == "synced,error"
    assert json.loads(render(rows, COLUMNS, "json"))[0]["contact_id"] == "003000000000001AAA"
    table = render(rows, COLUMNS, "table").splitlines()
    assert table[0].split() == list(COLUMNS)
    assert len(table) == 4 and "Lovelace" in table[2]


def summary_line(*, dry_run=False):
    """The target's own summary line, so a change of its format breaks this test."""
    summary = RunSummary()
    for outcome in ("created", "created", "updated", "unchanged"):
        summary.add(outcome)
    summary.add("failed", "INVALID_EMAIL_ADDRESS")
    summary.add("failed", "STRING_TOO_LONG")
    summary.writebacks = 6
    usage = SimpleNamespace(left=93, limit=100, percent=7.0)
    return summary.render(calls=7, usage=usage, dry_run=dry_run)


def test_summary_parsed_from_the_target_summary_line_in_a_log():
    log = "\n".join([
        "2026-11-25T10:00:00Z [info] Starting sync",
        "2026-11-25T10:00:09Z [info] target-salesforce-campaign | " + summary_line(),
        "2026-11-25T10:00:10Z [info] Block run completed",
    ])
    summary = parse_summary(log)
    assert (summary["created"], summary["updated"], summary["unchanged"], summary["failed"]) == (2, 1, 1, 2)
    assert summary["failed_by_code"] == {"INVALID_EMAIL_ADDRESS": 1, "STRING_TOO_LONG": 1}
    assert summary["api_calls"] == 7 and summary["api_usage"].startswith("93/100")
    assert summary["dry_run"] is False


def test_only_the_last_summary_counts_and_dry_runs_say_so():
    log = summary_line() + "\n" + summary_line(dry_run=True).replace("created=2", "created=9")
    summary = parse_summary(log)
    assert summary["created"] == 9 and summary["dry_run"] is True
    assert parse_summary("[info] nothing here created=1") is None


def test_run_log_is_found_by_run_id_under_any_state_id(tmp_path):
    log = tmp_path / "elt" / "sandboxtap-eventmaker-to-target-salesforce-campaign" / "abc-1" / "elt.log"
    log.parent.mkdir(parents=True)
    log.write_text("hello")
    assert find_run_log("abc-1", tmp_path) == log
    assert find_run_log("abc-2", tmp_path) is None
