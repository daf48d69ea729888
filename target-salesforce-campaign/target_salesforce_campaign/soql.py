"""SOQL for the lookups: escaped literals, OR'ed IN conditions split to stay within Salesforce's limits.

Real Salesforce refuses a SOQL statement over 100,000 characters and a request whose line and
headers pass 16,384 bytes (414). A lookup is `SELECT ... FROM X WHERE [fixed AND] (f1 IN (...) OR
f2 IN (...) ...)`; `or_in_queries` packs the values into as few statements as fit the SOQL limit
and, when given, a URL budget, counting the URL-encoded size exactly (encoding is character by
character, so sizes add). Statements that travel as Composite subrequests are in the POSTed body,
not in a request line: only the SOQL limit applies to them (the client sends a statement too long
for a GET in a Composite call).
"""

from __future__ import annotations

import urllib.parse
from typing import Iterable, Sequence

from simple_salesforce.format import format_soql

MAX_SOQL_CHARS = 100_000  # Salesforce: "SOQL statements cannot exceed 100,000 characters"
MAX_URI_BYTES = 16_384  # Salesforce: URI longer than 16,384 bytes (headers included) -> 414
HEADER_ALLOWANCE = 1_024  # our request line and headers (Authorization, User-Agent, ...) stay below this
URL_SAFE = "'(),@*!"  # left as they are in a query string (RFC 3986), spaces become "+"


def encode(soql: str) -> str:
    """The `q=` value of a query URL."""
    return urllib.parse.quote_plus(soql, safe=URL_SAFE)


def literal(value: str) -> str:
    """A quoted, escaped SOQL string literal."""
    return format_soql("{}", value)


def query_url(version: str, soql: str) -> str:
    """The REST query path of a statement (also the url of a Composite subrequest)."""
    return f"/services/data/v{version}/query?q={encode(soql)}"


def url_budget(version: str) -> int:
    """Encoded bytes a statement may take so that its query URL stays within MAX_URI_BYTES."""
    return MAX_URI_BYTES - HEADER_ALLOWANCE - len(query_url(version, ""))


class _Packer:
    """Accumulates IN clauses into statements, each within both limits."""

    def __init__(self, head: str, where: str, url_bytes: float, soql_chars: int) -> None:
        self.prefix = f"{head} WHERE {where} AND (" if where else f"{head} WHERE ("
        self.limits = (soql_chars, url_bytes)
        self.done: list[str] = []
        self._start()

    def _start(self) -> None:
        self.clauses: list[tuple[str, list[str]]] = []
        self.size = (len(self.prefix) + 1, len(encode(self.prefix)) + 1)  # + the closing ")"

    def _fits(self, piece: str) -> bool:
        grown = (self.size[0] + len(piece), self.size[1] + len(encode(piece)))
        if grown[0] > self.limits[0] or grown[1] > self.limits[1]:
            return False
        self.size = grown
        return True

    def add(self, field: str, value: str) -> None:
        text = literal(value)
        if self.clauses and self.clauses[-1][0] == field and self._fits(f", {text}"):
            self.clauses[-1][1].append(text)
            return
        opening = f"{' OR ' if self.clauses else ''}{field} IN ({text})"
        if not self._fits(opening):
            self.flush()
            self._fits(opening[4:] if opening.startswith(" OR ") else opening)
        self.clauses.append((field, [text]))

    def flush(self) -> None:
        if self.clauses:
            body = " OR ".join(f"{field} IN ({', '.join(values)})" for field, values in self.clauses)
            self.done.append(f"{self.prefix}{body})")
        self._start()


def or_in_queries(
    head: str,
    conditions: Sequence[tuple[str, Iterable[str]]],
    *,
    where: str = "",
    url_bytes: int | None = None,
    soql_chars: int = MAX_SOQL_CHARS,
) -> list[str]:
    """Statements `head WHERE [where AND] (field IN (...) OR ...)` that together cover every value.

    `conditions` are (field, values) pairs; empty ones are left out, values deduplicated. Each
    statement stays within `soql_chars` characters and (when given) `url_bytes` URL-encoded bytes.
    No condition with a value: no statement.
    """
    packer = _Packer(head, where, float("inf") if url_bytes is None else url_bytes, soql_chars)
    for field, values in conditions:
        for value in sorted(set(values)):
            packer.add(field, value)
    packer.flush()
    return packer.done
