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
from dataclasses import dataclass
from typing import Callable, Iterator, NoReturn

import backoff
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError

from target_salesforce_campaign import soql as soql_text

from target_salesforce_campaign.ids import canonical_id
from target_salesforce_campaign.errors import (
    BudgetExceeded,
    ErrorClass,
    SalesforceCallError,
    classify,
)

logger = logging.getLogger(__name__)

COLLECTION_LIMIT = 200  # sObject Collections records per call
QUERIES_PER_CALL = 5  # Composite: at most 5 query/queryAll/sObject Collections subrequests per call
INCOMPLETE = "INCOMPLETE_REPLY"  # a reply whose shape or length does not match the request (transient)
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


def incomplete(message: str) -> SalesforceCallError:
    """The transient error of a reply that does not cover the request."""
    return SalesforceCallError(INCOMPLETE, f"Salesforce's reply does not match the request: {message}")


def query_path(soql: str) -> str:
    """The query path of a statement, relative to the API version (for `reads`)."""
    return f"query?q={soql_text.encode(soql)}"


def _page_checked(body: object) -> dict:
    """A query result page, if it has its records list of objects."""
    if not (isinstance(body, dict) and isinstance(body.get("records"), list)):
        raise incomplete("a query result without its records list")
    if not all(isinstance(row, dict) for row in body["records"]):
        raise incomplete("a query result whose records are not objects")
    return body


def _composite_responses(reply: object, expected: int) -> list[dict]:
    """The subresponses of a Composite reply, in request order (by referenceId); checked for shape."""
    subs = reply.get("compositeResponse") if isinstance(reply, dict) else None
    if not isinstance(subs, list) or not all(isinstance(sub, dict) for sub in subs):
        raise incomplete("a Composite reply without its compositeResponse list")
    by_reference = {sub.get("referenceId"): sub for sub in subs}
    missing = [i for i in range(expected) if f"r{i}" not in by_reference]
    if missing or len(subs) != expected:
        raise incomplete(f"{len(subs)} Composite subresponses for {expected} subrequests")
    return [by_reference[f"r{i}"] for i in range(expected)]


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
        return self.query_many([soql])[0]

    def query_many(self, soqls: list[str]) -> list[list[dict]]:
        """Several SOQL queries, 5 per Composite call (Salesforce's limit for query subrequests), pages followed.

        A lone statement is a plain GET, unless its URL would pass the URI limit: it then travels in
        a Composite call's body (where no URI limit applies, only SOQL's own). Each reply must have the shape asked for (one result per
        query, each a list of records), else the call is a transient error (INCOMPLETE_REPLY).
        """
        pages: list[dict] = []
        for group in chunks(soqls, QUERIES_PER_CALL):
            if len(group) == 1 and len(soql_text.encode(group[0])) <= soql_text.url_budget(self.sf.sf_version):
                pages.append(self.call(lambda sf, q=group[0]: _page_checked(sf.restful(self._query_path(q)))))
            else:
                pages += self.call(lambda sf, g=group: [_page_checked(b) for b in self._composite(sf, g)])
        return [self.all_records(page) for page in pages]

    def reads(self, paths: list[str]) -> list[object]:
        """Bodies of GET requests (paths under the API version, e.g. `sobjects/Lead/describe`), one Composite call.

        At most 5 of them may be queries (Salesforce's limit); a failed one fails the call.
        """
        return self.call(lambda sf: self._composite(sf, [f"/services/data/v{sf.sf_version}/{p}" for p in paths]))

    def _composite(self, sf: Salesforce, urls_or_soqls: list[str]) -> list[object]:
        """Bodies of GET subrequests (URLs, or SOQL statements) of one Composite call, each checked, in order."""
        urls = [u if u.startswith("/services/") else self._query_url(u) for u in urls_or_soqls]
        body = {
            "allOrNone": False,
            "compositeRequest": [{"method": "GET", "url": url, "referenceId": f"r{i}"} for i, url in enumerate(urls)],
        }
        bodies = []
        for sub in _composite_responses(sf.restful("composite", method="POST", json=body), len(urls)):
            status = sub.get("httpStatusCode", 200)
            if not isinstance(status, int) or status >= 300:
                _raise(_error_from_body(sub.get("body"), status, f"HTTP {status} from a Composite subrequest"))
            bodies.append(sub.get("body"))
        return bodies

    def _query_path(self, soql: str) -> str:
        return query_path(soql)

    def _query_url(self, soql: str) -> str:
        return soql_text.query_url(self.sf.sf_version, soql)

    @property
    def url_budget(self) -> int | None:
        """URL-encoded bytes a statement may take: no limit (None), as any statement too long for a GET is
        sent in a Composite call's body; SOQL's 100,000 characters still apply (soql.or_in_queries)."""
        return None

    def all_records(self, body: dict) -> list[dict]:
        """The records of a query reply, its further pages (nextRecordsUrl) followed."""
        records = list(body["records"])
        next_url = body.get("nextRecordsUrl")
        while next_url:
            page = self.call(lambda sf, url=next_url: _page_checked(sf.query_more(url, identifier_is_url=True)))
            records.extend(page["records"])
            next_url = page.get("nextRecordsUrl")
        return records

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
        """One sObject Collections call per 200 records; per-record results in input order.

        A result missing or of the wrong shape is a transient failure of its record (INCOMPLETE_REPLY),
        retried like any other. Without `retry` (creates, whose outcome a missing result leaves
        unknown) such a reply fails the whole call, so the batch re-matches before sending again.
        """
        results: list[dict] = []
        for chunk in chunks(records, COLLECTION_LIMIT):
            body = {"allOrNone": False, "records": chunk}

            def send(sf: Salesforce, body: dict = body) -> list[dict]:
                checked, bad = checked_results(sf.restful(path, method=method, json=body), body["records"],
                                               upsert=path != COLLECTIONS)
                if bad and not retry:
                    raise incomplete(f"{bad} of {len(body['records'])} created records without a result")
                return checked

            results.extend(self.call(send, retry=retry))
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


def _missing(what: str) -> dict:
    return {"success": False, "errors": [{"statusCode": INCOMPLETE, "message": f"Salesforce's reply {what}", "fields": []}]}


def _result_problem(result: object, record: dict, *, upsert: bool) -> str | None:
    """What makes `result` no Collections result for `record`, or None."""
    if not (isinstance(result, dict) and isinstance(result.get("success"), bool)):
        return "has no result of the right shape for this record"
    if not result["success"]:
        return None if isinstance(result.get("errors"), list) else "gives a failure without its errors"
    record_id = canonical_id(result.get("id"))
    if record_id is None or (record.get("Id") and canonical_id(record["Id"]) != record_id):
        return "gives a success without this record's Id"
    if upsert and not isinstance(result.get("created"), bool):
        return "gives an upsert success without 'created'"
    return None


def checked_results(reply: object, records: list[dict], *, upsert: bool) -> tuple[list[dict], int]:
    """One result per record (Ids canonical), a transient INCOMPLETE_REPLY failure where the reply has none
    of the right shape; and how many such. A reply that is no list, or has more results than records
    (their order cannot be trusted), is an INCOMPLETE_REPLY error of the whole call."""
    reply = [] if reply is None else reply  # simple-salesforce returns None for an empty JSON reply
    if not isinstance(reply, list) or len(reply) > len(records):
        count = len(reply) if isinstance(reply, list) else 0
        raise incomplete(f"{type(reply).__name__} of {count} results for {len(records)} records")
    results, bad = [], 0
    for i, record in enumerate(records):
        result = reply[i] if i < len(reply) else None
        problem = "has no result for this record" if i >= len(reply) else _result_problem(result, record, upsert=upsert)
        if problem:
            bad += 1
            results.append(_missing(problem))
        else:
            results.append({**result, "id": canonical_id(result["id"])} if result["success"] else result)
    return results, bad


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
