"""target-salesforce-campaign: Eventmaker participants -> Salesforce Contacts/Leads + CampaignMembers."""

from __future__ import annotations

import os
import sys

from singer_sdk import typing as th
from singer_sdk.sinks import Sink
from singer_sdk.target_base import Target

from target_salesforce_campaign import redaction, run_config
from target_salesforce_campaign.auth import DEFAULT_REQUEST_TIMEOUT
from target_salesforce_campaign.connection import RunContext, open_run
from target_salesforce_campaign.mapping import DEFAULT_FIELD_MAPPING, DEFAULT_STATUS_MAPPING
from target_salesforce_campaign.progress import DEFAULT_PROGRESS_INTERVAL, ProgressReporter
from target_salesforce_campaign.sinks import GUESTS_STREAM, GuestsSink, IgnoredStreamSink
from target_salesforce_campaign.summary import Intake, RunSummary, SyncMetric, describe_progress, log_point, progress_record
from target_salesforce_campaign.writeback import DEFAULT_WRITEBACK_CONCURRENCY
from target_salesforce_campaign.writeback_home import HOMES, REFS


class TargetSalesforceCampaign(Target):
    """Sync Eventmaker participants into one Salesforce Campaign."""

    name = "target-salesforce-campaign"

    config_jsonschema = th.PropertiesList(
        # --- authentication (any one complete set) ---
        th.Property("access_token", th.StringType, secret=True, description="Direct session: OAuth access token (with instance_url)."),
        th.Property("instance_url", th.StringType, description="Direct session: https://<your-domain>.my.salesforce.com."),
        th.Property("client_id", th.StringType, description="Connected/external client app consumer key (OAuth flows)."),
        th.Property("client_secret", th.StringType, secret=True, description="Consumer secret (client credentials, refresh token or OAuth password flow)."),
        th.Property("refresh_token", th.StringType, secret=True, description="OAuth refresh token (with client_id)."),
        th.Property("username", th.StringType, description="Salesforce username (SOAP/OAuth password flow, or JWT subject)."),
        th.Property("password", th.StringType, secret=True, description="Salesforce password (with username)."),
        th.Property("security_token", th.StringType, secret=True, description="Security token appended to the password."),
        th.Property("jwt_private_key", th.StringType, secret=True, description="PEM private key for the JWT bearer flow (with client_id and username)."),
        th.Property(
            "login_url",
            th.StringType,
            default="https://login.salesforce.com",
            description="Login host: https://login.salesforce.com, https://test.salesforce.com for Salesforce sandboxes, "
            "your My Domain URL, or the local sandbox URL.",
        ),
        th.Property("api_version", th.StringType, default="59.0", description="Salesforce REST API version, without a leading v."),
        th.Property("ca_bundle", th.StringType, description="Path to a CA bundle (PEM) to trust, e.g. the local sandbox's .sandbox/ca.pem."),
        th.Property(
            "request_timeout",
            th.NumberType(minimum=1),
            default=DEFAULT_REQUEST_TIMEOUT,
            description="Seconds to wait for each Salesforce or Eventmaker response before the call is retried as a "
            "transient error (a hung server cannot stall the run).",
        ),
        # --- what to sync ---
        th.Property(
            "campaign_id",
            th.StringType,
            description="Single-campaign shorthand: every event's participants join this Campaign (checked at start). "
            "Or set campaign_mapping and/or campaign_event_field (not both ways at once).",
        ),
        th.Property(
            "campaign_mapping",
            th.ObjectType(additional_properties=th.StringType),
            description="Event _id -> Campaign Id: each event's participants join its own campaign (checked at start; "
            "wins over campaign_event_field).",
        ),
        th.Property(
            "campaign_event_field",
            th.StringType,
            description="Campaign field (External ID, e.g. Eventmaker_Event_Id__c) holding an event's _id: the Campaign "
            "carrying it is that event's campaign (read at start).",
        ),
        th.Property(
            "create_missing_campaigns",
            th.BooleanType,
            default=False,
            description="Create a Campaign (Name: the event title; the _id in campaign_event_field; the status_mapping "
            "labels as member statuses) for an event that has none. Needs campaign_event_field.",
        ),
        th.Property(
            "missing_campaign",
            th.StringType,
            default="skip",
            allowed_values=["skip", "fail"],
            description="An event without a campaign: skip its participants (written-back NO_CAMPAIGN_FOR_EVENT), or "
            "fail the run before the batch writes anything. Never sent to another campaign.",
        ),
        th.Property(
            "match_fields",
            th.ObjectType(additional_properties=th.ArrayType(th.StringType)),
            description="Per object (Contact, Lead), the fields a record must share with the participant to match, "
            "AND-combined, uniqueness_key included (e.g. {Contact: [Email, LastName]}); after stored IDs and "
            "external_id_field; several matches are still an AMBIGUOUS_MATCH. Checked at start.",
        ),
        th.Property(
            "field_write_policy",
            th.CustomType({"type": ["object", "null"], "additionalProperties": {"type": "string",
                                                                               "enum": ["always", "if_empty", "on_create"]}}),
            description="Salesforce field -> always (default), if_empty (only fill a blank value: never overwrite what "
            "someone entered in Salesforce) or on_create (set when the record is created, never updated). Checked at "
            "start against describe.",
        ),
        th.Property(
            "truncate_long_values",
            th.BooleanType,
            default=False,
            description="Cut a text value longer than its Salesforce field (describe length), sync the record and write "
            "back a warning naming the field; off: the participant fails with STRING_TOO_LONG.",
        ),
        th.Property(
            "map_address",
            th.BooleanType,
            default=False,
            description="Send the participant's address, postal_code, city and country to Contact Mailing* / Lead "
            "address fields (ISO country codes when the org has State and Country Picklists; an unknown country is the "
            "participant's error) and phone_number with its phone_number_prefix.",
        ),
        th.Property(
            "match_mode",
            th.StringType,
            default="contacts_then_leads",
            allowed_values=["contacts_only", "contacts_then_leads"],
            description="Match the uniqueness key on Contacts only, or on Contacts then unconverted Leads.",
        ),
        th.Property("create_as", th.StringType, default="Lead", allowed_values=["Lead", "Contact"], description="Object created for an unmatched participant."),
        th.Property("uniqueness_key", th.StringType, default="Email", description="Contact/Lead field matched on (must be filled by field_mapping)."),
        th.Property(
            "external_id_field",
            th.StringType,
            description="Optional External ID field (Text(255), External ID, Unique) on both Contact and Lead, e.g. "
            "Eventmaker_Id__c, that holds the participant's _id: creates become upserts on it (a retried or late create "
            "never makes a second record), it is matched after stored IDs and before the uniqueness key, and it is "
            "stamped on matched records. Unset: plain creates. Checked at start.",
        ),
        th.Property(
            "key_external_id_field",
            th.StringType,
            description="Optional External ID field (Text(255), External ID, Unique, case-insensitive) on both Contact and "
            "Lead, e.g. Eventmaker_Key__c, that holds the participant's normalised uniqueness key (trimmed, lower case): "
            "creates become upserts on it, so concurrent runs (per-event slices, a sync beside a resend) never create a "
            "second Contact/Lead for one key; it is stamped on matched records too. Checked at start.",
        ),
        th.Property(
            "field_mapping",
            th.ObjectType(additional_properties=th.StringType),
            default=DEFAULT_FIELD_MAPPING,
            description="Participant field -> Contact/Lead field (custom fields allowed). A field absent from one object is sent to the other only.",
        ),
        th.Property(
            "status_mapping",
            th.ObjectType(additional_properties=th.StringType),
            default=DEFAULT_STATUS_MAPPING,
            description="Eventmaker status (or showed_up / deleted) -> CampaignMember Status; merged over the defaults; "
            "every label must be a status of the campaign.",
        ),
        th.Property("lead_company_fallback", th.StringType, default="[not provided]", description="Lead Company when the participant has none."),
        th.Property("batch_size", th.IntegerType(minimum=1, maximum=200), default=200, description="Participants per batch (≤ 200)."),
        th.Property("dry_run", th.BooleanType, default=False, description="Match and validate only: no Salesforce write, no write-back."),
        th.Property("force_resend", th.BooleanType, default=False, description="Send participants even when their fingerprint is unchanged."),
        th.Property(
            "max_api_usage_percent",
            th.NumberType(minimum=1, maximum=100),
            default=90,
            description="Stop cleanly once the org's daily API usage (Sforce-Limit-Info) reaches this percentage.",
        ),
        th.Property("writeback", th.StringType, default="eventmaker", allowed_values=["eventmaker", "none"], description="Where to write sync results."),
        th.Property(
            "writeback_field",
            th.StringType,
            default=REFS,
            allowed_values=list(HOMES),
            description="Where the sync state lives on the participant: third_party_applications_refs (the salesforce "
            "entry) or guest_metadata (custom fields salesforce_contact_id, ...; docs/contracts.md §1). The first "
            "write-back of a run is read back; if the account does not store it, the run stops and names this setting. "
            "Set the tap's matching setting to the same value.",
        ),
        th.Property("eventmaker_api_url", th.StringType, description="Eventmaker base URL; default: the tap's (MELTANO_EXTRACT_API_URL)."),
        th.Property("eventmaker_auth_token", th.StringType, secret=True, description="Eventmaker token; default: the tap's (MELTANO_EXTRACT_AUTH_TOKEN)."),
        th.Property(
            "writeback_concurrency",
            th.IntegerType(minimum=1, maximum=64),
            default=DEFAULT_WRITEBACK_CONCURRENCY,
            description=(
                "Write-backs in flight at once (the Eventmaker API has no bulk update: a GET then a PUT per participant). "
                "Lower it if your Eventmaker account is rate limited; 429/5xx answers are retried honouring Retry-After."
            ),
        ),
        th.Property(
            "progress_interval_seconds",
            th.NumberType(minimum=0),
            default=DEFAULT_PROGRESS_INTERVAL,
            description="Seconds between progress records and log lines while the run lasts (0 = none).",
        ),
    ).to_dict()

    def __init__(self, *args: object, **kwargs: object) -> None:
        redaction.install([os.environ.get("MELTANO_EXTRACT_AUTH_TOKEN")])  # before the SDK logs anything
        super().__init__(*args, **kwargs)
        redaction.install(redaction.secret_values(self.config, self.config_jsonschema))
        secret_settings = [name for name, prop in self.config_jsonschema["properties"].items() if prop.get("secret")]
        self.run_files = run_config.RunFiles(sys.argv, secret_settings)
        self._run: RunContext | None = None
        self._summary_logged = False
        self.intake = Intake()
        self.event_titles: dict[str, str | None] = {}  # from the `events` stream: names of created campaigns
        self.progress = ProgressReporter(self.log_progress, float(self.config.get("progress_interval_seconds", DEFAULT_PROGRESS_INTERVAL)))

    def get_sink_class(self, stream_name: str) -> type[Sink]:
        """`guests` is synced; every other stream is ignored. A first stream means the tap has read its config."""
        self.run_files.tap_started(os.environ.get("MELTANO_EXTRACTOR_NAME"),
                                   [os.environ.get("MELTANO_EXTRACT_AUTH_TOKEN"), self.config.get("eventmaker_auth_token")])
        return GuestsSink if stream_name == GUESTS_STREAM else IgnoredStreamSink

    def run_context(self) -> RunContext:
        """Connect and check the configuration once, at the first participant batch."""
        if self._run is None:
            self._run = open_run(dict(self.config), self.event_titles)
        return self._run

    def log_progress(self) -> None:
        """One progress record and sentence (contracts §6)."""
        run = self._run
        value = progress_record(run and run.summary, self.intake, run.client.calls if run else 0, run and run.client.usage)
        log_point("progress", SyncMetric.PROGRESS, value)
        self.logger.info(describe_progress(value))

    def log_summary(self, stopped: str | None = None) -> None:
        """Once per run: the summary sentence and its structured record (contracts §6)."""
        self.progress.stop()
        if self._summary_logged:
            return
        self._summary_logged = True
        dry_run = bool(self.config.get("dry_run"))
        summary, calls, usage = (self._run.summary, self._run.client.calls, self._run.client.usage) if self._run else (RunSummary(), 0, None)
        if self._run is None:
            self.logger.info("No participant received: nothing was sent to Salesforce.")
        else:
            self.logger.info(summary.render(calls, usage, dry_run=dry_run))
        value = summary.record(self.intake, calls, usage, dry_run=dry_run,
                               campaign_ids=self._run.campaigns.campaign_ids() if self._run else [], stopped=stopped)
        log_point("summary", SyncMetric.SUMMARY, value)

    def finish_writebacks(self) -> None:
        """Wait for every sink's write-back in flight (an error of one is raised here)."""
        for sink in list(self._sinks_active.values()):
            if isinstance(sink, GuestsSink):
                sink.finish_writebacks()

    def _write_state_message(self, state: dict) -> None:
        """Emit a bookmark only once the write-backs of everything before it are done."""
        self.finish_writebacks()
        super()._write_state_message(state)

    def process_endofpipe(self) -> None:
        """Drain, emit the final state, then log the run summary."""
        super().process_endofpipe()
        self.finish_writebacks()
        self.log_summary()


if __name__ == "__main__":
    TargetSalesforceCampaign.cli()
