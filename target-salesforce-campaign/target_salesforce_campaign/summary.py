"""One run summary in the logs: outcomes, failures by error code, API calls and usage left."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

OUTCOMES = ("created", "updated", "unchanged", "failed", "skipped", "left_for_next_run")


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

    def render(self, calls: int, usage: object | None, *, dry_run: bool) -> str:
        """Single log line, e.g. for `grep 'Salesforce sync summary'`."""
        counts = ", ".join(f"{name}={self.outcomes.get(name, 0)}" for name in OUTCOMES)
        by_code = ", ".join(f"{code}={n}" for code, n in sorted(self.failures.items())) or "none"
        left = f"{usage.left}/{usage.limit} left ({usage.percent:.1f}% used)" if usage else "unknown"
        prefix = "DRY RUN (nothing written) " if dry_run else ""
        return (
            f"{prefix}Salesforce sync summary: {counts}; failed by code: {by_code}; "
            f"write-backs={self.writebacks} (failed {self.writeback_failures}); "
            f"Salesforce API calls used={calls}; API usage: {left}"
        )
