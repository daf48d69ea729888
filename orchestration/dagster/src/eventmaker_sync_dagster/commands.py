"""The `meltano` command lines this code location runs (pure): never `--force`.

Meltano's RUNNING guard refuses a second run of a state id while the first one's heartbeat is fresh;
`--force` would skip it (meltano.yml's pipelines must stay serialised per state id), so every command
built here goes through `checked`, which refuses it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

FORBIDDEN_FLAGS = frozenset({"--force", "-f"})
SYNC_JOB = "sync"
EXPORT_JOB = "export"
EVENTS_STREAM = "events"
TRIGGER_SOURCE = "dagster"
SYNC_STATUSES = ("synced", "error", "never")


@dataclass(frozen=True)
class MeltanoCommand:
    """Arguments after `meltano --log-format json`, and the environment added to the process."""

    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)

    def display(self) -> str:
        """The command line as a user would type it (the environment holds no secret here)."""
        return " ".join(["meltano", *self.args])


def checked(args: Sequence[str]) -> tuple[str, ...]:
    """`args` as a tuple, refused when it would bypass Meltano's RUNNING guard."""
    forbidden = [arg for arg in args if arg in FORBIDDEN_FLAGS or arg.startswith("--force=")]
    if forbidden:
        raise ValueError(f"refusing to run meltano with {forbidden[0]}: it skips the RUNNING guard")
    return tuple(args)


def trigger(action: str, dagster_run_id: str, **details: str) -> str:
    """The `runs.trigger` value: who started the run (sync-monitor shows it; ignores the filter)."""
    data = {"by": TRIGGER_SOURCE, "action": action, "dagster_run_id": dagster_run_id, **details}
    return json.dumps(data, separators=(",", ":"))


def sync_command(event_id: str, dagster_run_id: str, meltano_run_id: str) -> MeltanoCommand:
    """The sync of one event: its own state id (`<env>:tap-...-to-target-...:<event id>`)."""
    env = {
        "TAP_EVENTMAKER_EVENT_IDS": json.dumps([event_id]),
        "MELTANO_RUN_ID": meltano_run_id,
        "MELTANO_JOB_TRIGGER": trigger("sync", dagster_run_id, event_id=event_id),
    }
    return MeltanoCommand(checked(["run", "--state-id-suffix", event_id, SYNC_JOB]), env)


def export_command(dagster_run_id: str, schedule_env: dict[str, str]) -> MeltanoCommand:
    """The export job with its meltano.yml schedule's environment (`MELTANO_RUN_FULL_REFRESH=true`)."""
    env = {**schedule_env, "MELTANO_JOB_TRIGGER": trigger("export", dagster_run_id)}
    return MeltanoCommand(checked(["run", EXPORT_JOB]), env)


def events_command() -> MeltanoCommand:
    """The tap with only its `events` stream selected: the event list, as Singer records on stdout."""
    env = {"TAP_EVENTMAKER__SELECT": json.dumps([f"{EVENTS_STREAM}.*"])}
    return MeltanoCommand(checked(["invoke", "tap-eventmaker"]), env)


@dataclass(frozen=True)
class ResendSelection:
    """Whom to resend: the options of `sync-monitor resend`."""

    uids: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    search: str | None = None
    statuses: tuple[str, ...] = ()
    all: bool = False

    def is_empty(self) -> bool:
        return not (self.uids or self.events or self.search or self.statuses or self.all)

    def options(self) -> list[str]:
        """`sync-monitor resend` options for this selection; refuses an empty one or a bad status."""
        if self.is_empty():
            raise ValueError("say whom to resend: uids, events, search, statuses, or all")
        unknown = sorted(set(self.statuses) - set(SYNC_STATUSES))
        if unknown:
            raise ValueError(f"unknown sync status {unknown[0]!r} (one of {', '.join(SYNC_STATUSES)})")
        options = [arg for uid in self.uids for arg in ("--uid", uid)]
        options += [arg for event in self.events for arg in ("--event", event)]
        options += ["--search", self.search] if self.search else []
        options += [arg for status in self.statuses for arg in ("--status", status)]
        return options + (["--all"] if self.all else [])


def resend_command(selection: ResendSelection) -> MeltanoCommand:
    """`sync-monitor resend` (the `resend` job under its own state id, changed or not)."""
    return MeltanoCommand(checked(["invoke", "sync-monitor", "resend", *selection.options()]))
