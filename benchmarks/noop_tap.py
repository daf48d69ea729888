"""A no-op Singer tap for the SDK floor: emits `records` participant-shaped records, doing no I/O.

Same stream name, key, replication key and record shape as tap-eventmaker's `guests`, so the floor
measures what the Singer SDK itself costs per record (serialisation, validation, state), nothing else.
"""

from __future__ import annotations

from singer_sdk import Stream, Tap
from singer_sdk import typing as th

EVENTS = 4
SYNC_STATE = th.ObjectType(
    th.Property("contact_id", th.StringType),
    th.Property("lead_id", th.StringType),
    th.Property("campaign_member_id", th.StringType),
    th.Property("last_synced_at", th.DateTimeType),
    th.Property("fingerprint", th.StringType),
)


def participant(index: int) -> dict:
    """A participant record the size and shape of what tap-eventmaker emits."""
    stamp = f"2026-11-{1 + index % 28:02d}T10:{index % 60:02d}:00+00:00"
    contact_id = f"003{index:015d}"
    return {
        "_id": f"{index:024x}",
        "uid": f"uid-{index:010d}",
        "event_id": f"{index % EVENTS:024x}",
        "email": f"participant{index}@example.com",
        "first_name": f"First{index}",
        "last_name": f"Last{index}",
        "company_name": f"Company {index % 997}",
        "position": "Engineer",
        "phone_number": "+33 1 23 45 67 89",
        "status": "registered",
        "showed_up": index % 3 == 0,
        "registered_at": stamp,
        "created_at": stamp,
        "updated_at": stamp,
        "deleted_at": None,
        "third_party_applications_refs": {"salesforce": {
            "contact_id": contact_id, "lead_id": None, "campaign_member_id": f"00v{index:015d}",
            "last_synced_at": stamp, "fingerprint": "0" * 64}},
        "salesforce_contact_id": contact_id,
        "salesforce_lead_id": None,
        "salesforce_campaign_member_id": f"00v{index:015d}",
        "salesforce_last_synced_at": stamp,
        "salesforce_fingerprint": "0" * 64,
        "salesforce_sync_status": ["synced"],
    }


class Participants(Stream):
    name = "guests"
    primary_keys = ("_id",)
    replication_key = "updated_at"
    schema = th.PropertiesList(
        *(th.Property(name, th.StringType) for name in (
            "_id", "uid", "event_id", "email", "first_name", "last_name", "company_name", "position",
            "phone_number", "status", "salesforce_contact_id", "salesforce_lead_id",
            "salesforce_campaign_member_id", "salesforce_fingerprint")),
        th.Property("showed_up", th.BooleanType),
        *(th.Property(name, th.DateTimeType) for name in (
            "registered_at", "created_at", "updated_at", "deleted_at", "salesforce_last_synced_at")),
        th.Property("third_party_applications_refs", th.ObjectType(th.Property("salesforce", SYNC_STATE))),
        th.Property("salesforce_sync_status", th.ArrayType(th.StringType)),
    ).to_dict()

    def get_records(self, context):
        for index in range(self.config["records"]):
            yield participant(index)


class NoopTap(Tap):
    name = "tap-noop"
    config_jsonschema = th.PropertiesList(th.Property("records", th.IntegerType, required=True)).to_dict()

    def discover_streams(self):
        return [Participants(self)]


if __name__ == "__main__":
    NoopTap.cli()
