"""Shared fixtures of the Salesforce stand-in's tests: one HTTPS server per module, reset per test."""

import pytest
import requests
from simple_salesforce import Salesforce

from sandbox.common.server import ServerThread
from sandbox.common.tls import ensure_tls_files
from sandbox.salesforce.app import apply_org_settings, create_app
from sandbox.salesforce.settings import SalesforceSettings
from sandbox.salesforce.store import SalesforceStore


class Sandbox:
    def __init__(self, tmp_dir):
        self.tls = ensure_tls_files(tmp_dir)
        self.store = SalesforceStore()
        self.settings = SalesforceSettings()
        self.server = ServerThread(create_app(self.store, self.settings), tls_pem=self.tls.server_pem)
        self.url = self.server.start()
        self.sessions = []

    def session(self):
        """A requests session trusting the sandbox CA (env CA bundles would override verify)."""
        session = requests.Session()
        self.sessions.append(session)
        session.verify = str(self.tls.ca_pem)
        session.trust_env = False
        return session


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    running = Sandbox(tmp_path_factory.mktemp("salesforce-tls"))
    yield running
    for session in running.sessions:  # open keep-alive connections would delay the shutdown
        session.close()
    running.server.stop()


@pytest.fixture
def sf_box(sandbox):
    sandbox.store.reset()
    sandbox.store.api_usage = 0
    sandbox.settings.update(SalesforceSettings().to_dict())
    apply_org_settings(sandbox.store, sandbox.settings)
    return sandbox


@pytest.fixture
def sf(sf_box):
    return Salesforce(instance_url=sf_box.url, session_id=sf_box.store.issue_session(), session=sf_box.session())


@pytest.fixture
def http(sf_box):
    session = sf_box.session()
    session.headers["Authorization"] = f"Bearer {sf_box.store.issue_session()}"
    return session


@pytest.fixture
def api_url(sf_box):
    """``api_url("query")``: the URL of a REST resource at simple-salesforce's default version."""
    return lambda path, version="59.0": f"{sf_box.url}/services/data/v{version}/{path}"
