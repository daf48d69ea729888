"""A partition never syncs twice at once: the check every sync run makes before starting Meltano.

The instance's run queue (dagster.yaml: one run per `dagster/partition` value) keeps a second run
of a partition waiting; this check refuses one that got past the queue anyway (a run launched
in-process, with another run coordinator, or by an instance without those limits). Of two runs of
a partition in progress, the one created first goes on; the later one is refused.
"""

from __future__ import annotations

from dagster import AssetKey, DagsterInstance, DagsterRunStatus, RunsFilter

PARTITION_TAG = "dagster/partition"
IN_PROGRESS = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]


def earlier_run_in_progress(instance: DagsterInstance, run_id: str, partition_key: str, asset_key: AssetKey) -> str | None:
    """The id of a run of `asset_key`'s `partition_key` in progress, created before `run_id`; None if none."""
    mine = instance.get_run_record_by_id(run_id)
    records = instance.get_run_records(RunsFilter(tags={PARTITION_TAG: partition_key}, statuses=IN_PROGRESS))
    for record in records:
        run = record.dagster_run
        if run.run_id == run_id or (run.asset_selection is not None and asset_key not in run.asset_selection):
            continue
        if mine is None or record.storage_id < mine.storage_id:
            return run.run_id
    return None
