"""Shape a guest as the API returns it into the record the ``guests`` stream emits."""

from __future__ import annotations

import typing as t

from tap_eventmaker import sync_state
from tap_eventmaker.timestamps import parse_timestamp, to_utc_iso


def prepare_guest(
    raw: t.Mapping[str, t.Any], *, include_metadata: bool, state_field: str = sync_state.REFS_FIELD
) -> dict[str, t.Any]:
    """Return the emitted record: sync state flattened, ``updated_at`` as sortable UTC text.

    The sync state is read from ``state_field``. ``guest_metadata`` (custom fields) is dropped
    unless asked for or holding the sync state. An ``updated_at`` that is not a timestamp becomes
    ``None``: the guest is still emitted, it just moves no bookmark.
    """
    guest = dict(raw)
    from_metadata = state_field == sync_state.METADATA_FIELD
    if from_metadata:
        columns = sync_state.entry_columns(sync_state.metadata_entry(guest.get("guest_metadata")))
    if not (include_metadata or from_metadata):
        guest.pop("guest_metadata", None)
    refs = sync_state.parse_refs(guest.get("third_party_applications_refs"))
    guest["third_party_applications_refs"] = refs
    guest.update(columns if from_metadata else sync_state.sync_columns(refs))
    updated_at = parse_timestamp(guest.get("updated_at"))
    guest["updated_at"] = to_utc_iso(updated_at) if updated_at else None
    return guest
