"""The Salesforce stand-in as a Starlette app: logins, the REST API and the sandbox control routes.

``create_app(store, settings)`` is served over HTTPS by ``sandbox.common.server.ServerThread``
(simple-salesforce only speaks https). Handlers are async and the store serialises every read and
write under one lock, so requests (and direct callers in other threads) never interleave inside one.
The documented limits it enforces are listed in docs/contracts.md §4.1.

Assumptions where the real API is unknown or not reproduced (the sandbox README repeats them):

1. The security token is optional for the sandbox user (as from a trusted IP range): SOAP and
   OAuth password logins accept ``password`` or ``password + security token``.
2. Password grants issue no refresh token (as documented). The ``refresh_token`` grant accepts
   tokens minted by ``store.issue_refresh_token()``; JWT bearer assertions are decoded, not
   verified (``iss`` = client id, ``sub`` = username, ``exp`` in the future).
3. Sessions expire after ``session_ttl_seconds`` of inactivity (Salesforce's timeout is also
   inactivity-based); ``store.expire_sessions()`` ends them all at once.
4. API usage counts every authenticated call under ``/services/data/vNN.N/`` (a Composite or a
   Collections call is one); logins, ``/services/data/`` and refused calls (401, 403) are not
   counted. Usage never resets by itself (``reset`` or ``config`` does).
5. GET, PATCH and DELETE of a deleted record answer 404 ``ENTITY_IS_DELETED`` "entity is deleted";
   a malformed or wrong-type ID answers 400 ``MALFORMED_ID`` "<Object> ID: id value of incorrect
   type: <id>". Deleting a Contact, Lead or Campaign also deletes its campaign members.
6. Upsert on CampaignMember is refused with 400 ``INVALID_TYPE`` "entity type CampaignMember does
   not support upsert"; a 300 answer's body is the list of the matching records' URLs.
7. A CampaignMember without ContactId and LeadId is 400 ``REQUIRED_FIELD_MISSING`` on both fields.
   Campaign members of converted leads are allowed. Text comparisons in SOQL and external-ID
   matches ignore case. ``\\_`` and ``\\%`` outside LIKE mean ``_`` and ``%``.
8. Collections: a record without ``attributes.type`` fails alone with ``INVALID_TYPE`` "Must send a
   concrete entity type."; more than 200 records is 400 ``EXCEEDED_ID_LIMIT``. Under allOrNone,
   rolled-back results carry the record's id only for updates and deletes.
9. Composite: more than 25 subrequests, or more than 5 query/queryAll/Collections ones, answer
   HTTP 200 with one ``LIMIT_EXCEEDED`` entry (httpStatusCode 400, referenceId null) and run
   nothing; the 25 message is a logged real reply, the 5 message is assumed. An outer allOrNone
   does not turn per-record failures inside a nested Collections subrequest into a rollback.
   Composite Batch over 25 is a top-level 400 ``LIMIT_EXCEEDED`` (assumed).
10. Error messages not found in public sources (INVALID_FIELD_FOR_INSERT_UPDATE, MISSING_ARGUMENT,
   INVALID_QUERY_LOCATOR, METHOD_NOT_ALLOWED, EXCEEDED_MAX_SEMIJOIN_SUBSELECTS, the semi-join
   MALFORMED_QUERY texts, the CampaignMemberStatus default and duplicate texts) are modelled on
   Salesforce's style.
11. The duplicate rule is an exact, case-insensitive Email match against Contacts and unconverted
   Leads, reported as ``DUPLICATES_DETECTED`` "Use one of these records?" with a ``duplicateResult``.
12. Query cursors live in memory (the last 500 stay open) and are lost on restart.
13. A request whose line and headers exceed 16,384 bytes answers 414 with an HTML body (the body
   Salesforce's front end sends is not documented); it is not counted as an API call.
14. In an Id filter ``''`` stands for null; an 18-character Id is accepted when its case is the one
   its suffix encodes or was changed as a whole (all upper or all lower case).
15. Two records of one Collections create/update with the same unique value: the first is saved,
   the second fails with ``DUPLICATE_VALUE`` naming the first (Salesforce may fail both with
   ``<unknown>``). In an upsert every record sharing the external-ID value fails (contracts §4.1).
16. State and Country Picklists: states exist for US and CA only; a country name matches the ISO
   label in any case (Salesforce also accepts admin-defined integration values).
17. A Collections create/update of more than 10 chunks (runs of one type) is a top-level 400
   ``INVALID_OPERATION`` with the message Apex gives (the REST error code is not documented).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import auth, identity
from .calls import Reply
from .composite import API_PATH
from .rest import RestApi
from .settings import SalesforceSettings
from .store import SalesforceStore
from .versions import versions_payload

JSON = "application/json;charset=UTF-8"
XML = "text/xml;charset=UTF-8"
MAX_REQUEST_HEAD = 16_384  # request line plus headers, in bytes (Salesforce Help 000386264)
NOT_FOUND = [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
INVALID_SESSION = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
LIMIT_EXCEEDED = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
ALL_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"]


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    content = b"" if body is None and status == 204 else json.dumps(body).encode()
    return Response(content, status, headers, media_type=None if status == 204 else JSON)


def base_url(request: Request) -> str:
    """This server's own scheme://host:port, as the client reached it."""
    return f"{request.url.scheme}://{request.url.netloc}"


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() in ("bearer", "oauth") and token.strip() else None


def request_head_size(request: Request) -> int:
    """Bytes of the request line and headers as sent: ``GET /path?query HTTP/1.1`` + ``Name: value`` lines."""
    target = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string", b"")
    line = len(request.method) + 1 + len(target) + (1 + len(query) if query else 0) + len(" HTTP/1.1\r\n")
    return line + sum(len(name) + len(value) + 4 for name, value in request.scope["headers"]) + 2


def apply_org_settings(store: SalesforceStore, settings: SalesforceSettings) -> None:
    store.duplicate_rule = settings.duplicate_rule
    store.state_country_picklists = settings.state_country_picklists


def create_app(store: SalesforceStore, settings: SalesforceSettings | None = None) -> Starlette:
    """The Salesforce stand-in over ``store``; ``settings`` may be changed live."""
    settings = settings or SalesforceSettings()
    apply_org_settings(store, settings)
    api = RestApi(store, settings)

    def usage_header() -> dict[str, str]:
        return {"Sforce-Limit-Info": f"api-usage={store.api_usage}/{settings.daily_api_limit}"}

    async def soap_login(request: Request) -> Response:
        status, xml = auth.soap_login(await request.body(), store, base_url(request),
                                      request.path_params["version"])
        return Response(xml, status, media_type=XML)

    async def oauth_token(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        try:
            body = auth.oauth_token(form, request.headers.get("authorization"), store, base_url(request))
        except auth.OAuthError as error:
            return json_response(400, error.body())
        return json_response(200, body)

    async def versions(request: Request) -> Response:
        return json_response(200, versions_payload())

    async def rest(request: Request) -> Response:
        raw_path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
        if request_head_size(request) > MAX_REQUEST_HEAD:
            return Response("<html><body><h1>414 Request-URI Too Large</h1></body></html>", 414,
                            media_type="text/html")
        match = API_PATH.match(raw_path.split("?", 1)[0])
        if not match:
            return json_response(404, NOT_FOUND)
        token = bearer_token(request)
        if token is None or not store.session_valid(token, settings.session_ttl_seconds):
            return json_response(401, INVALID_SESSION, usage_header())
        if not api.serves(match["version"]):
            return json_response(404, NOT_FOUND)
        if store.api_usage >= settings.daily_api_limit:
            return json_response(403, LIMIT_EXCEEDED, usage_header())
        store.api_usage += 1
        raw_body = await request.body()
        try:
            body = json.loads(raw_body) if raw_body.strip() else None
        except ValueError as error:
            reply = Reply(400, [{"message": f"Unexpected character: {error.msg}", "errorCode": "JSON_PARSER_ERROR"}])
        else:
            reply = api.handle(request.method, match["version"], match["rest"] or "/",
                               request.query_params, body, request.headers)
        return json_response(reply.status, reply.body, {**reply.headers, **usage_header()})

    async def load(request: Request) -> Response:
        try:
            return json_response(200, store.load(await request.json()))
        except (ValueError, AttributeError) as error:
            return json_response(400, {"error": str(error)})

    async def snapshot(request: Request) -> Response:
        return json_response(200, store.to_dict())

    async def reset(request: Request) -> Response:
        store.reset()
        api.cursors.open.clear()
        return json_response(200, {"reset": True})

    async def config(request: Request) -> Response:
        if request.method == "GET":
            return json_response(200, settings.to_dict())
        try:
            settings.update(await request.json())
        except (ValueError, TypeError) as error:
            return json_response(400, {"error": str(error)})
        apply_org_settings(store, settings)
        return json_response(200, settings.to_dict())

    app = Starlette(routes=[
        Route("/services/Soap/u/{version}", soap_login, methods=["POST"]),
        Route("/services/oauth2/token", oauth_token, methods=["POST"]),
        *identity.routes(store, settings),
        Route("/services/data", versions, methods=["GET"]),
        Route("/services/data/", versions, methods=["GET"]),
        Route("/services/data/{rest:path}", rest, methods=ALL_METHODS),
        Route("/__sandbox/load", load, methods=["POST"]),
        Route("/__sandbox/snapshot", snapshot, methods=["GET"]),
        Route("/__sandbox/reset", reset, methods=["POST"]),
        Route("/__sandbox/config", config, methods=["GET", "POST"]),
    ])
    app.state.store = store
    app.state.settings = settings
    return app
