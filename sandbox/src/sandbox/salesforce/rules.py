"""Field-level validation of a record against the schema (pure functions).

Object-level rules that need the org's data (references, campaign members, unique fields,
duplicates) live in ``org_rules.py``; these only look at the record and the describe metadata.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import SalesforceError, malformed_id
from .ids import normalize_id
from .schema import COUNTRIES, STATES, TEXT_TYPES, SObject

EMAIL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
COUNTRY_PROBLEM = ("There's a problem with this country, even though it may appear correct. Please select a "
                   "country from the list of valid countries.")
STATE_PROBLEM = ("There's a problem with this state, even though it may appear correct. Please select a "
                 "state from the list of valid states.")


def full_name(record: dict[str, Any]) -> str:
    """A person's ``Name``: first and last name, as Salesforce composes it."""
    return " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p)


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
        elif field.type in TEXT_TYPES:
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


def _changed(record: dict[str, Any], current: dict[str, Any] | None, name: str) -> bool:
    return record.get(name) not in (None, "") and (current is None or record.get(name) != current.get(name))


def _cleared(record: dict[str, Any], current: dict[str, Any] | None, name: str) -> bool:
    return current is not None and current.get(name) not in (None, "") and record.get(name) in (None, "")


def _pick(choices: tuple[tuple[str, str], ...], label: str, field_name: str, problem: str) -> str:
    """The code whose label is ``label`` (any case), else FIELD_INTEGRITY_EXCEPTION on ``field_name``."""
    code = next((c for c, name in choices if name.lower() == label.lower()), None)
    if code is None:
        raise SalesforceError("FIELD_INTEGRITY_EXCEPTION", problem, [field_name])
    return code


def apply_address_rules(sobject: SObject, record: dict[str, Any], current: dict[str, Any] | None) -> None:
    """With State and Country Picklists: codes and names of each address kept in step, as Salesforce
    does; an unknown code or name is refused (the code fields are restricted picklists)."""
    for code_field in [f for f in sobject.fields if f.name.endswith("CountryCode")]:
        prefix = code_field.name.removesuffix("CountryCode")
        country, code = f"{prefix}Country", code_field.name
        if _changed(record, current, code):
            label = dict(COUNTRIES).get(record[code])
            if label is None:
                raise SalesforceError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                                      f"{code_field.label}: bad value for restricted picklist field: {record[code]}",
                                      [code])
            if _changed(record, current, country) and record[country].lower() != label.lower():
                raise SalesforceError("FIELD_INTEGRITY_EXCEPTION", COUNTRY_PROBLEM, [country])
            record[country] = label
        elif _changed(record, current, country):
            record[code] = _pick(COUNTRIES, record[country], country, COUNTRY_PROBLEM)
        elif _cleared(record, current, code):
            record[country] = None
        elif _cleared(record, current, country):
            record[code] = None
        _apply_state_rules(sobject, record, current, prefix)


def _apply_state_rules(sobject: SObject, record: dict[str, Any], current: dict[str, Any] | None, prefix: str) -> None:
    state, code = f"{prefix}State", f"{prefix}StateCode"
    states = STATES.get(record.get(f"{prefix}CountryCode") or "")
    label = sobject.field(code).label
    if _changed(record, current, code):
        if not record.get(f"{prefix}CountryCode"):
            raise SalesforceError("FIELD_INTEGRITY_EXCEPTION", "A country/territory must be specified before "
                                  f"specifying a state value for field: {label}", [code])
        name = dict(states or ()).get(record[code])
        if name is None:
            raise SalesforceError("FIELD_INTEGRITY_EXCEPTION", "The existing country/territory doesn't "
                                  f"recognize the state value for field: {label}", [code])
        record[state] = name
    elif _changed(record, current, state):
        record[code] = _pick(states, record[state], state, STATE_PROBLEM) if states else None
    elif _cleared(record, current, code):
        record[state] = None
    elif _cleared(record, current, state):
        record[code] = None
