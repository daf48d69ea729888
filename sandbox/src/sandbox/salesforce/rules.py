"""Field-level validation of a record payload against the schema (pure functions).

Object-level rules that need the org's data (references, campaign members, converted leads,
duplicates) live in ``store.py``; these only look at the payload and the describe metadata.
"""

from __future__ import annotations

import re
from typing import Any

from .describe import SObject
from .errors import SalesforceError, malformed_id
from .ids import normalize_id
from .soql import TEXT_TYPES as STRING_TYPES

EMAIL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")



def canonical_payload(sobject: SObject, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload keyed by canonical field names, without ``attributes``; INVALID_FIELD if unknown."""
    fields = {}
    for name, value in payload.items():
        if name == "attributes":
            continue
        field = sobject.field(name)
        if field is None:
            raise SalesforceError("INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject.name}")
        fields[field.name] = value
    return fields


def check_writable(sobject: SObject, fields: dict[str, Any], creating: bool) -> None:
    """INVALID_FIELD_FOR_INSERT_UPDATE for fields that are not createable / updateable."""
    flag = "createable" if creating else "updateable"
    refused = [name for name in fields if name != "Id" and not getattr(sobject.field(name), flag)]
    if refused:
        verb = "create" if creating else "update"
        raise SalesforceError(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to {verb} fields: {', '.join(refused)}. Please check the security settings of "
            "this field and verify that it is read/write for your profile or permission set.",
            refused,
        )


def coerce_values(sobject: SObject, fields: dict[str, Any]) -> dict[str, Any]:
    """Values checked and normalised by type, length and format (the first error wins)."""
    clean = {}
    for name, value in fields.items():
        field = sobject.field(name)
        if value is None or value == "" and field.type != "boolean":
            clean[name] = None
            continue
        if field.type == "boolean":
            if not isinstance(value, bool):
                raise SalesforceError("INVALID_TYPE_ON_FIELD_IN_RECORD",
                                      f"{field.label}: value not of required type: {value}", [name])
        elif field.type in ("id", "reference"):
            value = normalize_id(value)
            if value is None:
                raise malformed_id(field.label.removesuffix(" ID"), fields[name], name)
        elif field.type in STRING_TYPES:
            if isinstance(value, (dict, list, bool)):
                raise SalesforceError("INVALID_TYPE_ON_FIELD_IN_RECORD",
                                      f"{field.label}: value not of required type: {value}", [name])
            value = str(value)
            if len(value) > field.length:
                raise SalesforceError(
                    "STRING_TOO_LONG",
                    f"{field.label}: data value too large: {value} (max length={field.length})", [name])
            if field.type == "email" and not EMAIL.match(value):
                raise SalesforceError("INVALID_EMAIL_ADDRESS", f"{field.label}: invalid email address: {value}", [name])
        clean[name] = value
    return clean


def check_required(sobject: SObject, record: dict[str, Any]) -> None:
    """REQUIRED_FIELD_MISSING for required fields that are empty in the resulting record."""
    missing = [f.name for f in sobject.fields if f.required and record.get(f.name) in (None, "")]
    if missing:
        raise SalesforceError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing)
