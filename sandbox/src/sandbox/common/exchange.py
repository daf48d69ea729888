"""One recorded request/response exchange: how it ended, and its entry in the request log.

A request ends in one of three ways: the response was sent in full (its status is logged), the
server closed the connection on purpose (a ``reset`` fault: status null), or the client left before
any response started (status 499, nginx's "client closed request", e.g. a client timeout during a
``delay`` fault). ASGI tells a server about a client that left only through ``receive``, which an
app stops calling once it has read the body, so ``ClientListener`` keeps reading for it.
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime, timezone

from sandbox.common.endpoints import endpoint_template

CLIENT_CLOSED_REQUEST = 499
_SECRET_QUERY_VALUES = re.compile(
    r"(?i)(^|&)(auth_token|access_token|password|client_secret|refresh_token)=[^&]*"
)


def redact_query(query: str) -> str:
    """The query string with credential values replaced, so the request log holds no secret."""
    return _SECRET_QUERY_VALUES.sub(r"\1\2=[redacted]", query)


class Exchange:
    """A request being served: its log entry in the making, and whether it is over on our side."""

    def __init__(self, scope) -> None:
        self.method, self.path = scope["method"], scope["path"]
        self.query = redact_query(scope.get("query_string", b"").decode("latin-1"))
        self.started, self.at = time.perf_counter(), datetime.now(timezone.utc)
        self.status: int | None = None
        self.ended = False  # the whole response was handed to the server, or the server closed the connection
        self.recorded = False  # in the request log already (an abandoned request is logged before it ends)

    def noting(self, send):
        """``send``, noting the response status and when the response is complete."""

        async def send_and_note(message) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                self.ended = True
            await send(message)

        return send_and_note

    def end_without_response(self) -> None:
        """The server closes the connection on purpose: logged with status null."""
        self.ended = True

    def abandon(self) -> None:
        """The client left first: 499 unless a response had already started."""
        if self.status is None:
            self.status = CLIENT_CLOSED_REQUEST

    def log_entry(self) -> dict:
        """The entry of ``GET /__sandbox/requests``; its latency runs until now."""
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "endpoint": endpoint_template(self.method, self.path),
            "status": self.status,
            "latency_ms": round((time.perf_counter() - self.started) * 1000, 3),
            "at": self.at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }


class ClientListener:
    """Reads the server's ``receive`` in a task of its own and relays every message to the app.

    ``listen()`` returns at the first ``http.disconnect``: the client left, or (uvicorn) the
    response is complete. The app's ``receive`` then keeps answering ``http.disconnect``, as servers do.
    """

    def __init__(self, receive) -> None:
        self._server_receive = receive
        self._messages: asyncio.Queue[dict] = asyncio.Queue()

    async def listen(self) -> None:
        while True:
            message = await self._server_receive()
            self._messages.put_nowait(message)
            if message["type"] == "http.disconnect":
                return

    async def receive(self) -> dict:
        message = await self._messages.get()
        if message["type"] == "http.disconnect":
            self._messages.put_nowait(message)
        return message
