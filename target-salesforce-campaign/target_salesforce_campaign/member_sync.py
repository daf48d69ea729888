"""A batch's CampaignMembers: read those not known yet, create the missing ones, update changed statuses.

One member per campaign and person, never both ContactId and LeadId (membership.py). A create
refused as DUPLICATE_VALUE (a member made meanwhile, e.g. by a concurrent run) is read and updated
instead: never a failure.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Callable

from target_salesforce_campaign import lookup as lookups
from target_salesforce_campaign import membership
from target_salesforce_campaign.errors import RecordError, error_from_save_result
from target_salesforce_campaign.ids import canonical_id
from target_salesforce_campaign.lookup import KnownMembers
from target_salesforce_campaign.salesforce_client import SalesforceClient

if TYPE_CHECKING:
    from target_salesforce_campaign.batch import Participant


StatusChange = tuple[list["Participant"], dict]  # one member's participants and its Status update


def campaign_ids(participants: list[Participant]) -> list[str]:
    """The campaigns of these participants' events (not those a dry run would create): one member lookup."""
    return sorted({p.campaign_id for p in participants if canonical_id(p.campaign_id, "Campaign")})


def by_member(people: list[Participant]) -> dict[tuple[str | None, str], list[Participant]]:
    """Participants by (Campaign Id, person Id): one member each; the batch's last one decides the status."""
    groups: dict[tuple[str | None, str], list[Participant]] = {}
    for p in people:
        groups.setdefault((p.campaign_id, p.person_id), []).append(p)
    return groups


def attach(group: list[Participant], member: membership.Member) -> StatusChange | None:
    """Give the group its member; the Status update when the batch's last participant changes it."""
    for p in group:
        p.member_id = member.id
    change = membership.status_update(member, group[-1].status)
    return (group, change) if change else None


class MemberSync:
    """Writes the CampaignMembers of the participants whose Contact/Lead is known."""

    def __init__(
        self,
        client: SalesforceClient,
        fields: Callable[[], lookups.Fields],
        final_fingerprint: Callable[[Participant, RecordError], str | None],
    ) -> None:
        self.client = client
        self.fields = fields
        self.final_fingerprint = final_fingerprint

    def members_of(
        self, people: list[Participant], known: KnownMembers | None = None
    ) -> dict[tuple[str | None, str], membership.Member]:
        """Their campaigns' members for these Contacts/Leads: those not already known, in one query call."""
        known = known or KnownMembers()
        unknown = [p for p in people if p.person_id not in known.looked_up]
        wanted = lookups.Wanted(
            contact_ids=frozenset(p.person_id for p in unknown if p.sobject == "Contact"),
            lead_ids=frozenset(p.person_id for p in unknown if p.sobject == "Lead"),
        )
        soqls = lookups.member_queries(wanted, self.fields(), campaign_ids(people), self.client.url_budget)
        rows = [row for rows in self.client.query_many(soqls) for row in rows] if soqls else []
        return {**known.by_person, **membership.index_members([lookups.member_of(row) for row in rows])}

    def known_status_changes(self, matched: list[Participant], known: KnownMembers) -> list[StatusChange]:
        """The Status updates of members the lookup already found for these matched participants.

        batch.py sends them in the Collections call of the Contact/Lead updates; `known` then holds
        each member as it will be, so `write` does not send them again.
        """
        changes = []
        for member_key, group in by_member(matched).items():
            member = known.by_person.get(member_key)
            change = attach(group, member) if member else None
            if change:
                changes.append(change)
                known.by_person[member_key] = dataclasses.replace(member, status=change[1]["Status"])
        return changes

    def write(self, ready: list[Participant], known: KnownMembers) -> None:
        # New Contacts/Leads cannot be members yet: only existing ones are looked up.
        existing = self.members_of([p for p in ready if not p.created], known)
        creates, updates = [], []
        for member_key, group in by_member(ready).items():
            member = existing.get(member_key)
            if member is None:
                creates.append(group)
            elif change := attach(group, member):
                updates.append(change)
        self._create_members(creates)
        self._save_member_updates(updates)

    def _create_members(self, groups: list[list[Participant]]) -> None:
        if not groups:
            return
        body = [membership.new_member(g[-1].campaign_id, g[-1].sobject, g[-1].person_id, g[-1].status) for g in groups]
        duplicates = []
        for group, result in zip(groups, self.client.save("POST", body)):
            if result.get("success"):
                for p in group:
                    p.member_id = canonical_id(result["id"])
                continue
            error = error_from_save_result(result)
            if error.code == "DUPLICATE_VALUE":
                duplicates.append(group)  # created meanwhile (e.g. an earlier, interrupted run)
            else:
                for p in group:
                    p.fail(error, self.final_fingerprint(p, error))
        if duplicates:
            self._resolve_duplicates(duplicates)

    def _resolve_duplicates(self, groups: list[list[Participant]]) -> None:
        found = self.members_of([g[-1] for g in groups])
        updates = []
        for group in groups:
            member = found.get((group[-1].campaign_id, group[-1].person_id))
            if member is None:
                error = RecordError("DUPLICATE_VALUE", "Already a campaign member, but not found again; retried next run")
                for p in group:
                    p.fail(error, None)  # not final: the next run looks the member up again
                continue
            if change := attach(group, member):
                updates.append(change)
        self._save_member_updates(updates)

    def _save_member_updates(self, updates: list[StatusChange]) -> None:
        if not updates:
            return
        for (group, _), result in zip(updates, self.client.save("PATCH", [change for _, change in updates])):
            self.account_update(group, result)

    def account_update(self, group: list[Participant], result: dict) -> None:
        """A failed Status update fails its participants (those not failed already, e.g. by their person)."""
        if result.get("success"):
            return
        error = error_from_save_result(result)
        for p in group:
            if p.result is None:
                p.fail(error, self.final_fingerprint(p, error))
