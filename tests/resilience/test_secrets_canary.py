"""Secrets canary: every credential is a unique canary value; after a sync that goes through error
paths (bad data, auth expiry, connection resets, write-back failures) and an export, no log, state
file, system database, written-back error, CSV export or sandbox snapshot contains any of them. The
same at `--log-level=debug` with retries of both APIs, and after a `meltano run` killed mid-run
(SIGKILL of Meltano, tap and target at once): no file left behind holds a secret, and any run config
left is owner-only in private directories."""

from __future__ import annotations

import json
import os
import signal
import stat
import time
import uuid
from pathlib import Path

import psutil
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


@pytest.fixture
def project(canary_eventmaker, canary_salesforce, canaries, harness, tmp_path):
    """The real `meltano` on the canary stand-ins, every Salesforce secret a canary."""
    return harness.MeltanoProject(canary_eventmaker, canary_salesforce, tmp_path, **{
        "TARGET_SALESFORCE_CAMPAIGN_PASSWORD": canaries["password"],
        "TARGET_SALESFORCE_CAMPAIGN_SECURITY_TOKEN": canaries["security-token"],
        "TARGET_SALESFORCE_CAMPAIGN_CLIENT_SECRET": canaries["client-secret"],
    })


def readable_by_others(path: Path, root: Path) -> bool:
    """Group/other may read `path`: its mode allows it and no directory below `root` stops them (the
    directories above `root`, pytest's private tmp dirs, do not count)."""
    directories = [d for d in path.parents if root in d.parents or d == root]
    return bool(path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH)) and all(
        d.stat().st_mode & (stat.S_IXGRP | stat.S_IXOTH) for d in directories)


def exposed_run_configs(root: Path) -> list[str]:
    return [f"{p.relative_to(root)} {oct(stat.S_IMODE(p.stat().st_mode))}"
            for p in root.rglob("*.config.json") if readable_by_others(p, root)]


def test_no_secret_at_debug_level_with_retries_of_both_apis(project, canary_eventmaker, canary_salesforce, canaries,
                                                            harness, tmp_path):
    canary_eventmaker.store.load(harness.clean_dataset(30, events=2))
    canary_eventmaker.inject_fault(r"PUT ^/api/v1/events/[^/]+/guests/", count=2, kind="reset")
    canary_eventmaker.inject_fault(r"GET ^/api/v1/events/[^/]+/guests\.json", count=1, status=503)
    canary_salesforce.inject_fault(r"POST ^/services/data/v[\d.]+/composite$", count=2, status=503,
                                   body=[{"message": "Server unavailable", "errorCode": "SERVER_UNAVAILABLE"}])
    assert project.run("--log-level=debug", "run", "sync") == 0, project.output()[-3000:]
    assert harness.pending_faults(canary_eventmaker) == harness.pending_faults(canary_salesforce) == []
    logs = "\n".join(p.read_text(errors="replace") for p in tmp_path.rglob("*.log"))
    assert "Retrying" in logs and "DEBUG" in logs.upper(), "the debug-level retry lines were not logged"
    assert files_containing(tmp_path, canaries) == []


def kill(run, who: str) -> None:
    """SIGKILL the whole run (its process group), Meltano alone, or the target alone."""
    if who == "everything":
        os.killpg(run.pid, signal.SIGKILL)
        return
    meltano = psutil.Process(run.pid)
    victim = meltano if who == "meltano" else next(
        p for p in meltano.children(recursive=True) if "target-salesforce-campaign" in " ".join(p.cmdline()))
    victim.send_signal(signal.SIGKILL)


@pytest.mark.parametrize("who", ["everything", "meltano", "target"])
def test_a_killed_run_leaves_no_secret_behind(project, canary_eventmaker, canaries, harness, tmp_path, who):
    canary_eventmaker.store.load(harness.clean_dataset(80, events=2))
    canary_eventmaker.set_latency(30)
    run = project.start("run", "sync")
    deadline = time.monotonic() + 90
    while len(harness.write_requests(canary_eventmaker, harness.EVENTMAKER_WRITE)) < 5:
        assert run.poll() is None and time.monotonic() < deadline, "the run never reached its write-back"
        time.sleep(0.02)
    kill(run, who)
    returncode = run.wait(timeout=60)
    assert returncode != 0, "the run ended before the kill: nothing was killed"
    canary_eventmaker.set_latency(0)
    time.sleep(1)  # plugins orphaned by Meltano's death see end of input and exit
    if who == "everything":
        assert list(tmp_path.rglob("*.config.json")), "Meltano left no run config: the crash case was not reached"
    assert files_containing(tmp_path, canaries) == []
    assert exposed_run_configs(tmp_path) == []


def test_no_secret_escapes(project, canary_eventmaker, canary_salesforce, canaries, harness, tmp_path):
    dataset = harness.clean_dataset(30, events=2)
    dataset["guests"][0]["email"] = "not-an-email"
    dataset["guests"][1]["last_name"] = None
    canary_eventmaker.store.load(dataset)
    canary_eventmaker.inject_fault(r"GET ^/api/v1/events/[^/]+/guests\.json", count=1, kind="reset")
    canary_salesforce.inject_fault(r"* ^/services/data/v[\d.]+/(query|composite)", count=1, status=401,
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
