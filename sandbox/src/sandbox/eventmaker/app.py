"""The Eventmaker API stand-in: ``create_app(store, settings) -> Starlette``.

Serves the real contract (../shared/reference/eventmaker-api.md) under ``/api/v1/...`` plus the
control routes ``POST /__sandbox/load``, ``GET /__sandbox/snapshot``, ``POST /__sandbox/reset`` and
``GET|POST /__sandbox/config`` (``config.EventmakerConfig``: e.g. ``{"ignore_refs_writes": true}``).

Assumptions where the real API is unknown (the sandbox README points here):

1. ``third_party_applications_refs`` has the shape of docs/contracts.md §1 (``refs.py``); every
   guest carries a complete ``salesforce`` entry (missing keys null), other applications are kept.
2. Status values: ``imported, invited, registered, pending, declined, cancelled``; a guest created
   without one is ``registered``, and a registered guest without ``registered_at`` gets it set.
3. Timestamps are served as UTC ISO-8601 with milliseconds (``2026-11-25T10:00:00.000Z``, as Rails
   encodes them); loaded ones are normalized to that form.
4. ``since``/``updated_since`` are inclusive (``>=``), ``before``/``updated_before`` exclusive
   (``<``); they accept any ISO-8601 date or time (no offset = UTC); an unparsable one is a 400.
5. Lists are in ``_id`` order (ObjectIds, so creation order), stable across pages; ``per_page``
   defaults to 500 and is capped at 500; a page past the end is ``[]``; a missing or invalid
   ``page``/``per_page`` means the default (as Kaminari does); the 302 to ``page=1`` only applies to
   the guests list and comes after the ``auth_token`` check.
6. Check order: unknown route 404, missing ``.json`` suffix 406 (also ``.xml``: no XML here),
   then ``auth_token`` 403 ``{"error": ...}``, then unknown ids 404 ``{"error": ...}``.
7. A wrong method on an existing path is a 404 "No API endpoint found at <path> and method <M>".
8. Trashed guests (``deleted_at`` set) are listed like the others; ``DELETE`` removes for good.
9. ``PUT`` answers 204 even when nothing changed, and then does not bump ``updated_at`` (Mongoid
   only touches a changed document); every change bumps it, at least 1 ms past the previous value.
10. Create/update take only the documented writable guest fields (``guests.WRITABLE_FIELDS``) and
    ignore the others; the request ``Content-Type`` is not checked; a body that is not a JSON object
    is a 400 ``{"error": ...}``.
11. Validation messages are Rails' wording; an unknown ``guest_category_id`` is "is invalid", a
    duplicate ``uid`` in the event "has already been taken"; emails are not validated (Eventmaker
    accepts what Salesforce may refuse).
12. ``search`` accepts the query language subset of ``search.py``; ``label:`` matches label ids.
13. ``guest_count`` is served by the event show only; events list takes ``page``/``per_page`` and a
    full-text ``search`` on the title, without the 302.
14. ``guest_metadata`` is in a guest body (list, show, create) only with ``guest_metadata=true``.
15. ``GET /api/v1/me.json`` answers ``{id, email, first_name, last_name}`` of the token's user.
16. ``PUT`` with ``guest_metadata`` replaces the whole array (documented); ``ignore_refs_writes``
    emulates an account that does not take ``third_party_applications_refs`` (undocumented either way).
"""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass, field
from collections.abc import Iterable, Sequence
from itertools import islice

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Match, Route

from sandbox.eventmaker.config import EventmakerConfig
from sandbox.eventmaker.errors import NotFound, ValidationError
from sandbox.eventmaker.filters import BadParameter, guest_filter, updated_bounds, updated_within
from sandbox.eventmaker.guests import api_view
from sandbox.eventmaker.store import EventmakerStore

MAX_PER_PAGE = 500


@dataclass(frozen=True)
class EventmakerSettings:
    auth_token: str = "sandbox-token"
    user: dict = field(default_factory=lambda: {
        "id": "5f0000000000000000000001",
        "email": "integration@sandbox.example",
        "first_name": "Sandbox",
        "last_name": "Integration",
    })


class ApiJSONResponse(JSONResponse):
    media_type = "application/json; charset=utf-8"


class Forbidden(Exception):
    """No ``auth_token``, or not the right one."""


class BadRequest(ValueError):
    """A body the API cannot read."""


def error(status: int, message: str) -> ApiJSONResponse:
    return ApiJSONResponse({"error": message}, status_code=status)


# -- guarding the API routes ---------------------------------------------------------------------

def api_route(path: str, handler, method: str) -> Route:
    """An ``/api/v1`` route whose handler runs only with the right ``auth_token``."""

    @functools.wraps(handler)
    async def authorized(request: Request):
        sent = request.query_params.get("auth_token", "").encode()
        if not secrets.compare_digest(sent, request.app.state.settings.auth_token.encode()):
            raise Forbidden
        return await handler(request)

    return Route(path, authorized, methods=[method])


async def no_endpoint(request: Request, exc: HTTPException) -> Response:
    """404 for unknown routes and wrong methods; 406 for a known route without the ``.json`` suffix."""
    path = request.url.path
    if path.startswith("/api/") and not path.endswith(".json") and has_route(request, json_path(path)):
        return error(406, f"Unsupported format for {path}: append .json")
    return error(404, f"No API endpoint found at {path} and method {request.method}")


def json_path(path: str) -> str:
    return re.sub(r"\.\w+$", "", path) + ".json"


def has_route(request: Request, path: str) -> bool:
    probe = {"type": "http", "path": path, "method": request.method}
    return any(route.matches(probe)[0] == Match.FULL for route in request.app.routes)


EXCEPTION_HANDLERS = {
    404: no_endpoint,
    405: no_endpoint,
    Forbidden: lambda request, exc: error(403, "Invalid or missing auth_token"),
    NotFound: lambda request, exc: error(404, str(exc)),
    ValidationError: lambda request, exc: ApiJSONResponse({"errors": exc.errors}, status_code=422),
    BadParameter: lambda request, exc: error(400, str(exc)),
    BadRequest: lambda request, exc: error(400, str(exc)),
}


# -- request helpers -----------------------------------------------------------------------------

def store_of(request: Request) -> EventmakerStore:
    return request.app.state.store


def positive_int(text: str | None, default: int) -> int:
    try:
        value = int(text)
    except (TypeError, ValueError):
        return default
    return value if value >= 1 else default


def page_of(records: Iterable, request: Request) -> list:
    """The ``page`` (from 1) of ``per_page`` records (default and cap 500); sequences are sliced directly."""
    page = positive_int(request.query_params.get("page"), 1)
    per_page = min(positive_int(request.query_params.get("per_page"), MAX_PER_PAGE), MAX_PER_PAGE)
    start, stop = (page - 1) * per_page, page * per_page
    if isinstance(records, Sequence):
        return list(records[start:stop])
    return list(islice(records, start, stop))


def wants_metadata(request: Request) -> bool:
    return request.query_params.get("guest_metadata") == "true"


async def json_object(request: Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise BadRequest("Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a JSON object")
    return body


async def guest_body(request: Request) -> dict:
    """The guest fields of a create/update body, wrapped (``{"guest": {...}}``) or not, that the account takes."""
    body = await json_object(request)
    return request.app.state.config.accepted(body["guest"] if isinstance(body.get("guest"), dict) else body)


# -- API endpoints -------------------------------------------------------------------------------

async def me(request: Request) -> Response:
    return ApiJSONResponse(request.app.state.settings.user)


async def list_events(request: Request) -> Response:
    words = request.query_params.get("search", "").casefold().split()
    events = (event for event in store_of(request).events()
              if all(word in (event.get("title") or "").casefold() for word in words))
    return ApiJSONResponse(page_of(events, request))


async def show_event(request: Request) -> Response:
    store, event_id = store_of(request), request.path_params["event_id"]
    return ApiJSONResponse({**store.event(event_id), "guest_count": store.guest_count(event_id)})


async def list_guest_categories(request: Request) -> Response:
    return ApiJSONResponse(store_of(request).guest_categories(request.path_params["event_id"]))


async def show_guest_category(request: Request) -> Response:
    params = request.path_params
    return ApiJSONResponse(store_of(request).guest_category(params["event_id"], params["category_id"]))


async def list_guests(request: Request) -> Response:
    store, event_id = store_of(request), request.path_params["event_id"]
    store.event(event_id)
    if "page" not in request.query_params:
        return RedirectResponse(str(request.url.include_query_params(page=1)), status_code=302)
    bounds = updated_bounds(request.query_params)
    matches = guest_filter(request.query_params, store.category_names(event_id))
    uid = request.query_params.get("uid")
    if uid is not None:
        by_uid = store.guest_by_uid(event_id, uid)
        candidates = [by_uid] if by_uid and updated_within(by_uid, **bounds) else []
    else:
        candidates = store.guests(event_id, **bounds)
    include_metadata = wants_metadata(request)
    page = page_of(candidates if matches is None else filter(matches, candidates), request)
    return ApiJSONResponse([api_view(guest, include_metadata=include_metadata) for guest in page])


async def show_guest(request: Request) -> Response:
    params = request.path_params
    guest = store_of(request).guest(params["event_id"], params["guest_id"])
    return ApiJSONResponse(api_view(guest, include_metadata=wants_metadata(request)))


async def create_guest(request: Request) -> Response:
    guest = store_of(request).create_guest(request.path_params["event_id"], await guest_body(request))
    return ApiJSONResponse(api_view(guest, include_metadata=wants_metadata(request)), status_code=201)


async def update_guest(request: Request) -> Response:
    params = request.path_params
    store_of(request).update_guest(params["event_id"], params["guest_id"], await guest_body(request))
    return Response(status_code=204)


async def delete_guest(request: Request) -> Response:
    params = request.path_params
    store_of(request).delete_guest(params["event_id"], params["guest_id"])
    return Response(status_code=204)


# -- control routes (not part of the real API) ---------------------------------------------------

async def load(request: Request) -> Response:
    return ApiJSONResponse(store_of(request).load(await json_object(request)))


async def snapshot(request: Request) -> Response:
    return ApiJSONResponse(store_of(request).to_dict())


async def reset(request: Request) -> Response:
    store_of(request).clear()
    return ApiJSONResponse({"reset": True})


async def config(request: Request) -> Response:
    settings = request.app.state.config
    if request.method == "POST":
        try:
            settings.update(await json_object(request))
        except ValueError as exc:
            return error(400, str(exc))
    return ApiJSONResponse(settings.to_dict())


EVENT = "/api/v1/events/{event_id}"
ROUTES = [
    api_route("/api/v1/me.json", me, "GET"),
    api_route("/api/v1/events.json", list_events, "GET"),
    api_route(EVENT + ".json", show_event, "GET"),
    api_route(EVENT + "/guest_categories.json", list_guest_categories, "GET"),
    api_route(EVENT + "/guest_categories/{category_id}.json", show_guest_category, "GET"),
    api_route(EVENT + "/guests.json", list_guests, "GET"),
    api_route(EVENT + "/guests.json", create_guest, "POST"),
    api_route(EVENT + "/guests/{guest_id}.json", show_guest, "GET"),
    api_route(EVENT + "/guests/{guest_id}.json", update_guest, "PUT"),
    api_route(EVENT + "/guests/{guest_id}.json", delete_guest, "DELETE"),
    Route("/__sandbox/load", load, methods=["POST"]),
    Route("/__sandbox/snapshot", snapshot, methods=["GET"]),
    Route("/__sandbox/reset", reset, methods=["POST"]),
    Route("/__sandbox/config", config, methods=["GET", "POST"]),
]


def create_app(store: EventmakerStore, settings: EventmakerSettings | None = None) -> Starlette:
    app = Starlette(routes=ROUTES, exception_handlers=EXCEPTION_HANDLERS)
    app.state.store = store
    app.state.settings = settings or EventmakerSettings()
    app.state.config = EventmakerConfig()
    return app
