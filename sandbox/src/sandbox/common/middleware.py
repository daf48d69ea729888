"""ASGI middleware around either stand-in: records requests, injects faults and latency.

Its control routes (``/__sandbox/requests|counters|faults|latency``, contracts §3) are answered here;
the app's own control routes (``/__sandbox/load|snapshot|reset|config``) pass through. No control
request is counted, logged or faulted. Everything runs on the server's one event loop: no locks.

Every other request is logged and counted exactly once, however it ends (``sandbox.common.exchange``):
with its response status; with status null when a ``reset`` fault closed the connection; with status
499 ("client closed request") when the client left before any response started, e.g. it timed out
during a ``delay`` fault. That last entry is written the moment the server notices the client is gone
(or the server cancels the request), with the latency until then; like a real server, the sandbox
still carries the request out (a write still lands) but logs nothing more for it. A cancellation is
recorded, then propagated.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, deque

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.common.exchange import ClientListener, Exchange
from sandbox.common.faults import Fault, FaultQueue, FaultSpecError

CONTROL_PREFIX = "/__sandbox/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_MAX_LOG_ENTRIES = 100_000


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
        exchange = Exchange(scope)
        client = ClientListener(receive)
        listener = asyncio.create_task(self._record_if_abandoned(exchange, client))
        try:
            await self._serve(exchange, scope, receive, client.receive, exchange.noting(send))
        except asyncio.CancelledError:
            exchange.abandon()
            raise
        finally:
            listener.cancel()
            self._record_once(exchange)

    async def _serve(self, exchange: Exchange, scope, server_receive, receive, send) -> None:
        """Added latency, then the first matching fault if any, else the app."""
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)
        fault = self.faults.take(scope["method"], scope["path"])
        if fault is None or fault.kind == "delay":
            if fault is not None:
                await asyncio.sleep(fault.delay_ms / 1000)
            await self.app(scope, receive, send)
        elif fault.kind == "reset":
            exchange.end_without_response()
            await _abort_connection(server_receive)
        else:
            await self._fault_response(fault)(scope, receive, send)

    async def _record_if_abandoned(self, exchange: Exchange, client: ClientListener) -> None:
        await client.listen()
        if not exchange.ended:
            exchange.abandon()
            self._record_once(exchange)

    def _record_once(self, exchange: Exchange) -> None:
        if not exchange.recorded:
            exchange.recorded = True
            self.recorder.record(exchange.log_entry())

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
