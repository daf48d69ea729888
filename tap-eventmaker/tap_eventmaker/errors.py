"""Readable, secret-free error messages for Eventmaker API failures."""

from __future__ import annotations

import html
import json
import re
import typing as t

if t.TYPE_CHECKING:
    import requests

BODY_EXCERPT_CHARS = 200
REDACTED = "***"
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TOKEN_PARAM = re.compile(r"(auth_token=)[^&\s'\"]+")


def redact(text: str, secret: str | None) -> str:
    """Hide the auth token in ``text``, as a query parameter or anywhere verbatim."""
    text = _TOKEN_PARAM.sub(rf"\g<1>{REDACTED}", text)
    return text.replace(secret, REDACTED) if secret else text


def looks_like_html(content_type: str, text: str) -> bool:
    """True for an HTML page, whatever the Content-Type header claims."""
    return "html" in content_type.lower() or text.lstrip()[:15].lower().startswith(
        ("<!doctype html", "<html")
    )


def summarize_body(content_type: str, text: str) -> str:
    """One line describing an error body: the API's JSON error, an HTML page title, or an excerpt."""
    if not text.strip():
        return "empty body"
    if looks_like_html(content_type, text):
        title = _TITLE.search(text)
        name = " ".join(html.unescape(title.group(1)).split()) if title else "untitled"
        return f"an HTML page ({name!r}) instead of JSON"
    try:
        payload = json.loads(text)
    except ValueError:
        return " ".join(text.split())[:BODY_EXCERPT_CHARS]
    if isinstance(payload, dict) and "error" in payload:
        return str(payload["error"])[:BODY_EXCERPT_CHARS]
    return json.dumps(payload, separators=(",", ":"))[:BODY_EXCERPT_CHARS]


def describe_response(response: requests.Response, secret: str | None) -> str:
    """Describe a failed response: status, request method and path (never the query), body."""
    request = response.request
    method = request.method if request is not None else "GET"
    path = (request.path_url if request is not None else response.url).split("?", 1)[0]
    summary = summarize_body(response.headers.get("Content-Type", ""), response.text)
    return redact(
        f"Eventmaker API answered {response.status_code} {response.reason or ''}".rstrip()
        + f" to {method} {path}: {summary}",
        secret,
    )


def auth_rejected(response: requests.Response, secret: str | None) -> str:
    """Message for a 403: the token is missing, wrong, or lacks access to this resource."""
    return (
        "auth_token rejected: "
        + describe_response(response, secret)
        + ". Check the auth_token setting, and that its user can see this event."
    )
