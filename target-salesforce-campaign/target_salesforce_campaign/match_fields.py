"""Configurable matching (`match_fields`, issue 12): the fields a record must share with a participant,
per object, AND-combined; checked at start against the org's describe."""

from __future__ import annotations


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
