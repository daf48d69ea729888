"""Sinks: `guests` are synced to the Campaign; every other stream is accepted and ignored.

A batch's write-back to Eventmaker runs in the background while the next batch works with
Salesforce (one write-back in flight: each waits for the previous one). The run's first write-back
is awaited at once (it verifies that Eventmaker stores what we write), and the target waits for
every write-back before it emits a bookmark (STATE), so a bookmark never passes a participant
whose write-back is not done.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from singer_sdk.sinks import BatchSink, RecordSink

from target_salesforce_campaign.batch import Participant, now_iso
from target_salesforce_campaign.connection import RunContext
from target_salesforce_campaign.errors import BudgetExceeded, WritebackFailed
from target_salesforce_campaign.salesforce_client import retry_transient
from target_salesforce_campaign.writeback import WritebackOutcome, writeback_items

if TYPE_CHECKING:
    from target_salesforce_campaign.target import TargetSalesforceCampaign

GUESTS_STREAM = "guests"
MAX_BATCH_ATTEMPTS = 4
BATCH_BACKOFF_SECONDS = 1.0  # first wait before re-running a batch, doubled each time (full jitter)


class IgnoredStreamSink(RecordSink):
    """Events, guest categories and any other stream: nothing to load."""

    def __init__(self, target: TargetSalesforceCampaign, *args: object, **kwargs: object) -> None:
        super().__init__(target, *args, **kwargs)
        self.target = target

    def process_record(self, record: dict, context: dict) -> None:
        """Ignore the record; an event's `guest_count` only sizes the progress estimate."""
        if self.stream_name == "events":
            self.target.intake.add_event(record)
            self.target.event_titles[str(record.get("_id"))] = record.get("title")


class GuestsSink(BatchSink):
    """Participants -> Contact/Lead + CampaignMember, ≤200 per batch, then write-back."""

    def __init__(self, target: TargetSalesforceCampaign, *args: object, **kwargs: object) -> None:
        super().__init__(target, *args, **kwargs)
        self.target = target  # shares one run context (client, summary) across batches
        self._writebacks = ThreadPoolExecutor(max_workers=1, thread_name_prefix="writeback")
        self._pending: Future | None = None
        self._batches = 0

    def process_record(self, record: dict, context: dict) -> None:
        """Count the participant for progress, then batch it."""
        self.target.intake.received += 1
        self.target.progress.start()
        super().process_record(record, context)

    @property
    def max_size(self) -> int:
        """Batch size (≤ 200, one sObject Collections call)."""
        return int(self.config["batch_size"])

    def process_batch(self, context: dict) -> None:
        """Sync one batch; on a budget stop write back what was done, then stop the run."""
        run = self.target.run_context()
        run.campaigns.prepare(
            [record.get("event_id") for record in context.get("records", [])], dry_run=bool(self.config.get("dry_run"))
        )
        participants = [run.sync.prepare(record) for record in context.get("records", [])]
        try:
            self._run_with_retries(run, participants)
        except BudgetExceeded:
            self.finish_writebacks()
            self._finish(run, participants, budget_stop=True)
            self.target.log_summary(stopped="budget")
            raise
        self.finish_writebacks()  # the previous batch's, overlapped with this batch's Salesforce calls
        self._pending = self._writebacks.submit(self._finish, run, participants, budget_stop=False)
        self._batches += 1
        if self._batches == 1:
            self.finish_writebacks()  # the first write-back is verified before anything more is written

    def finish_writebacks(self) -> None:
        """Wait for the write-back in flight; its error (e.g. WritebackFailed) is raised here."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def clean_up(self) -> None:
        """Wait for the last write-back, then stop its thread."""
        try:
            self.finish_writebacks()
        finally:
            self._writebacks.shutdown(wait=True)
            super().clean_up()

    def _run_with_retries(self, run: RunContext, participants: list[Participant]) -> None:
        """The batch layer of `retry_transient`: a transient error the client did not retry (a create call)
        re-runs the whole batch; it re-matches first, so nothing is created twice."""

        @retry_transient(
            MAX_BATCH_ATTEMPTS,
            BATCH_BACKOFF_SECONDS,
            on_backoff=lambda d: self.logger.warning("Transient Salesforce error, re-running the batch: %s", d["exception"]),
        )
        def attempt() -> None:
            run.sync.run(participants, dry_run=bool(self.config.get("dry_run", False)))

        attempt()

    def _finish(self, run: RunContext, participants: list[Participant], *, budget_stop: bool) -> None:
        """Write back the entries that changed, then count every participant's outcome (one deleted from
        Eventmaker meanwhile is skipped)."""
        outcome = WritebackOutcome()
        if run.writer is not None and not self.config.get("dry_run", False):
            items = writeback_items(participants, now_iso(), force=bool(self.config.get("force_resend", False)))
            outcome = run.writer.write(items) if items else outcome
        gone = set(outcome.deleted)
        for p in participants:
            if p.record["_id"] in gone:
                p.result = "skipped"
            run.summary.add(p.result or "left_for_next_run", p.error.code if p.error and p.result == "failed" else None)
        failures = outcome.failures
        run.summary.writebacks += outcome.written
        run.summary.writeback_failures += len(failures)
        if failures and not budget_stop:
            self.target.log_summary(stopped="writeback_failed")
            raise WritebackFailed(
                f"Write-back to Eventmaker failed for {len(failures)} participant(s) after retries "
                f"(e.g. {failures[0]}); Salesforce is up to date and the next run is idempotent."
            )
