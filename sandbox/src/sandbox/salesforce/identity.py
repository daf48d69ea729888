"""The sandbox user's identity and the token lifecycle: the identity URL, OpenID ``userinfo``, ``revoke``.

* ``GET /id/{orgId}/{userId}`` (the token response's ``id``) with a bearer token (header, or
  ``oauth_token`` parameter) answers the identity service's JSON. Refusals are Salesforce's plain-text
  codes: 403 ``Missing_OAuth_Token`` / ``Bad_OAuth_Token``, 404 ``Bad_Id`` for another org or user.
* ``GET|POST /services/oauth2/userinfo`` answers the OpenID Connect shape of the same user.
* ``POST /services/oauth2/revoke`` (form ``token=``; GET with ``?token=`` too) answers 200 with an
  empty body; revoking a refresh token also ends the sessions issued from it. An unknown token is
  400 ``unsupported_token_type``.
* ``POST /__sandbox/token`` (control path) mints a refresh token of the connected app, as a user's
  approval in the web-server flow would (``sandbox token`` uses it, then logs in with it).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from . import auth
from .settings import SalesforceSettings
from .store import ORG_ID, USER_ID, SalesforceStore

FIRST_NAME, LAST_NAME = "Integration", "User"
DISPLAY_NAME = f"{FIRST_NAME} {LAST_NAME}"
NICK_NAME = auth.USERNAME.split("@")[0]
TIMEZONE = "Europe/Paris"
LAST_MODIFIED = "2026-01-05T09:00:00Z"


def _urls(base_url: str) -> dict[str, str]:
    """The identity service's ``urls``: templates with a literal ``{version}``, as Salesforce sends them."""
    data = f"{base_url}/services/data/v{{version}}"
    return {
        "enterprise": f"{base_url}/services/Soap/c/{{version}}/{ORG_ID}",
        "metadata": f"{base_url}/services/Soap/m/{{version}}/{ORG_ID}",
        "partner": f"{base_url}/services/Soap/u/{{version}}/{ORG_ID}",
        "rest": f"{data}/",
        "sobjects": f"{data}/sobjects/",
        "search": f"{data}/search/",
        "query": f"{data}/query/",
        "recent": f"{data}/recent/",
        "tooling_soap": f"{base_url}/services/Soap/T/{{version}}/{ORG_ID}",
        "tooling_rest": f"{data}/tooling/",
        "profile": f"{base_url}/{USER_ID}",
        "feeds": f"{data}/chatter/feeds",
        "groups": f"{data}/chatter/groups",
        "users": f"{data}/chatter/users",
        "feed_items": f"{data}/chatter/feed-items",
        "feed_elements": f"{data}/chatter/feed-elements",
        "custom_domain": base_url,
    }


def _photos(base_url: str) -> dict[str, str]:
    return {"picture": f"{base_url}/profilephoto/005/F", "thumbnail": f"{base_url}/profilephoto/005/T"}


def identity(base_url: str) -> dict[str, Any]:
    """The identity service's answer for the sandbox user."""
    return {
        "id": f"{base_url}/id/{ORG_ID}/{USER_ID}", "asserted_user": True,
        "user_id": USER_ID, "organization_id": ORG_ID, "username": auth.USERNAME,
        "nick_name": NICK_NAME, "display_name": DISPLAY_NAME, "email": auth.USERNAME,
        "email_verified": True, "first_name": FIRST_NAME, "last_name": LAST_NAME, "timezone": TIMEZONE,
        "photos": _photos(base_url), "addr_street": None, "addr_city": None, "addr_state": None,
        "addr_country": None, "addr_zip": None, "mobile_phone": None, "mobile_phone_verified": False,
        "is_lightning_login_user": False, "status": {"created_date": None, "body": None},
        "urls": _urls(base_url), "active": True, "user_type": "STANDARD", "language": "en_US",
        "locale": "fr_FR", "utcOffset": 3_600_000, "last_modified_date": LAST_MODIFIED,
        "is_app_installed": True,
    }


def userinfo(base_url: str) -> dict[str, Any]:
    """The OpenID Connect ``userinfo`` answer for the sandbox user."""
    return {
        "sub": f"{base_url}/id/{ORG_ID}/{USER_ID}", "user_id": USER_ID, "organization_id": ORG_ID,
        "preferred_username": auth.USERNAME, "nickname": NICK_NAME, "name": DISPLAY_NAME,
        "email": auth.USERNAME, "email_verified": True, "given_name": FIRST_NAME, "family_name": LAST_NAME,
        "zoneinfo": TIMEZONE, "photos": _photos(base_url), "profile": f"{base_url}/{USER_ID}",
        "picture": _photos(base_url)["picture"], "address": {}, "is_salesforce_integration_user": False,
        "urls": _urls(base_url), "active": True, "user_type": "STANDARD", "language": "en_US",
        "locale": "fr_FR", "utcOffset": 3_600_000, "updated_at": LAST_MODIFIED, "is_app_installed": True,
    }


def revoke(store: SalesforceStore, token: str | None) -> bool:
    """End ``token`` (a session, or a refresh token and every session issued from it); False if unknown."""
    if token in store.refresh_tokens:
        store.refresh_tokens.discard(token)
        for session in [s for s, origin in store.session_origins.items() if origin == token]:
            store.sessions.pop(session, None)
            store.session_origins.pop(session)
        return True
    if token in store.sessions:
        store.sessions.pop(token)
        store.session_origins.pop(token, None)
        return True
    return False


def routes(store: SalesforceStore, settings: SalesforceSettings) -> list[Route]:
    """The identity, userinfo, revoke and control-path token routes over ``store``."""

    def base_url(request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}"

    async def form(request: Request) -> dict[str, str]:
        body = (await request.body()).decode("utf-8", "replace")
        return {**dict(request.query_params), **dict(parse_qsl(body))}

    def token_of(request: Request, fields: dict[str, str]) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() in ("bearer", "oauth") and token.strip():
            return token.strip()
        return fields.get("oauth_token") or fields.get("access_token")

    def refusal(request: Request, fields: dict[str, str]) -> Response | None:
        token = token_of(request, fields)
        if token is None:
            return PlainTextResponse("Missing_OAuth_Token", 403)
        if not store.session_valid(token, settings.session_ttl_seconds):
            return PlainTextResponse("Bad_OAuth_Token", 403)
        return None

    async def identity_url(request: Request) -> Response:
        fields = await form(request)
        refused = refusal(request, fields)
        if refused:
            return refused
        ids = (request.path_params["org"], request.path_params["user"])
        if ids not in ((ORG_ID, USER_ID), (ORG_ID[:15], USER_ID[:15])):
            return PlainTextResponse("Bad_Id", 404)
        return JSONResponse(identity(base_url(request)))

    async def userinfo_url(request: Request) -> Response:
        fields = await form(request)
        return refusal(request, fields) or JSONResponse(userinfo(base_url(request)))

    async def revoke_url(request: Request) -> Response:
        if not revoke(store, (await form(request)).get("token")):
            return JSONResponse(auth.OAuthError("unsupported_token_type", "this token type is not supported").body(), 400)
        return Response(b"", 200)

    async def mint(request: Request) -> Response:
        return JSONResponse({"refresh_token": store.issue_refresh_token(), "client_id": auth.CLIENT_ID,
                             "client_secret": auth.CLIENT_SECRET,
                             "token_url": f"{base_url(request)}/services/oauth2/token"})

    return [
        Route("/id/{org}/{user}", identity_url, methods=["GET", "POST"]),
        Route("/services/oauth2/userinfo", userinfo_url, methods=["GET", "POST"]),
        Route("/services/oauth2/revoke", revoke_url, methods=["GET", "POST"]),
        Route("/__sandbox/token", mint, methods=["POST"]),
    ]
