"""End-to-end fixtures: the real `meltano` CLI of this project against a real `sandbox up`.

Each test gets its own Meltano system database, state backend, run directory, log directory and
CSV output (so it neither sees nor touches the user's demo), while reusing the plugin virtualenvs
that `meltano install` put in .meltano/. The sandbox daemon runs on free ports in a temp directory,
once per module, and each test reseeds it.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from sandbox.meltano_project import PLUGIN_DIRS, StandIns, WorkDir, isolated_env

PROJECT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MELTANO = str(BIN / "meltano")
SANDBOX = str(BIN / "sandbox")
MAIN_STATE_ID = "sandbox:tap-eventmaker-to-target-salesforce-campaign"
OUTCOME = re.compile(r"\b(created|updated|unchanged|failed|skipped|left for next run) (\d+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Sandbox:
    directory: Path
    eventmaker_url: str
    salesforce_url: str
    env: dict
    seed_duplicates: dict | None = None

    @property
    def ca_bundle(self) -> str:
        return str(self.directory / "ca.pem")

    def cli(self, *args: str) -> str:
        result = subprocess.run([SANDBOX, *args], env=self.env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr + result.stdout
        return result.stdout

    def salesforce(self) -> dict:
        """All Salesforce records (control path; counts no API usage)."""
        return requests.get(f"{self.salesforce_url}/__sandbox/snapshot", verify=self.ca_bundle, timeout=30).json()

    def guests(self) -> list[dict]:
        snapshot = requests.get(f"{self.eventmaker_url}/__sandbox/snapshot", timeout=30).json()
        return snapshot["guests"]

    def update_guest(self, guest: dict, changes: dict) -> None:
        url = f"{self.eventmaker_url}/api/v1/events/{guest['event_id']}/guests/{guest['_id']}.json"
        response = requests.put(url, params={"auth_token": "sandbox-token"}, json={"guest": changes}, timeout=30)
        assert response.status_code in (200, 204), response.text

    def duplicates(self) -> dict:
        """Emails held by several live Contacts (or unconverted Leads), and people in the campaign twice."""
        records = self.salesforce()["records"]
        found = {}
        for sobject in ("Contact", "Lead"):
            live = [r for r in records[sobject] if not r.get("IsDeleted") and not r.get("IsConverted")]
            emails = Counter(r["Email"].lower() for r in live if r.get("Email"))
            found[sobject] = {email: n for email, n in emails.items() if n > 1}
        people = Counter((m["CampaignId"], m.get("ContactId") or m.get("LeadId")) for m in records["CampaignMember"])
        found["CampaignMember"] = {key: n for key, n in people.items() if n > 1}
        return found

    def assert_no_duplicates(self) -> None:
        """Invariant 1: nothing was duplicated beyond the seed's own duplicates (its ambiguous cases)."""
        assert self.duplicates() == self.seed_duplicates

    def set_latency(self, ms: float) -> None:
        requests.post(f"{self.eventmaker_url}/__sandbox/latency", json={"ms": ms}, timeout=30).raise_for_status()

    def configure(self, **settings: bool) -> None:
        """The Eventmaker stand-in's live config (e.g. ignore_refs_writes)."""
        requests.post(f"{self.eventmaker_url}/__sandbox/config", json=settings, timeout=30).raise_for_status()


@pytest.fixture(scope="session")
def installed_plugins() -> Path:
    """The project's plugins installed once by Meltano (what `make setup` does)."""
    if not all((PROJECT / ".meltano" / name).is_dir() for name in PLUGIN_DIRS):
        subprocess.run([MELTANO, "install"], cwd=PROJECT, check=True, capture_output=True, timeout=900)
    return PROJECT / ".meltano"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Sandbox:
    directory = tmp_path_factory.mktemp("sandbox")
    ports = {"SANDBOX_EVENTMAKER_PORT": str(free_port()), "SANDBOX_SALESFORCE_PORT": str(free_port())}
    env = {**os.environ, "SANDBOX_DIR": str(directory), **ports}
    running = Sandbox(directory, f"http://127.0.0.1:{ports['SANDBOX_EVENTMAKER_PORT']}",
                      f"https://127.0.0.1:{ports['SANDBOX_SALESFORCE_PORT']}", env)
    running.cli("up")
    yield running
    running.cli("down")


@dataclass
class Project:
    """This Meltano project, isolated: its own system DB, state, run dir, logs and output."""

    env: dict
    state_dir: Path
    output_dir: Path
    database: Path

    def meltano(self, *args: str, timeout: int = 180, env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([MELTANO, *args], cwd=PROJECT, env={**self.env, **(env or {})},
                              capture_output=True, text=True, timeout=timeout)

    def start(self, *args: str) -> subprocess.Popen:
        """`meltano <args>` in the background."""
        return subprocess.Popen([MELTANO, *args], cwd=PROJECT, env=self.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)

    def run_states(self, state_id: str) -> list[str]:
        """The `state` column of this state id's rows in the system database, oldest first."""
        if not self.database.exists():
            return []
        with sqlite3.connect(self.database) as connection:
            try:
                rows = connection.execute("SELECT state FROM runs WHERE job_name = ? ORDER BY id", (state_id,))
                return [state for (state,) in rows]
            except sqlite3.OperationalError:  # tables not created yet
                return []

    def monitor(self, command: str, *args: str, env: dict | None = None, ok: bool = True) -> str:
        """`meltano invoke sync-monitor:<command> <args>`; its stdout (the result)."""
        result = self.meltano("invoke", f"sync-monitor:{command}", *args, env=env)
        if ok:
            assert result.returncode == 0, result.stdout + result.stderr[-3000:]
        return result.stdout

    def monitor_json(self, command: str, *args: str) -> list[dict]:
        return json.loads(self.monitor(command, *args, "--format", "json"))

    @staticmethod
    def outcomes(output: str) -> dict[str, int]:
        """The result counts a sync / resend / dry-run command printed."""
        result = next(line for line in output.splitlines() if line.strip().startswith("result:"))
        return {name: int(count) for name, count in OUTCOME.findall(result)}

    def main_state(self) -> bytes | None:
        path = self.state_dir / MAIN_STATE_ID / "state.json"
        return path.read_bytes() if path.exists() else None


SYNC_HOMES = ("third_party_applications_refs", "guest_metadata")
TAP_HOME_SETTING = "sync_state_field"  # the tap's setting naming the same home (docs/contracts.md §1)
EVERY_HOME = "E2E_EVERY_HOME"  # set (make test-long): every e2e test runs in both homes


def tap_reads_home_setting() -> bool:
    from tap_eventmaker.tap import TapEventmaker

    return TAP_HOME_SETTING in TapEventmaker.config_jsonschema["properties"]


def pytest_generate_tests(metafunc):
    """The tests marked `both_homes` (sync, resend, export, import) run once per home of the sync state
    (writeback_field, contracts §1), the others in the default home; `E2E_EVERY_HOME=1` runs all in both."""
    if "sync_home" in metafunc.fixturenames:
        every = metafunc.definition.get_closest_marker("both_homes") or os.environ.get(EVERY_HOME)
        metafunc.parametrize("sync_home", SYNC_HOMES if every else SYNC_HOMES[:1], indirect=True)


@pytest.fixture
def sync_home(request, sandbox) -> dict:
    """The environment of one home. For guest_metadata the Eventmaker stand-in ignores refs writes,
    as the accounts that need that home do."""
    if request.param == "third_party_applications_refs":
        yield {}
        return
    if not tap_reads_home_setting():
        pytest.skip(f"tap-eventmaker has no {TAP_HOME_SETTING} setting yet: it cannot read the guest_metadata home")
    sandbox.configure(ignore_refs_writes=True)
    yield {"TARGET_SALESFORCE_CAMPAIGN_WRITEBACK_FIELD": request.param,
           f"TAP_EVENTMAKER_{TAP_HOME_SETTING.upper()}": request.param}
    sandbox.configure(ignore_refs_writes=False)


@pytest.fixture
def project(tmp_path, sandbox, installed_plugins, sync_home) -> Project:
    stand_ins = StandIns(sandbox.eventmaker_url, sandbox.salesforce_url, sandbox.ca_bundle)
    files = WorkDir(tmp_path)
    env = {**isolated_env(PROJECT, tmp_path, stand_ins), **sync_home}
    return Project(env, files.state_dir, files.output_dir, files.database)


@pytest.fixture
def seeded(sandbox) -> Sandbox:
    """30 participants in 2 events, with the seed's special cases (bad emails, imported ids, ...)."""
    sandbox.set_latency(0)
    sandbox.cli("seed", "--participants", "30")
    sandbox.seed_duplicates = sandbox.duplicates()
    return sandbox
