"""The code location: `dagster dev -m eventmaker_sync_dagster.definitions`."""

from dagster import Definitions, in_process_executor

from .assets import participants_sync_export, salesforce_campaign_members
from .automation import EXPORT_JOB, SYNC_JOB, eventmaker_events, export_schedule, sync_schedule
from .resend import resend
from .resource import MeltanoProject

defs = Definitions(
    assets=[salesforce_campaign_members, participants_sync_export],
    jobs=[SYNC_JOB, EXPORT_JOB, resend],
    schedules=[sync_schedule, export_schedule],
    sensors=[eventmaker_events],
    resources={"meltano": MeltanoProject()},
    executor=in_process_executor,  # one step per run: no step subprocess on top of the run's process
)
