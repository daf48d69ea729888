"""ASGI middleware around either stand-in: records requests, injects faults and latency.

Its control routes (``/__sandbox/requests|counters|faults|latency``, contracts §3) are answered here;
the app's own control routes (``/__sandbox/load|snapshot|reset|config``) pass through. No control
request is counted, logged or faulted. Everything runs on the server's one event loop: no locks.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter, deque
from datetime import datetime, timezone

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.common.endpoints import endpoint_template
from sandbox.common.faults import Fault, FaultQueue, FaultSpecError

CONTROL_PREFIX = "/__sandbox/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_MAX_LOG_ENTRIES = 100_000
_SECRET_QUERY_VALUES = re.compile(
    r"(?i)(^|&)(auth_token|access_token|password|client_secret|refresh_token)=[^&]*"
)


def redact_query(query: str) -> str:
    """The query string with credential values replaced, so the request log holds no secret."""
    return _SECRET_QUERY_VALUES.sub(r"\1\2=[redacted]", query)


class RequestRecorder:
    """The request log (bounded: the newest entries are kept) and exact per-endpoint counters."""

    def __init__(self, max_entries: int = DEFAULT_MAX_LOG_ENTRIES) -> None:
        self._log: deque[dict] = deque(maxlen=max_entries)
        self._by_endpoint: Counter[str] = Counter()

    def record(self, entry: dict) -> None:
        self._log.append(entry)
        self._by_endpoint[entry["endpoint"]] += 1

    def clear(self) -> None:
        self._log.clear()
        self._by_endpoint.clear()

    def entries(self) -> list[dict]:
        return list(self._log)

    def counters(self) -> dict:
        return {"total": sum(self._by_endpoint.values()), "by_endpoint": dict(self._by_endpoint)}


async def _abort_connection(receive) -> None:
    """Close the client's connection without any response (uvicorn: the transport behind ``receive``)."""
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionAbortedError("sandbox fault: reset")  # not uvicorn: let the server drop it
    transport.abort()
    await asyncio.sleep(0)  # lets the server notice the disconnect, so it sends nothing either


class SandboxMiddleware:
    """Wraps an ASGI app; ``changes`` counts state-changing requests (for the periodic save)."""

    def __init__(self, app, *, max_log_entries: int = DEFAULT_MAX_LOG_ENTRIES) -> None:
        self.app = app
        self.recorder = RequestRecorder(max_log_entries)
        self.faults = FaultQueue()
        self.latency_ms: float = 0
        self.changes = 0
        self._control_routes = {
            ("GET", "requests"): self._get_requests,
            ("DELETE", "requests"): self._clear_requests,
            ("GET", "counters"): self._get_counters,
            ("GET", "faults"): self._get_faults,
            ("POST", "faults"): self._add_fault,
            ("DELETE", "faults"): self._clear_faults,
            ("GET", "latency"): self._get_latency,
            ("POST", "latency"): self._set_latency,
        }

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if method not in SAFE_METHODS:
            self.changes += 1
        if path.startswith(CONTROL_PREFIX):
            handler = self._control_routes.get((method, path[len(CONTROL_PREFIX):].rstrip("/")))
            if handler is None:  # the app's own control routes
                await self.app(scope, receive, send)
            else:
                response = await handler(Request(scope, receive))
                await response(scope, receive, send)
            return
        await self._serve_recorded(scope, receive, send)

    async def _serve_recorded(self, scope, receive, send) -> None:
        method, path = scope["method"], scope["path"]
        started, at = time.perf_counter(), datetime.now(timezone.utc)
        status: int | None = None

        async def send_and_note_status(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            if self.latency_ms:
                await asyncio.sleep(self.latency_ms / 1000)
            fault = self.faults.take(method, path)
            if fault is None or fault.kind == "delay":
                if fault is not None:
                    await asyncio.sleep(fault.delay_ms / 1000)
                await self.app(scope, receive, send_and_note_status)
            elif fault.kind == "reset":
                await _abort_connection(receive)
            else:
                await self._fault_response(fault)(scope, receive, send_and_note_status)
        finally:
            self.recorder.record(
                {
                    "method": method,
                    "path": path,
                    "query": redact_query(scope.get("query_string", b"").decode("latin-1")),
                    "endpoint": endpoint_template(method, path),
                    "status": status,
                    "latency_ms": round((time.perf_counter() - started) * 1000, 3),
                    "at": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                }
            )

    @staticmethod
    def _fault_response(fault: Fault) -> Response:
        return Response(fault.body, status_code=fault.status, headers=fault.headers, media_type=fault.content_type)

    # Control routes.

    async def _get_requests(self, request: Request) -> Response:
        return JSONResponse(self.recorder.entries())

    async def _clear_requests(self, request: Request) -> Response:
        self.recorder.clear()
        return Response(status_code=204)

    async def _get_counters(self, request: Request) -> Response:
        return JSONResponse(self.recorder.counters())

    async def _get_faults(self, request: Request) -> Response:
        return JSONResponse(self.faults.describe())

    async def _add_fault(self, request: Request) -> Response:
        try:
            fault = Fault.from_spec(await _json_body(request))
        except FaultSpecError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        self.faults.add(fault)
        return JSONResponse(fault.describe(), status_code=201)

    async def _clear_faults(self, request: Request) -> Response:
        self.faults.clear()
        return Response(status_code=204)

    async def _get_latency(self, request: Request) -> Response:
        return JSONResponse({"ms": self.latency_ms})

    async def _set_latency(self, request: Request) -> Response:
        try:
            ms = (await _json_body(request)).get("ms")
        except (FaultSpecError, AttributeError):
            ms = None
        if not isinstance(ms, (int, float)) or ms < 0:
            return JSONResponse({"error": 'send {"ms": <non-negative number>}'}, status_code=400)
        self.latency_ms = ms
        return JSONResponse({"ms": ms})


async def _json_body(request: Request):
    try:
        return json.loads(await request.body() or b"null")
    except json.JSONDecodeError as exc:
        raise FaultSpecError(f"the body is not valid JSON: {exc}") from None
