"""What starts runs: the event sensor (partitions) and meltano.yml's two schedules."""

import json
from pathlib import Path

from dagster import (
    DagsterRunStatus,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    define_asset_job,
    schedule,
    sensor,
)

from .assets import EVENT_PARTITIONS, EXPORT_ASSET, SYNC_ASSET
from .commands import events_command
from .events import ABSENT_LISTINGS_BEFORE_REMOVAL, absences_from_cursor, events_from_singer, partition_changes
from .resource import MeltanoProject, default_project_root
from .concurrency import PARTITION_TAG
from .schedules_config import meltano_schedules

SYNC_JOB = define_asset_job("sync", selection=[SYNC_ASSET], tags={"eventmaker/pipeline": "sync"})
EXPORT_JOB = define_asset_job("export", selection=[EXPORT_ASSET], tags={"eventmaker/pipeline": "export"})
SCHEDULES = meltano_schedules(Path(default_project_root()))
EVENT_SENSOR_INTERVAL_S = 300
PENDING = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]


@sensor(minimum_interval_seconds=EVENT_SENSOR_INTERVAL_S, default_status=DefaultSensorStatus.RUNNING,
        description="Keeps one partition per Eventmaker event the tap reads (no deploy needed): adds new "
                    f"events, removes those missing from {ABSENT_LISTINGS_BEFORE_REMOVAL} listings in a row.")
def eventmaker_events(context: SensorEvaluationContext, meltano: MeltanoProject) -> SensorResult | SkipReason:
    result = meltano.execute(events_command(), label="events")
    if not result.ok:
        return SkipReason(f"could not list the events: {result.log.error_line()}")
    known = context.instance.get_dynamic_partitions(EVENT_PARTITIONS.name)
    listed = events_from_singer(result.stdout)
    changes = partition_changes(known, listed, absences_from_cursor(context.cursor))
    context.update_cursor(json.dumps(changes.absent, sort_keys=True))
    if changes.absent:
        context.log.info("events missing from this listing (partition removed after "
                         f"{ABSENT_LISTINGS_BEFORE_REMOVAL} in a row): "
                         + ", ".join(f"{event_id} ({count})" for event_id, count in changes.absent.items()))
    if not changes.add and not changes.remove:
        return SkipReason(f"no new event ({len(known)} known)" if listed else "the tap listed no event: partitions kept")
    requests = []
    if changes.add:
        titles = {event.event_id: event.title for event in listed}
        context.log.info("new events: " + "; ".join(f"{e} {titles[e] or ''}".strip() for e in changes.add))
        requests.append(EVENT_PARTITIONS.build_add_request(changes.add))
    if changes.remove:
        context.log.warning(f"events no longer listed by the tap {ABSENT_LISTINGS_BEFORE_REMOVAL} times in a row, "
                            "partition removed (its runs stay in the history): " + ", ".join(changes.remove))
        requests.append(EVENT_PARTITIONS.build_delete_request(changes.remove))
    return SensorResult(dynamic_partitions_requests=requests)


@schedule(job=SYNC_JOB, cron_schedule=SCHEDULES["sync"].interval, name=SCHEDULES["sync"].name.replace("-", "_"),
          default_status=DefaultScheduleStatus.STOPPED)
def sync_schedule(context: ScheduleEvaluationContext):
    """One sync run per known event not already queued or running (the queue runs them in parallel)."""
    tick = context.scheduled_execution_time.isoformat()
    partitions = context.instance.get_dynamic_partitions(EVENT_PARTITIONS.name)
    if not partitions:
        return SkipReason("no event partition yet (the eventmaker_events sensor adds them)")
    busy = {run.tags.get(PARTITION_TAG) for run in context.instance.get_runs(RunsFilter(statuses=PENDING))}
    requests = [RunRequest(partition_key=event_id, run_key=f"{event_id}:{tick}")
                for event_id in partitions if event_id not in busy]
    return requests or SkipReason(f"every event's sync is still queued or running ({len(partitions)})")


@schedule(job=EXPORT_JOB, cron_schedule=SCHEDULES["export"].interval, name=SCHEDULES["export"].name.replace("-", "_"),
          default_status=DefaultScheduleStatus.STOPPED)
def export_schedule(context: ScheduleEvaluationContext):
    return RunRequest()
