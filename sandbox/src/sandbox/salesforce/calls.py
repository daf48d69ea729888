"""One REST API call and its reply, as the operations of ``rest.py`` and its parts see them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from .errors import SalesforceError
from .records import record_url
from .schema import Schema


@dataclass
class Call:
    """One API call: method, version, path parameters, query string, parsed JSON body, headers."""

    method: str
    version: str
    params: dict[str, str]
    query: Mapping[str, str]
    body: Any
    headers: Mapping[str, str]


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def error_reply(error: SalesforceError, version: str, schema: Schema) -> Reply:
    """Salesforce's top-level error list (300: the list of matching record URLs)."""
    if error.status == 300:
        sobject = schema.for_id(error.extra["ids"][0])
        return Reply(300, [record_url(version, sobject.name, i) for i in error.extra["ids"]])
    return Reply(error.status, [error.as_rest()])
