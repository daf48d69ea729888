"""Test harnesses: a small in-memory Salesforce + Eventmaker behind requests-mock (batching and mapping
tests), and `pipeline`: the real tap feeding the target against both sandboxes (integration tests)."""

import contextlib
import dataclasses
import io
import itertools
import json
import re
import time
import urllib.parse

import pytest
from singer_sdk.testing import target_sync_test
from tap_eventmaker.tap import TapEventmaker

from target_salesforce_campaign.ids import case_safe_suffix
from target_salesforce_campaign.target import TargetSalesforceCampaign

SF = "https://sf.test"
EM = "http://em.test"
CAMPAIGN = "701000000000001AAA"
LITERAL = re.compile(r"'((?:[^'\\]|\\.)*)'")
STATUSES = ["Sent", "Responded", "Invited", "Registered", "Attended", "No Show", "Cancelled"]


def _describe(*fields):
    base = [{"name": "Id", "type": "id", "length": 18, "nillable": False, "createable": False}]
    return {"fields": base + [dict(f, createable=True) for f in fields]}


PERSON_FIELDS = [
    {"name": "FirstName", "type": "string", "length": 40, "nillable": True},
    {"name": "LastName", "type": "string", "length": 80, "nillable": False},
    {"name": "Email", "type": "email", "length": 80, "nillable": True},
    {"name": "Phone", "type": "phone", "length": 40, "nillable": True},
    {"name": "Title", "type": "string", "length": 128, "nillable": True},
]
LEAD_FIELDS = PERSON_FIELDS + [{"name": "Company", "type": "string", "length": 255, "nillable": False}]


class FakeSalesforce:
    """Just enough of the REST API: CampaignMemberStatus query, describe, Composite GET queries, Collections."""

    def __init__(self, mocker):
        self.records = {"Contact": {}, "Lead": {}, "CampaignMember": {}}
        self.ids = itertools.count(1)
        self.record_errors = {}  # Email -> statusCode returned by Collections create
        self.update_errors = {}  # Id -> statusCode returned by Collections update
        self.truncate_next_creates = []  # lengths the next Collections create replies are cut to (records still made)
        self.usage = [0, 15000]
        self.calls = []
        self.call_times = []  # monotonic time of each call, in order
        data = re.compile(rf"{re.escape(SF)}/services/data/v[\d.]+/")
        mocker.register_uri("GET", re.compile(data.pattern + "query"), json=self._query_endpoint)
        mocker.register_uri("GET", re.compile(data.pattern + r"sobjects/\w+/describe"), json=self._describe)
        mocker.register_uri("POST", re.compile(data.pattern + "composite$"), json=self._composite)
        mocker.register_uri("POST", re.compile(data.pattern + "composite/sobjects"), json=self._create)
        mocker.register_uri("PATCH", re.compile(data.pattern + "composite/sobjects"), json=self._update)

    def _headers(self, request, context):
        self.usage[0] += 1
        self.calls.append(f"{request.method} {request.path}")
        self.call_times.append(time.monotonic())
        return {"Sforce-Limit-Info": f"api-usage={self.usage[0]}/{self.usage[1]}; api-bursts=1/750"}

    def _describe(self, request, context):
        context.headers.update(self._headers(request, context))
        return _describe(*(LEAD_FIELDS if "/lead/" in request.path else PERSON_FIELDS))

    def _query_endpoint(self, request, context):
        context.headers.update(self._headers(request, context))
        return self.query(urllib.parse.parse_qs(urllib.parse.urlsplit(request.url).query)["q"][0])

    def query(self, soql):
        low = soql.lower()
        if "from campaignmemberstatus" in low:
            rows = [{"CampaignId": CAMPAIGN, "Label": s} for s in STATUSES] if CAMPAIGN.lower() in low else []
            return {"totalSize": len(rows), "done": True, "records": rows}
        sobject = re.search(r"from (\w+)", low).group(1)
        sobject = {"contact": "Contact", "lead": "Lead", "campaignmember": "CampaignMember"}[sobject]
        where = soql.split(" WHERE ", 1)[1]
        conditions = [
            (field, {literal.lower() for literal in LITERAL.findall(values)})
            for field, values in re.findall(r"([\w.]+) IN \(((?:'(?:[^'\\]|\\.)*'(?:, )?)*)\)", where)
        ]
        fixed = [c for c in conditions if c[0] == "CampaignId"]
        rows = [dict(r) for r in self.records[sobject].values()
                if all(self._value(r, f) in v for f, v in fixed)
                and any(self._value(r, f) in v for f, v in conditions if f != "CampaignId")]
        return {"totalSize": len(rows), "done": True, "records": rows}

    def _value(self, record, field):
        if "." in field:  # a parent relationship field, e.g. Contact.Email from a CampaignMember
            parent, name = field.split(".")
            record = self.records[parent].get(record.get(f"{parent}Id") or "", {})
            field = name
        return str(record.get(field, "")).lower()

    def _composite(self, request, context):
        context.headers.update(self._headers(request, context))
        out = []
        for sub in request.json()["compositeRequest"]:
            url = urllib.parse.urlsplit(sub["url"])
            if url.path.endswith("/describe"):
                body = _describe(*(LEAD_FIELDS if "/Lead/" in url.path else PERSON_FIELDS))
            else:
                body = self.query(urllib.parse.parse_qs(url.query)["q"][0])
            out.append({"body": body, "httpStatusCode": 200, "referenceId": sub["referenceId"]})
        return {"compositeResponse": out}

    def _create(self, request, context):
        context.headers.update(self._headers(request, context))
        body = request.json()
        assert len(body["records"]) <= 200 and body["allOrNone"] is False
        results = []
        for record in body["records"]:
            sobject = record.pop("attributes")["type"]
            code = self.record_errors.get(record.get("Email"))
            if sobject == "CampaignMember":
                assert not ("ContactId" in record and "LeadId" in record)
                person = record.get("ContactId") or record.get("LeadId")
                if any((m.get("ContactId") or m.get("LeadId")) == person for m in self.records["CampaignMember"].values()):
                    code = "DUPLICATE_VALUE"
            if code:
                results.append({"success": False, "errors": [{"statusCode": code, "message": code.lower(), "fields": []}]})
                continue
            prefix = {"Contact": "003", "Lead": "00Q", "CampaignMember": "00v"}[sobject]
            new_id = f"{prefix}{next(self.ids):012d}"
            new_id += case_safe_suffix(new_id)
            self.records[sobject][new_id] = {"Id": new_id, **record}
            results.append({"id": new_id, "success": True, "errors": []})
        return results[: self.truncate_next_creates.pop(0)] if self.truncate_next_creates else results

    def _update(self, request, context):
        context.headers.update(self._headers(request, context))
        results = []
        for record in request.json()["records"]:
            sobject = record.pop("attributes")["type"]
            stored = self.records[sobject].get(record["Id"])
            code = "ENTITY_IS_DELETED" if stored is None else self.update_errors.get(record["Id"])
            if code:
                results.append({"success": False, "errors": [{"statusCode": code, "message": code.lower()}]})
                continue
            stored.update(record)
            results.append({"id": record["Id"], "success": True, "errors": []})
        return results


class FakeEventmaker:
    """Records the write-back PUTs and applies them to the guests; the write-back's fresh GET of a guest
    serves what the PUTs stored (`guests`, by id; a guest never written has empty refs)."""

    def __init__(self, mocker):
        self.puts = []
        self.put_seconds = 0.0  # each PUT takes this long (a slow Eventmaker)
        self.gets = []
        self.guests = {}
        pattern = re.compile(rf"{re.escape(EM)}/api/v1/events/\w+/guests/\w+\.json")
        mocker.register_uri("PUT", pattern, status_code=204, text=self._put)
        mocker.register_uri("GET", pattern, json=self._get)

    @staticmethod
    def _guest_id(request):
        return request.path.split("/")[-1][:-5]

    def _put(self, request, context):
        time.sleep(self.put_seconds)
        self.puts.append({"path": request.path, "url": request.url, "body": request.json(), "done": time.monotonic()})
        guest = self.guests.setdefault(self._guest_id(request), {"_id": self._guest_id(request)})
        guest.update(request.json()["guest"])
        return ""

    def _get(self, request, context):
        self.gets.append({"path": request.path, "url": request.url})
        guest_id = self._guest_id(request)
        return self.guests.get(guest_id) or {"_id": guest_id, "third_party_applications_refs": {}}

    def refs_by_guest(self):
        return {p["path"].split("/")[-1][:-5]: p["body"]["guest"]["third_party_applications_refs"] for p in self.puts}


@pytest.fixture
def fake_sf(requests_mock):
    return FakeSalesforce(requests_mock)


@pytest.fixture
def fake_em(requests_mock):
    return FakeEventmaker(requests_mock)


@pytest.fixture
def config():
    return {
        "access_token": "SECRET-ACCESS-TOKEN",
        "instance_url": SF,
        "campaign_id": CAMPAIGN,
        "eventmaker_api_url": EM,
        "eventmaker_auth_token": "SECRET-EM-TOKEN",
    }


def make_guest(i, **overrides):
    record = {
        "_id": f"{i:024x}",
        "event_id": "e" * 24,
        "first_name": f"First{i}",
        "last_name": f"Last{i}",
        "email": f"person{i}@example.com",
        "company_name": "Acme",
        "status": "registered",
        "showed_up": False,
        "deleted_at": None,
        "updated_at": "2026-01-01T00:00:00Z",
        "third_party_applications_refs": {},
    }
    record.update(overrides)
    return record


def singer_lines(records, state=None):
    schema = {"type": "object", "properties": {"_id": {"type": "string"}}, "additionalProperties": True}
    lines = [{"type": "SCHEMA", "stream": "guests", "schema": schema, "key_properties": ["_id"]}]
    lines += [{"type": "RECORD", "stream": "guests", "record": r} for r in records]
    lines.append({"type": "STATE", "value": state or {"bookmarks": {"guests": {"replication_key_value": "x"}}}})
    return "\n".join(json.dumps(line) for line in lines) + "\n"


@pytest.fixture
def guest():
    """Factory of guest records (contracts §2)."""
    return make_guest


@pytest.fixture
def run():
    """Run the target in-process on guest records; returns (stdout, stderr)."""
    from singer_sdk.testing import target_sync_test

    from target_salesforce_campaign.target import TargetSalesforceCampaign

    def _run(config, records, **attributes):
        target = TargetSalesforceCampaign(config=config)
        for name, value in attributes.items():  # e.g. a test's tag on the run
            setattr(target, name, value)
        stdout, stderr = target_sync_test(target, io.StringIO(singer_lines(records)))
        return stdout.read(), stderr.read()

    return _run


# --------------------------------------------------------------------------------------------------
# Sandbox pipeline: the real tap (in-process) -> the target (in-process), against both sandboxes.

SALESFORCE_LOGIN = ("username", "password", "security_token", "login_url")


class SandboxPipeline:
    """tap-eventmaker -> target-salesforce-campaign on the Eventmaker and Salesforce sandboxes."""

    def __init__(self, eventmaker, salesforce):
        self.em, self.sf = eventmaker, salesforce
        self.tap_settings = {}  # e.g. include_guest_metadata, for the guest_metadata home of the sync state
        self.target_config = {
            **{k: salesforce.credentials[k] for k in SALESFORCE_LOGIN},
            "ca_bundle": salesforce.ca_bundle,
            "campaign_id": salesforce.campaign_id,
            "eventmaker_api_url": eventmaker.url,
            "eventmaker_auth_token": eventmaker.auth_token,
        }

    def load(self, dataset):
        """Load a `sandbox.seed` dataset into both stores; return it."""
        self.em.store.load(dataset.eventmaker)
        self.sf.store.load(dataset.salesforce)
        return dataset

    def add_salesforce(self, sobject, *records):
        """Load Salesforce records of one object; return their IDs in order."""
        return self.sf.store.load({"records": {sobject: list(records)}})["ids"][sobject]

    def add_guests(self, *guests):
        """Load guests (contracts §2 API shape) into one new event; return them as stored."""
        event = {"_id": "e" * 24, "title": "Integration", "start_date": "2026-12-01T09:00:00Z"}
        category = {"_id": "c" * 24, "event_id": event["_id"], "name": "Attendee"}
        loaded = self.em.store.load({
            "events": [] if self._has_event(event["_id"]) else [event],
            "guest_categories": [] if self._has_event(event["_id"]) else [category],
            "guests": [{"event_id": event["_id"], "guest_category_id": category["_id"], **g} for g in guests],
        })
        return [self.guest(i) for i in loaded["guests"]]

    def _has_event(self, event_id):
        return any(e["_id"] == event_id for e in self.em.store.events())

    def guest(self, guest_id):
        """A participant as stored in the Eventmaker sandbox now."""
        for event in self.em.store.events():
            for g in self.em.store.guests(event["_id"]):
                if g["_id"] == guest_id:
                    return g
        raise KeyError(guest_id)

    def entry(self, guest_id):
        """The participant's Salesforce sync entry (contracts §1), or None."""
        refs = self.guest(guest_id).get("third_party_applications_refs") or {}
        return refs.get("salesforce")

    def records(self, sobject):
        """Live Salesforce records of one object."""
        return [r for r in self.sf.store.tables[sobject].records.values() if not r["IsDeleted"]]

    def members(self):
        """Live CampaignMembers of the sandbox campaign."""
        return [m for m in self.records("CampaignMember") if m["CampaignId"] == self.sf.campaign_id]

    def member_of(self, person_id):
        if person_id is None:
            return None
        found = [m for m in self.members() if person_id in (m["ContactId"], m["LeadId"])]
        assert len(found) <= 1, f"{person_id} has {len(found)} CampaignMembers"
        return found[0] if found else None

    def salesforce_calls(self):
        """Counted REST API calls (logins excluded) since the last clear."""
        by_endpoint = self.sf.counters()["by_endpoint"]
        return sum(n for endpoint, n in by_endpoint.items() if "/services/data/" in endpoint)

    def salesforce_writes(self):
        return [r for r in self.sf.requests() if r["method"] in ("POST", "PATCH", "PUT", "DELETE")
                and "/services/data/" in r["path"] and not r["path"].endswith("/composite")]

    def writebacks(self):
        return [r for r in self.em.requests() if r["method"] == "PUT"]

    def clear_requests(self):
        self.sf.clear_requests()
        self.em.clear_requests()

    def tap_lines(self):
        """Singer messages of a full tap run, as text."""
        # The sandbox shares this process's clock, and the data is loaded just before the run: no skew margin.
        config = {"api_url": self.em.url, "auth_token": self.em.auth_token, "clock_skew_margin_seconds": 0}
        tap = TapEventmaker(config={**config, **self.tap_settings})
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            tap.sync_all()
        return out.getvalue()

    def run(self, clear=True, **settings):
        """One tap -> target run; returns a RunResult (the target's exception, if any, is caught)."""
        if clear:
            self.clear_requests()
        lines = self.tap_lines()
        target = TargetSalesforceCampaign(config={**self.target_config, **settings})
        error, stdout = None, ""
        try:
            out, _ = target_sync_test(target, io.StringIO(lines))
            stdout = out.read()
        except Exception as exc:  # noqa: BLE001 - the tests assert on it
            error = exc
        messages = [json.loads(line) for line in stdout.splitlines() if line.strip()]
        states = [m["value"] for m in messages if m.get("type") == "STATE"]
        return RunResult(error, states, target)


@dataclasses.dataclass
class RunResult:
    error: Exception | None
    states: list
    target: object

    @property
    def summary(self):
        run = self.target._run
        return run.summary if run else None

    @property
    def calls(self):
        return self.target._run.client.calls


@pytest.fixture
def pipeline(eventmaker_sandbox, salesforce_sandbox):
    return SandboxPipeline(eventmaker_sandbox, salesforce_sandbox)
