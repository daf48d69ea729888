"""Secrets canary: every credential is a unique canary value; after a sync that goes through error
paths (bad data, auth expiry, connection resets, write-back failures) and an export, no log, state
file, system database, written-back error, CSV export or sandbox snapshot contains any of them."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from sandbox.common.middleware import SandboxMiddleware
from sandbox.common.standins import EVENTMAKER, StandIn
from sandbox.eventmaker.app import EventmakerSettings, create_app
from sandbox.eventmaker.store import EventmakerStore
from sandbox.pytest_plugin import EventmakerSandbox, serving
from sandbox.salesforce import auth

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def canary(name: str) -> str:
    return f"CANARY-{name}-{uuid.uuid4().hex}"


@pytest.fixture
def canaries() -> dict[str, str]:
    return {name: canary(name) for name in ("eventmaker-token", "password", "security-token", "client-secret")}


@pytest.fixture
def canary_eventmaker(canaries):
    """An Eventmaker stand-in that only accepts the canary token."""
    store = EventmakerStore()
    app = SandboxMiddleware(create_app(store, EventmakerSettings(auth_token=canaries["eventmaker-token"])))
    stand_in = StandIn(EVENTMAKER, store, app)
    with serving(stand_in) as url:
        handle = EventmakerSandbox(stand_in, url)
        handle.auth_token = canaries["eventmaker-token"]
        yield handle
        handle.close()


@pytest.fixture
def canary_salesforce(salesforce_sandbox, canaries, monkeypatch):
    """The Salesforce stand-in, accepting only the canary password, security token and client secret."""
    monkeypatch.setattr(auth, "PASSWORD", canaries["password"])
    monkeypatch.setattr(auth, "SECURITY_TOKEN", canaries["security-token"])
    monkeypatch.setattr(auth, "CLIENT_SECRET", canaries["client-secret"])
    salesforce_sandbox.credentials.update(password=canaries["password"], security_token=canaries["security-token"],
                                          client_secret=canaries["client-secret"])
    return salesforce_sandbox


def files_containing(root: Path, secrets: dict[str, str]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="replace")
            found += [f"{path.relative_to(root)}: {name}" for name, value in secrets.items() if value in text]
    return found


def test_no_secret_escapes(canary_eventmaker, canary_salesforce, canaries, harness, tmp_path):
    project = harness.MeltanoProject(canary_eventmaker, canary_salesforce, tmp_path, **{
        "TARGET_SALESFORCE_CAMPAIGN_PASSWORD": canaries["password"],
        "TARGET_SALESFORCE_CAMPAIGN_SECURITY_TOKEN": canaries["security-token"],
        "TARGET_SALESFORCE_CAMPAIGN_CLIENT_SECRET": canaries["client-secret"],
    })
    dataset = harness.clean_dataset(30, events=2)
    dataset["guests"][0]["email"] = "not-an-email"
    dataset["guests"][1]["last_name"] = None
    canary_eventmaker.store.load(dataset)
    canary_eventmaker.inject_fault(r"GET ^/api/v1/events/[^/]+/guests\.json", count=1, kind="reset")
    canary_salesforce.inject_fault(r"GET ^/services/data/v[\d.]+/query", count=1, status=401,
                                   body=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    canary_eventmaker.inject_fault(r"PUT ^/api/v1/events/[^/]+/guests/", count=2, status=500, body="<html>oops</html>",
                                   content_type="text/html")

    assert project.run("run", "sync") == 0, project.output()[-3000:]
    assert harness.pending_faults(canary_eventmaker) == harness.pending_faults(canary_salesforce) == [], (
        "an error path was not exercised: its fault never reached the sandbox")
    assert project.run("run", "export") == 0, project.output()[-3000:]
    assert list((tmp_path / "output").glob("*.csv")), "the export wrote no CSV"
    errors = [harness.sync_entry(g).get("last_error") for g in harness.Outcome.read(project).guests]
    assert any(errors), "no written-back error: the bad participants did not exercise the error path"

    assert files_containing(tmp_path, canaries) == []  # logs, state, system DB, CSV, meltano output
    for snapshot in (canary_eventmaker.snapshot(), canary_salesforce.snapshot(),
                     canary_eventmaker.requests(), canary_salesforce.requests()):
        text = json.dumps(snapshot)
        assert [name for name, value in canaries.items() if value in text] == []
