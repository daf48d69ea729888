"""Object-level rules of the org that need its data: unique fields, campaign members and their
statuses, the optional duplicate rule. Each takes the store and the record about to be written
(``current`` is the stored version on an update, None on a create) and raises or completes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import SalesforceError
from .rules import apply_address_rules, full_name
from .schema import SObject

if TYPE_CHECKING:
    from .store import SalesforceStore


def duplicate_value(field_name: str, record_id: str) -> SalesforceError:
    return SalesforceError("DUPLICATE_VALUE",
                           f"duplicate value found: {field_name} duplicates value on record with id: {record_id}",
                           [field_name])


def apply_object_rules(store: "SalesforceStore", sobject: SObject, record: dict[str, Any],
                       current: dict[str, Any] | None) -> None:
    apply_address_rules(sobject, record, current)
    check_unique_fields(store, sobject, record)
    if sobject.name in ("Contact", "Lead", "User"):
        record["Name"] = full_name(record)
    if sobject.name in ("Contact", "Lead") and store.duplicate_rule:
        check_duplicates(store, sobject, record)
    elif sobject.name == "CampaignMember":
        apply_member_rules(store, record, current)
    elif sobject.name == "CampaignMemberStatus":
        apply_status_rules(store, record, current)


def check_unique_fields(store: "SalesforceStore", sobject: SObject, record: dict[str, Any]) -> None:
    """DUPLICATE_VALUE when a unique field's value (compared case-insensitively) is taken."""
    for field in sobject.unique_fields:
        if record.get(field.name) in (None, ""):
            continue
        taken = [r for r in store.find(sobject.name, field.name, record[field.name]) if r["Id"] != record["Id"]]
        if taken:
            raise duplicate_value(field.name, taken[0]["Id"])


def apply_member_rules(store: "SalesforceStore", record: dict[str, Any], current: dict[str, Any] | None) -> None:
    """Contact wins over Lead, one member per person and campaign, status falls back to default."""
    if current is None:
        if record.get("ContactId"):
            record["LeadId"] = None
        person_field = "ContactId" if record.get("ContactId") else "LeadId"
        if not record.get(person_field):
            raise SalesforceError("REQUIRED_FIELD_MISSING",
                                  "Required fields are missing: [ContactId, LeadId]", ["ContactId", "LeadId"])
        if any(m["CampaignId"] == record["CampaignId"]
               for m in store.find("CampaignMember", person_field, record[person_field])):
            raise SalesforceError("DUPLICATE_VALUE", "Already a campaign member.")
        record["Type"] = person_field[:-2]
    statuses = store.member_statuses(record["CampaignId"])
    by_label = {s["Label"].lower(): s for s in statuses}
    chosen = by_label.get((record.get("Status") or "").lower()) or next(
        (s for s in statuses if s["IsDefault"]), None)
    if chosen is not None:
        record["Status"] = chosen["Label"]
    record["HasResponded"] = bool(chosen and chosen["HasResponded"])
    if record["HasResponded"] and not record.get("FirstRespondedDate"):
        record["FirstRespondedDate"] = record["SystemModstamp"][:10]


def apply_status_rules(store: "SalesforceStore", record: dict[str, Any], current: dict[str, Any] | None) -> None:
    """Label and SortOrder unique per campaign; a new default status takes the default from the others;
    a status created without SortOrder goes last."""
    siblings = [s for s in store.member_statuses(record["CampaignId"]) if s["Id"] != record["Id"]]
    if record.get("SortOrder") is None:
        record["SortOrder"] = max((s["SortOrder"] or 0 for s in siblings), default=0) + 1
    for name in ("Label", "SortOrder"):
        value = record[name].lower() if isinstance(record[name], str) else record[name]
        if any((s[name].lower() if isinstance(s[name], str) else s[name]) == value for s in siblings):
            raise SalesforceError("DUPLICATE_VALUE",
                                  "duplicate value found: <unknown> duplicates value on record with id: <unknown>")
    if record["IsDefault"] and not (current and current["IsDefault"]):
        stamp = record["SystemModstamp"]
        for sibling in siblings:
            if sibling["IsDefault"]:
                store.write_raw("CampaignMemberStatus", {**sibling, "IsDefault": False, "LastModifiedDate": stamp,
                                                         "SystemModstamp": stamp})
    elif current and current["IsDefault"] and not record["IsDefault"]:
        raise SalesforceError("FIELD_INTEGRITY_EXCEPTION",
                              "A campaign must have a default member status: set another status as default instead",
                              ["IsDefault"])


def check_duplicates(store: "SalesforceStore", sobject: SObject, record: dict[str, Any]) -> None:
    """The optional duplicate rule: same Email as a Contact or an unconverted Lead."""
    if not record.get("Email"):
        return
    matches = [
        (name, row) for name in ("Contact", "Lead") for row in store.find(name, "Email", record["Email"])
        if row["Id"] != record["Id"] and not (name == "Lead" and row["IsConverted"])
    ]
    if not matches:
        return
    message = "Use one of these records?"
    raise SalesforceError("DUPLICATES_DETECTED", message, extra={"duplicateResult": {
        "allowSave": False,
        "duplicateRule": f"Standard_{sobject.name}_Duplicate_Rule",
        "duplicateRuleEntityType": sobject.name,
        "errorMessage": message,
        "matchResults": [{
            "entityType": name, "errors": [], "matchEngine": "ExactMatchEngine",
            "matchRecords": [{"additionalInformation": [], "fieldDiffs": [], "matchConfidence": 100.0,
                              "record": {"attributes": {"type": name}, "Id": row["Id"]}}
                             for n, row in matches if n == name],
            "rule": f"Standard_{name}_Match_Rule_v1_1", "size": sum(1 for n, _ in matches if n == name),
            "success": True,
        } for name in dict.fromkeys(n for n, _ in matches)],
    }})
