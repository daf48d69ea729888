"""HTTP plumbing shared by every Eventmaker stream: URL, auth, pagination, errors, retries."""

from __future__ import annotations

import functools
import json
import typing as t
from http import HTTPStatus
from urllib.parse import quote, urlsplit

import backoff
import requests
from singer_sdk import RESTStream
from singer_sdk.authenticators import APIKeyAuthenticator
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.pagination import PageNumberPaginator

from tap_eventmaker import errors

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

#: Eventmaker's default and maximum page size.
MAX_PAGE_SIZE = 500
DEFAULT_REQUEST_TIMEOUT = 60
DEFAULT_MAX_TRIES = 5  # the SDK's default
DEFAULT_RETRY_BACKOFF_SECONDS = 2.0  # first wait, then doubled: the SDK's default expo(factor=2)


@functools.lru_cache(maxsize=4)
def page_records(response: requests.Response) -> tuple[dict, ...]:
    """Records of one API response: a JSON array, or a single JSON object.

    Cached per response, so the stream and the paginator parse each page once.
    Raises a clear FatalAPIError when the body is not JSON (for example an HTML login page).
    """
    content_type = response.headers.get("Content-Type", "")
    if errors.looks_like_html(content_type, response.text):
        payload: t.Any = None
    else:
        try:
            payload = response.json()
        except (ValueError, json.JSONDecodeError):
            payload = None
    if isinstance(payload, dict):
        return (payload,)
    if isinstance(payload, list) and all(isinstance(item, dict) for item in payload):
        return tuple(payload)
    summary = errors.summarize_body(content_type, response.text)
    path = urlsplit(response.url).path
    msg = f"Eventmaker API answered {response.status_code} to GET {path} with {summary}"
    raise FatalAPIError(msg if "JSON" in summary else f"{msg} (expected JSON records)")


class ShortPagePaginator(PageNumberPaginator):
    """Pages numbered from 1; a page with fewer records than asked for is the last one.

    So is a page holding only records already seen: some collections ignore paging and answer
    everything every time, and a page served twice must not loop.
    """

    def __init__(self, page_size: int) -> None:
        """Start at page 1, expecting ``page_size`` records per full page."""
        super().__init__(start_value=1)
        self.page_size = page_size
        self._seen: set = set()

    def has_more(self, response: requests.Response) -> bool:
        """Stop after a short page (the API gives no total, no cursor, no Link header) or a repeat."""
        records = page_records(response)
        ids = {record.get("_id") for record in records}
        repeated = ids <= self._seen
        self._seen |= ids
        return len(records) >= self.page_size and not repeated


class SameHostRedirectSession(requests.Session):
    """Follow redirects (the API sends a 302 to add ``page=1``) but never to another host.

    The token travels in the query string, so a cross-host redirect would hand it over.
    """

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        """Return the redirect target, refusing one that leaves the API's host."""
        target = super().get_redirect_target(resp)
        if target:
            location = urlsplit(requests.compat.urljoin(resp.url, target))
            if location.netloc != urlsplit(resp.url).netloc:
                msg = (
                    f"Eventmaker API redirected {urlsplit(resp.url).path} to another host "
                    f"({location.netloc}); refusing to send the auth_token there."
                )
                raise FatalAPIError(msg)
        return target


class EventmakerStream(RESTStream):
    """Base stream for the Eventmaker REST API v1 (``/api/v1/....json``, token in the query)."""

    @property
    def url_base(self) -> str:
        """Root of the API, from the ``api_url`` setting."""
        return str(self.config["api_url"]).rstrip("/")

    def get_url(self, context: Context | None) -> str:
        """``url_base`` + ``path``, with ``{placeholders}`` filled from the context, URL-quoted."""
        values = {key: quote(str(value), safe="") for key, value in (context or {}).items()}
        return self.url_base + str(self.path).format_map(values)

    @functools.cached_property
    def authenticator(self) -> APIKeyAuthenticator:
        """The user API token, sent as the ``auth_token`` query parameter."""
        return APIKeyAuthenticator(
            key="auth_token", value=self.config["auth_token"], location="params"
        )

    @property
    def requests_session(self) -> requests.Session:
        """A session that follows same-host redirects only."""
        if not isinstance(self._requests_session, SameHostRedirectSession):
            self._requests_session = SameHostRedirectSession()
        return self._requests_session

    @property
    def timeout(self) -> int:
        """Seconds to wait for a response, from ``request_timeout``."""
        return int(self.config.get("request_timeout", DEFAULT_REQUEST_TIMEOUT))

    def backoff_max_tries(self) -> int:
        """Attempts per request (the first included), from ``max_tries``."""
        return int(self.config.get("max_tries", DEFAULT_MAX_TRIES))

    def backoff_wait_generator(self) -> t.Generator[float, None, None]:
        """Exponential waits starting at ``retry_backoff_seconds``, doubling (the SDK adds jitter)."""
        return backoff.expo(factor=float(self.config.get("retry_backoff_seconds", DEFAULT_RETRY_BACKOFF_SECONDS)))

    @property
    def page_size(self) -> int:
        """Records per page asked of the API (``per_page``), capped at the API's 500."""
        return min(int(self.config.get("page_size", MAX_PAGE_SIZE)), MAX_PAGE_SIZE)

    def get_new_paginator(self) -> ShortPagePaginator:
        """Page numbers until a short page."""
        return ShortPagePaginator(self.page_size)

    def get_url_params(self, context: Context | None, next_page_token: int | None) -> dict:
        """Always send ``page`` (the API redirects without it) and ``per_page``."""
        return {"page": next_page_token, "per_page": self.page_size}

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        """Yield the records of a JSON array or object body."""
        yield from page_records(response)

    def validate_response(self, response: requests.Response) -> None:
        """403: token rejected (fatal); 429 and 5xx: retried; other 4xx: fatal. No secrets."""
        status = response.status_code
        secret = self.config.get("auth_token")
        if status == HTTPStatus.FORBIDDEN:
            raise FatalAPIError(errors.auth_rejected(response, secret))
        if status in self.extra_retry_statuses or status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            raise RetriableAPIError(errors.describe_response(response, secret), response)
        if status >= HTTPStatus.BAD_REQUEST:
            raise FatalAPIError(errors.describe_response(response, secret))

    def request_decorator(self, func: t.Callable) -> t.Callable:
        """Retry as the SDK does, after scrubbing the token from network error messages.

        requests puts the full URL, token included, in connection and timeout errors.
        """
        secret = self.config.get("auth_token")

        @functools.wraps(func)
        def scrubbed(*args: t.Any, **kwargs: t.Any) -> requests.Response:
            try:
                return func(*args, **kwargs)
            except requests.exceptions.RequestException as exc:
                raise type(exc)(errors.redact(str(exc), secret)) from None

        return super().request_decorator(scrubbed)
