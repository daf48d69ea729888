"""The guests list's query parameters turned into one predicate (pure).

``category[]`` (any of these category ids), ``since``/``before`` (``created_at``),
``updated_since``/``updated_before`` (``updated_at``): ISO-8601, lower bound inclusive (``>=``),
upper bound exclusive (``<``); ``search`` (see ``search.py``). ``uid`` is served from an index by
the app. Other parameters are ignored, as the real API does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import ge, lt

from starlette.datastructures import QueryParams

from sandbox.eventmaker import clock
from sandbox.eventmaker.search import guest_matcher

TIME_BOUNDS = (
    ("since", "created_at", ge),
    ("before", "created_at", lt),
    ("updated_since", "updated_at", ge),
    ("updated_before", "updated_at", lt),
)


class BadParameter(ValueError):
    """A known parameter with a value the API cannot use (HTTP 400)."""


def guest_filter(params: QueryParams, category_names: Mapping[str, str]) -> Callable[[dict], bool] | None:
    """The predicate of the filters in ``params``; ``None`` when there are none (every guest matches)."""
    tests: list[Callable[[dict], bool]] = []
    categories = set(params.getlist("category[]"))
    if categories:
        tests.append(lambda guest: guest["guest_category_id"] in categories)
    for parameter, field, compare in TIME_BOUNDS:
        if params.get(parameter):
            tests.append(time_bound(field, compare, parse_bound(parameter, params[parameter])))
    if params.get("search", "").strip():
        tests.append(guest_matcher(params["search"], category_names))
    if not tests:
        return None
    return lambda guest: all(test(guest) for test in tests)


def time_bound(field: str, compare, bound: str) -> Callable[[dict], bool]:
    """Guests whose ``field`` compares to ``bound`` (canonical timestamps compare as strings)."""
    return lambda guest: guest[field] is not None and compare(guest[field], bound)


def parse_bound(parameter: str, value: str) -> str:
    try:
        return clock.canonical_timestamp(value)
    except ValueError:
        raise BadParameter(f"{parameter} must be an ISO-8601 date or time, got {value!r}") from None
