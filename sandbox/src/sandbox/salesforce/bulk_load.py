"""Bulk load of records as they are (``POST /__sandbox/load``, seeds, tests): no org rules and no
API usage, parents first, a record may carry its own ``Id``. Unique fields stay unique (an org
cannot hold two records with one value of a unique field)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import SalesforceError
from .ids import normalize_id
from .org_rules import check_unique_fields
from .rules import canonical_payload, full_name
from .schema import FULL, SObject

if TYPE_CHECKING:
    from .store import SalesforceStore

LOAD_ORDER = ("User", "Account", "Campaign", "CampaignMemberStatus", "Contact", "Lead", "CampaignMember")
NEW_CAMPAIGN_STATUSES = (("Sent", True, False), ("Responded", False, True))  # label, default, responded


def load(store: "SalesforceStore", payload: dict[str, Any]) -> dict[str, Any]:
    """Load ``{"records": {"Contact": [...], ...}}``; returns ``{"ids": {object: [ids in order]}}``.

    A campaign loaded without statuses gets Salesforce's two defaults. Unknown objects or fields
    raise ValueError.
    """
    records = payload.get("records", {})
    unknown = [name for name in records if FULL.lookup(name) is None]
    if unknown:
        raise ValueError(f"unknown sObject types: {unknown}")
    by_canonical = {FULL.lookup(name).name: rows for name, rows in records.items()}
    ids: dict[str, list[str]] = {}
    for name in LOAD_ORDER:
        if name in by_canonical:
            ids[name] = [_load_one(store, FULL.objects[name], row) for row in by_canonical[name]]
    for campaign_id in ids.get("Campaign", ()):
        if not store.member_statuses(campaign_id):
            store.add_statuses(campaign_id, NEW_CAMPAIGN_STATUSES)
    return {"ids": ids}


def _load_one(store: "SalesforceStore", sobject: SObject, row: dict[str, Any]) -> str:
    try:
        fields = canonical_payload(sobject, row)
        record_id = normalize_id(fields.pop("Id", None)) if fields.get("Id") else None
        record = store.new_record(sobject, fields, record_id)
        check_unique_fields(store, sobject, record)
    except SalesforceError as error:
        raise ValueError(f"{sobject.name}: {error.message}") from error
    if sobject.field("Name") and not sobject.field("Name").createable:
        record["Name"] = full_name(record)
    if sobject.name == "CampaignMember":
        record["Type"] = "Contact" if record.get("ContactId") else "Lead"
        statuses = {s["Label"]: s for s in store.member_statuses(record["CampaignId"])}
        if "HasResponded" not in fields and record.get("Status") in statuses:
            record["HasResponded"] = statuses[record["Status"]]["HasResponded"]
    store.write_raw(sobject.name, record)
    return record["Id"]
