"""Pre-send validation against describe(): a record that must fail spends no API call."""

from __future__ import annotations

import re
from dataclasses import dataclass

from target_salesforce_campaign.errors import RecordError

# Pragmatic address check: one "@", no spaces, a dot in the domain (Salesforce's own check is similar).
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


@dataclass(frozen=True)
class FieldRule:
    """What describe() says about one field."""

    name: str
    type: str
    length: int
    required_on_create: bool
    picklist: frozenset[str] | None


def field_rules(describe: dict) -> dict[str, FieldRule]:
    """Index a describe() result by field name."""
    rules = {}
    for f in describe.get("fields", []):
        restricted = f.get("restrictedPicklist") and f.get("type") in {"picklist", "multipicklist"}
        rules[f["name"]] = FieldRule(
            name=f["name"],
            type=f.get("type", "string"),
            length=int(f.get("length") or 0),
            required_on_create=bool(
                f.get("createable") and not f.get("nillable", True) and not f.get("defaultedOnCreate", False)
                and f.get("type") != "boolean"
            ),
            picklist=frozenset(p["value"] for p in f.get("picklistValues") or [] if p.get("active", True))
            if restricted
            else None,
        )
    return rules


def validate_values(payload: dict, rules: dict[str, FieldRule]) -> list[RecordError]:
    """Length, email format and restricted picklist checks on the values present."""
    errors = []
    for name, value in payload.items():
        rule = rules.get(name)
        if rule is None:
            continue
        text = value if isinstance(value, str) else str(value)
        if rule.type == "email" and not EMAIL_PATTERN.match(text):
            errors.append(RecordError("INVALID_EMAIL_ADDRESS", f"{name}: invalid email address: {text}", (name,)))
        elif rule.length and rule.type in {"string", "email", "phone", "textarea", "url", "picklist"} and len(
            text
        ) > rule.length:
            errors.append(
                RecordError("STRING_TOO_LONG", f"{name}: data value too large (max length={rule.length})", (name,))
            )
        elif rule.picklist is not None and text not in rule.picklist:
            errors.append(
                RecordError(
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", f"{name}: bad value for restricted picklist field: {text}", (name,)
                )
            )
    return errors


def validate_required(payload: dict, rules: dict[str, FieldRule]) -> list[RecordError]:
    """Fields required to create the record (e.g. LastName, Company) that the payload lacks."""
    missing = sorted(r.name for r in rules.values() if r.required_on_create and payload.get(r.name) in (None, ""))
    if not missing:
        return []
    return [RecordError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", tuple(missing))]
