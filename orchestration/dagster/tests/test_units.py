"""Pure parts of the code location: command lines, log reading, retry classification, schedules."""

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from dagster import DagsterRun, DagsterRunStatus, build_schedule_context, instance_for_test
from dagster._utils.tags import TagConcurrencyLimitsCounter

from eventmaker_sync_dagster.assets import EVENT_PARTITIONS
from eventmaker_sync_dagster.automation import SCHEDULES, sync_schedule
from eventmaker_sync_dagster.commands import (
    ResendSelection, checked, events_command, export_command, resend_command, sync_command,
)
from eventmaker_sync_dagster.events import (
    ABSENT_LISTINGS_BEFORE_REMOVAL, Event, absences_from_cursor, events_from_singer, partition_changes,
)
from eventmaker_sync_dagster.logs import RunLog, notable, summary_metadata
from eventmaker_sync_dagster.outcome import is_retryable

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parents[2]
EVENT = "6a9686000000000100000000"


def log_of(*events: dict) -> RunLog:
    log = RunLog()
    for event in events:
        log.feed(json.dumps(event) + "\n")
    return log


def plugin_line(plugin: str, message: str, level: str = "info", **extra) -> dict:
    return {"stdio": "stderr", "name": plugin, "event": message, "level": level, **extra}


def every_command():
    return [sync_command(EVENT, "dagster-run", "meltano-run"), export_command("dagster-run", {}), events_command(),
            resend_command(ResendSelection(uids=("u1",), statuses=("error",)))]


def test_no_command_bypasses_the_running_guard():
    for command in every_command():
        assert not {"--force", "-f"} & set(command.args), command.args
    for args in (["run", "--force", "sync"], ["run", "-f", "sync"], ["run", "--force=true", "sync"]):
        with pytest.raises(ValueError, match="RUNNING guard"):
            checked(args)


def test_a_partition_syncs_one_event_under_its_own_state_id():
    command = sync_command(EVENT, "dagster-run", "meltano-run")
    assert command.args == ("run", "--state-id-suffix", EVENT, "sync")
    assert json.loads(command.env["TAP_EVENTMAKER_EVENT_IDS"]) == [EVENT]
    assert command.env["MELTANO_RUN_ID"] == "meltano-run"
    assert json.loads(command.env["MELTANO_JOB_TRIGGER"])["dagster_run_id"] == "dagster-run"


def test_resend_takes_the_options_of_sync_monitor_resend():
    selection = ResendSelection(uids=("a", "b"), events=(EVENT,), search="acme", statuses=("synced", "error"))
    assert resend_command(selection).args == (
        "invoke", "sync-monitor", "resend", "--uid", "a", "--uid", "b", "--event", EVENT, "--search", "acme",
        "--status", "synced", "--status", "error")
    assert resend_command(ResendSelection(all=True)).args[-1] == "--all"
    with pytest.raises(ValueError, match="say whom"):
        resend_command(ResendSelection())
    with pytest.raises(ValueError, match="unknown sync status"):
        resend_command(ResendSelection(statuses=("stale",)))


def test_the_events_come_from_the_taps_events_records_only():
    lines = [
        json.dumps({"type": "SCHEMA", "stream": "events", "schema": {}}),
        json.dumps({"type": "RECORD", "stream": "events", "record": {"_id": EVENT, "title": "Summit"}}),
        json.dumps({"type": "RECORD", "stream": "guests", "record": {"_id": "g1"}}),
        "not json",
        json.dumps({"type": "RECORD", "stream": "events", "record": {"_id": EVENT, "title": "again"}}),
        json.dumps({"type": "STATE", "value": {}}),
    ]
    assert [(e.event_id, e.title) for e in events_from_singer(lines)] == [(EVENT, "Summit")]


def test_the_summary_record_becomes_metadata():
    summary = {"schema_version": 1, "outcomes": {"created": 3, "updated": 1, "failed": 1}, "failed_by_code":
               {"INVALID_EMAIL_ADDRESS": 1}, "salesforce_calls": 4, "writebacks": 5, "writeback_failures": 0,
               "api_usage": {"used": 4, "limit": 100, "left": 96, "percent": 4.0}, "stopped": None}
    metric = {"type": "summary", "metric": "salesforce_sync_summary", "value": summary}
    log = log_of(plugin_line("target-salesforce-campaign", "METRIC", metric_info=metric),
                 plugin_line("target-salesforce-campaign", "METRIC", metric_info={**metric, "metric": "other"}))
    assert log.summary == summary
    entries = summary_metadata(log.summary)
    assert (entries["created"], entries["failed"], entries["salesforce_calls"], entries["api_usage_left"]) == (3, 1, 4, 96)
    assert entries["failed_by_code"] == {"INVALID_EMAIL_ADDRESS": 1}


def test_the_error_line_is_the_plugins_own_before_meltanos():
    log = log_of(plugin_line("target-salesforce-campaign", "external_id_field not Unique", "warning"),
                 plugin_line("target-salesforce-campaign", "Configuration errors (nothing was written): campaign_id x", "error"),
                 {"event": "Loader failed", "level": "error"}, {"event": "Block run completed", "level": "error"})
    assert log.error_line() == "target-salesforce-campaign: Configuration errors (nothing was written): campaign_id x"
    refused = log_of({"event": "Another 'sandbox:tap-eventmaker-to-target-salesforce-campaign:e' pipeline is already "
                               "running", "level": "error"})
    assert "already running" in refused.error_line()


@pytest.mark.parametrize(("line", "retryable"), [
    ("target-salesforce-campaign: Configuration errors (nothing was written): campaign_id '7010': no such Campaign", False),
    ("target-salesforce-campaign: Salesforce login (password flow) at https://x failed (invalid_grant: ...)", False),
    ("Another 'sandbox:x' pipeline is already running", False),
    ("tap-eventmaker: Giving up _request(...) after 5 tries (requests.exceptions.ConnectionError: ...)", True),
    ("target-salesforce-campaign: 503 Server Error: Service Unavailable", True),
])
def test_configuration_errors_and_refusals_are_not_retried(line, retryable):
    assert is_retryable(log_of({"event": line, "level": "error"})) is retryable


def test_the_schedules_are_meltano_ymls():
    declared = {entry["job"]: entry for entry in yaml.safe_load((PROJECT / "meltano.yml").read_text())["schedules"]}
    assert {job: (s.name, s.interval, s.env) for job, s in SCHEDULES.items()} == {
        job: (entry["name"], entry["interval"], entry.get("env", {})) for job, entry in declared.items()}
    assert export_command("dagster-run", SCHEDULES["export"].env).env["MELTANO_RUN_FULL_REFRESH"] == "true"


def test_the_sync_schedule_requests_one_run_per_event_not_already_pending():
    with instance_for_test() as instance:
        instance.add_dynamic_partitions(EVENT_PARTITIONS.name, ["e1", "e2", "e3"])
        instance.add_run(DagsterRun(job_name="sync", run_id=str(uuid.uuid4()), status=DagsterRunStatus.STARTED,
                                    tags={"dagster/partition": "e3"}))
        context = build_schedule_context(instance=instance, scheduled_execution_time=datetime(2026, 12, 1, tzinfo=timezone.utc))
        requests = sync_schedule(context)
    assert sorted(request.partition_key for request in requests) == ["e1", "e2"]
    assert len({request.run_key for request in requests}) == 2


def test_the_run_queue_holds_a_second_run_of_a_partition_but_not_of_another():
    limits = yaml.safe_load((HERE.parent / "dagster.yaml").read_text())["run_coordinator"]["config"]["tag_concurrency_limits"]
    running = DagsterRun(job_name="sync", status=DagsterRunStatus.STARTED, tags={"dagster/partition": "e1"})
    counter = TagConcurrencyLimitsCounter(limits, [running])
    assert counter.is_blocked(DagsterRun(job_name="sync", tags={"dagster/partition": "e1"}))
    assert not counter.is_blocked(DagsterRun(job_name="sync", tags={"dagster/partition": "e2"}))
    resending = DagsterRun(job_name="resend", status=DagsterRunStatus.STARTED, tags={"eventmaker/pipeline": "resend"})
    assert TagConcurrencyLimitsCounter(limits, [resending]).is_blocked(
        DagsterRun(job_name="resend", tags={"eventmaker/pipeline": "resend"}))


def test_warnings_errors_and_progress_reach_the_dagster_log_and_nothing_else():
    progress = {"type": "progress", "metric": "salesforce_sync_progress",
                "value": {"processed": 200, "sent": 150, "failed": 2, "salesforce_calls": 6}}
    assert notable(json.dumps(plugin_line("target-salesforce-campaign", "METRIC", metric_info=progress))) == (
        "info", "progress: 200 processed, 150 sent, 2 failed, 6 Salesforce calls")
    assert notable(json.dumps(plugin_line("tap-eventmaker", "retrying", "warning"))) == ("warning", "tap-eventmaker: retrying")
    assert notable(json.dumps({"event": "Loader failed", "level": "error"})) == ("error", "meltano: Loader failed")
    assert notable(json.dumps(plugin_line("target-salesforce-campaign", "batch 3 sent"))) is None
    assert notable("plain text") is None


EVENTS = [f"6a96860000000001000000{i:02d}" for i in range(5)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(EVENTS), unique=True), max_size=12))
def test_partitions_follow_the_listings(listings):
    """Any sequence of listings (empty ones included): a listed event has its partition; a partition
    goes only after ABSENT_LISTINGS_BEFORE_REMOVAL non-empty listings in a row without its event,
    and then it does go; an empty listing changes nothing."""
    partitions, cursor, history = [], None, []
    for listing in listings:
        changes = partition_changes(partitions, [Event(e, None) for e in listing], absences_from_cursor(cursor))
        before = list(partitions)
        partitions = [p for p in partitions if p not in changes.remove] + changes.add
        cursor = json.dumps(changes.absent)
        if not listing:
            assert partitions == before
            continue
        history.append(set(listing))
        assert set(listing) <= set(partitions) and len(partitions) == len(set(partitions))
        recent = history[-ABSENT_LISTINGS_BEFORE_REMOVAL:]
        for event_id in set(before) - set(partitions):  # removed now
            assert len(recent) == ABSENT_LISTINGS_BEFORE_REMOVAL and all(event_id not in seen for seen in recent)
        for event_id in partitions:  # kept: listed lately; its absences since then are counted exactly
            assert len(recent) < ABSENT_LISTINGS_BEFORE_REMOVAL or any(event_id in seen for seen in recent)
            missed = absences_from_cursor(cursor).get(event_id, 0)
            assert all(event_id not in seen for seen in history[len(history) - missed:])
            assert missed == len(history) or event_id in history[-missed - 1]


@pytest.mark.parametrize("cursor", [None, "", "not json", "[1]", '{"e": "x", "f": -1}', '{"e": true}'])
def test_an_unreadable_cursor_counts_no_absence(cursor):
    assert absences_from_cursor(cursor) == {}
