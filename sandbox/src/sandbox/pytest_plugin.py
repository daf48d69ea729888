"""Pytest fixtures (contracts §3): a fresh stand-in per test, in-process on a free port.

Registered through the ``pytest11`` entry point, so every suite can ask for ``eventmaker_sandbox``
or ``salesforce_sandbox``. Each is served by uvicorn in a thread, wrapped in the recording/fault
middleware; the Salesforce one over HTTPS with a CA made once per test session in a tmp dir.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from sandbox.common.control import ControlClient
from sandbox.common.server import ServerThread
from sandbox.common.standins import StandIn, eventmaker_stand_in, salesforce_stand_in
from sandbox.common.tls import TlsFiles, ensure_tls_files
from sandbox.common.credentials import EVENTMAKER_AUTH_TOKEN, SALESFORCE_CREDENTIALS


class SandboxHandle(ControlClient):
    """A running stand-in: its URL, its store, and the control routes as methods."""

    def __init__(self, stand_in: StandIn, url: str, *, verify: str | bool = True) -> None:
        super().__init__(url, verify=verify)
        self.store = stand_in.store

    def configure(self, **settings) -> dict:
        """Change the stand-in's live settings (``POST /__sandbox/config``); returns them all."""
        return self.call("POST", "config", settings)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"


class EventmakerSandbox(SandboxHandle):
    auth_token = EVENTMAKER_AUTH_TOKEN


class SalesforceSandbox(SandboxHandle):
    def __init__(self, stand_in: StandIn, url: str, *, ca_bundle: str) -> None:
        super().__init__(stand_in, url, verify=ca_bundle)
        self.ca_bundle = ca_bundle
        self.credentials = {**SALESFORCE_CREDENTIALS, "login_url": url}

    @property
    def campaign_id(self) -> str:
        from sandbox.salesforce.store import SANDBOX_CAMPAIGN_ID

        return SANDBOX_CAMPAIGN_ID

    def access_token(self) -> str:
        """A valid session id, obtained like a client would: OAuth password grant."""
        credentials = self.credentials
        response = self.session.post(
            f"{self.url}/services/oauth2/token",
            data={
                "grant_type": "password",
                "client_id": credentials["client_id"],
                "client_secret": credentials["client_secret"],
                "username": credentials["username"],
                "password": credentials["password"] + credentials["security_token"],
            },
            timeout=self.timeout,
        )
        response.raise_for_status()
        return response.json()["access_token"]


@contextmanager
def serving(stand_in: StandIn, tls: TlsFiles | None = None) -> Iterator[str]:
    """The stand-in served on a free port of 127.0.0.1 for the duration of the block; yields its URL."""
    server = ServerThread(stand_in.app, tls_pem=tls.server_pem if tls else None)
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sandbox_tls_files(tmp_path_factory) -> TlsFiles:
    """A local CA and a certificate for 127.0.0.1, shared by the session's Salesforce stand-ins."""
    return ensure_tls_files(tmp_path_factory.mktemp("sandbox-tls"))


@pytest.fixture
def eventmaker_sandbox() -> Iterator[EventmakerSandbox]:
    stand_in = eventmaker_stand_in()
    with serving(stand_in) as url:
        handle = EventmakerSandbox(stand_in, url)
        yield handle
        handle.close()


@pytest.fixture
def salesforce_sandbox(sandbox_tls_files: TlsFiles) -> Iterator[SalesforceSandbox]:
    stand_in = salesforce_stand_in()
    with serving(stand_in, sandbox_tls_files) as url:
        handle = SalesforceSandbox(stand_in, url, ca_bundle=str(sandbox_tls_files.ca_pem))
        yield handle
        handle.close()
