"""Opt-in `truncate_long_values` (issue 12): text cut to the field's describe length, with a warning."""

from __future__ import annotations

from target_salesforce_campaign.validation import FieldRule

# Free text only: an email or a picklist value cut short would be another, wrong value.
CUTTABLE_TYPES = frozenset({"string", "textarea", "url", "phone"})
TRUNCATED = "TRUNCATED"


def truncate(payload: dict, rules: dict[str, FieldRule], keep: set[str] = frozenset()) -> tuple[dict, list[str]]:
    """The payload with over-long text values cut to their field's length, and the names of the fields cut.

    Fields in `keep` (values matched on) are never cut: a cut key would match another person.
    """
    cut, names = dict(payload), []
    for name, value in payload.items():
        rule = rules.get(name)
        if name in keep or rule is None or rule.type not in CUTTABLE_TYPES or not rule.length:
            continue
        if isinstance(value, str) and len(value) > rule.length:
            cut[name] = value[: rule.length].rstrip() or value[: rule.length]
            names.append(name)
    return cut, sorted(names)


def warning(fields: list[str]) -> dict:
    """The written-back warning naming the cut fields."""
    return {
        "code": TRUNCATED,
        "message": f"Value cut to the Salesforce field length: {', '.join(fields)}",
        "fields": list(fields),
    }
