"""The subset of Eventmaker's participant search language that the ``search`` parameter understands.

Grammar (help article "Query Strings: technical search"; client parser in eventmaker-atlas):
terms are separated by spaces except inside double quotes, and all must hold (AND);

- ``key:value`` with ``value`` a comma-separated list (any value matches, OR); values may be quoted;
- a leading ``-`` negates a term;
- ``status:`` guest status; ``guest_category:`` category name or ``_id`` (last occurrence wins);
  ``label:`` a label id; ``no:field`` the field is empty; ``salesforce_sync_status:synced|error``
  (synced at least once / last sync failed; the two overlap);
- any other ``key:`` compares a guest field (case-insensitive), or else a custom field of
  ``guest_metadata`` by name; ``sort:`` is accepted and ignored (lists are in ``_id`` order);
- a plain word (or quoted phrase) is full text: a case-insensitive substring of the first name, last
  name, email, company name or uid.

Pure functions: ``parse_query`` then ``guest_matcher``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sandbox.eventmaker.refs import salesforce_sync_status

FULL_TEXT_FIELDS = ("first_name", "last_name", "email", "company_name", "uid")
IGNORED_KEYS = frozenset({"sort"})
_TERM = re.compile(r'(?P<negated>-)?(?:(?P<key>[A-Za-z_]\w*):)?(?P<value>(?:"[^"]*"|[^\s"])+)')
_VALUE_PART = re.compile(r'"([^"]*)"|([^,"]+)|(,)')


@dataclass(frozen=True)
class Term:
    """One search term: ``key`` is None for full text; ``values`` are alternatives (OR)."""

    key: str | None
    values: tuple[str, ...]
    negated: bool = False


def parse_query(query: str) -> list[Term]:
    """The terms of ``query``, in order; ``guest_category`` keeps only its last occurrence."""
    terms = []
    for match in _TERM.finditer(query):
        key = match["key"].lower() if match["key"] else None
        if key in IGNORED_KEYS:
            continue
        values = split_values(match["value"]) if key else (match["value"].replace('"', ""),)
        if any(values):
            terms.append(Term(key, tuple(value for value in values if value), bool(match["negated"])))
    last_category = max((i for i, term in enumerate(terms) if term.key == "guest_category"), default=None)
    return [term for i, term in enumerate(terms) if term.key != "guest_category" or i == last_category]


def split_values(text: str) -> tuple[str, ...]:
    """``a,"b c",d`` -> ``("a", "b c", "d")`` (commas inside quotes are kept)."""
    values, current = [], ""
    for quoted, plain, comma in _VALUE_PART.findall(text):
        if comma:
            values.append(current)
            current = ""
        else:
            current += quoted or plain
    values.append(current)
    return tuple(value.strip() for value in values)


def guest_matcher(query: str, category_names: Mapping[str, str]) -> Callable[[dict], bool]:
    """A predicate for guests matching ``query``; ``category_names`` maps the event's category ids to names."""
    tests = [term_test(term, category_names) for term in parse_query(query)]
    return lambda guest: all(test(guest) for test in tests)


def term_test(term: Term, category_names: Mapping[str, str]) -> Callable[[dict], bool]:
    wanted = {value.casefold() for value in term.values}
    if term.key is None:
        test = full_text_test(term.values[0].casefold())
    elif term.key == "status":
        test = lambda guest: (guest.get("status") or "").casefold() in wanted  # noqa: E731
    elif term.key == "guest_category":
        ids = {category_id for category_id, name in category_names.items()
               if category_id.casefold() in wanted or (name or "").casefold() in wanted}
        test = lambda guest: guest.get("guest_category_id") in ids  # noqa: E731
    elif term.key == "label":
        test = lambda guest: any(label.casefold() in wanted for label in guest.get("label_ids") or [])  # noqa: E731
    elif term.key == "no":
        test = lambda guest: any(is_empty(field_value(guest, field)) for field in term.values)  # noqa: E731
    elif term.key == "salesforce_sync_status":
        test = lambda guest: bool(wanted.intersection(  # noqa: E731
            salesforce_sync_status(guest.get("third_party_applications_refs"))))
    else:
        test = lambda guest: as_text(field_value(guest, term.key)).casefold() in wanted  # noqa: E731
    return (lambda guest: not test(guest)) if term.negated else test


def full_text_test(needle: str) -> Callable[[dict], bool]:
    def test(guest: dict) -> bool:
        return any(needle in (guest.get(field) or "").casefold() for field in FULL_TEXT_FIELDS)

    return test


def field_value(guest: dict, name: str):
    """A guest field, or else the value of the custom field (``guest_metadata``) of that name."""
    if name in guest:
        return guest[name]
    for entry in guest.get("guest_metadata") or []:
        if entry.get("name") == name:
            return entry.get("value")
    return None


def is_empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def as_text(value) -> str:
    return "" if value is None else str(value)
