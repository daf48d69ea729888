"""Start-of-run checks and the per-run Salesforce context shared by the sinks."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from target_salesforce_campaign import auth, mapping, validation
from target_salesforce_campaign.batch import BatchSync, Settings
from target_salesforce_campaign.campaigns import CampaignSettings
from target_salesforce_campaign.controls import Controls
from target_salesforce_campaign.errors import ConfigError, ErrorClass, SalesforceCallError, TargetError
from target_salesforce_campaign.event_campaigns import EventCampaigns, fetch_event_title, open_campaigns
from target_salesforce_campaign.salesforce_client import SalesforceClient, incomplete, query_path
from target_salesforce_campaign.summary import RunSummary
from target_salesforce_campaign.writeback import DEFAULT_WRITEBACK_CONCURRENCY, EventmakerWriter, eventmaker_defaults
from target_salesforce_campaign.writeback_home import REFS

logger = logging.getLogger(__name__)

PERSON_OBJECTS = ("Contact", "Lead")


def settings_from_config(config: dict) -> Settings:
    """Batch settings from the config as the SDK validated it (schema defaults already filled in).

    `status_mapping` is merged over the default mapping; an empty `field_mapping` means the default one.
    """
    return Settings(
        campaign_id=CampaignSettings.from_config(config).campaign_id,
        match_mode=config["match_mode"],
        create_as=config["create_as"],
        uniqueness_key=config["uniqueness_key"],
        field_mapping=config["field_mapping"] or mapping.DEFAULT_FIELD_MAPPING,
        status_mapping={**mapping.DEFAULT_STATUS_MAPPING, **config["status_mapping"]},
        lead_company_fallback=config["lead_company_fallback"],
        force_resend=config["force_resend"],
        external_id_field=config.get("external_id_field") or None,
        writeback_field=config.get("writeback_field") or REFS,
        key_external_id_field=config.get("key_external_id_field") or None,
    )


def writer_from_config(config: dict) -> EventmakerWriter | None:
    """The Eventmaker writer, or None with writeback=none; a missing URL/token is a config error."""
    if config.get("writeback", "eventmaker") == "none":
        return None
    url, token = eventmaker_defaults(config)
    if not url or not token:
        raise ConfigError(
            "writeback=eventmaker needs eventmaker_api_url and eventmaker_auth_token (or the tap's api_url/auth_token "
            "through MELTANO_EXTRACT_API_URL / MELTANO_EXTRACT_AUTH_TOKEN); set them or set writeback=none."
        )
    return EventmakerWriter(
        url,
        token,
        home=config.get("writeback_field") or REFS,
        timeout=auth.request_timeout(config),
        max_workers=int(config.get("writeback_concurrency", DEFAULT_WRITEBACK_CONCURRENCY)),
    )


def external_id_problems(field_name: str, describes: dict[str, dict], setting: str = "external_id_field") -> list[str]:
    """What stops `field_name` from serving as our External ID on Contact and Lead (empty: nothing)."""
    problems = []
    for sobject in PERSON_OBJECTS:
        found = next((f for f in describes.get(sobject, {}).get("fields", []) if f["name"] == field_name), None)
        if found is None:
            problems.append(f"{setting} {field_name!r} does not exist on {sobject} (or is not visible to this user)")
        elif not found.get("externalId"):
            problems.append(f"{setting} {field_name!r} is not an External ID field on {sobject}")
        elif not (found.get("createable") and found.get("updateable")):
            problems.append(f"{setting} {field_name!r} is not createable and updateable on {sobject} "
                            "(check its field-level security)")
        elif not found.get("unique"):
            logger.warning("%s %r is not marked Unique on %s: two concurrent creates could still both land; "
                           "make it Unique.", setting, field_name, sobject)
    if problems:
        problems.append(f"create it on both objects as Text(255), External ID, Unique, or unset {setting}")
    return problems


def check_configuration(
    settings: Settings,
    found: list[str],
    fields: dict[str, set[str]],
    filterable: set[str],
    describes: dict[str, dict] | None = None,
) -> None:
    """Raise a ConfigError naming what to fix: `found` (campaigns and their statuses, admin controls), then
    mapped fields, key, external ID."""
    problems = list(found)
    unknown = mapping.unknown_mapped_fields(settings.field_mapping, fields)
    if unknown:
        problems.append(f"field_mapping targets unknown Contact/Lead fields {unknown}")
    if settings.uniqueness_key not in filterable:
        problems.append(f"uniqueness_key {settings.uniqueness_key!r} is not a filterable field of both Contact and Lead")
    if settings.uniqueness_key not in settings.field_mapping.values():
        problems.append(f"uniqueness_key {settings.uniqueness_key!r} is not filled by field_mapping")
    if settings.external_id_field:
        problems += external_id_problems(settings.external_id_field, describes or {})
    if settings.key_external_id_field:
        problems += external_id_problems(settings.key_external_id_field, describes or {}, "key_external_id_field")
        if settings.key_external_id_field in {settings.external_id_field, settings.uniqueness_key}:
            problems.append("key_external_id_field must be a field of its own (not external_id_field or uniqueness_key)")
        problems += [
            f"key_external_id_field {settings.key_external_id_field!r} is case-sensitive on {sobject}; make it "
            "Unique with 'treat ABC and abc as duplicate values'"
            for sobject, d in (describes or {}).items()
            for f in d.get("fields", [])
            if sobject in PERSON_OBJECTS and f["name"] == settings.key_external_id_field and f.get("caseSensitive")
        ]
    if problems:
        raise ConfigError("Configuration errors (nothing was written): " + "; ".join(problems) + ".")


def start_reads(client: SalesforceClient, queries: list[str], objects: tuple[str, ...]) -> tuple[list[list[dict]], dict[str, dict]]:
    """The campaigns' queries (records, pages followed) and the objects' describes, in one Composite call."""
    bodies = client.reads([*(query_path(q) for q in queries), *(f"sobjects/{name}/describe" for name in objects)])
    pages, describe_bodies = bodies[: len(queries)], bodies[len(queries) :]
    if not all(isinstance(p, dict) and isinstance(p.get("records"), list) for p in pages) or not all(
        isinstance(d, dict) and isinstance(d.get("fields"), list) for d in describe_bodies
    ):
        raise incomplete("the start-of-run reads (campaigns and their statuses, describes) lack their records or fields")
    return [client.all_records(page) for page in pages], dict(zip(objects, describe_bodies))


@dataclass
class RunContext:
    """Everything one run shares: client, batch logic, writer, summary."""

    client: SalesforceClient
    sync: BatchSync
    writer: EventmakerWriter | None
    summary: RunSummary
    campaigns: EventCampaigns


def open_run(config: dict, event_titles: dict[str, str | None] | None = None) -> RunContext:
    """Authenticate and check the configuration against the org, before any write.

    `event_titles` (filled as the `events` stream arrives) names the campaigns created for events.
    """
    settings = settings_from_config(config)
    campaign_settings = CampaignSettings.from_config(config)
    if campaign_settings.problems():
        raise ConfigError("Configuration errors (nothing was written): " + "; ".join(campaign_settings.problems()) + ".")
    writer = writer_from_config(config)
    session = auth.new_session(config)
    try:
        client = SalesforceClient(
            lambda s: auth.connect(config, s),
            session,
            max_api_usage_percent=float(config["max_api_usage_percent"]),
            can_reauthenticate=auth.can_reauthenticate(config),
        )
        objects = PERSON_OBJECTS + (("Campaign",) if campaign_settings.event_field else ())
        pages, describes = start_reads(client, campaign_settings.start_queries(), objects)
    except SalesforceCallError as exc:  # a direct token refused by the first call
        if exc.error_class is ErrorClass.CONFIG:  # e.g. INVALID_FIELD: a campaign_event_field the org lacks
            raise ConfigError(f"The start-of-run reads were refused ({exc}): check campaign_event_field and the "
                              "integration user's access to Campaign, Contact and Lead.") from None
        if exc.error_class is not ErrorClass.AUTH:
            raise
        raise auth.login_failure(config, exc) from None
    except TargetError:
        raise
    except Exception as exc:  # bad credentials, unreachable login URL, TLS
        raise auth.login_failure(config, exc) from None
    campaigns, campaign_problems = open_campaigns(
        campaign_settings, settings.status_mapping, pages, describes.pop("Campaign", None)
    )
    rules = {name: validation.field_rules(d) for name, d in describes.items()}
    filterable = set.intersection(*({f["name"] for f in d["fields"] if f.get("filterable", True)} for d in describes.values()))
    controls = Controls.from_config(config)
    protected = {f for f in (settings.uniqueness_key, settings.external_id_field, settings.key_external_id_field) if f}
    problems = campaign_problems + controls.problems(describes, protected, set(settings.field_mapping.values()))
    if controls.extra_match_fields and settings.key_external_id_field:
        problems.append("key_external_id_field holds the uniqueness key alone: unset it to match on several match_fields")
    check_configuration(settings, problems, {n: set(r) for n, r in rules.items()}, filterable, describes)
    url, token = eventmaker_defaults(config)
    events = EventCampaigns(
        client, campaigns, set(settings.status_mapping.values()), event_titles if event_titles is not None else {},
        lambda event_id: fetch_event_title(url, token, event_id, auth.request_timeout(config)),
    )
    sync = BatchSync(client, settings, rules, events.campaign_for, controls)
    return RunContext(client, sync, writer, RunSummary(), events)


