"""Participant rows, table/CSV/JSON output, and the run summary record and first error read from a run's log."""

import csv
import io
import json
from types import SimpleNamespace

from target_salesforce_campaign.errors import HINTS
from target_salesforce_campaign.summary import Intake, RunSummary

from sync_monitor.error_guide import load_guides, hint_for
from sync_monitor.logs import find_run_log, first_error, metric_record, read_summary
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
    assert row["hint"] == load_guides()["STRING_TOO_LONG"].fix
    assert participant_row(NEVER)["hint"] is None


def test_the_target_written_hint_wins_over_the_generic_guide():
    record = {**SYNCED_THEN_FAILED, "salesforce_last_error": {"code": "X_CUSTOM", "hint": "Ask Jane."}}
    record["salesforce_last_error_code"] = "X_CUSTOM"
    assert participant_row(record)["hint"] == "Ask Jane."
    assert hint_for("X_CUSTOM") is None


def test_guide_fixes_are_the_targets_hints_and_every_code_has_cause_and_fix():
    guides = load_guides()
    assert HINTS and all(guides[code].fix == hint for code, hint in HINTS.items())
    assert all(guide.cause and guide.fix for guide in guides.values())


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
    assert len(table) == 3 and "Lovelace" in table[1] and table[2].split() == ["e1", "u2", "Bob"]
    hint = "Fill the missing field in Eventmaker, or map another field to it."  # a comma: no CSV quoting here
    assert hint in render([{"hint": hint, "email": "x" * 120}], ("hint", "email"), "table") and "x" * 120 in \
        render([{"hint": hint, "email": "x" * 120}], ("hint", "email"), "table")  # never cut off a terminal


def summary_value(*, dry_run=False):
    """The target's own summary record, so a change of its shape breaks these tests."""
    summary = RunSummary()
    for outcome in ("created", "created", "updated", "unchanged"):
        summary.add(outcome)
    summary.add("failed", "INVALID_EMAIL_ADDRESS")
    summary.add("failed", "STRING_TOO_LONG")
    summary.writebacks = 6
    usage = SimpleNamespace(used=7, left=93, limit=100, percent=7.0)
    return summary.record(Intake(received=6), calls=7, usage=usage, dry_run=dry_run, campaign_ids=["701"])


def meltano_line(value, metric="salesforce_sync_summary"):
    """How Meltano's console renderer writes a plugin's METRIC record into elt.log (dict literal)."""
    return f"2026-11-25T10:00:09.1Z [info     ] target-salesforce-campaign METRIC   metric_name={metric} metric_value={value!r}"


def test_summary_record_read_from_the_metric_line_in_a_log():
    log = "\n".join([
        "2026-11-25T10:00:00Z [info     ] meltano      Starting sync",
        meltano_line(summary_value()),
        "2026-11-25T10:00:10Z [info     ] meltano      Block run completed",
    ])
    summary = read_summary(log)
    assert summary == json.loads(json.dumps(summary_value()))
    assert summary["outcomes"]["created"] == 2 and summary["failed_by_code"] == {"INVALID_EMAIL_ADDRESS": 1, "STRING_TOO_LONG": 1}
    assert summary["api_usage"] == {"used": 7, "limit": 100, "left": 93, "percent": 7.0} and summary["received"] == 6


def test_only_the_last_summary_counts_other_metrics_and_trailing_keys_are_ignored():
    later = {**summary_value(dry_run=True), "received": 9}
    log = "\n".join([meltano_line(summary_value()), meltano_line(later) + " stream_name=guests",
                     meltano_line({"received": 1}, "salesforce_sync_progress")])
    assert read_summary(log) == later
    assert read_summary("[info] nothing here created=1") is None
    assert metric_record(meltano_line({"a": 1}, "salesforce_sync_progress"), "salesforce_sync_progress") == {"a": 1}


def test_first_error_is_the_plugins_own_message_not_meltanos_consequence():
    log = "\n".join([
        '2026-12-01T09:13:30Z [error    ] tap-eventmaker Backing off 2.96 seconds after 1 tries calling function',
        '2026-12-01T09:13:31Z [error    ] tap-eventmaker BrokenPipeError() plugin_exc_message="" plugin_exc_type=BrokenPipeError',
        "2026-12-01T09:13:31Z [error    ] target-salesforce-campaign Configuration errors (nothing was written): campaign_id "
        "'701000000000999AAA': no such Campaign. plugin_exc_message=\"Configuration errors (nothing was written): "
        "campaign_id '701000000000999AAA': no such Campaign.\" plugin_exc_type=ConfigError",
        "2026-12-01T09:13:31Z [error    ] meltano      Loader failed",
        "2026-12-01T09:13:31Z [error    ] meltano      Block run completed",
    ])
    assert first_error(log) == ("target-salesforce-campaign: Configuration errors (nothing was written): "
                                "campaign_id '701000000000999AAA': no such Campaign.")
    guard = "2026-12-01T09:12:25Z [error    ] meltano      Another 'sandbox:x' pipeline is already running"
    assert first_error(guard + "\n2026-12-01T09:12:25Z [error    ] meltano      Loader failed") == \
        "Another 'sandbox:x' pipeline is already running"
    assert first_error("2026-12-01T09:13:31Z [error    ] meltano      Loader failed") is None
    crash = "\n".join([
        "2026-12-01T09:40:50Z [info     ] target-salesforce-campaign--resend Traceback (most recent call last):",
        "2026-12-01T09:40:50Z [info     ] target-salesforce-campaign--resend import pycountry",
        "2026-12-01T09:40:50Z [info     ] target-salesforce-campaign--resend ModuleNotFoundError: No module named 'pycountry'",
        "2026-12-01T09:40:50Z [error    ] meltano      Loader failed",
    ])
    assert first_error(crash) == "target-salesforce-campaign--resend: ModuleNotFoundError: No module named 'pycountry'"


def test_run_log_is_found_by_run_id_under_any_state_id(tmp_path):
    log = tmp_path / "elt" / "sandboxtap-eventmaker-to-target-salesforce-campaign" / "abc-1" / "elt.log"
    log.parent.mkdir(parents=True)
    log.write_text("hello")
    assert find_run_log("abc-1", tmp_path) == log
    assert find_run_log("abc-2", tmp_path) is None
