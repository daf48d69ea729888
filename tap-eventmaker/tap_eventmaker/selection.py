"""Which participants a run reads: everything (the main pipeline) or a filtered subset.

A filtered run (``participant_uids``, ``search`` or ``sync_status`` set) serves resends and
exports. It reads the matching participants in full, ignoring bookmarks, and never advances a
bookmark, so the main incremental pipeline can never skip a participant because of it.
"""

from __future__ import annotations

import dataclasses
import typing as t

from tap_eventmaker import sync_state

SYNC_STATUS_VALUES = (sync_state.SYNCED, sync_state.ERROR, sync_state.NEVER)


def parse_sync_status(value: str | t.Sequence[str] | None) -> tuple[str, ...]:
    """The ``sync_status`` setting as the statuses that must all apply; a string is one status.

    Raises:
        ValueError: ``never`` is listed with another status (``never`` means neither applies).
    """
    statuses = (value,) if isinstance(value, str) else tuple(value or ())
    statuses = tuple(dict.fromkeys(status for status in statuses if status))
    if sync_state.NEVER in statuses and len(statuses) > 1:
        others = ", ".join(status for status in statuses if status != sync_state.NEVER)
        raise ValueError(
            f"sync_status: 'never' (neither synced nor error) cannot be combined with {others}; "
            "list 'never' alone"
        )
    return statuses


@dataclasses.dataclass(frozen=True)
class ParticipantSelection:
    """Participant filters from the tap config; all that are set must match (AND)."""

    uids: tuple[str, ...] = ()
    search: str | None = None
    sync_status: tuple[str, ...] = ()  # every listed status must apply

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> ParticipantSelection:
        """Build the selection from the ``participant_uids``, ``search``, ``sync_status`` settings."""
        uids = tuple(dict.fromkeys(str(uid) for uid in config.get("participant_uids") or ()))
        return cls(
            uids=uids,
            search=config.get("search") or None,
            sync_status=parse_sync_status(config.get("sync_status")),
        )

    @property
    def is_filtered(self) -> bool:
        """True when the run reads a subset of participants rather than all of them."""
        return bool(self.uids or self.search or self.sync_status)

    def api_queries(self) -> list[dict[str, str]]:
        """Query parameters of each guest listing to run: one per uid, else a single one."""
        base = {"search": self.search} if self.search else {}
        if not self.uids:
            return [base]
        return [{**base, "uid": uid} for uid in self.uids]

    def matches(self, guest: t.Mapping[str, t.Any]) -> bool:
        """Check the filters the tap can evaluate itself on a guest record.

        ``uid`` is checked again because the API silently ignores parameters it does not
        support; ``search`` cannot be evaluated locally and is left to the API.
        """
        if self.uids and guest.get("uid") not in self.uids:
            return False
        if self.sync_status:
            statuses = guest.get("salesforce_sync_status") or []
            if self.sync_status == (sync_state.NEVER,):
                return not statuses
            return all(status in statuses for status in self.sync_status)
        return True
