"""What both systems hold after a run (`Outcome`) and the project's invariants every resilience test
ends with. Loaded by conftest.py, whose `harness` fixture hands it to the tests with the runner.
Pytest does not rewrite this module's asserts: each one says what it found."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

import requests

EVENTMAKER_WRITE = re.compile(r"^PUT /api/v1/events/[^/]+/guests/")
SYNC_STATE_KEY = "salesforce"


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


def assert_no_duplicate_people(outcome: Outcome) -> None:
    """At most one Contact or unconverted Lead per uniqueness key (Email, case-insensitive)."""
    people = outcome.records.get("Contact", []) + [r for r in outcome.records.get("Lead", []) if not r.get("IsConverted")]
    emails = Counter((p.get("Email") or "").lower() for p in people if p.get("Email"))
    duplicated = {email: n for email, n in emails.items() if n > 1}
    assert not duplicated, f"duplicate Contacts/Leads by Email: {duplicated}"


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
    writes = salesforce_writes(pipeline)
    assert not writes, f"the converged run wrote to Salesforce: {writes}"
    write_backs = write_requests(pipeline.eventmaker, EVENTMAKER_WRITE)
    assert not write_backs, f"the converged run wrote back to Eventmaker: {write_backs}"
    assert _snapshot(pipeline.salesforce)["records"] == before, "the converged run changed Salesforce records"
