"""Date bounds, retry de-duplication and the run summary sentence."""

from datetime import datetime, timezone

from sync_monitor.checks import parse_time
from sync_monitor.retries import distinct_pipelines
from sync_monitor.logs import describe_summary
from sync_monitor.runs import Run

MAIN = "sandbox:tap-eventmaker-to-target-salesforce-campaign"


def run(run_id, state_id=MAIN, trigger="cli"):
    return Run(state_id, run_id, "failed", None, None, trigger, "Loader failed")


def test_a_bare_until_date_includes_that_day_and_times_are_utc():
    assert parse_time("2026-11-25") == datetime(2026, 11, 25, tzinfo=timezone.utc)
    assert parse_time("2026-11-25", end_of_day=True) == datetime(2026, 11, 26, tzinfo=timezone.utc)
    assert parse_time("2026-11-25T10:30:00", end_of_day=True) == datetime(2026, 11, 25, 10, 30, tzinfo=timezone.utc)
    assert parse_time("2026-11-25T10:30:00+02:00").utcoffset().total_seconds() == 7200


def test_retrying_all_failed_runs_reruns_each_pipeline_and_selection_once():
    uid_a = '{"by":"sync-monitor","action":"resend","filter":{"participant_uids":["a"]}}'
    uid_b = '{"by":"sync-monitor","action":"resend","filter":{"participant_uids":["b"]}}'
    resend = "sandbox:tap-eventmaker--resend-to-target-salesforce-campaign--resend"
    failed = [run("1"), run("2"), run("3", resend, uid_a), run("4", resend, uid_a), run("5", resend, uid_b),
              run("6", f"{MAIN}:slice-1")]
    assert [r.run_id for r in distinct_pipelines(failed)] == ["1", "3", "5", "6"]


def test_summary_sentence_lists_counts_failures_calls_and_budget():
    summary = {"received": 3, "outcomes": {"created": 2, "updated": 0, "left_for_next_run": 1},
               "failed_by_code": {"STRING_TOO_LONG": 1}, "salesforce_calls": 5,
               "api_usage": {"used": 5, "limit": 100, "left": 95, "percent": 5.0}, "dry_run": True}
    assert describe_summary(summary) == (
        "DRY RUN, nothing written: read 3: created 2, updated 0, left for next run 1 "
        "(failed by code: STRING_TOO_LONG 1); Salesforce API calls 5 (95/100 left, 5.0% used)"
    )
    assert "DRY RUN" not in describe_summary({**summary, "dry_run": False})
