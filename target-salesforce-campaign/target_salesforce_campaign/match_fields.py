"""Configurable matching (`match_fields`, issue 12): the fields one object is matched on, AND-combined."""

from __future__ import annotations

from simple_salesforce.format import format_soql

from target_salesforce_campaign.matching import normalize_key

SEPARATOR = "\x1f"  # cannot occur in a normalised Salesforce text value sent by us


def match_key(values: dict, fields: list[str]) -> str | None:
    """One comparable key of the record's values of `fields`; None when any of them is empty."""
    parts = [normalize_key(values.get(name)) for name in fields]
    if any(part is None for part in parts):
        return None
    return SEPARATOR.join(parts)


def key_condition(fields: list[str], payloads: list[dict]) -> str | None:
    """A SOQL condition finding every record whose `fields` may equal one payload's (a superset:
    each field IN its values, AND-combined; `match_key` then keeps the exact matches). Pass at most
    200 payloads: each IN list then stays within one chunk."""
    keyed = [p for p in payloads if match_key(p, fields) is not None]
    if not keyed:
        return None
    parts = []
    for name in fields:
        values = sorted({str(p[name]) for p in keyed})
        parts.append(format_soql("{f:literal} IN {values}", f=name, values=values))
    return " AND ".join(parts)


def match_fields_problems(match_fields: dict[str, list[str]], describes: dict[str, dict], mapped: set[str]) -> list[str]:
    """Unknown objects, empty lists, fields missing from the object's describe, unfilterable or unmapped."""
    problems = []
    for sobject, fields in sorted(match_fields.items()):
        if sobject not in describes:
            problems.append(f"match_fields names {sobject!r}; use Contact and/or Lead")
            continue
        if not fields:
            problems.append(f"match_fields[{sobject!r}] is empty")
        described = {f["name"]: f for f in describes[sobject].get("fields", [])}
        for name in fields:
            found = described.get(name)
            if found is None:
                problems.append(f"match_fields[{sobject!r}]: {name!r} is not a field of {sobject}")
            elif not found.get("filterable", True):
                problems.append(f"match_fields[{sobject!r}]: {name!r} cannot be filtered on (e.g. a long text area)")
            elif name not in mapped:
                problems.append(f"match_fields[{sobject!r}]: {name!r} is not filled by field_mapping")
    return problems
