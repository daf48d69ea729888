"""Which participants a command is about, and how that reaches tap-eventmaker.

The tap selects participants itself (its `participant_uids`, `event_ids`, `search` and `sync_status`
settings act at the API or partition level), so a filtered run never advances a bookmark past
participants it skipped. Meltano takes plugin settings from `<PLUGIN_NAME>_<SETTING>` variables.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

SYNC_STATUSES = ("synced", "error", "never")


@dataclass(frozen=True)
class ParticipantFilter:
    """A selection of participants; empty means all of them."""

    participant_uids: tuple[str, ...] = ()
    event_ids: tuple[str, ...] = ()
    search: str | None = None
    sync_status: tuple[str, ...] = field(default=())  # every listed status must apply

    def __post_init__(self) -> None:
        unknown = set(self.sync_status) - set(SYNC_STATUSES)
        if unknown:
            raise ValueError(f"unknown sync status {sorted(unknown)}; use {', '.join(SYNC_STATUSES)}")
        if "never" in self.sync_status and len(self.sync_status) > 1:
            raise ValueError("'never' cannot be combined with another sync status")

    def is_empty(self) -> bool:
        return not (self.participant_uids or self.event_ids or self.search or self.sync_status)

    def tap_env(self, extractor: str) -> dict[str, str]:
        """Environment variables that pass this filter to `extractor` as its settings.

        Every listed sync status goes to the tap as a JSON array (an array setting in Meltano):
        the tap keeps the participants with all of them.
        """
        prefix = env_prefix(extractor)
        env = {}
        if self.participant_uids:
            env[f"{prefix}_PARTICIPANT_UIDS"] = json.dumps(list(self.participant_uids))
        if self.event_ids:
            env[f"{prefix}_EVENT_IDS"] = json.dumps(list(self.event_ids))
        if self.search:
            env[f"{prefix}_SEARCH"] = self.search
        if self.sync_status:
            env[f"{prefix}_SYNC_STATUS"] = json.dumps(list(self.sync_status))
        return env

    def to_json(self) -> dict:
        """The non-empty parts, for run triggers and command output."""
        return {key: list(value) if isinstance(value, tuple) else value
                for key, value in asdict(self).items() if value}

    @classmethod
    def from_json(cls, data: dict) -> ParticipantFilter:
        return cls(
            participant_uids=tuple(data.get("participant_uids", ())),
            event_ids=tuple(data.get("event_ids", ())),
            search=data.get("search"),
            sync_status=tuple(data.get("sync_status", ())),
        )


def env_prefix(plugin_name: str) -> str:
    """Meltano's env var prefix for a plugin: `tap-eventmaker--resend` -> `TAP_EVENTMAKER__RESEND`."""
    return re.sub(r"[^A-Za-z0-9]", "_", plugin_name).upper()
