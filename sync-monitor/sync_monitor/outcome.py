"""What a finished run did, in words: status, the plugins' own first error, the counts, whom it selected."""

from __future__ import annotations

from .filters import ParticipantFilter
from .logs import describe_summary, find_run_log, first_error, read_summary
from .runs import Run

OPTION_OF = {"participant_uids": "--uid", "event_ids": "--event", "search": "--search", "sync_status": "--status"}


def selection_text(selection: ParticipantFilter) -> str:
    """The filter as the options that made it, e.g. `--uid a --uid b --status error`."""
    parts = []
    for key, value in selection.to_json().items():
        for item in value if isinstance(value, list) else [value]:
            parts.append(f"{OPTION_OF[key]} {item}")
    return " ".join(parts)


def nobody_text(selection: ParticipantFilter) -> str:
    """The sentence for a selection that matched no participant."""
    if selection.is_empty():
        return "read no participant: nothing changed in Eventmaker since the last sync (nothing was sent)"
    return f"0 participants selected by {selection_text(selection)}"


def run_error(run: Run) -> str | None:
    """Why a failed run failed: the plugin's own first error line from its log, else Meltano's reason."""
    if run.status != "failed":
        return run.error
    log = find_run_log(run.run_id)
    found = first_error(log.read_text(encoding="utf-8", errors="replace")) if log else None
    return found or run.error


def run_lines(run: Run, selection: ParticipantFilter, *, has_summary: bool = True) -> list[str]:
    """The lines `sync`, `resend`, `dry-run`, `export`, `runs show` and `runs retry` print about a run."""
    lines = [f"{run.status.upper()}  run {run.run_id}  state id {run.state_id}"]
    if not selection.is_empty():
        lines.append(f"  participants: {selection_text(selection)}")
    if run.status == "failed":
        lines.append(f"  error: {run_error(run)}")
    log = find_run_log(run.run_id)
    summary = read_summary(log.read_text(encoding="utf-8", errors="replace")) if log else None
    if summary:
        lines.append(f"  result: {describe_summary(summary)}")
        if summary.get("received", 0) == 0:
            lines.append(f"  {nobody_text(selection)}")
    elif has_summary and run.status == "success":
        lines.append(f"  {nobody_text(selection)}")
    if log:
        lines.append(f"  log: {log}")
    return lines
