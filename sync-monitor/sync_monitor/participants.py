"""Participants with their Salesforce sync columns, as tap-eventmaker reads them.

Reading through the tap (not the Eventmaker API directly) keeps one definition of the sync columns,
the search, the event and status filters, pagination, retries and auth: the tap's.
"""

from __future__ import annotations

from .error_guide import hint_for

COLUMNS = (
    "event_id", "uid", "name", "email", "sync_status", "contact_id", "lead_id", "campaign_id", "campaign_member_id",
    "last_synced_at", "error_code", "error_message", "hint",
)
TABLE_COLUMNS = tuple(column for column in COLUMNS if column not in ("event_id", "error_message"))


def participant_row(record: dict) -> dict:
    """One line of the participant list from a tap `guests` record (contracts §2)."""
    error = record.get("salesforce_last_error") or {}
    error_code = record.get("salesforce_last_error_code") or error.get("code")
    return {
        "event_id": record.get("event_id"),
        "uid": record.get("uid"),
        "name": " ".join(part for part in (record.get("first_name"), record.get("last_name")) if part),
        "email": record.get("email"),
        "sync_status": list(record.get("salesforce_sync_status") or []),
        "contact_id": record.get("salesforce_contact_id"),
        "lead_id": record.get("salesforce_lead_id"),
        "campaign_id": record.get("salesforce_campaign_id"),
        "campaign_member_id": record.get("salesforce_campaign_member_id"),
        "last_synced_at": record.get("salesforce_last_synced_at"),
        "error_code": error_code,
        "error_message": record.get("salesforce_last_error_message") or error.get("message"),
        "hint": (error.get("hint") or hint_for(error_code)) if error_code else None,
    }


def status_counts(rows: list[dict]) -> dict[str, int]:
    """How many listed participants are synced, in error, never synced (synced and error overlap)."""
    return {
        "participants": len(rows),
        "synced": sum("synced" in row["sync_status"] for row in rows),
        "error": sum("error" in row["sync_status"] for row in rows),
        "never": sum(not row["sync_status"] for row in rows),
    }
