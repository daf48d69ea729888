"""Fixtures: a private PostgreSQL (Meltano's system database), the sandbox stand-ins, the resource.

The stand-ins are the sandbox package's own pytest fixtures (installed editable in this venv). The
code location runs the project's real `meltano` (main venv) against them; the settings pointing every
plugin at the stand-ins come from `sandbox.meltano_project`, computed by the main venv's Python
(Meltano's setting -> environment variable rule lives there, not in Dagster's venv).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from dagster import DagsterInstance, instance_for_test

from eventmaker_sync_dagster.resource import MeltanoProject

sys.path.insert(0, str(Path(__file__).resolve().parent))
from private_postgres import free_port, private_postgres, psql  # noqa: E402  (also used by benchmarks/scale_out.py)
from sandbox.seed import generate

PROJECT = Path(__file__).resolve().parents[3]
MAIN_PYTHON = PROJECT / ".venv" / "bin" / "python"
DAGSTER = Path(sys.executable).parent / "dagster"
SHARED_PEOPLE = 10  # people registered in both events (beyond the seed's own such cases)


@pytest.fixture(scope="session")
def postgres_uri() -> str:
    """A PostgreSQL cluster of its own for the session (Meltano's system database, as in production)."""
    try:
        with private_postgres() as uri:
            yield uri
    except RuntimeError as error:  # not installed
        pytest.fail(str(error))


def stand_in_settings(eventmaker_url: str, salesforce_url: str, ca_bundle: str, output_dir: Path) -> dict[str, str]:
    """Every plugin of meltano.yml pointed at the stand-ins (sandbox.meltano_project.plugin_settings)."""
    code = ("import json, sys; from pathlib import Path; "
            "from sandbox.meltano_project import StandIns, plugin_settings; "
            "print(json.dumps(plugin_settings(StandIns(*sys.argv[1:4]), Path(sys.argv[4]))))")
    result = subprocess.run([str(MAIN_PYTHON), "-c", code, eventmaker_url, salesforce_url, ca_bundle, str(output_dir)],
                            check=True, capture_output=True, text=True, timeout=60)
    return json.loads(result.stdout)


def share_people(dataset, count: int) -> list[str]:
    """Register `count` plain participants of the first event in the second one too; their emails."""
    special = {guest_id for ids in dataset.cases.values() for guest_id in ids}
    first, second = (event["_id"] for event in dataset.eventmaker["events"][:2])
    plain = [guest for guest in dataset.eventmaker["guests"] if guest["_id"] not in special]
    sources = [guest for guest in plain if guest["event_id"] == first][:count]
    copies = [guest for guest in plain if guest["event_id"] == second][:count]
    assert len(sources) == len(copies) == count, "not enough plain participants to share"
    for source, copy in zip(sources, copies):
        copy.update({name: source[name] for name in ("email", "first_name", "last_name", "company_name")})
    return [guest["email"] for guest in sources]


@dataclass
class StandIns:
    eventmaker: object
    salesforce: object
    dataset: object
    shared_emails: list[str]

    @property
    def event_ids(self) -> list[str]:
        return [event["_id"] for event in self.dataset.eventmaker["events"]]

    def people(self) -> tuple[Counter, Counter]:
        """(live Contacts + unconverted Leads per email, CampaignMembers per (campaign, person's email))."""
        records = self.salesforce.snapshot()["records"]
        people = [record for sobject in ("Contact", "Lead") for record in records[sobject]
                  if record.get("Email") and not record.get("IsDeleted")]
        email_of = {record["Id"]: record["Email"].lower() for record in people}
        live = Counter(record["Email"].lower() for record in people if not record.get("IsConverted"))
        members = Counter((member["CampaignId"], email_of.get(member.get("ContactId") or member.get("LeadId")))
                          for member in records["CampaignMember"])
        return live, members


@pytest.fixture
def stand_ins(eventmaker_sandbox, salesforce_sandbox) -> StandIns:
    """80 participants in 2 events, the seed's special cases, and SHARED_PEOPLE people in both events."""
    dataset = generate(participants=80, events=2, seed=13)
    shared = share_people(dataset, SHARED_PEOPLE)
    salesforce_sandbox.load(dataset.salesforce)
    eventmaker_sandbox.load(dataset.eventmaker)
    return StandIns(eventmaker_sandbox, salesforce_sandbox, dataset, shared)


@pytest.fixture
def meltano_config(tmp_path, postgres_uri, stand_ins) -> dict:
    """The resource's config as deployed: shared Postgres system DB and state backend, per-run system dirs."""
    settings = stand_in_settings(stand_ins.eventmaker.url, stand_ins.salesforce.url, stand_ins.salesforce.ca_bundle,
                                 tmp_path / "output")
    # A database of its own per test: earlier tests' runs (same state ids) must not be seen.
    database = f"meltano_{tmp_path.name.lower().replace('-', '_')}_{free_port()}"
    psql(postgres_uri, f"CREATE DATABASE {database}")
    return {
        "project_root": str(PROJECT),
        "environment": "sandbox",
        "database_uri": postgres_uri.rsplit("/", 1)[0] + f"/{database}",
        "state_backend_uri": f"file://{tmp_path / 'state'}",
        "runs_dir": str(tmp_path / "runs"),
        "env": {**settings, "XDG_STATE_HOME": str(tmp_path / "xdg-state")},
    }


@pytest.fixture
def meltano(meltano_config) -> MeltanoProject:
    return MeltanoProject(**meltano_config)


@pytest.fixture
def launch(instance, meltano_config):
    """Start `dagster asset materialize` of a partition in its own process (as a run launcher would)."""
    def start(event_id: str) -> subprocess.Popen:
        config = {"resources": {"meltano": {"config": meltano_config}}}
        command = [str(DAGSTER), "asset", "materialize", "-m", "eventmaker_sync_dagster.definitions",
                   "--select", "salesforce_campaign_members", "--partition", event_id, "--config-json", json.dumps(config)]
        return subprocess.Popen(command, env={**os.environ, "DAGSTER_HOME": instance.root_directory},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return start


@dataclass
class RunHistory:
    """Meltano's `runs` table in the test's PostgreSQL database."""

    database_uri: str

    def states(self, state_id: str) -> list[str]:
        """The `state` of each run of `state_id`, oldest first ([] before Meltano created its tables)."""
        if psql(self.database_uri, "SELECT to_regclass('runs') IS NULL") == [["t"]]:
            return []
        return [state for (state,) in psql(self.database_uri, f"SELECT state FROM runs WHERE job_name = '{state_id}' ORDER BY id")]

    def window(self, state_id: str) -> tuple[str, str]:
        """(started_at, last heartbeat) of the one run of `state_id`, as ISO text."""
        (row,) = psql(self.database_uri, f"SELECT started_at, last_heartbeat_at FROM runs WHERE job_name = '{state_id}'")
        return row[0], row[1]


@pytest.fixture
def run_history(meltano) -> RunHistory:
    return RunHistory(meltano.database_uri)


@pytest.fixture
def instance(tmp_path) -> DagsterInstance:
    """A persistent Dagster instance (DAGSTER_HOME) that launched processes share."""
    home = tmp_path / "dagster-home"
    home.mkdir()
    with instance_for_test(temp_dir=str(home)) as test_instance:
        yield test_instance
