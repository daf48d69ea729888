"""The org's schema: objects, their fields and the describe payloads served for them.

Only the objects and fields the sync uses (contracts §4), with Salesforce's real names, types and
lengths, plus the custom external-ID field ``Eventmaker_Id__c`` on Contact and Lead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .ids import KEY_PREFIXES

LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted")
CAMPAIGN_STATUSES = ("Planned", "In Progress", "Completed", "Aborted")
CAMPAIGN_TYPES = ("Conference", "Webinar", "Trade Show", "Email", "Other")


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
    reference_to: tuple[str, ...] = ()
    picklist: tuple[str, ...] = ()
    default: Any = None

    @property
    def required(self) -> bool:
        """Salesforce's "required": not nillable, createable and not defaulted on create."""
        return not self.nillable and self.createable and not self.defaulted_on_create

    def describe(self, picklist: tuple[str, ...] | None = None) -> dict[str, Any]:
        values = self.picklist if picklist is None else picklist
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "length": self.length,
            "nillable": self.nillable,
            "createable": self.createable,
            "updateable": self.updateable,
            "defaultedOnCreate": self.defaulted_on_create,
            "externalId": self.external_id,
            "idLookup": self.external_id or self.name == "Id" or self.type == "email",
            "unique": False,
            "referenceTo": list(self.reference_to),
            "picklistValues": [
                {"active": True, "defaultValue": index == 0 and self.default is not None,
                 "label": value, "validFor": None, "value": value}
                for index, value in enumerate(values)
            ],
        }


@dataclass(frozen=True)
class SObject:
    """One object type: its name, label, key prefix and fields (looked up case-insensitively)."""

    name: str
    label: str
    fields: tuple[Field, ...]
    upsertable: bool = True
    by_lower: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_lower", {f.name.lower(): f for f in self.fields})

    @property
    def key_prefix(self) -> str:
        return KEY_PREFIXES[self.name]

    def field(self, name: str) -> Field | None:
        return self.by_lower.get(name.lower())

    @property
    def external_id_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.external_id)


def _ref(name: str, label: str, target: str, **kw: Any) -> Field:
    return Field(name, label, "reference", 18, reference_to=(target,), **kw)


def _bool(name: str, label: str, **kw: Any) -> Field:
    return Field(name, label, "boolean", nillable=False, defaulted_on_create=True, default=False, **kw)


SYSTEM_FIELDS = (
    Field("Id", "Record ID", "id", 18, nillable=False, createable=False, updateable=False,
          defaulted_on_create=True),
    _bool("IsDeleted", "Deleted", createable=False, updateable=False),
    Field("CreatedDate", "Created Date", "datetime", nillable=False, createable=False,
          updateable=False, defaulted_on_create=True),
    Field("LastModifiedDate", "Last Modified Date", "datetime", nillable=False, createable=False,
          updateable=False, defaulted_on_create=True),
    Field("SystemModstamp", "System Modstamp", "datetime", nillable=False, createable=False,
          updateable=False, defaulted_on_create=True),
)

PERSON_FIELDS = (
    Field("FirstName", "First Name", "string", 40),
    Field("LastName", "Last Name", "string", 80, nillable=False),
    Field("Name", "Full Name", "string", 121, nillable=False, createable=False, updateable=False,
          defaulted_on_create=True),
    Field("Email", "Email", "email", 80),
    Field("Phone", "Phone", "phone", 40),
    Field("Title", "Title", "string", 128),
    Field("Eventmaker_Id__c", "Eventmaker Id", "string", 255, external_id=True),
)

OBJECTS: dict[str, SObject] = {
    sobject.name: sobject
    for sobject in (
        SObject("Account", "Account", SYSTEM_FIELDS + (Field("Name", "Account Name", "string", 255, nillable=False),)),
        SObject("Contact", "Contact", SYSTEM_FIELDS + PERSON_FIELDS + (_ref("AccountId", "Account ID", "Account"),)),
        SObject("Lead", "Lead", SYSTEM_FIELDS + PERSON_FIELDS + (
            Field("Company", "Company", "string", 255, nillable=False),
            Field("Status", "Status", "picklist", 255, nillable=False, defaulted_on_create=True,
                  picklist=LEAD_STATUSES, default=LEAD_STATUSES[0]),
            _bool("IsConverted", "Converted", updateable=False),
            _ref("ConvertedContactId", "Converted Contact ID", "Contact", createable=False, updateable=False),
            Field("ConvertedDate", "Converted Date", "date", createable=False, updateable=False),
        )),
        SObject("Campaign", "Campaign", SYSTEM_FIELDS + (
            Field("Name", "Name", "string", 80, nillable=False),
            _bool("IsActive", "Active"),
            Field("Status", "Status", "picklist", 255, picklist=CAMPAIGN_STATUSES),
            Field("Type", "Type", "picklist", 255, picklist=CAMPAIGN_TYPES),
            Field("StartDate", "Start Date", "date"),
            Field("EndDate", "End Date", "date"),
        )),
        SObject("CampaignMemberStatus", "Campaign Member Status", SYSTEM_FIELDS + (
            _ref("CampaignId", "Campaign ID", "Campaign", nillable=False, updateable=False),
            Field("Label", "Member Status", "string", 765, nillable=False),
            _bool("IsDefault", "Default"),
            _bool("HasResponded", "Responded"),
            Field("SortOrder", "Sort Order", "int"),
        )),
        SObject("CampaignMember", "Campaign Member", SYSTEM_FIELDS + (
            _ref("CampaignId", "Campaign ID", "Campaign", nillable=False, updateable=False),
            _ref("ContactId", "Contact ID", "Contact", updateable=False),
            _ref("LeadId", "Lead ID", "Lead", updateable=False),
            Field("Status", "Status", "picklist", 40),
            _bool("HasResponded", "Responded", createable=False, updateable=False),
            Field("FirstRespondedDate", "First Responded Date", "date", createable=False, updateable=False),
            Field("Type", "Type", "string", 40, createable=False, updateable=False),
        ), upsertable=False),
    )
}
OBJECTS_BY_LOWER = {name.lower(): sobject for name, sobject in OBJECTS.items()}
DESCRIBED = ("Campaign", "CampaignMember", "CampaignMemberStatus", "Contact", "Lead")


def lookup_object(name: str) -> SObject | None:
    """The object named ``name`` (any case), or None."""
    return OBJECTS_BY_LOWER.get(name.lower())


def object_for_id(record_id: str) -> SObject | None:
    """The object whose key prefix starts ``record_id``."""
    return next((o for o in OBJECTS.values() if record_id.startswith(o.key_prefix)), None)


def describe_payload(sobject: SObject, version: str, member_statuses: tuple[str, ...]) -> dict[str, Any]:
    """The ``sobjects/{T}/describe`` body; CampaignMember.Status lists the org's status labels."""
    base = f"/services/data/v{version}/sobjects/{sobject.name}"
    fields = [
        f.describe(member_statuses if (sobject.name, f.name) == ("CampaignMember", "Status") else None)
        for f in sobject.fields
    ]
    return {
        "name": sobject.name,
        "label": sobject.label,
        "labelPlural": sobject.label + "s",
        "keyPrefix": sobject.key_prefix,
        "custom": False,
        "createable": True,
        "updateable": True,
        "deletable": True,
        "queryable": True,
        "fields": fields,
        "urls": {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"},
    }


def sobject_summary(sobject: SObject, version: str) -> dict[str, Any]:
    """One entry of the ``sobjects`` list."""
    base = f"/services/data/v{version}/sobjects/{sobject.name}"
    return {"name": sobject.name, "label": sobject.label, "keyPrefix": sobject.key_prefix,
            "custom": False, "createable": True, "updateable": True, "deletable": True,
            "queryable": True, "urls": {"sobject": base, "describe": f"{base}/describe"}}
