"""Pure CampaignMember rules: one member per participant and campaign, never both ContactId and LeadId."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Member:
    """A CampaignMember as read back from Salesforce."""

    id: str
    contact_id: str | None
    lead_id: str | None
    status: str | None
    campaign_id: str | None = None

    @property
    def person_id(self) -> str | None:
        """The Contact or Lead the member points to."""
        return self.contact_id or self.lead_id


def index_members(members: list[Member]) -> dict[tuple[str | None, str], Member]:
    """Members by (Campaign Id, the Contact/Lead Id they point to): a person has one per campaign."""
    return {(m.campaign_id, m.person_id): m for m in members if m.person_id}


def new_member(campaign_id: str, sobject: str, person_id: str, status: str) -> dict:
    """Create payload: ContactId or LeadId, never both."""
    link = "ContactId" if sobject == "Contact" else "LeadId"
    return {"attributes": {"type": "CampaignMember"}, "CampaignId": campaign_id, link: person_id, "Status": status}


def status_update(member: Member, status: str) -> dict | None:
    """Update payload when the Status differs, else None (nothing to send)."""
    if member.status == status:
        return None
    return {"attributes": {"type": "CampaignMember"}, "Id": member.id, "Status": status}
