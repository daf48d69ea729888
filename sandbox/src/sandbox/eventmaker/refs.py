"""The one place that knows the shape of a guest's ``third_party_applications_refs``.

The real shape is unknown; docs/contracts.md §1 fixes ours: an object keyed by application, with a
``salesforce`` entry holding ``contact_id, lead_id, campaign_member_id, last_synced_at, last_error,
fingerprint``. Other applications' entries are kept untouched.
"""

from __future__ import annotations

from typing import Any

SALESFORCE = "salesforce"
SALESFORCE_REF_FIELDS = (
    "contact_id",
    "lead_id",
    "campaign_member_id",
    "last_synced_at",
    "last_error",
    "fingerprint",
)


def normalized_refs(refs: Any) -> dict:
    """``refs`` with a complete ``salesforce`` entry (missing keys null), other applications kept.

    Raises ``ValueError`` when ``refs`` or its ``salesforce`` entry is not an object.
    """
    refs = {} if refs is None else refs
    if not isinstance(refs, dict):
        raise ValueError("third_party_applications_refs must be an object")
    entry = refs.get(SALESFORCE) or {}
    if not isinstance(entry, dict):
        raise ValueError("the salesforce entry must be an object")
    return {**refs, SALESFORCE: {**dict.fromkeys(SALESFORCE_REF_FIELDS), **entry}}


def salesforce_sync_status(refs: dict | None) -> list[str]:
    """``["synced"]`` if ever synced, plus ``"error"`` if the last attempt failed (both may hold)."""
    entry = (refs or {}).get(SALESFORCE) or {}
    status = []
    if entry.get("last_synced_at"):
        status.append("synced")
    if entry.get("last_error"):
        status.append("error")
    return status
