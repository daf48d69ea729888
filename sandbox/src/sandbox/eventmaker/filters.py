"""The guests list's query parameters (pure): those the store serves from its indexes, and one
predicate for the others.

Indexed: ``uid``, and ``updated_since``/``updated_before`` (``updated_at``). Predicate: ``category[]``
(any of these category ids), ``since``/``before`` (``created_at``), ``search`` (see ``search.py``).
Time bounds are ISO-8601, lower bound inclusive (``>=``), upper bound exclusive (``<``). Other
parameters are ignored, as the real API does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import ge, lt

from starlette.datastructures import QueryParams

from sandbox.eventmaker import clock
from sandbox.eventmaker.search import guest_matcher

CREATED_BOUNDS = (("since", ge), ("before", lt))
UPDATED_BOUNDS = ("updated_since", "updated_before")


class BadParameter(ValueError):
    """A known parameter with a value the API cannot use (HTTP 400)."""


def updated_bounds(params: QueryParams) -> dict[str, str | None]:
    """``{"updated_since": ..., "updated_before": ...}`` as canonical timestamps (None when not sent)."""
    return {parameter: parse_bound(parameter, params[parameter]) if params.get(parameter) else None
            for parameter in UPDATED_BOUNDS}


def guest_filter(params: QueryParams, category_names: Mapping[str, str]) -> Callable[[dict], bool] | None:
    """The predicate of the non-indexed filters in ``params``; ``None`` when there are none."""
    tests: list[Callable[[dict], bool]] = []
    categories = set(params.getlist("category[]"))
    if categories:
        tests.append(lambda guest: guest["guest_category_id"] in categories)
    for parameter, compare in CREATED_BOUNDS:
        if params.get(parameter):
            tests.append(created_bound(compare, parse_bound(parameter, params[parameter])))
    if params.get("search", "").strip():
        tests.append(guest_matcher(params["search"], category_names))
    if not tests:
        return None
    return lambda guest: all(test(guest) for test in tests)


def created_bound(compare, bound: str) -> Callable[[dict], bool]:
    """Guests whose ``created_at`` compares to ``bound`` (canonical timestamps compare as strings)."""
    return lambda guest: compare(guest["created_at"], bound)


def parse_bound(parameter: str, value: str) -> str:
    try:
        return clock.canonical_timestamp(value)
    except ValueError:
        raise BadParameter(f"{parameter} must be an ISO-8601 date or time, got {value!r}") from None


def updated_within(guest: dict, updated_since: str | None, updated_before: str | None) -> bool:
    """Whether ``guest`` is within ``updated_bounds`` (for a single guest; lists use the store's index)."""
    updated_at = guest["updated_at"]
    return ((updated_since is None or updated_at >= updated_since)
            and (updated_before is None or updated_at < updated_before))
