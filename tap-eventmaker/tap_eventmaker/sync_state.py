"""Read a participant's Salesforce sync state (contracts §1) into flat columns (contracts §2).

Eventmaker keeps the state in the guest's ``third_party_applications_refs`` object (its real shape
is undocumented), or, with ``sync_state_field: guest_metadata``, in custom fields named
``salesforce_<key>`` holding text ("" = none, ``last_error`` as JSON). Every key name we assume
lives in this module and nowhere else.
"""

from __future__ import annotations

import json
import typing as t

#: Key of the Salesforce entry inside ``third_party_applications_refs``.
SALESFORCE_APP_KEY = "salesforce"

#: Entry key -> flattened column, for the values copied as they are.
COPIED_FIELDS = {
    "contact_id": "salesforce_contact_id",
    "lead_id": "salesforce_lead_id",
    "campaign_member_id": "salesforce_campaign_member_id",
    "campaign_id": "salesforce_campaign_id",
    "last_synced_at": "salesforce_last_synced_at",
    "fingerprint": "salesforce_fingerprint",
}
LAST_ERROR_KEY = "last_error"
ERROR_CODE_KEY = "code"
ERROR_MESSAGE_KEY = "message"

#: The two homes of the sync state (the ``sync_state_field`` setting).
REFS_FIELD = "third_party_applications_refs"
METADATA_FIELD = "guest_metadata"
STATE_FIELDS = (REFS_FIELD, METADATA_FIELD)
#: Entry keys kept in custom fields, each as ``salesforce_<key>``.
ENTRY_KEYS = (*COPIED_FIELDS, LAST_ERROR_KEY)

#: Values of ``salesforce_sync_status``, in contract order.
SYNCED = "synced"
ERROR = "error"
#: The ``sync_status`` filter value for participants with neither status.
NEVER = "never"


def parse_refs(refs: t.Any) -> dict[str, t.Any] | None:
    """Return ``third_party_applications_refs`` as an object, from the object or its JSON text.

    ``None`` when absent or unreadable.
    """
    if isinstance(refs, str):
        try:
            refs = json.loads(refs)
        except ValueError:
            return None
    return refs if isinstance(refs, dict) else None


def salesforce_entry(refs: t.Any) -> dict[str, t.Any]:
    """Return the Salesforce entry of ``third_party_applications_refs``, ``{}`` when absent."""
    entry = (parse_refs(refs) or {}).get(SALESFORCE_APP_KEY)
    return entry if isinstance(entry, dict) else {}


def sync_status(entry: dict[str, t.Any]) -> list[str]:
    """Statuses that apply: ``synced`` (synced at least once) and/or ``error`` (last try failed)."""
    statuses = []
    if entry.get("last_synced_at"):
        statuses.append(SYNCED)
    if entry.get(LAST_ERROR_KEY):
        statuses.append(ERROR)
    return statuses


def metadata_entry(fields: t.Any) -> dict[str, t.Any]:
    """The Salesforce entry kept in ``guest_metadata`` custom fields, ``{}`` when none is there."""
    values = {f.get("name"): f.get("value") for f in fields if isinstance(f, dict)} if isinstance(fields, list) else {}
    entry: dict[str, t.Any] = {}
    for key in ENTRY_KEYS:
        value = values.get(f"{SALESFORCE_APP_KEY}_{key}")
        if key == LAST_ERROR_KEY and isinstance(value, str) and value:
            try:
                value = json.loads(value)
            except ValueError:
                pass  # not JSON: kept as the error's message
        if value not in ("", None):
            entry[key] = value
    return entry


def sync_columns(refs: t.Any) -> dict[str, t.Any]:
    """Flatten ``third_party_applications_refs`` into the ``salesforce_*`` columns."""
    return entry_columns(salesforce_entry(refs))


def entry_columns(entry: dict[str, t.Any]) -> dict[str, t.Any]:
    """Flatten one Salesforce entry into the ``salesforce_*`` columns."""
    last_error = entry.get(LAST_ERROR_KEY)
    if not isinstance(last_error, dict):
        # A bare string is still an error worth showing; keep it as the message.
        last_error = {ERROR_MESSAGE_KEY: str(last_error)} if last_error else None
    columns = {column: entry.get(key) for key, column in COPIED_FIELDS.items()}
    columns.update(
        salesforce_last_error=last_error,
        salesforce_last_error_code=(last_error or {}).get(ERROR_CODE_KEY),
        salesforce_last_error_message=(last_error or {}).get(ERROR_MESSAGE_KEY),
        salesforce_sync_status=sync_status(entry),
    )
    return columns
