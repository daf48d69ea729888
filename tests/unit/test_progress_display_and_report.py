"""The progress display (terminal and plain), and the HTML report page (tests/e2e/test_report.py renders it in Chromium)."""

import io
import re
from datetime import datetime, timedelta, timezone

from rich.console import Console

from target_salesforce_campaign.progress import ProgressReporter
from target_salesforce_campaign.summary import Intake, RunSummary, describe_progress, progress_record

from sync_monitor.display import pipeline_display
from sync_monitor.report import ReportData, RunPoint
from sync_monitor.report_html import render_report
from sync_monitor.runs import Run

def progress_value(processed=400, total=1000):
    summary = RunSummary()
    for _ in range(processed - 3):
        summary.add("created")
    for _ in range(3):
        summary.add("failed", "STRING_TOO_LONG")
    intake = Intake(received=processed + 50)
    intake.add_event({"guest_count": total})
    intake.started -= 10  # ten seconds ago
    usage = type("Usage", (), {"used": 40, "limit": 100000, "left": 99960, "percent": 0.04})()
    return progress_record(summary, intake, 40, usage)


def test_progress_record_has_counts_rate_and_an_eta_from_the_events_sizes():
    value = progress_value()
    assert (value["received"], value["processed"], value["sent"], value["failed"]) == (450, 400, 397, 3)
    assert value["expected_total"] == 1000 and 39 <= value["rate_per_second"] <= 40.1
    assert 14 <= value["eta_seconds"] <= 16  # 600 left at ~40/s
    assert value["api_usage"]["left"] == 99960
    line = describe_progress(value)
    assert line.startswith("Progress: 450 participants read of at most 1000, 400 processed (397 sent, 3 failed)")
    assert "40 Salesforce calls" in line and "ETA 15s" in line
    assert progress_record(None, Intake(), 0, None)["eta_seconds"] is None  # nothing known yet: no guess
    behind = Intake(received=700)  # an event's size, sent after its 300 participants, while another event streams
    behind.add_event({"guest_count": 300})
    assert progress_record(None, behind, 0, None)["expected_total"] is None
    assert describe_progress(progress_record(None, behind, 0, None)).endswith("0.0/s, ETA unknown")


def test_the_reporter_reports_periodically_and_never_after_stop():
    calls = []
    reporter = ProgressReporter(lambda: calls.append(1), interval=0.05)
    reporter.start()
    reporter.start()  # a second start is harmless
    import time
    time.sleep(0.3)
    reporter.stop()
    seen = len(calls)
    time.sleep(0.15)
    assert 3 <= seen == len(calls)


def meltano_line(value):
    return ("2026-12-01T09:13:55Z [info     ] target-salesforce-campaign METRIC   "
            f"metric_name=salesforce_sync_progress metric_value={value!r}")


def test_on_a_terminal_the_bar_follows_progress_records_and_every_line_still_shows():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=200)
    lines = ["2026-12-01T09:13:54Z [info     ] tap-eventmaker Beginning sync", meltano_line(progress_value())]
    with pipeline_display(console) as display:
        for line in lines:
            display(line)
        assert display.progress.tasks[0].completed == 400 and display.progress.tasks[0].total == 1000
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    assert "Beginning sync" in text and "salesforce_sync_progress" in text
    assert "read 450  sent 397  failed 3" in text and "ETA 15s" in text


def test_elsewhere_every_line_passes_through_to_stderr_unchanged(capsys):
    console = Console(file=io.StringIO(), force_terminal=False)
    lines = ["a [info] one", meltano_line(progress_value()), "c [error] three"]
    with pipeline_display(console) as display:
        for line in lines:
            display(line)
    assert capsys.readouterr().err.splitlines() == lines


def sample_report():
    start = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)

    def point(i, status, outcomes, failed_by_code=None, error=None):
        run = Run("sandbox:tap-eventmaker-to-target-salesforce-campaign", f"0000000{i}-0000-0000-0000-000000000000",
                  status, start + timedelta(hours=i), start + timedelta(hours=i, seconds=30), None, error)
        summary = None if status == "failed" else {
            "outcomes": outcomes, "failed_by_code": failed_by_code or {}, "salesforce_calls": 9,
            "api_usage": {"used": 30 * (i + 1), "limit": 100000, "left": 100000 - 30 * (i + 1), "percent": 0.03 * (i + 1)}}
        return RunPoint(run, summary, error)

    points = [point(0, "success", {"created": 11, "updated": 14, "failed": 3},
                    {"INVALID_EMAIL_ADDRESS": 1, "REQUIRED_FIELD_MISSING": 1, "STRING_TOO_LONG": 1}),
              point(1, "failed", {}, error="target-salesforce-campaign: Configuration errors <b>x</b>"),
              point(2, "success", {"created": 0, "updated": 1, "failed": 1}, {"INVALID_EMAIL_ADDRESS": 1})]
    in_error = [{"uid": f"U{i}", "name": "Ada <Lovelace>", "email": "bad", "error_code": "INVALID_EMAIL_ADDRESS",
                 "error_message": "Email: invalid", "hint": "Fix the participant's email in Eventmaker."} for i in range(3)]
    return ReportData("sandbox", "2026-12-01 09:00 UTC", points, in_error)


def test_report_page_is_self_contained_escaped_and_counts_right():
    html = render_report(sample_report())
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html) and "<script" not in html  # nothing fetched
    assert "<b>x</b>" not in html and "Ada &lt;Lovelace&gt;" in html  # escaped
    cards = dict(re.findall(r'<div class="card" id="count-(\w+)"><b>(\d+)</b>', html))
    assert cards == {"runs": "3", "failed_runs": "1", "created": "11", "updated": "15", "failed": "4", "in_error": "3"}
    assert html.count('class="run-row') == 3 and html.count('class="participant-row"') == 3
    assert html.count('<circle class="run-failed"') == 1 and html.count('<circle class="run-success"') == 2
    assert "meltano invoke sync-monitor:resend --uid U2" in html
    assert "INVALID_EMAIL_ADDRESS (2)" in html and "STRING_TOO_LONG (1)" in html
    assert "90 of 100000 daily API requests used" in html
