"""The run summary and progress records (docs/contracts.md §6), logged through the SDK's metrics logger.

One `salesforce_sync_summary` record per run, `salesforce_sync_progress` records while it runs, each
with a plain sentence next to it for people reading `meltano run` or CI output.
"""

from __future__ import annotations

import enum
import time
from collections import Counter
from dataclasses import dataclass, field

from singer_sdk import metrics

OUTCOMES = ("created", "updated", "unchanged", "failed", "skipped", "left_for_next_run")
SCHEMA_VERSION = 1


class SyncMetric(str, enum.Enum):
    """The target's own metric names (SDK `Point.metric` wants an enum)."""

    SUMMARY = "salesforce_sync_summary"
    PROGRESS = "salesforce_sync_progress"


@dataclass
class Intake:
    """What reached the target so far: participants received, and the events' announced sizes."""

    received: int = 0
    expected_total: int | None = None
    started: float = field(default_factory=time.monotonic)

    def add_event(self, record: dict) -> None:
        """An `events` record: its `guest_count` raises the upper bound of participants to come."""
        count = record.get("guest_count")
        if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
            self.expected_total = (self.expected_total or 0) + count

    def elapsed(self) -> float:
        """Seconds since the first record."""
        return time.monotonic() - self.started


@dataclass
class RunSummary:
    """Counts for the whole run."""

    outcomes: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    writebacks: int = 0
    writeback_failures: int = 0

    def add(self, outcome: str, error_code: str | None = None) -> None:
        """Count one participant's outcome."""
        self.outcomes[outcome] += 1
        if error_code:
            self.failures[error_code] += 1

    def processed(self) -> int:
        """Participants with an outcome."""
        return sum(self.outcomes.values())

    def render(self, calls: int, usage: object | None, *, dry_run: bool) -> str:
        """Single log line, e.g. for `grep 'Salesforce sync summary'`."""
        counts = ", ".join(f"{name}={self.outcomes.get(name, 0)}" for name in OUTCOMES)
        by_code = ", ".join(f"{code}={n}" for code, n in sorted(self.failures.items())) or "none"
        prefix = "DRY RUN (nothing written) " if dry_run else ""
        return (
            f"{prefix}Salesforce sync summary: {counts}; failed by code: {by_code}; "
            f"write-backs={self.writebacks} (failed {self.writeback_failures}); "
            f"Salesforce API calls used={calls}; API usage: {_usage_text(usage)}"
        )

    def record(self, intake: Intake, calls: int, usage: object | None, *, dry_run: bool, campaign_ids: list[str],
               stopped: str | None = None) -> dict:
        """The `salesforce_sync_summary` value (contracts §6)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "dry_run": dry_run,
            "campaign_ids": campaign_ids,
            "received": intake.received,
            "outcomes": {name: self.outcomes.get(name, 0) for name in OUTCOMES},
            "failed_by_code": dict(sorted(self.failures.items())),
            "writebacks": self.writebacks,
            "writeback_failures": self.writeback_failures,
            "salesforce_calls": calls,
            "api_usage": usage_record(usage),
            "duration_seconds": round(intake.elapsed(), 3),
            "stopped": stopped,
        }


def progress_record(summary: RunSummary | None, intake: Intake, calls: int, usage: object | None) -> dict:
    """The `salesforce_sync_progress` value (contracts §6); `summary` is None before the first batch."""
    summary = summary or RunSummary()
    elapsed = intake.elapsed()
    processed = summary.processed()
    rate = processed / elapsed if elapsed > 0 else 0.0
    # The tap sends an event after its participants: a total below what was read is not a bound yet.
    total = intake.expected_total if (intake.expected_total or 0) >= intake.received else None
    return {
        "schema_version": SCHEMA_VERSION,
        "received": intake.received,
        "processed": processed,
        "sent": summary.outcomes["created"] + summary.outcomes["updated"],
        "failed": summary.outcomes["failed"],
        "salesforce_calls": calls,
        "api_usage": usage_record(usage),
        "elapsed_seconds": round(elapsed, 1),
        "rate_per_second": round(rate, 1),
        "expected_total": total,
        "eta_seconds": round(max(total - processed, 0) / rate) if total is not None and rate > 0 else None,
    }


def describe_progress(value: dict) -> str:
    """The progress record as a sentence for log readers."""
    total = f" of at most {value['expected_total']}" if value.get("expected_total") is not None else ""
    eta = f", ETA {format_duration(value['eta_seconds'])}" if value.get("eta_seconds") is not None else ", ETA unknown"
    usage = value.get("api_usage")
    budget = f"API budget {usage['percent']:.1f}% used ({usage['left']}/{usage['limit']} left)" if usage else "API budget unknown"
    return (
        f"Progress: {value['received']} participants read{total}, {value['processed']} processed "
        f"({value['sent']} sent, {value['failed']} failed); {value['salesforce_calls']} Salesforce calls, {budget}; "
        f"{value['rate_per_second']:.1f}/s{eta}"
    )


def format_duration(seconds: float) -> str:
    """`1h02m`, `3m20s` or `45s`."""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


def usage_record(usage: object | None) -> dict | None:
    """`ApiUsage` as plain data."""
    if usage is None:
        return None
    return {"used": usage.used, "limit": usage.limit, "left": usage.left, "percent": round(usage.percent, 2)}


def log_point(kind: str, metric: SyncMetric, value: dict) -> None:
    """One structured record on the SDK's metrics logger (`METRIC: {...}`)."""
    metrics.log(metrics.get_metrics_logger(), metrics.Point(kind, metric, value))


def _usage_text(usage: object | None) -> str:
    return f"{usage.left}/{usage.limit} left ({usage.percent:.1f}% used)" if usage else "unknown"

