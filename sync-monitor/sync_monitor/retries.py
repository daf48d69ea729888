"""Which failed runs a `runs retry --failed` re-runs."""

from __future__ import annotations

from .meltano import parse_trigger, retry_of
from .runs import Run


def still_failed(failed: list[Run], history: list[Run]) -> list[Run]:
    """The failed runs no later retry (or retry of a retry) completed with success."""
    parent = {run.run_id: retry_of(run) for run in history}
    completed = set()
    for run in history:
        if run.status != "success":
            continue
        seen, current = set(), parent.get(run.run_id)
        while current and current not in seen:
            seen.add(current)
            completed.add(current)
            current = parent.get(current)
    return [run for run in failed if run.run_id not in completed]


def distinct_pipelines(failed: list[Run]) -> list[Run]:
    """One retry per state id and filter: re-running the same thing twice sends nothing new."""
    seen, distinct = set(), []
    for run in failed:
        key = (run.state_id, parse_trigger(run.trigger)[1])
        if key not in seen:
            seen.add(key)
            distinct.append(run)
    return distinct
