"""Injected faults: "the next N requests matching ``METHOD path-regex`` fail this way"."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

KINDS = ("http", "reset", "delay")
METHODS = ("*", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class FaultSpecError(ValueError):
    """A fault request the sandbox cannot understand; the message says which field is wrong."""


def _encode_body(body, content_type: str | None) -> tuple[bytes, str]:
    """A JSON body for data, HTML for a string (a proxy's error page), unless ``content_type`` says otherwise."""
    if body is None:
        return b"", content_type or "text/plain; charset=utf-8"
    if isinstance(body, str):
        return body.encode(), content_type or "text/html; charset=utf-8"
    return json.dumps(body).encode(), content_type or "application/json; charset=utf-8"


@dataclass
class Fault:
    method: str  # upper case, or "*" for any method
    path_pattern: re.Pattern
    remaining: int
    kind: str = "http"
    status: int = 500
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay_ms: float = 0

    @classmethod
    def from_spec(cls, spec: dict) -> Fault:
        """Build from the JSON of ``POST /__sandbox/faults`` (contracts §3)."""
        if not isinstance(spec, dict):
            raise FaultSpecError("the fault must be a JSON object")
        method, _, pattern = str(spec.get("match", "")).strip().partition(" ")
        if not method or not pattern.strip():
            raise FaultSpecError('"match" must be "<METHOD> <path regex>", e.g. "GET /api/v1/events/.*/guests"')
        if method.upper() not in METHODS:
            raise FaultSpecError(f'"match" must start with an HTTP method or "*", not {method!r}')
        try:
            path_pattern = re.compile(pattern.strip())
        except re.error as exc:
            raise FaultSpecError(f'"match" has an invalid path regex: {exc}') from None
        kind = spec.get("kind") or "http"
        if kind not in KINDS:
            raise FaultSpecError(f'"kind" must be one of {", ".join(KINDS)}')
        count, status, delay_ms = spec.get("count", 1), spec.get("status", 500), spec.get("delay_ms", 0)
        if not isinstance(count, int) or count < 1:
            raise FaultSpecError('"count" must be a positive integer')
        if not isinstance(status, int) or not 100 <= status <= 599:
            raise FaultSpecError('"status" must be an HTTP status code')
        if not isinstance(delay_ms, (int, float)) or delay_ms < 0:
            raise FaultSpecError('"delay_ms" must be a non-negative number')
        headers = spec.get("headers") or {}
        if not isinstance(headers, dict):
            raise FaultSpecError('"headers" must be an object of header names to values')
        body, content_type = _encode_body(spec.get("body"), spec.get("content_type"))
        return cls(
            method=method.upper(),
            path_pattern=path_pattern,
            remaining=count,
            kind=kind,
            status=status,
            body=body,
            content_type=content_type,
            headers={str(name): str(value) for name, value in headers.items()},
            delay_ms=delay_ms,
        )

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and self.path_pattern.search(path) is not None

    def describe(self) -> dict:
        return {
            "match": f"{self.method} {self.path_pattern.pattern}",
            "remaining": self.remaining,
            "kind": self.kind,
            "status": self.status,
            "delay_ms": self.delay_ms,
        }


class FaultQueue:
    """Faults in the order they were added; each request consumes the first one it matches."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear(self) -> None:
        self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.matches(method, path):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def describe(self) -> list[dict]:
        return [fault.describe() for fault in self._faults]
