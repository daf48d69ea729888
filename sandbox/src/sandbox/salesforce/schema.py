"""The org's schema: objects and their fields, with Salesforce's real names, types and lengths.

Two variants exist, with and without the org setting "State and Country/Territory Picklists":
with it, the address fields gain their ``...StateCode`` / ``...CountryCode`` restricted picklists
(ISO 3166 codes from ``countries.json``). Custom fields of the sandbox org: ``Eventmaker_Id__c``
and ``Eventmaker_Key__c`` on Contact and Lead, ``Eventmaker_Event_Id__c`` on Campaign.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .ids import KEY_PREFIXES

LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted")
CAMPAIGN_STATUSES = ("Planned", "In Progress", "Completed", "Aborted")
CAMPAIGN_TYPES = ("Conference", "Webinar", "Trade Show", "Email", "Other")
_GEOGRAPHY = json.loads((Path(__file__).with_name("countries.json")).read_text(encoding="utf-8"))
COUNTRIES: tuple[tuple[str, str], ...] = tuple(tuple(c) for c in _GEOGRAPHY["countries"])
STATES: dict[str, tuple[tuple[str, str], ...]] = {
    country: tuple(tuple(s) for s in states) for country, states in _GEOGRAPHY["states"].items()
}
TEXT_TYPES = {"string", "email", "phone", "picklist", "textarea", "url"}
ID_TYPES = {"id", "reference"}


@dataclass(frozen=True)
class Field:
    """One field with the describe attributes the sandbox enforces."""

    name: str
    label: str
    type: str
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted_on_create: bool = False
    external_id: bool = False
    unique: bool = False
    reference_to: tuple[str, ...] = ()
    picklist: tuple[tuple[str, str], ...] = ()  # (value, label)
    restricted: bool = False
    controller: str | None = None  # the controlling field of a dependent picklist
    default: Any = None

    @property
    def required(self) -> bool:
        """Salesforce's "required": not nillable, createable and not defaulted on create."""
        return not self.nillable and self.createable and not self.defaulted_on_create

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    @property
    def relationship_name(self) -> str | None:
        """``Contact`` for ``ContactId``: the name parent fields are reached by in SOQL."""
        return self.name[:-2] if self.type == "reference" and self.name.endswith("Id") else None


@dataclass(frozen=True)
class SObject:
    """One object type: its name, label, key prefix and fields (looked up case-insensitively)."""

    name: str
    label: str
    label_plural: str
    fields: tuple[Field, ...]
    upsertable: bool = True
    createable: bool = True
    deletable: bool = True
    by_lower: dict[str, Field] = field(init=False, repr=False, compare=False)
    relationships: dict[str, Field] = field(init=False, repr=False, compare=False)
    defaults: dict[str, Any] = field(init=False, repr=False, compare=False)
    unique_fields: tuple[Field, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_lower", {f.name.lower(): f for f in self.fields})
        object.__setattr__(self, "relationships", {
            f.relationship_name.lower(): f for f in self.fields if f.relationship_name})
        object.__setattr__(self, "defaults", {f.name: f.default for f in self.fields})
        object.__setattr__(self, "unique_fields", tuple(f for f in self.fields if f.unique))

    @property
    def key_prefix(self) -> str:
        return KEY_PREFIXES[self.name]

    def field(self, name: str) -> Field | None:
        return self.by_lower.get(name.lower())

    def relationship(self, name: str) -> Field | None:
        """The reference field whose relationship name is ``name`` (any case)."""
        return self.relationships.get(name.lower())


@dataclass(frozen=True)
class Schema:
    """The objects of one org configuration."""

    objects: dict[str, SObject]

    def lookup(self, name: str) -> SObject | None:
        """The object named ``name`` (any case), or None."""
        return next((o for n, o in self.objects.items() if n.lower() == name.lower()), None)

    def for_id(self, record_id: str) -> SObject | None:
        """The object whose key prefix starts ``record_id``."""
        return next((o for o in self.objects.values() if record_id.startswith(o.key_prefix)), None)


def _ref(name: str, label: str, target: str, **kw: Any) -> Field:
    return Field(name, label, "reference", 18, reference_to=(target,), **kw)


def _bool(name: str, label: str, **kw: Any) -> Field:
    return Field(name, label, "boolean", nillable=False, defaulted_on_create=True, default=False, **kw)


def _read_only(name: str, label: str, kind: str, length: int = 0, **kw: Any) -> Field:
    return Field(name, label, kind, length, createable=False, updateable=False, **kw)


def _picklist(name: str, label: str, values: tuple[str, ...], length: int = 255, **kw: Any) -> Field:
    return Field(name, label, "picklist", length, picklist=tuple((v, v) for v in values), **kw)


def _audit(name: str, label: str, kind: str) -> Field:
    if kind == "reference":
        return _ref(name, label, "User", nillable=False, createable=False, updateable=False, defaulted_on_create=True)
    return _read_only(name, label, kind, nillable=False, defaulted_on_create=True)


SYSTEM_FIELDS = (
    _read_only("Id", "Record ID", "id", 18, nillable=False, defaulted_on_create=True),
    _bool("IsDeleted", "Deleted", createable=False, updateable=False),
    _audit("CreatedDate", "Created Date", "datetime"),
    _audit("CreatedById", "Created By ID", "reference"),
    _audit("LastModifiedDate", "Last Modified Date", "datetime"),
    _audit("LastModifiedById", "Last Modified By ID", "reference"),
    _audit("SystemModstamp", "System Modstamp", "datetime"),
)
OWNER = _ref("OwnerId", "Owner ID", "User", nillable=False, defaulted_on_create=True)


def address_fields(prefix: str, label: str, picklists: bool) -> tuple[Field, ...]:
    """Street, City, State, PostalCode, Country (+ StateCode, CountryCode with the picklists)."""
    fields = (
        Field(f"{prefix}Street", f"{label} Street".strip(), "textarea", 255),
        Field(f"{prefix}City", f"{label} City".strip(), "string", 40),
        Field(f"{prefix}State", f"{label} State/Province".strip(), "string", 80),
        Field(f"{prefix}PostalCode", f"{label} Zip/Postal Code".strip(), "string", 20),
        Field(f"{prefix}Country", f"{label} Country".strip(), "string", 80),
    )
    if not picklists:
        return fields
    states = tuple((code, name) for country in STATES.values() for code, name in country)
    return fields + (
        Field(f"{prefix}StateCode", f"{label} State/Province Code".strip(), "picklist", 255,
              picklist=tuple(dict.fromkeys(states)), restricted=True, controller=f"{prefix}CountryCode"),
        Field(f"{prefix}CountryCode", f"{label} Country Code".strip(), "picklist", 255, picklist=COUNTRIES, restricted=True),
    )


def _person_fields(address_prefix: str, picklists: bool) -> tuple[Field, ...]:
    return (
        OWNER,
        Field("FirstName", "First Name", "string", 40),
        Field("LastName", "Last Name", "string", 80, nillable=False),
        _read_only("Name", "Full Name", "string", 121, nillable=False, defaulted_on_create=True),
        Field("Email", "Email", "email", 80),
        Field("Phone", "Phone", "phone", 40),
        Field("Title", "Title", "string", 128),
        *address_fields(address_prefix, address_prefix, picklists),
        Field("Eventmaker_Id__c", "Eventmaker Id", "string", 255, external_id=True),
        Field("Eventmaker_Key__c", "Eventmaker Key", "string", 255, external_id=True, unique=True),
    )


def build_objects(picklists: bool) -> dict[str, SObject]:
    """Every object of the sandbox org, with or without State and Country Picklists."""
    objects = (
        SObject("User", "User", "Users", SYSTEM_FIELDS + (
            Field("Username", "Username", "string", 80, nillable=False, unique=True),
            Field("FirstName", "First Name", "string", 40),
            Field("LastName", "Last Name", "string", 80, nillable=False),
            _read_only("Name", "Full Name", "string", 121, nillable=False, defaulted_on_create=True),
            Field("Email", "Email", "email", 128, nillable=False),
            _bool("IsActive", "Active"),
        ), upsertable=False, createable=False, deletable=False),
        SObject("Account", "Account", "Accounts", SYSTEM_FIELDS + (
            OWNER, Field("Name", "Account Name", "string", 255, nillable=False))),
        SObject("Contact", "Contact", "Contacts", SYSTEM_FIELDS + _person_fields("Mailing", picklists) + (
            _ref("AccountId", "Account ID", "Account"),)),
        SObject("Lead", "Lead", "Leads", SYSTEM_FIELDS + _person_fields("", picklists) + (
            Field("Company", "Company", "string", 255, nillable=False),
            _picklist("Status", "Status", LEAD_STATUSES, nillable=False, defaulted_on_create=True,
                      default=LEAD_STATUSES[0]),
            _bool("IsConverted", "Converted", updateable=False),
            _ref("ConvertedContactId", "Converted Contact ID", "Contact", createable=False, updateable=False),
            _read_only("ConvertedDate", "Converted Date", "date"),
        )),
        SObject("Campaign", "Campaign", "Campaigns", SYSTEM_FIELDS + (
            OWNER,
            Field("Name", "Name", "string", 80, nillable=False),
            _bool("IsActive", "Active"),
            _picklist("Status", "Status", CAMPAIGN_STATUSES),
            _picklist("Type", "Type", CAMPAIGN_TYPES),
            Field("StartDate", "Start Date", "date"),
            Field("EndDate", "End Date", "date"),
            Field("Eventmaker_Event_Id__c", "Eventmaker Event Id", "string", 255, external_id=True, unique=True),
        )),
        SObject("CampaignMemberStatus", "Campaign Member Status", "Campaign Member Statuses", SYSTEM_FIELDS + (
            _ref("CampaignId", "Campaign ID", "Campaign", nillable=False, updateable=False),
            Field("Label", "Member Status", "string", 765, nillable=False),
            _bool("IsDefault", "Default"),
            _bool("HasResponded", "Responded"),
            Field("SortOrder", "Sort Order", "int"),
        ), upsertable=False),
        SObject("CampaignMember", "Campaign Member", "Campaign Members", SYSTEM_FIELDS + (
            _ref("CampaignId", "Campaign ID", "Campaign", nillable=False, updateable=False),
            _ref("ContactId", "Contact ID", "Contact", updateable=False),
            _ref("LeadId", "Lead ID", "Lead", updateable=False),
            Field("Status", "Status", "picklist", 40),
            _bool("HasResponded", "Responded", createable=False, updateable=False),
            _read_only("FirstRespondedDate", "First Responded Date", "date"),
            _read_only("Type", "Type", "string", 40),
        ), upsertable=False),
    )
    return {sobject.name: sobject for sobject in objects}


SCHEMAS = {enabled: Schema(build_objects(enabled)) for enabled in (True, False)}
FULL = SCHEMAS[True]  # every field that may exist: what tables and persistence are keyed by


def schema_for(state_country_picklists: bool) -> Schema:
    return SCHEMAS[bool(state_country_picklists)]
