"""The guest record: its fields, defaults, validation and the view the API serves.

Pure functions; the store adds what needs the other records (category of the event, unique uid).
"""

from __future__ import annotations

from typing import Any

from sandbox.eventmaker import clock
from sandbox.eventmaker.refs import normalized_refs

STATUSES = ("imported", "invited", "registered", "pending", "declined", "cancelled")
DEFAULT_STATUS = "registered"

STRING_FIELDS = (
    "uid",
    "guest_category_id",
    "email",
    "first_name",
    "last_name",
    "company_name",
    "position",
    "phone_number",
)
OPTIONAL_TIMESTAMP_FIELDS = ("registered_at", "deleted_at")
WRITABLE_FIELDS = frozenset(
    STRING_FIELDS
    + OPTIONAL_TIMESTAMP_FIELDS
    + ("status", "showed_up", "label_ids", "third_party_applications_refs", "guest_metadata")
)
IDENTITY_FIELDS = ("last_name", "email", "company_name", "uid")

BLANK = "can't be blank"
INVALID = "is invalid"
TAKEN = "has already been taken"
NOT_IN_LIST = "is not included in the list"
NO_IDENTITY = "should be set, or at least one other element of identity: email, company or uid."


def writable_fields(body: dict) -> dict:
    """The fields of a create/update body the API lets clients set (others are ignored)."""
    return {name: value for name, value in body.items() if name in WRITABLE_FIELDS}


def with_defaults(event_id: str, guest_id: str, fields: dict) -> dict:
    """A full guest record: documented fields with their defaults, then ``fields`` over them."""
    return {
        "_id": guest_id,
        "uid": None,
        "event_id": event_id,
        "guest_category_id": None,
        "email": None,
        "first_name": None,
        "last_name": None,
        "company_name": None,
        "position": None,
        "phone_number": None,
        "status": DEFAULT_STATUS,
        "registered_at": None,
        "showed_up": False,
        "created_at": None,
        "updated_at": None,
        "deleted_at": None,
        "label_ids": [],
        "guest_metadata": [],
        "third_party_applications_refs": None,
        **fields,
    }


def normalized(guest: dict) -> dict:
    """A valid guest (no ``shape_errors``) with canonical timestamps and complete refs."""
    guest = {**guest, "third_party_applications_refs": normalized_refs(guest["third_party_applications_refs"])}
    for name in ("created_at", "updated_at") + OPTIONAL_TIMESTAMP_FIELDS:
        if guest[name] is not None:
            guest[name] = clock.canonical_timestamp(guest[name])
    return guest


def shape_errors(guest: dict) -> dict[str, list[str]]:
    """Rails-style errors for a guest record on its own, ``{}`` when valid."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for name in STRING_FIELDS:
        if guest[name] is not None and not isinstance(guest[name], str):
            add(name, INVALID)
    if is_blank(guest["guest_category_id"]):
        add("guest_category_id", BLANK)
    if all(is_blank(guest[name]) for name in IDENTITY_FIELDS):
        add("last_name", NO_IDENTITY)
    if guest["status"] not in STATUSES:
        add("status", NOT_IN_LIST)
    if not isinstance(guest["showed_up"], bool):
        add("showed_up", INVALID)
    if not is_list_of(guest["label_ids"], lambda label: isinstance(label, str)):
        add("label_ids", INVALID)
    if not is_list_of(guest["guest_metadata"], is_metadata_entry):
        add("guest_metadata", INVALID)
    for name in ("created_at", "updated_at") + OPTIONAL_TIMESTAMP_FIELDS:
        if guest[name] is not None and not is_timestamp(guest[name]):
            add(name, INVALID)
    try:
        normalized_refs(guest["third_party_applications_refs"])
    except ValueError:
        add("third_party_applications_refs", INVALID)
    return errors


def api_view(guest: dict, *, include_metadata: bool) -> dict:
    """The guest as the API serves it: ``guest_metadata`` only when asked (``guest_metadata=true``)."""
    if include_metadata:
        return guest
    view = dict(guest)
    del view["guest_metadata"]
    return view


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def is_list_of(value: Any, predicate) -> bool:
    return isinstance(value, list) and all(predicate(item) for item in value)


def is_metadata_entry(entry: Any) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("name"), str)


def is_timestamp(value: Any) -> bool:
    try:
        clock.parse_timestamp(value)
    except ValueError:
        return False
    return True
