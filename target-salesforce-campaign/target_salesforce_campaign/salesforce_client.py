"""The one place that calls Salesforce: batched queries and sObject Collections writes.

Counts API calls, reads `Sforce-Limit-Info`, stops at `max_api_usage_percent`, retries transient
errors with exponential backoff and jitter, and re-authenticates once on INVALID_SESSION_ID.

Retries come in two layers with one policy (`retry_transient`): here each call is retried, except
a create whose outcome a failure leaves unknown; that error reaches the sink, which re-runs the
whole batch, re-matching first, so nothing is created twice.
"""

from __future__ import annotations

import logging
import re
import time
import urllib.parse
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, NoReturn

import backoff
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError
from simple_salesforce.format import format_soql

from target_salesforce_campaign.errors import (
    BudgetExceeded,
    ErrorClass,
    SalesforceCallError,
    classify,
)

logger = logging.getLogger(__name__)

COLLECTION_LIMIT = 200  # sObject Collections records per call
COMPOSITE_LIMIT = 25  # subrequests per Composite call
IN_CHUNK = 200  # values per SOQL IN (...) clause
COLLECTIONS = "composite/sobjects"
LIMIT_INFO = re.compile(r"(?:^|[;,\s])api-usage=(\d+)/(\d+)")


@dataclass(frozen=True)
class ApiUsage:
    """The org's rolling 24 h API usage."""

    used: int
    limit: int

    @property
    def percent(self) -> float:
        """Used share of the daily limit, in percent."""
        return 100.0 * self.used / self.limit if self.limit else 0.0

    @property
    def left(self) -> int:
        """Calls left today."""
        return max(self.limit - self.used, 0)


def parse_limit_info(header: str | None) -> ApiUsage | None:
    """Parse `api-usage=U/M` from Sforce-Limit-Info, whatever else it carries (`; api-bursts=...`)."""
    found = LIMIT_INFO.search(header or "")
    return ApiUsage(int(found.group(1)), int(found.group(2))) if found else None


def chunks(items: list, size: int) -> Iterator[list]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def in_clause_queries(template: str, values: Iterable[str], **fixed: object) -> list[str]:
    """SOQL texts with `{values}` replaced by escaped IN-chunks (format_soql quotes every value)."""
    unique = sorted(set(values))
    return [format_soql(template, values=chunk, **fixed) for chunk in chunks(unique, IN_CHUNK)]


def retry_transient(max_tries: int, factor: float, **options: object) -> Callable:
    """The one retry policy: transient SalesforceCallErrors retried, exponential backoff with full jitter."""
    return backoff.on_exception(
        backoff.expo,
        SalesforceCallError,
        max_tries=max_tries,
        giveup=lambda e: e.error_class is not ErrorClass.TRANSIENT,
        jitter=backoff.full_jitter,
        factor=factor,
        **options,
    )


def _error_from_body(body: object, status: int | None, fallback: str) -> SalesforceCallError:
    """Classified error from a REST error body (`[{"errorCode", "message"}]`), else from the HTTP status."""
    if not (isinstance(body, list) and body and isinstance(body[0], dict)):
        return SalesforceCallError(f"HTTP_{status}", fallback, status)
    first = body[0]
    return SalesforceCallError(str(first.get("errorCode") or f"HTTP_{status}"), str(first.get("message", "")), status)


def _call_error(exc: Exception) -> SalesforceCallError:
    """Turn a simple-salesforce / requests exception into a classified error."""
    if isinstance(exc, SalesforceError):
        return _error_from_body(exc.content, exc.status, f"HTTP {exc.status} from {exc.resource_name}")
    return SalesforceCallError("CONNECTION_ERROR", type(exc).__name__)


def _raise(error: SalesforceCallError) -> NoReturn:
    """Raise the error, as a budget stop when the org refuses for its API limit."""
    if error.error_class is ErrorClass.BUDGET:
        raise BudgetExceeded(f"Salesforce refused the call: {error.code}: {error.message}")
    raise error


class SalesforceClient:
    """Batched Salesforce API access with accounting."""

    def __init__(
        self,
        connect: Callable[[requests.Session], Salesforce],
        session: requests.Session,
        *,
        max_api_usage_percent: float = 90.0,
        can_reauthenticate: bool = True,
        max_tries: int = 5,
        backoff_base_seconds: float = 0.5,
    ) -> None:
        self._connect = connect
        self._session = session
        self._session.hooks["response"].append(self._account)
        self.max_api_usage_percent = max_api_usage_percent
        self.can_reauthenticate = can_reauthenticate
        self.max_tries = max_tries
        self.backoff_base_seconds = backoff_base_seconds
        self.calls = 0
        self.usage: ApiUsage | None = None
        self.sf = connect(session)

    # --- accounting -----------------------------------------------------------------------------

    def _account(self, response: requests.Response, *_args: object, **_kwargs: object) -> None:
        if "/services/data/" not in response.url:
            return  # logins are not API calls
        self.calls += 1
        usage = parse_limit_info(response.headers.get("Sforce-Limit-Info"))
        if usage:
            self.usage = usage

    def _check_budget(self) -> None:
        if self.usage and self.usage.percent >= self.max_api_usage_percent:
            raise BudgetExceeded(
                f"Salesforce API usage is {self.usage.used}/{self.usage.limit} ({self.usage.percent:.1f}%), at or "
                f"above max_api_usage_percent={self.max_api_usage_percent:g}; stopping before the next call."
            )

    # --- the call wrapper -----------------------------------------------------------------------

    def _once(self, fn: Callable[[], object]) -> object:
        self._check_budget()
        try:
            return fn()
        except (SalesforceError, requests.RequestException) as exc:
            _raise(_call_error(exc))

    def call(self, fn: Callable[[Salesforce], object], *, retry: bool = True) -> object:
        """Run `fn(sf)`: transient errors retried with backoff + jitter, one re-login on an expired session."""

        @retry_transient(self.max_tries if retry else 1, self.backoff_base_seconds, logger=None)
        def attempt() -> object:
            return self._once(lambda: fn(self.sf))

        try:
            return attempt()
        except SalesforceCallError as exc:
            if exc.error_class is not ErrorClass.AUTH or not self.can_reauthenticate:
                raise
        logger.info("Salesforce session expired; authenticating again once.")
        self.sf = self._connect(self._session)
        return attempt()

    # --- reads ----------------------------------------------------------------------------------

    def query_all(self, soql: str) -> list[dict]:
        """One SOQL query, following nextRecordsUrl."""
        return list(self.call(lambda sf: sf.query_all(soql))["records"])

    def query_many(self, soqls: list[str]) -> list[list[dict]]:
        """Several SOQL queries in one Composite call each 25 (one API call), pages followed."""
        results: list[list[dict]] = []
        for group in chunks(soqls, COMPOSITE_LIMIT):
            if len(group) == 1:
                results.append(self.query_all(group[0]))
                continue
            body = {
                "allOrNone": False,
                "compositeRequest": [
                    {"method": "GET", "url": self._query_url(soql), "referenceId": f"q{i}"}
                    for i, soql in enumerate(group)
                ],
            }
            response = self.call(lambda sf: sf.restful("composite", method="POST", json=body))
            for sub in response["compositeResponse"]:
                results.append(self._records_of(sub))
        return results

    def _query_url(self, soql: str) -> str:
        return f"/services/data/v{self.sf.sf_version}/query?q={urllib.parse.quote(soql)}"

    def _records_of(self, sub: dict) -> list[dict]:
        body, status = sub.get("body"), sub.get("httpStatusCode", 200)
        if status >= 300:
            _raise(_error_from_body(body, status, f"HTTP {status} from a Composite query"))
        records = list(body["records"])
        next_url = body.get("nextRecordsUrl")
        while next_url:
            page = self.call(lambda sf, url=next_url: sf.query_more(url, identifier_is_url=True))
            records.extend(page["records"])
            next_url = page.get("nextRecordsUrl")
        return records

    def describe(self, sobject: str) -> dict:
        """describe() of one object."""
        return dict(self.call(lambda sf: getattr(sf, sobject).describe()))

    # --- writes ---------------------------------------------------------------------------------

    def save(self, method: str, records: list[dict], *, retry: bool = True) -> list[dict]:
        """Collections create (POST) or update (PATCH), allOrNone=false, ≤200 a call; results in input order.

        Records that fail with a transient per-record error (UNABLE_TO_LOCK_ROW) are sent again,
        alone, with backoff. Pass retry=False for creates whose outcome is unknown after a failed
        call: the caller re-matches instead of re-sending blindly.
        """
        results = self._send_collections(COLLECTIONS, method, records, retry=retry)
        return self._retry_records(COLLECTIONS, method, records, results, _is_transient_result)

    def upsert(self, sobject: str, external_id_field: str, records: list[dict]) -> list[dict]:
        """Collections upsert on an external ID, ≤200 a call; results (with `created`) in input order.

        Idempotent, so a failed call is simply retried: a record that an earlier attempt created
        (even one landing late) is found by its external ID and updated, never created twice. A
        record that lost a race to such a late insert (DUPLICATE_VALUE on the field) is sent again.
        """
        path = f"{COLLECTIONS}/{sobject}/{external_id_field}"
        results = self._send_collections(path, "PATCH", records)

        def retried(result: dict) -> bool:
            return _is_transient_result(result) or _lost_insert_race(result, external_id_field)

        return self._retry_records(path, "PATCH", records, results, retried)

    def _send_collections(self, path: str, method: str, records: list[dict], *, retry: bool = True) -> list[dict]:
        """One sObject Collections call per 200 records; per-record results in input order."""
        results: list[dict] = []
        for chunk in chunks(records, COLLECTION_LIMIT):
            body = {"allOrNone": False, "records": chunk}
            results.extend(self.call(lambda sf, b=body: sf.restful(path, method=method, json=b), retry=retry))
        return results

    def _retry_records(
        self, path: str, method: str, records: list[dict], results: list[dict], retried: Callable[[dict], bool]
    ) -> list[dict]:
        """Send the records whose result is `retried` again, with backoff, up to max_tries in all."""
        for attempt in range(1, self.max_tries):
            pending = [i for i, r in enumerate(results) if retried(r)]
            if not pending:
                break
            delay = backoff.full_jitter(self.backoff_base_seconds * 2**attempt)
            logger.info("Retrying %d record(s) after a transient error (attempt %d).", len(pending), attempt + 1)
            time.sleep(delay)
            for i, result in zip(pending, self._send_collections(path, method, [records[i] for i in pending])):
                results[i] = result
        return results


def _is_transient_result(result: dict) -> bool:
    return not result.get("success") and any(
        classify(str(e.get("statusCode")), str(e.get("message", ""))) is ErrorClass.TRANSIENT for e in result.get("errors") or []
    )


def _lost_insert_race(result: dict, external_id_field: str) -> bool:
    """An upsert refused because a concurrent insert just took its external ID value (a unique field)."""
    return not result.get("success") and any(
        e.get("statusCode") == "DUPLICATE_VALUE"
        and external_id_field.casefold() in " ".join([str(e.get("message", "")), *(e.get("fields") or [])]).casefold()
        for e in result.get("errors") or []
    )
