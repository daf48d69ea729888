"""The Salesforce stand-in as outside clients reach it: at Salesforce's own login host, through a tunnel.

Outside clients run unchanged in their own venv (``make outside-clients``: ``.venv-outside/``, pins in
``requirements.txt`` here). The stand-in is served with a certificate for 127.0.0.1 *and*
Salesforce's login hosts, signed by a CA made for this test session; the client trusts that CA through
``REQUESTS_CA_BUNDLE`` and reaches the login host through ``HTTPS_PROXY`` (``Tunnel`` below), which
connects only those hosts to the stand-in and refuses every other one.
"""

from __future__ import annotations

import os
import select
import socket
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from sandbox.common.standins import salesforce_stand_in
from sandbox.common.tls import TlsFiles
from sandbox.pytest_plugin import SalesforceSandbox, serving

LOGIN_HOSTS = ("login.salesforce.com", "test.salesforce.com")  # production, and sandboxes (is_sandbox)
OUTSIDE_VENV = Path(__file__).resolve().parents[2] / ".venv-outside"


# -- the tunnel: HTTPS_PROXY for outside clients -------------------------------------------------

class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        request_line = self.rfile.readline(65536).decode("latin-1").split()
        while self.rfile.readline(65536) not in (b"\r\n", b"\n", b""):
            pass  # the proxy request's headers
        routes: dict[str, int] = self.server.routes  # type: ignore[attr-defined]
        if len(request_line) < 2 or request_line[0] != "CONNECT" or request_line[1] not in routes:
            self.server.refused.append(" ".join(request_line[:2]))  # type: ignore[attr-defined]
            self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        self.server.admitted.add(request_line[1])  # type: ignore[attr-defined]
        upstream = socket.create_connection(("127.0.0.1", routes[request_line[1]]))
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        _pipe(self.connection, upstream)


def _pipe(client: socket.socket, upstream: socket.socket) -> None:
    with upstream:
        sockets = [client, upstream]
        while True:
            readable, _, _ = select.select(sockets, [], [], 60)
            if not readable:
                return
            for source in readable:
                data = source.recv(65536)
                if not data:
                    return
                (upstream if source is client else client).sendall(data)


class Tunnel(socketserver.ThreadingTCPServer):
    """``Tunnel({"login.salesforce.com:443": 8443})``; ``url`` is what HTTPS_PROXY gets."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, routes: dict[str, int]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes = routes
        self.refused: list[str] = []
        self.admitted: set[str] = set()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> "Tunnel":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


@dataclass
class LoginHostSandbox:
    sandbox: SalesforceSandbox
    tunnel: Tunnel
    ca_bundle: str

    def client_env(self) -> dict[str, str]:
        """The environment an outside client runs in: proxy for the login host, the test CA, nothing else."""
        env = {name: value for name, value in os.environ.items()
               if name.upper() not in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "CURL_CA_BUNDLE")}
        return {**env, "HTTPS_PROXY": self.tunnel.url, "NO_PROXY": "", "REQUESTS_CA_BUNDLE": self.ca_bundle}


@pytest.fixture(scope="session")
def outside_bin() -> Path:
    """The outside clients' venv's ``bin``; the test fails (not skips) when it was not installed."""
    path = OUTSIDE_VENV / "bin"
    if not (path / "tap-salesforce").exists():
        pytest.fail(f"{path}/tap-salesforce is missing: run `make outside-clients` (part of `make test`'s setup)")
    return path


@pytest.fixture(scope="session")
def login_host_tls(tmp_path_factory) -> TlsFiles:
    directory = tmp_path_factory.mktemp("login-host-tls")
    authority = trustme.CA(organization_name="outside-client test CA")
    files = TlsFiles(ca_pem=directory / "ca.pem", server_pem=directory / "server.pem")
    authority.cert_pem.write_to_path(str(files.ca_pem))
    authority.issue_cert("127.0.0.1", "localhost", *LOGIN_HOSTS).private_key_and_cert_chain_pem.write_to_path(
        str(files.server_pem))
    return files


@pytest.fixture
def login_host_sandbox(login_host_tls: TlsFiles) -> Iterator[LoginHostSandbox]:
    stand_in = salesforce_stand_in()
    with serving(stand_in, login_host_tls) as url:
        sandbox = SalesforceSandbox(stand_in, url, ca_bundle=str(login_host_tls.ca_pem))
        port = int(url.rsplit(":", 1)[1])
        with Tunnel({f"{host}:443": port for host in LOGIN_HOSTS}) as tunnel:
            yield LoginHostSandbox(sandbox, tunnel, str(login_host_tls.ca_pem))
        sandbox.close()
