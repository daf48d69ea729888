"""The data of the HTML report: runs with their summaries, failures by code, participants in error, budget."""

from __future__ import annotations

from dataclasses import dataclass

from .logs import find_run_log, read_summary
from .outcome import run_error
from .runs import Run


@dataclass(frozen=True)
class RunPoint:
    """One run as the timeline shows it."""

    run: Run
    summary: dict | None
    error: str | None

    @property
    def duration_seconds(self) -> float | None:
        if self.run.started_at and self.run.ended_at:
            return (self.run.ended_at - self.run.started_at).total_seconds()
        return None

    def outcome(self, name: str) -> int:
        return int(((self.summary or {}).get("outcomes") or {}).get(name, 0))

    @property
    def calls(self) -> int:
        return int((self.summary or {}).get("salesforce_calls", 0))


@dataclass(frozen=True)
class ReportData:
    """Everything the page shows, oldest run first."""

    environment: str
    generated_at: str
    points: list[RunPoint]
    in_error: list[dict]  # participant rows (participants.participant_row) in error now
    unavailable: str | None = None  # why the participants in error could not be read
    resend_prefix: str = "meltano invoke sync-monitor:resend"

    @property
    def budget(self) -> dict | None:
        """The newest API usage a run reported."""
        for point in reversed(self.points):
            if (point.summary or {}).get("api_usage"):
                return point.summary["api_usage"]
        return None

    def failures_by_code(self) -> dict[str, list[int]]:
        """Per error code, the failed participants of each run (same order as `points`)."""
        codes = sorted({code for p in self.points for code in ((p.summary or {}).get("failed_by_code") or {})})
        return {code: [int(((p.summary or {}).get("failed_by_code") or {}).get(code, 0)) for p in self.points]
                for code in codes}

    def totals(self) -> dict[str, int]:
        """Counts of the headline cards."""
        return {
            "runs": len(self.points),
            "failed_runs": sum(p.run.status == "failed" for p in self.points),
            "created": sum(p.outcome("created") for p in self.points),
            "updated": sum(p.outcome("updated") for p in self.points),
            "failed": sum(p.outcome("failed") for p in self.points),
            "in_error": len(self.in_error),
        }


def run_points(history: list[Run]) -> list[RunPoint]:
    """Each run (newest-first history) with its summary record and first error, oldest first."""
    points = []
    for run in reversed(history):
        log = find_run_log(run.run_id)
        summary = read_summary(log.read_text(encoding="utf-8", errors="replace")) if log else None
        points.append(RunPoint(run, summary, run_error(run) if run.status == "failed" else None))
    return points
