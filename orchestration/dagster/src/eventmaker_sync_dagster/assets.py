"""The pipelines as Dagster assets: the sync per event partition and the nightly export."""

import uuid
from dagster import (
    AssetExecutionContext,
    AssetKey,
    Backoff,
    DynamicPartitionsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
)

from .commands import export_command, sync_command
from .concurrency import earlier_run_in_progress
from .outcome import failure, forward_to, run_metadata
from .resource import MeltanoProject
from .schedules_config import meltano_schedules

EVENT_PARTITIONS = DynamicPartitionsDefinition(name="eventmaker_event")
SYNC_ASSET = AssetKey("salesforce_campaign_members")
EXPORT_ASSET = AssetKey("participants_sync_export")
# Transient failures (an API outage outlasting the plugins' own retries, a killed worker) are
# retried; configuration errors and a refused start are not (outcome.is_retryable).
TRANSIENT_RETRY = RetryPolicy(max_retries=2, delay=30, backoff=Backoff.EXPONENTIAL)


@asset(
    key=SYNC_ASSET,
    partitions_def=EVENT_PARTITIONS,
    retry_policy=TRANSIENT_RETRY,
    kinds={"meltano", "salesforce"},
    group_name="eventmaker",
    description="One event's participants as Contacts/Leads and CampaignMembers (`meltano run sync` "
                "with the event's own state id).",
)
def salesforce_campaign_members(context: AssetExecutionContext, meltano: MeltanoProject) -> MaterializeResult:
    event_id = context.partition_key
    other = earlier_run_in_progress(context.instance, context.run.run_id, event_id, SYNC_ASSET)
    if other:
        raise Failure(
            description=f"event {event_id} is already being synced by run {other}: not started",
            metadata={"error": MetadataValue.text(f"partition {event_id} already running in run {other}"),
                      "running_run_id": other},
            allow_retries=False,
        )
    command = sync_command(event_id, context.run.run_id, meltano_run_id=str(uuid.uuid4()))
    result = meltano.execute(command, label=f"sync-{event_id}", on_line=forward_to(context))
    details = {"event_id": event_id, "meltano_run_id": command.env["MELTANO_RUN_ID"],
               "command": command.display()}
    if not result.ok:
        raise failure(result, f"sync of event {event_id}", **details)
    return MaterializeResult(metadata=run_metadata(result, **details))


@asset(
    key=EXPORT_ASSET,
    retry_policy=TRANSIENT_RETRY,
    kinds={"meltano", "csv"},
    group_name="eventmaker",
    description="Every participant's Salesforce sync columns as CSV (`meltano run export`, full refresh).",
)
def participants_sync_export(context: AssetExecutionContext, meltano: MeltanoProject) -> MaterializeResult:
    schedule = meltano_schedules(meltano.root).get("export")
    output_dir = meltano.export_dir()
    before = set(output_dir.glob("*.csv"))
    command = export_command(context.run.run_id, schedule.env if schedule else {"MELTANO_RUN_FULL_REFRESH": "true"})
    result = meltano.execute(command, label="export", on_line=forward_to(context))
    if not result.ok:
        raise failure(result, "export", command=command.display())
    written = sorted(str(path) for path in set(output_dir.glob("*.csv")) - before)
    return MaterializeResult(metadata=run_metadata(result, command=command.display(), files=MetadataValue.json(written)))
