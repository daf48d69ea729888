"""Realistic, deterministic sandbox data: events, categories, participants and the Salesforce records
they relate to, as the two bulk-load payloads of contracts §3.

Most participants are plain (varied statuses and check-ins). ``SPECIAL_CASES`` below is the one
catalogue of the situations a sync must handle; ``Dataset.cases`` says which participants are which.

Each event has its own Campaign (``Dataset.campaigns``): the first event the sandbox campaign
``701000000000001AAA`` (its statuses kept), the others new ones with the same member statuses. The
campaigns of the 1st, 3rd, 5th ... events carry the event's ``_id`` in ``Eventmaker_Event_Id__c``; the
others leave it empty. ``sandbox seed`` stamps the participants' ``created_at``/``updated_at`` with the time of the
seed (``now``, as Eventmaker stamps the records it creates), so a sync that ran before it reads them;
without ``now`` (in-process tests, benchmarks) they keep fixed dates in 2026-09, as an import keeping
its original dates would. Everything else is fixed by ``seed``.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sandbox.salesforce.ids import case_safe_suffix
from sandbox.salesforce.store import SANDBOX_CAMPAIGN_ID, SANDBOX_CAMPAIGN_NAME, SANDBOX_STATUSES

EVENT_ID_FIELD = "Eventmaker_Event_Id__c"


@dataclass(frozen=True)
class Case:
    key: str
    description: str
    count: int = 0  # this many participants ...
    share: float = 0.0  # ... or this fraction of them


SPECIAL_CASES = (
    Case("contact_match", "email equals an existing Salesforce Contact's email", share=0.08),
    Case("contact_match_other_case", "email equals a Contact's email written in other letter case", count=1),
    Case("lead_match", "email equals an existing, unconverted Lead's email", share=0.04),
    Case("converted_lead", "email equals only a converted Lead (IsConverted) whose ConvertedContactId "
         "is a Contact with another email", count=1),
    Case("imported_contact_id", "imported with salesforce_contact_id only (a seeded Contact)", count=2),
    Case("imported_lead_id", "imported with salesforce_lead_id only (a seeded Lead)", count=2),
    Case("imported_campaign_member_id", "imported with salesforce_campaign_member_id only (an existing "
         "CampaignMember of its event's campaign, for a Contact)", count=1),
    Case("imported_contact_and_lead_ids", "contact_id and lead_id: the Lead was converted into that Contact", count=1),
    Case("imported_contact_and_member_ids", "contact_id and the campaign_member_id of that Contact", count=1),
    Case("imported_lead_and_member_ids", "lead_id and the campaign_member_id of that Lead", count=1),
    Case("imported_all_ids", "contact_id, lead_id (converted into it) and the Contact's campaign_member_id", count=1),
    Case("duplicate_email_same_event", "same email as another participant of the same event", count=2),
    Case("duplicate_email_other_event", "same email as a participant of another event", count=2),
    Case("trashed_synced", "trashed (deleted_at set, still listed) after a successful sync: has a Contact "
         "and a CampaignMember", count=1),
    Case("trashed_never_synced", "trashed (deleted_at set, still listed), never synced", count=1),
    Case("invalid_email", "email Salesforce rejects (INVALID_EMAIL_ADDRESS)", count=1),
    Case("missing_last_name", "no last name (LastName is required on Contact and Lead)", count=1),
    Case("overlong_company", "company name over 255 characters (STRING_TOO_LONG on Lead.Company)", count=1),
)

STATUS_WEIGHTS = {"registered": 50, "invited": 20, "imported": 14, "pending": 7, "declined": 5, "cancelled": 4}
CHECK_IN_RATE = 0.6  # of registered participants

FIRST_NAMES = (
    "Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Emma", "Zoë", "Hélène", "Amélie", "Nadia", "Yasmine",
    "Sofia", "Priya", "Mei", "Aiko", "Olivia", "Grace", "Hannah", "Ingrid", "Lucas", "Hugo", "Louis", "Théo",
    "Mathis", "Noé", "Karim", "Mehdi", "Jonas", "Lars", "Mateo", "Diego", "Rahul", "Kenji", "Oliver", "James",
    "Ethan", "Samuel", "Tomás", "François",
)
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
    "Lefèvre", "Garcia", "Müller", "Schmidt", "Rossi", "Ferrari", "Nguyen", "Tanaka", "Kowalski", "Novak",
    "O'Brien", "Smith", "Johnson", "Brown", "Silva", "Santos", "Haddad", "Benali", "Andersson", "Jensen",
    "Van der Berg", "De Vries", "Côté", "Gagnon", "Singh", "Patel", "Kim", "Park", "Rahman", "Okafor",
)
COMPANIES = (
    "Northwind Logistics", "Contoso Pharma", "Fabrikam Energy", "Tailspin Air", "Wide World Importers",
    "Adventure Works", "Litware Analytics", "Proseware", "Lucerne Publishing", "Margie's Travel",
    "Blue Yonder Airlines", "Coho Winery", "Alpine Ski House", "Fourth Coffee", "Graphic Design Institute",
    "Humongous Insurance", "Trey Research", "Woodgrove Bank", "School of Fine Art", "Relecloud",
    "Bellows College", "Consolidated Messenger", "Datum Corporation", "Wingtip Toys", "Southridge Video",
)
POSITIONS = (
    "Data Engineer", "Head of Marketing", "Event Manager", "CTO", "Sales Director", "Account Executive",
    "Product Manager", "CRM Administrator", "Analytics Lead", "Chief Executive Officer", "Procurement Officer",
    "Partnerships Manager", "Software Engineer", "Communications Officer", None,
)
EVENTS = (
    ("Data Summit Paris", "Paris", "fr"),
    ("Revenue Operations Forum", "London", "en"),
    ("Customer Success Days", "Eastern Time (US & Canada)", "en"),
    ("Cloud Partner Kick-off", "Pacific Time (US & Canada)", "en"),
    ("Salon de l'Innovation", "Brussels", "fr"),
    ("Asia Marketing Week", "Tokyo", "en"),
)
CATEGORIES = ("Attendee", "Speaker", "VIP", "Press")
LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted")
BASE_TIME = datetime(2026, 9, 1, 8, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Dataset:
    """The two load payloads, plus which participants (``_id``s) illustrate each special case."""

    eventmaker: dict
    salesforce: dict
    cases: dict[str, list[str]] = field(default_factory=dict)
    campaigns: list[dict] = field(default_factory=list)  # per event: event_id, title, campaign_id, event_field
    stamped_at: str = ""  # the participants' created_at / updated_at


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_ms(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _ascii(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isalnum() and c.isascii()).lower()


def _base36(number: int, width: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    return "".join(digits[(number // 36**power) % 36] for power in reversed(range(width)))


def case_counts(participants: int, events: int) -> dict[str, int]:
    """How many participants each special case gets; cases past the population are left out in order."""
    counts, left = {}, participants
    for case in SPECIAL_CASES:
        if case.key == "duplicate_email_other_event" and events < 2:
            continue
        wanted = case.count or int(participants * case.share)
        counts[case.key] = min(wanted, left)
        left -= counts[case.key]
    return {key: count for key, count in counts.items() if count}


class _Builder:
    """Builds one dataset; ids depend on the seed so datasets of different seeds can be loaded together."""

    def __init__(self, seed: int, now: datetime | None) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.now = now
        self.eventmaker = {"events": [], "guest_categories": [], "guests": []}
        self.salesforce = {"Campaign": [], "CampaignMemberStatus": [], "Contact": [], "Lead": [], "CampaignMember": []}
        self.campaigns: list[dict] = []
        self.campaign_of_event: dict[str, str] = {}
        self._serial = 0

    def object_id(self, kind: int, number: int) -> str:
        """A MongoDB-like ObjectId: creation time, seed, kind of record, serial number."""
        return f"{int(BASE_TIME.timestamp()):08x}{self.seed % 16**6:06x}{kind:02x}{number:08x}"

    def new_salesforce_id(self, prefix: str) -> str:
        self._serial += 1
        base = f"{prefix}Sd{_base36(self.seed, 3).upper()}{self._serial:07d}"
        return base + case_safe_suffix(base)

    def add_contact(self, person: dict, email: str | None = None) -> str:
        record_id = self.new_salesforce_id("003")
        self.salesforce["Contact"].append({
            "Id": record_id, "FirstName": person["first_name"], "LastName": person["last_name"] or "Unknown",
            "Email": email if email is not None else person["email"], "Phone": person["phone_number"],
            "Title": person["position"],
        })
        return record_id

    def add_lead(self, person: dict, converted_into: str | None = None) -> str:
        record_id = self.new_salesforce_id("00Q")
        self.salesforce["Lead"].append({
            "Id": record_id, "FirstName": person["first_name"], "LastName": person["last_name"] or "Unknown",
            "Email": person["email"], "Company": person["company_name"][:255], "Phone": person["phone_number"],
            "Title": person["position"], "Status": "Closed - Converted" if converted_into else LEAD_STATUSES[0],
            "IsConverted": converted_into is not None, "ConvertedContactId": converted_into,
        })
        return record_id

    def add_member(self, guest: dict, *, contact_id: str | None = None, lead_id: str | None = None,
                   status: str = "Sent") -> str:
        """A CampaignMember of the campaign of ``guest``'s event."""
        record_id = self.new_salesforce_id("00v")
        self.salesforce["CampaignMember"].append({
            "Id": record_id, "CampaignId": self.campaign_of_event[guest["event_id"]], "ContactId": contact_id,
            "LeadId": lead_id, "Status": status,
        })
        return record_id

    def add_campaign(self, index: int, event: dict) -> None:
        """The event's Campaign: the sandbox campaign (reloaded with the field, its statuses kept) for the
        first event, else a new one with the sandbox campaign's statuses."""
        event_id = event["_id"] if index % 2 == 0 else None
        if index == 0:
            campaign_id = SANDBOX_CAMPAIGN_ID
            self.salesforce["Campaign"].append({"Id": campaign_id, "Name": SANDBOX_CAMPAIGN_NAME, "IsActive": True,
                                                "Status": "In Progress", "Type": "Conference", EVENT_ID_FIELD: event_id})
        else:
            campaign_id = self.new_salesforce_id("701")
            self.salesforce["Campaign"].append({
                "Id": campaign_id, "Name": event["title"][:80], "IsActive": True, "Status": "Planned",
                "Type": "Conference", "StartDate": event["start_date"][:10], "EndDate": event["end_date"][:10],
                EVENT_ID_FIELD: event_id,
            })
            self.salesforce["CampaignMemberStatus"] += [
                {"CampaignId": campaign_id, "Label": label, "IsDefault": default, "HasResponded": responded,
                 "SortOrder": order}
                for order, (label, default, responded) in enumerate(SANDBOX_STATUSES, start=1)]
        self.campaign_of_event[event["_id"]] = campaign_id
        self.campaigns.append({"event_id": event["_id"], "title": event["title"], "campaign_id": campaign_id,
                               EVENT_ID_FIELD: event_id})

    def add_events(self, count: int) -> list[list[str]]:
        """Events with their categories; returns the category ids of each event."""
        categories_by_event = []
        for index in range(count):
            title, zone, locale = EVENTS[index % len(EVENTS)]
            starts = BASE_TIME + timedelta(days=30 + 14 * index)
            event_id = self.object_id(1, index)
            event = {
                "_id": event_id, "title": f"{title} {starts.year}", "organizer": "Eventmaker Sandbox",
                "start_date": _iso(starts), "end_date": _iso(starts + timedelta(days=1, hours=9)),
                "timezone": zone, "locale": locale, "created_at": _iso(BASE_TIME), "updated_at": _iso(BASE_TIME),
            }
            self.eventmaker["events"].append(event)
            self.add_campaign(index, event)
            category_ids = []
            for position, name in enumerate(CATEGORIES[: 2 + index % 3]):
                category_id = self.object_id(2, index * 16 + position)
                category_ids.append(category_id)
                self.eventmaker["guest_categories"].append({
                    "_id": category_id, "event_id": event_id, "name": name, "population_type": "attendee",
                    "created_at": _iso(BASE_TIME), "updated_at": _iso(BASE_TIME),
                })
            categories_by_event.append(category_ids)
        return categories_by_event

    def plain_guest(self, index: int, categories_by_event: list[list[str]]) -> dict:
        rng = self.rng
        event_index = index % len(categories_by_event)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = rng.choice(COMPANIES)
        status = rng.choices(tuple(STATUS_WEIGHTS), weights=tuple(STATUS_WEIGHTS.values()))[0]
        created = BASE_TIME + timedelta(minutes=index)
        registered_at = created + timedelta(hours=2)
        stamps = (_iso(created), _iso(created + timedelta(hours=3))) if self.now is None else (_iso_ms(self.now),) * 2
        registered = status == "registered"
        return {
            "_id": self.object_id(3, index),
            "uid": _base36((index + 1) * 2_654_435_761 * 1_000_003 + self.seed, 10),
            "event_id": self.eventmaker["events"][event_index]["_id"],
            "guest_category_id": rng.choice(categories_by_event[event_index]),
            "email": f"{_ascii(first)}.{_ascii(last)}.{index}@{_ascii(company)}.example",
            "first_name": first,
            "last_name": last,
            "company_name": company,
            "position": rng.choice(POSITIONS),
            "phone_number": f"+33 6 {rng.randrange(10**8):08d}",
            "status": status,
            "registered_at": _iso(min(registered_at, self.now or registered_at)) if registered else None,
            "showed_up": registered and rng.random() < CHECK_IN_RATE,
            "created_at": stamps[0],
            "updated_at": stamps[1],
            "deleted_at": None,
            "label_ids": [],
        }


def _refs(contact_id=None, lead_id=None, member_id=None, synced_at=None) -> dict:
    return {"salesforce": {
        "contact_id": contact_id, "lead_id": lead_id, "campaign_member_id": member_id,
        "last_synced_at": synced_at, "last_error": None, "fingerprint": None,
    }}


def _apply_case(key: str, guest: dict, others: list[dict], build: _Builder) -> None:
    """Make ``guest`` (a plain participant) an example of the special case ``key``."""
    if key == "contact_match":
        build.add_contact(guest)
    elif key == "contact_match_other_case":
        build.add_contact(guest, email=guest["email"].upper())
    elif key == "lead_match":
        build.add_lead(guest)
    elif key == "converted_lead":
        contact_id = build.add_contact(guest, email=guest["email"].replace("@", ".old@"))
        build.add_lead(guest, converted_into=contact_id)
    elif key.startswith("imported_"):
        _apply_imported(key, guest, build)
    elif key == "duplicate_email_same_event":
        guest["email"] = next((o["email"] for o in others if o["event_id"] == guest["event_id"]), guest["email"])
    elif key == "duplicate_email_other_event":
        guest["email"] = next((o["email"] for o in others if o["event_id"] != guest["event_id"]), guest["email"])
    elif key in ("trashed_synced", "trashed_never_synced"):
        if build.now is None:
            guest["updated_at"] = _iso(BASE_TIME + timedelta(days=20))
        guest["deleted_at"] = guest["updated_at"]  # trashed at its last change
        if key == "trashed_synced":
            contact_id = build.add_contact(guest)
            member_id = build.add_member(guest, contact_id=contact_id, status="Registered")
            guest["third_party_applications_refs"] = _refs(contact_id, None, member_id, _iso(BASE_TIME + timedelta(days=10)))
    elif key == "invalid_email":
        guest["email"] = guest["email"].replace("@", " at ")
    elif key == "missing_last_name":
        guest["last_name"] = None
    elif key == "overlong_company":
        guest["company_name"] = ("Société Internationale de Conseil en Transformation Numérique " * 5).strip()


def _apply_imported(key: str, guest: dict, build: _Builder) -> None:
    """Participants imported with Salesforce IDs pointing at records seeded for them."""
    wants_contact = key in ("imported_contact_id", "imported_campaign_member_id", "imported_contact_and_lead_ids",
                            "imported_contact_and_member_ids", "imported_all_ids")
    contact_id = build.add_contact(guest) if wants_contact else None
    wants_lead = key in ("imported_lead_id", "imported_contact_and_lead_ids", "imported_lead_and_member_ids",
                         "imported_all_ids")
    lead_id = build.add_lead(guest, converted_into=contact_id) if wants_lead else None
    member_id = None
    if key in ("imported_campaign_member_id", "imported_contact_and_member_ids", "imported_all_ids"):
        member_id = build.add_member(guest, contact_id=contact_id)
    elif key == "imported_lead_and_member_ids":
        member_id = build.add_member(guest, lead_id=lead_id)
    shown = {
        "imported_contact_id": (contact_id, None, None),
        "imported_lead_id": (None, lead_id, None),
        "imported_campaign_member_id": (None, None, member_id),
        "imported_contact_and_lead_ids": (contact_id, lead_id, None),
        "imported_contact_and_member_ids": (contact_id, None, member_id),
        "imported_lead_and_member_ids": (None, lead_id, member_id),
        "imported_all_ids": (contact_id, lead_id, member_id),
    }[key]
    guest["third_party_applications_refs"] = _refs(*shown)


def generate(participants: int = 100, events: int = 3, seed: int = 0, now: datetime | None = None) -> Dataset:
    """A dataset of ``participants`` participants over ``events`` events, created and updated at ``now``
    (None: fixed dates in 2026-09); same arguments, same data."""
    if participants < 0 or events < 1:
        raise ValueError("participants must be >= 0 and events >= 1")
    build = _Builder(seed, now)
    categories_by_event = build.add_events(events)
    guests = [build.plain_guest(index, categories_by_event) for index in range(participants)]

    # Special cases go to randomly chosen participants; the others stay plain.
    order = list(range(participants))
    build.rng.shuffle(order)
    chosen, cases = iter(order), {}
    for key, count in case_counts(participants, events).items():
        cases[key] = [next(chosen) for _ in range(count)]
    plain = [guests[index] for index in chosen]
    for key, indexes in cases.items():
        for index in indexes:
            _apply_case(key, guests[index], plain, build)

    for index in range(participants // 20):  # unrelated Contacts and Leads
        stranger = build.plain_guest(participants + index, categories_by_event)
        stranger["email"] = stranger["email"].replace("@", ".sf@")
        (build.add_contact if index % 2 else build.add_lead)(stranger)

    build.eventmaker["guests"] = guests
    return Dataset(
        eventmaker=build.eventmaker,
        salesforce={"records": build.salesforce},
        cases={key: [guests[index]["_id"] for index in indexes] for key, indexes in cases.items()},
        campaigns=build.campaigns,
        stamped_at=_iso_ms(now) if now else "",
    )


def summary_lines(dataset: Dataset) -> list[str]:
    """What a seed made, for the person who ran it: counts, each event's campaign, the participants' stamp."""
    records = dataset.salesforce["records"]
    stamp = f", created and updated at {dataset.stamped_at}" if dataset.stamped_at else ""
    lines = [f"Eventmaker: {len(dataset.eventmaker['guests'])} participants in {len(dataset.eventmaker['events'])} "
             f"events{stamp}"]
    for campaign in dataset.campaigns:
        field_state = f"{EVENT_ID_FIELD} = the event's _id" if campaign[EVENT_ID_FIELD] else f"{EVENT_ID_FIELD} empty"
        lines.append(f"  event {campaign['event_id']} {campaign['title']!r} -> Campaign {campaign['campaign_id']} "
                     f"({field_state})")
    lines.append("Salesforce: " + ", ".join(f"{len(records[name])} {name}s" for name in
                                            ("Contact", "Lead", "CampaignMember")) +
                 f", {len(records['Campaign']) - 1} new Campaigns besides {SANDBOX_CAMPAIGN_ID}")
    return lines
