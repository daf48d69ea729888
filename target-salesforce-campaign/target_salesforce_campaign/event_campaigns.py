"""Each event's Campaign during a run: resolved at start, created on first sight when opted in (issue 12).

Costs: the start-of-run queries ride in the start Composite call (`CampaignSettings.start_queries`).
A batch with events that have no campaign yet costs, with `create_missing_campaigns`, one Campaign
upsert on `campaign_event_field` (idempotent: a retried or repeated create finds the one made), one
query of the new campaigns' statuses and one CampaignMemberStatus create; without it, nothing.
"""

from __future__ import annotations

import logging
from typing import Callable

import requests
from simple_salesforce.format import format_soql

from target_salesforce_campaign.campaigns import (
    FAIL,
    STATUSES_SOQL,
    CampaignSettings,
    Campaigns,
    event_key,
    new_campaign,
    new_statuses,
    resolve,
    status_problems,
)
from target_salesforce_campaign.errors import ConfigError, error_from_save_result
from target_salesforce_campaign.salesforce_client import SalesforceClient

logger = logging.getLogger(__name__)

DRY_RUN_CAMPAIGN = "(a Campaign the sync would create)"  # a dry run's stand-in: never sent to Salesforce


TEXT_TYPES = ("string", "email", "phone", "url", "textarea")


def event_field_problems(settings: CampaignSettings, describe: dict | None) -> list[str]:
    """What stops `campaign_event_field` from finding (and, to create, carrying) an event's _id on Campaign."""
    name = settings.event_field
    if not name:
        return []
    found = next((f for f in (describe or {}).get("fields", []) if f.get("name") == name), None)
    if found is None:
        return [f"campaign_event_field {name!r} is not a field of Campaign (or not visible to this user)"]
    problems = []
    if found.get("type") not in TEXT_TYPES or not found.get("filterable", True):
        problems.append(f"campaign_event_field {name!r} is a {found.get('type')} field; it must be a filterable text field")
    if settings.create_missing and not (describe or {}).get("createable", True):
        problems.append("create_missing_campaigns: this user may not create Campaigns (Marketing User / object permission)")
    if settings.create_missing and not (found.get("externalId") and found.get("createable")):
        problems.append(
            f"create_missing_campaigns needs campaign_event_field {name!r} to be a createable External ID field "
            "(Campaigns are created by upsert on it)"
        )
    return problems


def open_campaigns(
    settings: CampaignSettings, status_mapping: dict[str, str], pages: list[list[dict]], campaign_describe: dict | None
) -> tuple[Campaigns, list[str]]:
    """The campaigns found by the start-of-run reads, and every problem with them (all reported at once)."""
    campaigns, problems = resolve(settings, pages)
    return campaigns, problems + status_problems(status_mapping, campaigns) + event_field_problems(
        settings, campaign_describe
    )


def fetch_event_title(api_url: str | None, token: str | None, event_id: str, timeout: float) -> str | None:
    """The event's title from Eventmaker, for an event whose `events` record has not arrived yet."""
    if not api_url or not token:
        return None
    try:
        response = requests.get(
            f"{api_url.rstrip('/')}/api/v1/events/{event_id}.json", params={"auth_token": token}, timeout=timeout
        )
        response.raise_for_status()
        title = response.json().get("title")
    except (requests.RequestException, ValueError, AttributeError) as exc:
        logger.warning("Could not read the title of event %s from Eventmaker (%s).", event_id, type(exc).__name__)
        return None
    return title if isinstance(title, str) else None


class EventCampaigns:
    """The run's campaigns, completed for the events of each batch before it is prepared."""

    def __init__(
        self,
        client: SalesforceClient,
        campaigns: Campaigns,
        labels: set[str],
        titles: dict[str, str | None],
        fetch_title: Callable[[str], str | None] | None = None,
    ) -> None:
        self.client = client
        self.campaigns = campaigns
        self.labels = labels  # the status_mapping labels every campaign must have
        self.titles = titles  # event _id -> title, filled by the `events` stream as it arrives
        self.fetch_title = fetch_title or (lambda _event_id: None)
        self.missing: set[str] = set()  # events reported without a campaign

    def campaign_for(self, event_id: str | None) -> str | None:
        """The event's campaign, or None."""
        return self.campaigns.campaign_for(event_id)

    def campaign_ids(self) -> list[str]:
        """The campaigns participants were sent to or may be: the shorthand's, else every event's."""
        shorthand = self.campaigns.settings.campaign_id
        return [shorthand] if shorthand else sorted(set(self.campaigns.by_event.values()) - {DRY_RUN_CAMPAIGN})

    def prepare(self, event_ids: list[str], *, dry_run: bool = False) -> None:
        """Make sure every event of the batch has its campaign, or is known to have none.

        `missing_campaign: fail` stops the run here, before the batch writes anything. A dry run
        creates nothing: the events it would create a campaign for get `DRY_RUN_CAMPAIGN`.
        """
        unresolved = [e for e in self.campaigns.unresolved(event_ids) if e not in self.missing]
        if not unresolved:
            return
        settings = self.campaigns.settings
        if settings.create_missing and dry_run:
            for event_id in unresolved:
                logger.info("Dry run: a Campaign would be created for event %s.", event_id)
                self.campaigns.by_event[event_key(event_id)] = DRY_RUN_CAMPAIGN
            return
        if settings.create_missing and settings.event_field:
            self._create(unresolved, settings.event_field)
            unresolved = self.campaigns.unresolved(unresolved)
        if unresolved and settings.on_missing == FAIL:
            raise ConfigError(
                f"Event(s) {', '.join(unresolved)} have no Salesforce Campaign and missing_campaign is 'fail' "
                "(nothing of this batch was written): map them in campaign_mapping, fill campaign_event_field on their "
                "Campaign, or set create_missing_campaigns."
            )
        for event_id in unresolved:
            logger.warning("Event %s has no Salesforce Campaign: its participants are skipped (NO_CAMPAIGN_FOR_EVENT).",
                           event_id)
        self.missing.update(unresolved)

    def _create(self, event_ids: list[str], event_field: str) -> None:
        body = [new_campaign(e, self.titles.get(e) or self.fetch_title(e), event_field) for e in event_ids]
        created: dict[str, str] = {}
        for event_id, result in zip(event_ids, self.client.upsert("Campaign", event_field, body)):
            if result.get("success"):
                created[event_id] = result["id"]
                logger.info("Created Campaign %s for event %s.", result["id"], event_id)
            else:
                error = error_from_save_result(result)
                logger.warning("Could not create a Campaign for event %s: %s: %s", event_id, error.code, error.message)
        if not created:
            return
        have: dict[str, set[str]] = {cid: set() for cid in created.values()}
        for row in self.client.query_many([format_soql(STATUSES_SOQL, ids=sorted(have))])[0]:
            have[row["CampaignId"]].add(row["Label"])
        statuses = [s for cid, labels in have.items() for s in new_statuses(cid, self.labels, labels)]
        results = self.client.save("POST", statuses) if statuses else []
        for status, result in zip(statuses, results):
            if result.get("success") or error_from_save_result(result).code == "DUPLICATE_VALUE":
                have[status["CampaignId"]].add(status["Label"])
        for event_id, cid in created.items():
            lacking = sorted(self.labels - have[cid])
            if lacking:
                logger.warning("Campaign %s of event %s lacks the member statuses %s.", cid, event_id, lacking)
                continue  # its participants are reported as without campaign rather than failing one by one
            self.campaigns.add(event_id, cid, have[cid])
