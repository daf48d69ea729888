"""Which Campaign each event's participants join (issue 12): pure rules, no calls.

An event's campaign is, in this order: the explicit `campaign_mapping` entry; the Campaign whose
`campaign_event_field` (an External ID field) holds the event's `_id`; a Campaign created for it
(`create_missing_campaigns`). `campaign_id` alone is the single-campaign shorthand: every event.
An event left without a campaign is never sent to another one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simple_salesforce.format import format_soql

from target_salesforce_campaign.errors import RecordError
from target_salesforce_campaign.ids import canonical_id

SKIP, FAIL = "skip", "fail"
NO_CAMPAIGN = "NO_CAMPAIGN_FOR_EVENT"
STATUSES_SOQL = "SELECT CampaignId, Label FROM CampaignMemberStatus WHERE CampaignId IN {ids}"
BY_FIELD_SOQL = "SELECT Id, Name, {f:literal} FROM Campaign WHERE {f:literal} != null"
BY_FIELD_STATUSES_SOQL = (
    "SELECT CampaignId, Label FROM CampaignMemberStatus WHERE CampaignId IN (SELECT Id FROM Campaign WHERE {f:literal} != null)"
)
CAMPAIGN_NAME_LENGTH = 80


def event_key(event_id: object) -> str:
    """An event _id as compared (Salesforce text comparisons ignore case)."""
    return str(event_id or "").strip().casefold()


@dataclass(frozen=True)
class CampaignSettings:
    """The campaign settings as configured."""

    campaign_id: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)  # event _id -> Campaign Id
    event_field: str | None = None  # Campaign External ID field holding the event _id
    create_missing: bool = False
    on_missing: str = SKIP

    @classmethod
    def from_config(cls, config: dict) -> CampaignSettings:
        """Settings from the target's config (schema defaults filled in); Ids in their 18-character form."""
        def canonical(value: object) -> str:
            return canonical_id(value, "Campaign") or str(value)

        return cls(
            campaign_id=canonical(config["campaign_id"]) if config.get("campaign_id") else None,
            mapping={event_key(e): canonical(c) for e, c in (config.get("campaign_mapping") or {}).items()},
            event_field=config.get("campaign_event_field") or None,
            create_missing=bool(config.get("create_missing_campaigns")),
            on_missing=config.get("missing_campaign") or SKIP,
        )

    def problems(self) -> list[str]:
        """Contradictions found without calling Salesforce."""
        found = []
        by_event = bool(self.mapping or self.event_field)
        if self.campaign_id and by_event:
            found.append(
                "campaign_id (every event in one campaign) cannot be combined with campaign_mapping or "
                "campaign_event_field: unset campaign_id, or map the events explicitly"
            )
        if not self.campaign_id and not by_event:
            found.append("set campaign_id, campaign_mapping or campaign_event_field: no event has a campaign")
        if self.create_missing and not self.event_field:
            found.append(
                "create_missing_campaigns needs campaign_event_field (the created Campaign carries the event's _id "
                "there, so the next run finds it instead of creating another)"
            )
        bad = [c for c in self.known_ids() if canonical_id(c, "Campaign") != c]
        if bad:
            found.append(f"not Campaign Ids (15 or 18 characters, prefix 701): {bad}")
        if self.on_missing not in (SKIP, FAIL):
            found.append(f"missing_campaign must be {SKIP!r} or {FAIL!r}")
        return found

    def known_ids(self) -> list[str]:
        """Campaign Ids named in the config, checked at start."""
        return sorted({*self.mapping.values(), *([self.campaign_id] if self.campaign_id else [])})

    def start_queries(self) -> list[str]:
        """The start-of-run queries: statuses of the named campaigns; campaigns (and statuses) by event field."""
        queries = []
        if self.known_ids():
            queries.append(format_soql(STATUSES_SOQL, ids=self.known_ids()))
        if self.event_field:
            queries.append(format_soql(BY_FIELD_SOQL, f=self.event_field))
            queries.append(format_soql(BY_FIELD_STATUSES_SOQL, f=self.event_field))
        return queries


@dataclass
class Campaigns:
    """Resolved campaigns: each event's Campaign Id and each campaign's member status labels."""

    settings: CampaignSettings
    by_event: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, set[str]] = field(default_factory=dict)

    def campaign_for(self, event_id: str | None) -> str | None:
        """The event's campaign, or None: it has none (yet)."""
        if self.settings.campaign_id:
            return self.settings.campaign_id
        return self.by_event.get(event_key(event_id))

    def unresolved(self, event_ids: list[str]) -> list[str]:
        """Events of these participants without a campaign, in first-seen order."""
        return [e for e in dict.fromkeys(event_ids) if self.campaign_for(e) is None]

    def add(self, event_id: str, campaign_id: str, statuses: set[str]) -> None:
        """Record a campaign found or created for an event."""
        self.by_event[event_key(event_id)] = campaign_id
        self.statuses.setdefault(campaign_id, set()).update(statuses)


def _add_statuses(campaigns: Campaigns, rows: list[dict]) -> None:
    for row in rows:
        cid = canonical_id(row.get("CampaignId"), "Campaign")
        if cid and row.get("Label"):
            campaigns.statuses.setdefault(cid, set()).add(row["Label"])


def resolve(settings: CampaignSettings, results: list[list[dict]]) -> tuple[Campaigns, list[str]]:
    """Campaigns from the rows of `settings.start_queries()` (same order), and what is wrong with them."""
    rows = iter(results)
    campaigns = Campaigns(settings)
    problems = []
    if settings.known_ids():
        _add_statuses(campaigns, next(rows))
        named = {cid: "campaign_id" for cid in [settings.campaign_id] if cid}
        named.update({cid: f"campaign_mapping[{event!r}]" for event, cid in settings.mapping.items()})
        for cid in settings.known_ids():
            if cid not in campaigns.statuses:
                problems.append(f"{named[cid]} {cid!r}: no such Campaign (or it has no member statuses)")
    if settings.event_field:
        found: dict[str, list[str]] = {}
        for row in next(rows):
            found.setdefault(event_key(row.get(settings.event_field)), []).append(canonical_id(row.get("Id"), "Campaign"))
        _add_statuses(campaigns, next(rows))
        for event_id, ids in sorted(found.items()):
            if len(ids) > 1:
                problems.append(
                    f"{len(ids)} Campaigns have {settings.event_field} = {event_id!r} ({', '.join(sorted(ids))}): "
                    "make the field Unique or map the event in campaign_mapping"
                )
            else:
                campaigns.by_event[event_id] = ids[0]
    campaigns.by_event.update(settings.mapping)  # explicit entries win
    return campaigns, problems


def status_problems(status_mapping: dict[str, str], campaigns: Campaigns) -> list[str]:
    """Per campaign in use: the mapped labels that are not among its member statuses."""
    labels = set(status_mapping.values())
    used = {campaigns.settings.campaign_id} if campaigns.settings.campaign_id else set(campaigns.by_event.values())
    problems = []
    for cid in sorted(used):
        have = campaigns.statuses.get(cid, set())
        missing = sorted(labels - have)
        if have and missing:
            problems.append(
                f"status_mapping uses {missing}, not member statuses of Campaign {cid!r} (it has {sorted(have)}); "
                "add them to the campaign or change status_mapping"
            )
    return problems


def no_campaign_error(event_id: str | None) -> RecordError:
    """The participant's written-back reason when its event has no campaign."""
    return RecordError(
        NO_CAMPAIGN,
        f"Event {event_id} has no Salesforce Campaign: map it in campaign_mapping, fill campaign_event_field on "
        "its Campaign, or set create_missing_campaigns",
        ("CampaignId",),
    )


def campaign_name(title: str | None, event_id: str) -> str:
    """A new Campaign's Name: the event title, cut to the Name field's 80 characters."""
    name = (title or "").strip() or f"Eventmaker event {event_id}"
    return name[:CAMPAIGN_NAME_LENGTH]


def new_campaign(event_id: str, title: str | None, event_field: str) -> dict:
    """Collections create payload of an event's Campaign, carrying the event's _id."""
    return {"attributes": {"type": "Campaign"}, "Name": campaign_name(title, event_id), "IsActive": True, event_field: event_id}


def new_statuses(campaign_id: str, labels: set[str], existing: set[str]) -> list[dict]:
    """CampaignMemberStatus create payloads for the mapped labels the campaign lacks."""
    return [
        {"attributes": {"type": "CampaignMemberStatus"}, "CampaignId": campaign_id, "Label": label}
        for label in sorted(labels - existing)
    ]
