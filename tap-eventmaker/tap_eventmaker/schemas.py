"""JSON schemas of the streams, from the documented Eventmaker fields (reference notes §2.4)."""

from __future__ import annotations

from singer_sdk import typing as th

_ANY_SCALAR = th.CustomType({"type": ["string", "number", "boolean", "null"]})
_ANY_OBJECT = th.ObjectType(additional_properties=True)

EVENT = th.PropertiesList(
    th.Property("_id", th.StringType, required=True, description="24-hex event id"),
    th.Property("title", th.StringType),
    th.Property("description", th.StringType),
    th.Property("organizer", th.StringType),
    th.Property("start_date", th.DateTimeType),
    th.Property("end_date", th.DateTimeType),
    th.Property("timezone", th.StringType, description="Rails zone name"),
    th.Property("locale", th.StringType),
    th.Property("plan", th.StringType),
    th.Property("reply_to_email", th.StringType),
    th.Property("website_domain_name", th.StringType),
    th.Property("guest_count", th.IntegerType, description="Participants, per Eventmaker"),
    th.Property("check_in_count", th.IntegerType),
    th.Property("created_at", th.DateTimeType),
    th.Property("updated_at", th.DateTimeType),
).to_dict()

GUEST_CATEGORY = th.PropertiesList(
    th.Property("_id", th.StringType, required=True),
    th.Property("event_id", th.StringType),
    th.Property("name", th.StringType),
    th.Property("population_type", th.StringType),
    th.Property("registration_form_id", th.StringType),
    th.Property("created_at", th.DateTimeType),
    th.Property("updated_at", th.DateTimeType),
).to_dict()

SALESFORCE_LAST_ERROR = th.ObjectType(
    th.Property("code", th.StringType),
    th.Property("message", th.StringType),
    th.Property("fields", th.ArrayType(th.StringType)),
    th.Property("hint", th.StringType),
    th.Property("at", th.DateTimeType),
    additional_properties=True,
)

GUEST = th.PropertiesList(
    th.Property("_id", th.StringType, required=True, description="24-hex participant id"),
    th.Property("uid", th.StringType, description="Participant external id (import key)"),
    th.Property("event_id", th.StringType),
    th.Property("guest_category_id", th.StringType),
    th.Property("email", th.StringType),
    th.Property("first_name", th.StringType),
    th.Property("last_name", th.StringType),
    th.Property("company_name", th.StringType),
    th.Property("position", th.StringType),
    th.Property("phone_number", th.StringType),
    th.Property("phone_number_prefix", th.StringType, description="International dialling prefix, e.g. +33"),
    th.Property("address", th.StringType),
    th.Property("postal_code", th.StringType),
    th.Property("city", th.StringType),
    th.Property("country", th.StringType),
    th.Property("country_name", th.StringType),
    th.Property("country_alpha2", th.StringType, description="ISO 3166-1 alpha-2 code of the country"),
    th.Property("message", th.StringType),
    th.Property("status", th.StringType, description="imported, invited, registered, ..."),
    th.Property("rsvp_status", th.StringType),
    th.Property("registered_at", th.DateTimeType),
    th.Property("showed_up", th.BooleanType, description="Checked in at the event"),
    th.Property("created_at", th.DateTimeType),
    th.Property("updated_at", th.DateTimeType, description="Replication key, as UTC"),
    th.Property("deleted_at", th.DateTimeType, description="Set when trashed"),
    th.Property("label_ids", th.ArrayType(th.StringType)),
    th.Property("access_privileges", th.ArrayType(_ANY_OBJECT)),
    th.Property("utm_source", th.StringType),
    th.Property("utm_medium", th.StringType),
    th.Property("utm_campaign", th.StringType),
    th.Property(
        "guest_metadata",
        th.ArrayType(
            th.ObjectType(th.Property("name", th.StringType), th.Property("value", _ANY_SCALAR))
        ),
        description="Custom fields, only with include_guest_metadata",
    ),
    th.Property("third_party_applications_refs", _ANY_OBJECT),
    th.Property("salesforce_contact_id", th.StringType),
    th.Property("salesforce_lead_id", th.StringType),
    th.Property("salesforce_campaign_member_id", th.StringType),
    th.Property("salesforce_campaign_id", th.StringType),
    th.Property("salesforce_last_synced_at", th.DateTimeType),
    th.Property("salesforce_last_error_code", th.StringType),
    th.Property("salesforce_last_error_message", th.StringType),
    th.Property("salesforce_last_error", SALESFORCE_LAST_ERROR),
    th.Property("salesforce_fingerprint", th.StringType),
    th.Property(
        "salesforce_sync_status",
        th.ArrayType(th.StringType),
        description="'synced' (synced at least once) and/or 'error' (last sync failed)",
    ),
).to_dict()
