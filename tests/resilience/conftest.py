"""Harness for the resilience suites: runs tap-eventmaker → target-salesforce-campaign in-process
against the sandbox fixtures, injects faults mid-run, and checks the project's invariants.

The suites read top-down from here: `Pipeline` (config, seeding, runs, state carried between runs),
`FaultTrigger` (a fault that lands after the k-th matching request), `Outcome` (what Eventmaker and
Salesforce hold afterwards) and the invariant checks every fault test ends with.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import pytest
import requests

from sandbox.common.faults import Fault
from sandbox.meltano_project import StandIns, WorkDir, isolated_env

EVENTMAKER_WRITE = re.compile(r"^PUT /api/v1/events/[^/]+/guests/")
SYNC_STATE_KEY = "salesforce"


# --------------------------------------------------------------------------- test data


def object_id(prefix: int, index: int) -> str:
    """A deterministic 24-hex Eventmaker id."""
    return f"{prefix:08x}{index:016x}"


def category_id(event_id: str) -> str:
    """The one guest category of an event in these datasets."""
    return "ca7e" + event_id[4:]


def events_payload(event_ids: list[str]) -> dict:
    """Events with one guest category each, in load-payload shape."""
    return {
        "events": [{"_id": event_id, "title": f"Resilience event {n}"} for n, event_id in enumerate(event_ids)],
        "guest_categories": [{"_id": category_id(e), "event_id": e, "name": "Attendee"} for e in event_ids],
    }


def clean_guest(event_id: str, index: int, **overrides) -> dict:
    """A valid participant in API shape; `overrides` replace fields (None values included)."""
    guest = {
        "_id": event_id[:12] + f"{index:012x}",
        "event_id": event_id,
        "guest_category_id": category_id(event_id),
        "email": f"guest{index}.{event_id[-4:]}@example.com",
        "first_name": f"First{index}",
        "last_name": f"Last{index}",
        "company_name": f"Company {index}",
        "status": "registered",
        "showed_up": False,
    }
    guest.update(overrides)
    return guest


def clean_dataset(participants: int, events: int = 2, shared_every: int = 0) -> dict:
    """An Eventmaker load payload of valid participants spread over `events` events (participant i in
    event i % events). With `shared_every` n, participant i with i % n == 1 is participant i - 1's
    person (same email and name) in the next event: one person, two events."""
    event_ids = [object_id(0xE7E7, number) for number in range(events)]
    guests = [clean_guest(event_ids[i % events], i) for i in range(participants)]
    for i, guest in enumerate(guests):
        if shared_every and i % shared_every == 1:
            guest.update({k: guests[i - 1][k] for k in ("email", "first_name", "last_name", "company_name")})
    return {**events_payload(event_ids), "guests": guests}


# --------------------------------------------------------------------------- running


@dataclass
class RunResult:
    """One in-process tap → target run: the target's STATE lines and what each side raised."""

    states: list[dict]
    tap_error: BaseException | None
    target_error: BaseException | None
    logs: str

    @property
    def ok(self) -> bool:
        return self.tap_error is None and self.target_error is None


def _run_quietly(func) -> tuple[str, str, BaseException | None]:
    """Call `func` with stdout/stderr captured; return (stdout, stderr, exception or None)."""
    out, err = io.StringIO(), io.StringIO()
    error = None
    with redirect_stdout(out), redirect_stderr(err):
        try:
            func()
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - a failed run is a result here
            error = exc
    return out.getvalue(), err.getvalue(), error


@dataclass(frozen=True)
class SalesforceCall:
    """One REST API request as the target sent it: method, URL path, JSON body."""

    method: str
    path: str
    body: object

    @classmethod
    def of(cls, request: requests.PreparedRequest) -> "SalesforceCall":
        raw = request.body.decode() if isinstance(request.body, bytes) else request.body
        return cls(request.method, urlsplit(request.url).path, json.loads(raw) if raw else None)

    @property
    def resource(self) -> str:
        """The path under the API version: `composite`, `composite/sobjects/Lead/Eventmaker_Key__c`, ..."""
        return re.sub(r"^/services/data/v[\d.]+/", "", self.path)

    @property
    def subrequests(self) -> list[tuple[str, str]]:
        """(method, url) of a Composite call's subrequests ([] for any other call)."""
        if self.resource != "composite" or not isinstance(self.body, dict):
            return []
        return [(sub.get("method", "GET").upper(), sub.get("url", "")) for sub in self.body.get("compositeRequest", [])]

    @property
    def record_types(self) -> set[str]:
        """The sObject types of a Collections call's records."""
        records = self.body.get("records", []) if isinstance(self.body, dict) else []
        return {r.get("attributes", {}).get("type") for r in records if isinstance(r, dict)}

    @property
    def writes(self) -> bool:
        """A write: any call but a GET, a query, or a Composite call whose subrequests all are GETs
        (the start-of-run reads, the lookups); Collections creates, updates, upserts, deletes are writes."""
        if self.method == "GET" or self.resource in ("query", "queryAll"):
            return False
        if self.resource == "composite":
            return not self.subrequests or any(method != "GET" for method, _ in self.subrequests)
        return True

    def __str__(self) -> str:
        subs = ", ".join(f"{m} {u}" for m, u in self.subrequests)
        return f"{self.method} {self.resource}" + (f" [{subs}]" if subs else "")


def calls_matching(calls: list[SalesforceCall], match: str) -> list[SalesforceCall]:
    """The calls a sandbox fault `match` ("<METHOD or *> <path regex>") applies to, in order."""
    spec = Fault.from_spec({"match": match})
    return [call for call in calls if spec.matches(call.method, call.path)]


class Pipeline:
    """tap-eventmaker → target-salesforce-campaign on the two sandbox fixtures, state kept between runs."""

    def __init__(self, eventmaker, salesforce, caplog, **target_settings) -> None:
        self.eventmaker = eventmaker
        self.salesforce = salesforce
        self.caplog = caplog
        self.state: dict = {}
        self.target_settings = {"batch_size": 10, **target_settings}
        # Retries keep their number; only the waits shrink (the default first wait is 2 s, doubling).
        self.tap_settings: dict = {"page_size": 10, "retry_backoff_seconds": 0.2}
        self.runs: list[RunResult] = []
        # guest `_id` -> fields as the real API could serve them but the sandbox refuses to store
        # (an unknown or missing status): applied to the tap's records before the target reads them.
        self.served_overrides: dict[str, dict] = {}
        self.salesforce_calls: list[SalesforceCall] = []  # every run's, in order (cleared by `assert_converged`)

    @property
    def tap_config(self) -> dict:
        return {
            "api_url": self.eventmaker.url,
            "auth_token": self.eventmaker.auth_token,
            "start_date": "2000-01-01T00:00:00Z",
            **self.tap_settings,
        }

    @property
    def target_config(self) -> dict:
        credentials = self.salesforce.credentials
        return {
            **{key: credentials[key] for key in
               ("login_url", "username", "password", "security_token", "client_id", "client_secret")
               if key in credentials},
            "ca_bundle": str(self.salesforce.ca_bundle),
            **({} if self.campaign_per_event else {"campaign_id": self.salesforce.campaign_id}),
            "eventmaker_api_url": self.eventmaker.url,
            "eventmaker_auth_token": self.eventmaker.auth_token,
            **self.target_settings,
        }

    @property
    def campaign_per_event(self) -> bool:
        """Each event in a campaign of its own (mapped or found by campaign_event_field), not one `campaign_id`."""
        return bool(self.target_settings.get("campaign_mapping") or self.target_settings.get("campaign_event_field"))

    def load(self, eventmaker_payload: dict, salesforce_payload: dict | None = None) -> None:
        self.eventmaker.store.load(eventmaker_payload)
        if salesforce_payload:
            self.salesforce.store.load(salesforce_payload)

    def run(self) -> RunResult:
        """Tap to a buffer, then the buffer through the target; the last STATE line becomes `self.state`."""
        from tap_eventmaker.tap import TapEventmaker
        from target_salesforce_campaign.target import TargetSalesforceCampaign

        self.caplog.clear()
        messages = io.StringIO()
        tap_out, tap_err, tap_error = _run_quietly(
            lambda: TapEventmaker(config=self.tap_config, state=self.state or None, setup_mapper=True).sync_all()
        )
        messages.writelines(self._as_served(line) for line in tap_out.splitlines(keepends=True))
        messages.seek(0)

        def load() -> None:
            target = TargetSalesforceCampaign(config=self.target_config, setup_mapper=True)
            target.process_lines(messages)
            target.process_endofpipe()

        with self._recording_salesforce_calls():
            target_out, target_err, target_error = _run_quietly(load)
        states = [json.loads(line) for line in target_out.splitlines() if line.strip()]
        if states:
            self.state = states[-1]
        result = RunResult(states, tap_error, target_error, "\n".join([tap_err, target_err, self.caplog.text]))
        self.runs.append(result)
        return result

    def _recording_salesforce_calls(self):
        """Every REST API request the target sends to the Salesforce sandbox, body included, into `salesforce_calls`."""
        send, api = requests.Session.send, f"{self.salesforce.url}/services/data/"

        def recording_send(session, request, **kwargs):
            if request.url.startswith(api):
                self.salesforce_calls.append(SalesforceCall.of(request))
            return send(session, request, **kwargs)

        return mock.patch.object(requests.Session, "send", recording_send)

    def _as_served(self, line: str) -> str:
        """A Singer line with `served_overrides` applied to its guest record, if any."""
        if not self.served_overrides or '"RECORD"' not in line:
            return line
        message = json.loads(line)
        overrides = self.served_overrides.get(message.get("record", {}).get("_id"))
        if message.get("stream") != "guests" or not overrides:
            return line
        message["record"].update(overrides)
        return json.dumps(message) + "\n"

    def run_until_ok(self, attempts: int = 3) -> RunResult:
        """Re-run after a fault: the faults are cleared, so a healthy pipeline succeeds at once."""
        self.eventmaker.clear_faults()
        self.salesforce.clear_faults()
        result = self.run()
        assert result.ok, f"re-run failed: tap={result.tap_error!r} target={result.target_error!r}\n{result.logs[-3000:]}"
        return result


# --------------------------------------------------------------------------- faults


class FaultTrigger:
    """Injects a fault that lands after the next `after` requests matching `match` (a fault mid-run).

    `match` is the sandbox's own format, `"<METHOD or *> <path regex>"` (contracts §3). The sandbox
    serves queued faults in order, so a pass-through fault (a 0 ms delay) for the first `after`
    matching requests, queued before the real one, places it exactly: no timing involved.
    """

    def __init__(self, sandbox, match: str, after: int, **fault) -> None:
        self.sandbox, self.match, self.after, self.fault = sandbox, match, after, fault
        spec = Fault.from_spec({"match": match})
        self.described_match = f"{spec.method} {spec.path_pattern.pattern}"

    def __enter__(self) -> "FaultTrigger":
        if self.after:
            self.sandbox.inject_fault(self.match, count=self.after, kind="delay", delay_ms=0)
        self.sandbox.inject_fault(self.match, **self.fault)
        return self

    def __exit__(self, *exc) -> None:
        """Faults left over are cleared by the next `Pipeline.run_until_ok`."""

    def landed(self) -> int:
        """How many requests the fault has answered so far (the sandbox's queue holds what is left)."""
        left = sum(f["remaining"] for f in pending_faults(self.sandbox) if f["match"] == self.described_match)
        served = self.after + self.fault.get("count", 1) - left
        return max(served - self.after, 0)


def pending_faults(sandbox) -> list[dict]:
    """Faults not yet (fully) served: `[{match, remaining, ...}]` from the control path."""
    response = requests.get(f"{sandbox.url}/__sandbox/faults", verify=getattr(sandbox, "ca_bundle", True), timeout=30)
    response.raise_for_status()
    return response.json()


# --------------------------------------------------------------------------- outcome


def _snapshot(sandbox) -> dict:
    response = requests.get(f"{sandbox.url}/__sandbox/snapshot", verify=getattr(sandbox, "ca_bundle", True), timeout=30)
    response.raise_for_status()
    return response.json()


def sync_entry(guest: dict) -> dict:
    """The participant's Salesforce sync state (contracts §1), {} when absent."""
    refs = guest.get("third_party_applications_refs") or {}
    return refs.get(SYNC_STATE_KEY) or {}


@dataclass
class Outcome:
    """What both systems hold after a run."""

    guests: list[dict]
    records: dict[str, list[dict]] = field(default_factory=dict)
    campaign_id: str = ""  # every event's campaign; "" when each event has its own
    campaign_mapping: dict[str, str] = field(default_factory=dict)
    campaign_event_field: str = ""

    @classmethod
    def read(cls, pipeline: Pipeline) -> "Outcome":
        eventmaker = _snapshot(pipeline.eventmaker)
        salesforce = _snapshot(pipeline.salesforce)
        settings = getattr(pipeline, "target_settings", {})
        per_event = getattr(pipeline, "campaign_per_event", False)
        return cls(
            guests=list(eventmaker["guests"]),
            # As SOQL sees it: deleted records (and their cascaded CampaignMembers) sit in the recycle bin.
            records={name: [r for r in rows if not r.get("IsDeleted")] for name, rows in salesforce["records"].items()},
            campaign_id="" if per_event else pipeline.salesforce.campaign_id,
            campaign_mapping=dict(settings.get("campaign_mapping") or {}),
            campaign_event_field=settings.get("campaign_event_field") or "",
        )

    def guest(self, guest_id: str) -> dict:
        return next(g for g in self.guests if g["_id"] == guest_id)

    def people_with_email(self, email: str) -> list[dict]:
        """Contacts and unconverted Leads whose Email equals `email` (case-insensitively)."""
        wanted = email.strip().lower()
        contacts = [r for r in self.records.get("Contact", []) if (r.get("Email") or "").lower() == wanted]
        leads = [r for r in self.records.get("Lead", [])
                 if (r.get("Email") or "").lower() == wanted and not r.get("IsConverted")]
        return contacts + leads

    def campaign_of(self, event_id: str) -> str:
        """The event's campaign: the one `campaign_id`, its mapping, or the one Campaign carrying its `_id`."""
        if self.campaign_id:
            return self.campaign_id
        if event_id in self.campaign_mapping:
            return self.campaign_mapping[event_id]
        found = [c["Id"] for c in self.records.get("Campaign", []) if c.get(self.campaign_event_field) == event_id]
        assert len(found) == 1, f"event {event_id}: {len(found)} Campaigns carry it in {self.campaign_event_field}"
        return found[0]

    def members(self) -> list[dict]:
        """CampaignMembers of the runs' campaigns (all of them when each event has its own)."""
        return [m for m in self.records.get("CampaignMember", [])
                if not self.campaign_id or m.get("CampaignId") == self.campaign_id]

    def members_of(self, person_id: str, campaign_id: str | None = None) -> list[dict]:
        return [m for m in self.members() if person_id in (m.get("ContactId"), m.get("LeadId"))
                and (campaign_id is None or m.get("CampaignId") == campaign_id)]

    def record(self, sobject: str, record_id: str) -> dict | None:
        return next((r for r in self.records.get(sobject, []) if r.get("Id") == record_id), None)


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def guest_bookmarks(state: dict) -> dict[str, str]:
    """`event_id` → replication_key_value of the guests stream's partitions in a target STATE."""
    partitions = state.get("bookmarks", {}).get("guests", {}).get("partitions", [])
    return {p["context"]["event_id"]: p["replication_key_value"]
            for p in partitions if p.get("replication_key_value")}


def is_accounted(guest: dict) -> bool:
    entry = sync_entry(guest)
    return bool(entry.get("last_synced_at") or entry.get("last_error"))


# --------------------------------------------------------------------------- invariants


def assert_bookmarks_never_pass_unaccounted(state: dict, outcome: Outcome) -> None:
    """Invariant 3: a participant not yet synced nor errored is newer than its event's bookmark."""
    bookmarks = guest_bookmarks(state)
    for guest in outcome.guests:
        bookmark = bookmarks.get(guest["event_id"])
        if bookmark and not is_accounted(guest) and not guest.get("deleted_at"):
            assert _parse_time(guest["updated_at"]) > _parse_time(bookmark), (
                f"bookmark {bookmark} of event {guest['event_id']} passed unaccounted participant {guest['_id']}"
            )


def assert_person_and_member_once(outcome: Outcome, guest: dict) -> None:
    """Invariant 1 for one synced participant: one Contact or Lead per uniqueness key (Email), one
    CampaignMember of it in the participant's event's campaign, IDs written back."""
    entry = sync_entry(guest)
    people = outcome.people_with_email(guest["email"])
    assert len(people) == 1, f"{guest['email']}: {len(people)} Contacts/Leads {[p['Id'] for p in people]}"
    person = people[0]
    assert person["Id"] in (entry.get("contact_id"), entry.get("lead_id")), (guest["_id"], entry, person["Id"])
    campaign = outcome.campaign_of(guest["event_id"])
    members = outcome.members_of(person["Id"], campaign)
    assert len(members) == 1, f"{guest['email']}: {len(members)} CampaignMembers in campaign {campaign}"
    assert entry.get("campaign_member_id") == members[0]["Id"], (guest["_id"], entry)


def assert_no_duplicate_members(outcome: Outcome) -> None:
    """At most one CampaignMember per person per campaign."""
    owners = Counter((m.get("CampaignId"), m.get("ContactId") or m.get("LeadId")) for m in outcome.members())
    duplicated = {owner: n for owner, n in owners.items() if n > 1}
    assert not duplicated, f"duplicate CampaignMembers (campaign, person): {duplicated}"


def assert_all_synced(pipeline: Pipeline, guest_ids: list[str] | None = None) -> Outcome:
    """After a good run: every (chosen) participant synced without error, exactly once in Salesforce,
    and the main bookmark never passes one that is not accounted for."""
    outcome = Outcome.read(pipeline)
    chosen = [g for g in outcome.guests if guest_ids is None or g["_id"] in guest_ids]
    assert chosen, "no participants to check"
    for guest in chosen:
        entry = sync_entry(guest)
        assert entry.get("last_synced_at"), f"participant {guest['_id']} lost: {entry}"
        assert entry.get("last_error") is None, f"participant {guest['_id']} error: {entry['last_error']}"
        assert_person_and_member_once(outcome, guest)
    assert_no_duplicate_members(outcome)
    assert_bookmarks_never_pass_unaccounted(pipeline.state, outcome)
    assert set(guest_bookmarks(pipeline.state)) >= {g["event_id"] for g in chosen}, pipeline.state
    return outcome


def write_requests(sandbox, pattern: re.Pattern) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in sandbox.requests() if pattern.search(f"{r['method']} {r['path']}")]


def salesforce_writes(pipeline: Pipeline) -> list[str]:
    """The Salesforce writes the target sent (by Composite subrequests and Collections methods)."""
    return [str(call) for call in pipeline.salesforce_calls if call.writes]


def assert_converged(pipeline: Pipeline) -> None:
    """Invariant 5: one more run with nothing changed makes no Salesforce write and no write-back;
    the Salesforce records are exactly as before (so no write went unnoticed either)."""
    pipeline.eventmaker.clear_requests()
    pipeline.salesforce_calls.clear()
    before = _snapshot(pipeline.salesforce)["records"]
    result = pipeline.run()
    assert result.ok, (result.tap_error, result.target_error)
    assert salesforce_writes(pipeline) == []
    assert write_requests(pipeline.eventmaker, EVENTMAKER_WRITE) == []
    assert _snapshot(pipeline.salesforce)["records"] == before, "the converged run changed Salesforce records"


# --------------------------------------------------------------------------- the real `meltano run`

PROJECT = Path(__file__).resolve().parents[2]
MAIN_STATE_ID = "sandbox:tap-eventmaker-to-target-salesforce-campaign"


class MeltanoProject:
    """The project's own `meltano` on the sandbox fixtures, isolated under `work` (its own system
    directory, database, state backend, logs and export directory: `sandbox.meltano_project`)."""

    def __init__(self, eventmaker, salesforce, work: Path, **settings: str) -> None:
        self.eventmaker, self.salesforce, self.work = eventmaker, salesforce, work
        self.stand_ins = StandIns(eventmaker.url, salesforce.url, salesforce.ca_bundle,
                                  eventmaker_auth_token=eventmaker.auth_token,
                                  salesforce_credentials=salesforce.credentials, campaign_id=salesforce.campaign_id)
        self.settings = {"TARGET_SALESFORCE_CAMPAIGN_BATCH_SIZE": "10", "TAP_EVENTMAKER_PAGE_SIZE": "10", **settings}

    @property
    def env(self) -> dict:
        return {**isolated_env(PROJECT, self.work, self.stand_ins), **self.settings}

    def start(self, *args: str) -> subprocess.Popen:
        """`meltano <args>` in its own process group (so SIGKILL reaches tap and target too)."""
        log = (self.work / "meltano-output.log").open("ab")
        return subprocess.Popen([str(PROJECT / ".venv" / "bin" / "meltano"), *args], cwd=PROJECT, env=self.env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def run(self, *args: str, timeout: float = 120) -> int:
        process = self.start(*args)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise

    @property
    def state(self) -> dict:
        """The main pipeline's bookmarks as the state backend holds them ({} before any)."""
        path = WorkDir(self.work).state_dir / MAIN_STATE_ID / "state.json"
        if not path.exists():
            return {}
        stored = json.loads(path.read_text())
        merged = {**stored.get("completed", {}), **stored.get("partial", {})}
        return merged.get("singer_state", {})

    def output(self) -> str:
        path = self.work / "meltano-output.log"
        return path.read_text(errors="replace") if path.exists() else ""


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def pipeline(eventmaker_sandbox, salesforce_sandbox, caplog) -> Pipeline:
    caplog.set_level("INFO")
    return Pipeline(eventmaker_sandbox, salesforce_sandbox, caplog)


@pytest.fixture
def meltano_project(eventmaker_sandbox, salesforce_sandbox, tmp_path) -> MeltanoProject:
    return MeltanoProject(eventmaker_sandbox, salesforce_sandbox, tmp_path)


@pytest.fixture
def harness():
    """This module, for the test modules: importlib mode cannot `import conftest`."""
    return sys.modules[__name__]
