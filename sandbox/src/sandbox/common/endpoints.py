"""Name the endpoint a request hit, as a route template, so that counters group like requests.

``GET /api/v1/events/5f.../guests/60....json`` -> ``GET /api/v1/events/{id}/guests/{id}.json``;
``PATCH /services/data/v60.0/composite/sobjects`` -> ``PATCH /services/data/{v}/composite/sobjects``.
Object names (``Contact``), field names and fixed words are kept; identifiers become ``{id}``.
"""

from __future__ import annotations

import re

_API_VERSION = re.compile(r"v?\d+\.\d+")  # Salesforce style; Eventmaker's /api/v1 is kept
_IDENTIFIER_PATTERNS = (
    re.compile(r"[0-9a-f]{24}"),  # Eventmaker ObjectId
    re.compile(r"(?=[0-9A-Za-z]*\d)[0-9A-Za-z]{15}([0-9A-Za-z]{3})?"),  # Salesforce Id
    re.compile(r"[0-9A-Za-z]+-\d+"),  # Salesforce query locator, e.g. 01g...-2000
    re.compile(r"\d+"),
)


def _is_external_id_field(segment: str) -> bool:
    """An upsert path names the external-id field just before the value: ``.../Contact/Ext__c/{value}``."""
    return segment.endswith("__c") or segment == "Id"


def _template_segment(segment: str, previous: str) -> str:
    stem, dot, suffix = segment.partition(".")
    if _API_VERSION.fullmatch(segment):
        return "{v}"
    if _is_external_id_field(previous):
        return "{id}"
    if any(pattern.fullmatch(stem) for pattern in _IDENTIFIER_PATTERNS):
        return "{id}" + dot + suffix
    return segment


def endpoint_template(method: str, path: str) -> str:
    """``METHOD /route/template`` for a request path (pure)."""
    segments = path.split("/")
    templated = [
        _template_segment(segment, segments[index - 1] if index else "")
        for index, segment in enumerate(segments)
    ]
    return f"{method.upper()} {'/'.join(templated)}"
