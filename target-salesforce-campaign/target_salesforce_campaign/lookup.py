"""The batch's lookup: one set of queries finds its Contacts, Leads and CampaignMembers (issue 9 §2).

One statement per object with OR'ed conditions (`Id IN`, external ID `IN`, match field `IN`), and
the campaign's members found by their parent's Id or match field (`Contact.Email IN (...)`) in the
same Composite call. Statements are split only where a list would pass the URI or SOQL limits
(soql.py). Member statements that would need a Composite call of their own are left out: the
members of the people actually found are then read afterwards (`KnownMembers.looked_up` says
whose members are known).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from target_salesforce_campaign import membership
from target_salesforce_campaign.ids import canonical_id
from target_salesforce_campaign.matching import FoundRecord, Lookup, normalize_key
from target_salesforce_campaign.salesforce_client import incomplete
from target_salesforce_campaign.soql import literal, or_in_queries

MEMBER_FIELDS = "Id, CampaignId, ContactId, LeadId, Status"
QUERIES_PER_CALL = 5  # Composite: at most 5 query/queryAll/Collections subrequests per call


@dataclass
class KnownMembers:
    """The campaigns' members already read for some Contacts/Leads (`looked_up`), by (Campaign Id, person Id)."""

    by_person: dict[tuple[str | None, str], membership.Member] = field(default_factory=dict)
    looked_up: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Wanted:
    """What one batch looks for; `match_values` maps each match field to its normalised values."""

    contact_ids: frozenset[str] = frozenset()
    lead_ids: frozenset[str] = frozenset()
    external_ids: frozenset[str] = frozenset()
    match_values: dict[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Fields:
    """The fields the lookup reads and filters on."""

    match_fields: Sequence[str]  # the uniqueness key first
    external_id_field: str | None = None
    leads_by_match: bool = True  # contacts_then_leads: Leads are matched on the match fields too
    read_fields: Sequence[str] = ()  # current values the field write policy needs (`if_empty` fields)

    @property
    def contact_select(self) -> str:
        wanted = ("Id", *self.match_fields, self.external_id_field, *self.read_fields)
        return ", ".join(dict.fromkeys(f for f in wanted if f))

    @property
    def lead_select(self) -> str:
        return f"{self.contact_select}, IsConverted, ConvertedContactId"


@dataclass(frozen=True)
class Plan:
    """The statements of a lookup: people (object, SOQL) first, then members."""

    people: list[tuple[str, str]]
    members: list[str]
    members_cover: frozenset[str]  # stored Ids whose members the member statements read
    members_by_match: bool  # the member statements also read members of people found by match field


def _person_conditions(sobject: str, wanted: Wanted, fields: Fields) -> list[tuple[str, frozenset[str]]]:
    ids = wanted.contact_ids if sobject == "Contact" else wanted.lead_ids
    conditions = [("Id", ids)]
    if fields.external_id_field:
        conditions.append((fields.external_id_field, wanted.external_ids))
    if sobject == "Contact" or fields.leads_by_match:
        conditions += [(name, wanted.match_values.get(name, frozenset())) for name in fields.match_fields]
    return conditions


def member_queries(
    wanted: Wanted, fields: Fields, campaign_ids: Sequence[str], budget: int | None, *, by_match: bool = False
) -> list[str]:
    """The campaigns' members of the wanted Contact/Lead Ids (and, `by_match`, of people with the match values)."""
    if not campaign_ids:  # e.g. a dry run whose events' campaigns would be created: nobody is a member yet
        return []
    conditions = [("ContactId", wanted.contact_ids), ("LeadId", wanted.lead_ids)]
    if by_match:
        for name in fields.match_fields:
            values = wanted.match_values.get(name, frozenset())
            conditions.append((f"Contact.{name}", values))
            if fields.leads_by_match:
                conditions.append((f"Lead.{name}", values))
    where = f"CampaignId IN ({', '.join(literal(c) for c in campaign_ids)})"
    return or_in_queries(f"SELECT {MEMBER_FIELDS} FROM CampaignMember", conditions, where=where, url_bytes=budget)


def plan(wanted: Wanted, fields: Fields, campaign_ids: Sequence[str], budget: int | None) -> Plan:
    """The lookup's statements, members included only where they fit the Composite calls people need."""
    people = [
        (sobject, soql)
        for sobject, select in (("Contact", fields.contact_select), ("Lead", fields.lead_select))
        for soql in or_in_queries(
            f"SELECT {select} FROM {sobject}", _person_conditions(sobject, wanted, fields), url_bytes=budget
        )
    ]
    calls = max(1, -(-len(people) // QUERIES_PER_CALL))
    free = calls * QUERIES_PER_CALL - len(people)
    stored = wanted.contact_ids | wanted.lead_ids
    for by_match in (True, False):
        members = member_queries(wanted, fields, campaign_ids, budget, by_match=by_match)
        if len(members) <= free:
            return Plan(people, members, stored, by_match)
    return Plan(people, [], frozenset(), False)


def found_record(sobject: str, row: dict, fields: Fields) -> FoundRecord:
    """A Contact/Lead row as the matching rules see it (Ids canonical, key and external ID normalised)."""
    record_id = canonical_id(row.get("Id"), sobject) if isinstance(row, dict) else None
    if record_id is None:
        raise incomplete(f"a {sobject} row without a valid Id")
    converted = canonical_id(row.get("ConvertedContactId"), "Contact") if row.get("IsConverted") else None
    key = normalize_key(row.get(fields.match_fields[0]))
    external_id = normalize_key(row.get(fields.external_id_field)) if fields.external_id_field else None
    values = {name: row.get(name) for name in fields.read_fields}
    return FoundRecord(sobject, record_id, key, converted, external_id, values)


def member_of(row: dict) -> membership.Member:
    """A CampaignMember row, its Ids canonical."""
    member_id = canonical_id(row.get("Id"), "CampaignMember") if isinstance(row, dict) else None
    if member_id is None:
        raise incomplete("a CampaignMember row without a valid Id")
    contact_id = canonical_id(row.get("ContactId"), "Contact")
    lead_id = canonical_id(row.get("LeadId"), "Lead")
    campaign_id = canonical_id(row.get("CampaignId"), "Campaign")
    return membership.Member(member_id, contact_id, lead_id, row.get("Status"), campaign_id)


def read(plan_: Plan, results: list[list[dict]], fields: Fields, wanted: Wanted) -> tuple[Lookup, KnownMembers]:
    """The Lookup and the members known after running `plan_` (results in statement order)."""
    lookup = Lookup()
    for (sobject, _), rows in zip(plan_.people, results):
        for row in rows:
            lookup.add(found_record(sobject, row, fields))
    member_rows = [row for rows in results[len(plan_.people) :] for row in rows]
    members = membership.index_members([member_of(row) for row in member_rows])
    looked_up = set(plan_.members_cover)
    if plan_.members_by_match:
        keys = wanted.match_values.get(fields.match_fields[0], frozenset())
        found = [*lookup.contacts_by_id.values(), *(lookup.leads_by_id.values() if fields.leads_by_match else ())]
        looked_up |= {r.id for r in found if r.key in keys}
        # A converted Lead's members carry its Contact too, so `Lead.<key> IN` found them; a member made
        # for that Contact directly would be refused as DUPLICATE_VALUE, then read (batch.py).
        looked_up |= {r.converted_contact_id for r in found if r.key in keys and r.converted_contact_id}
    return lookup, KnownMembers(members, looked_up)
