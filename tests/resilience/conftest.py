"""Harness for the resilience suites: runs tap-eventmaker → target-salesforce-campaign in-process
against the sandbox fixtures, injects faults mid-run, and checks the project's invariants.

The suites read top-down from here: `Pipeline` (config, seeding, runs, state carried between runs,
the Salesforce calls the target sent), `FaultTrigger` (a fault that lands after the k-th matching
request), then invariants.py: `Outcome` (what Eventmaker and Salesforce hold afterwards) and the
invariant checks every fault test ends with. The `harness` fixture gives the tests both modules.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import signal
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from unittest import mock
from urllib.parse import urlsplit

import pytest
import requests

from sandbox.common.faults import Fault
from sandbox.meltano_project import StandIns, WorkDir, isolated_env


def _load_sibling(name: str):
    """A module next to this file (importlib mode puts no test directory on sys.path)."""
    spec = importlib.util.spec_from_file_location(f"resilience_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


invariants = _load_sibling("invariants")


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
        # The sandbox shares this machine's clock: no margin for a clock difference with Eventmaker.
        self.tap_settings: dict = {"page_size": 10, "retry_backoff_seconds": 0.2, "clock_skew_margin_seconds": 0}
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
        self.settings = {"TARGET_SALESFORCE_CAMPAIGN_BATCH_SIZE": "10", "TAP_EVENTMAKER_PAGE_SIZE": "10",
                         "TAP_EVENTMAKER_CLOCK_SKEW_MARGIN_SECONDS": "0", **settings}  # as `Pipeline.tap_settings`

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
    """This module and invariants.py as one namespace, for the test modules (importlib mode cannot
    `import conftest`)."""
    return SimpleNamespace(**{**vars(invariants), **vars(sys.modules[__name__])})
