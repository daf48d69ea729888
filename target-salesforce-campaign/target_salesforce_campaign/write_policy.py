"""Per-field write policy (issue 12): `always`, `if_empty` (only fill blanks), `on_create` (never updated)."""

from __future__ import annotations

ALWAYS, IF_EMPTY, ON_CREATE = "always", "if_empty", "on_create"
POLICIES = (ALWAYS, IF_EMPTY, ON_CREATE)


def is_blank(value: object) -> bool:
    """A Salesforce value someone could still fill: null or only whitespace."""
    return value is None or (isinstance(value, str) and not value.strip())


def fields_to_read(policies: dict[str, str]) -> list[str]:
    """Fields whose current value the lookup must read (the `if_empty` ones)."""
    return sorted(name for name, policy in policies.items() if policy == IF_EMPTY)


def for_update(payload: dict, policies: dict[str, str], current: dict) -> dict:
    """The payload for an existing record: `on_create` fields left out, `if_empty` ones only where blank.

    `current` is the record as the lookup read it (a field it lacks counts as blank: never guessed filled).
    """
    kept = {}
    for name, value in payload.items():
        policy = policies.get(name, ALWAYS)
        if policy == ON_CREATE or (policy == IF_EMPTY and not is_blank(current.get(name))):
            continue
        kept[name] = value
    return kept


def policy_problems(policies: dict[str, str], describes: dict[str, dict], protected: set[str]) -> list[str]:
    """What is wrong with `field_write_policy` against the objects' describe (empty: nothing).

    A field must exist on one of the objects, be createable there, and for `always`/`if_empty` updateable;
    `protected` fields (the match key, the external ID) cannot be restricted: matching relies on them.
    """
    problems = []
    for name, policy in sorted(policies.items()):
        if policy not in POLICIES:
            problems.append(f"field_write_policy[{name!r}] is {policy!r}; use one of {list(POLICIES)}")
            continue
        if name in protected and policy != ALWAYS:
            problems.append(f"field_write_policy[{name!r}]: {name} is used for matching and is always written")
            continue
        found = [f for d in describes.values() for f in d.get("fields", []) if f["name"] == name]
        if not found:
            problems.append(f"field_write_policy names {name!r}, not a field of Contact or Lead")
        elif not any(f.get("createable") for f in found):
            problems.append(f"field_write_policy[{name!r}]: {name} is not createable (check field-level security)")
        elif policy != ON_CREATE and not any(f.get("updateable") for f in found):
            problems.append(f"field_write_policy[{name!r}]: {name} is not updateable; use 'on_create'")
    return problems
