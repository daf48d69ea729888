"""Participant -> Salesforce payloads and CampaignMember statuses (contracts §4)."""

from __future__ import annotations

from typing import Any

DEFAULT_FIELD_MAPPING: dict[str, str] = {
    "first_name": "FirstName",
    "last_name": "LastName",
    "email": "Email",
    "phone_number": "Phone",
    "position": "Title",
    "company_name": "Company",
}

DEFAULT_STATUS_MAPPING: dict[str, str] = {
    "showed_up": "Attended",
    "cancelled": "Cancelled",
    "declined": "Cancelled",
    "deleted": "Cancelled",
    "registered": "Registered",
    "invited": "Invited",
    "pending": "Invited",
    "imported": "Sent",
}

COMPANY_FIELD = "Company"


def _clean(value: Any) -> Any:
    """Strip strings; empty values become None (never sent: we do not blank Salesforce data)."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def build_payload(
    participant: dict,
    field_mapping: dict[str, str],
    sobject_fields: set[str],
    sobject: str,
    lead_company_fallback: str,
    external_id_field: str | None = None,
) -> dict[str, Any]:
    """Mapped Contact/Lead fields present on `sobject`, empty values left out.

    A Lead needs a Company: the participant's mapped value, else `lead_company_fallback`. With an
    `external_id_field`, the payload carries the participant's `_id` in it (on creates and updates
    alike, so a record matched otherwise gets it stamped and later runs find it by that ID).
    """
    payload = {}
    for source, target in field_mapping.items():
        value = _clean(participant.get(source))
        if value is not None and target in sobject_fields:
            payload[target] = value
    if sobject == "Lead" and not payload.get(COMPANY_FIELD):
        payload[COMPANY_FIELD] = lead_company_fallback
    if external_id_field:
        payload[external_id_field] = participant["_id"]
    return payload


def status_key(participant: dict) -> str | None:
    """Which status_mapping key applies: deleted, then check-in, then the Eventmaker status."""
    if participant.get("deleted_at"):
        return "deleted"
    if participant.get("showed_up"):
        return "showed_up"
    status = participant.get("status")
    return str(status) if status else None


def member_status(participant: dict, status_mapping: dict[str, str]) -> str | None:
    """CampaignMember Status label for the participant, or None when unmapped."""
    key = status_key(participant)
    return status_mapping.get(key) if key else None


def unknown_mapped_fields(field_mapping: dict[str, str], fields_by_object: dict[str, set[str]]) -> list[str]:
    """Salesforce fields of the mapping that exist on none of the objects in use."""
    known = set().union(*fields_by_object.values()) if fields_by_object else set()
    return sorted(target for target in field_mapping.values() if target not in known)


def unknown_statuses(status_mapping: dict[str, str], campaign_statuses: set[str]) -> list[str]:
    """Mapped labels that are not CampaignMemberStatus values of the campaign."""
    return sorted({label for label in status_mapping.values() if label not in campaign_statuses})
