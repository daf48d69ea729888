"""Resend as a launchable job: `sync-monitor resend` with the same selection options."""

from dagster import Config, OpExecutionContext, Output, job, op
from pydantic import Field

from .commands import ResendSelection, resend_command
from .outcome import failure, forward_to, run_metadata
from .resource import MeltanoProject

PIPELINE_TAG = "eventmaker/pipeline"


class ResendConfig(Config):
    """Whom to resend (changed or not), as `sync-monitor resend --uid/--event/--search/--status/--all`."""

    uids: list[str] = Field(default=[], description="participant uids (--uid)")
    events: list[str] = Field(default=[], description="event ids (--event)")
    search: str | None = Field(default=None, description="an Eventmaker search query (--search)")
    statuses: list[str] = Field(default=[], description="sync statuses that must all apply: synced, error, never (--status)")
    all: bool = Field(default=False, description="every participant of every event (--all)")

    def selection(self) -> ResendSelection:
        return ResendSelection(tuple(self.uids), tuple(self.events), self.search, tuple(self.statuses), self.all)


@op(tags={PIPELINE_TAG: "resend"})
def resend_participants(context: OpExecutionContext, config: ResendConfig, meltano: MeltanoProject) -> Output[None]:
    command = resend_command(config.selection())
    context.log.info(command.display())
    result = meltano.execute(command, label="resend", on_line=forward_to(context))
    report = "".join(result.stdout).strip()
    if not result.ok:
        raise failure(result, "resend", command=command.display(), report=report)
    return Output(None, metadata=run_metadata(result, command=command.display(), report=report))


@job(tags={PIPELINE_TAG: "resend"}, description="Send the selected participants again, changed or not.")
def resend():
    resend_participants()
