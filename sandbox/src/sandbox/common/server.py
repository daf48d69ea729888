"""Run an ASGI app with uvicorn, in a background thread (tests) or in the foreground (``sandbox up``)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import uvicorn

# On stop, in-flight requests get this long to finish. It also bounds the wait for TLS clients that
# keep an idle connection open without answering the close (a live ``requests`` Response does).
GRACEFUL_SHUTDOWN_SECONDS = 1.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def uvicorn_config(app, port: int, tls_pem: Path | None = None) -> uvicorn.Config:
    """Bound to 127.0.0.1 only; HTTPS when ``tls_pem`` (key + certificate chain) is given."""
    return uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",  # the apps have no startup/shutdown hooks; a forced stop then logs no CancelledError
        ssl_certfile=str(tls_pem) if tls_pem else None,
        ssl_keyfile=str(tls_pem) if tls_pem else None,
        timeout_keep_alive=30,
        h11_max_incomplete_event_size=1024 * 1024,  # long request heads reach the app (Salesforce answers 414)
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )


class ServerThread:
    """An ASGI app served by uvicorn in a daemon thread; ``start()`` returns its base URL."""

    def __init__(self, app, *, port: int | None = None, tls_pem: Path | None = None) -> None:
        self.port = port or free_port()
        self.scheme = "https" if tls_pem else "http"
        self._server = uvicorn.Server(uvicorn_config(app, self.port, tls_pem))
        self._server.install_signal_handlers = lambda: None  # not the main thread
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> str:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"sandbox server on port {self.port} did not start")
            time.sleep(0.01)
        return self.base_url

    def stop(self) -> None:
        """Stop at once: in-process servers keep no data, so idle keep-alive clients are not awaited."""
        self._server.should_exit = True
        self._server.force_exit = True
        self._thread.join(timeout=10)
