"""One object's records, in creation order, with value indexes on the fields the sync filters on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .schema import SObject
from .soql_eval import comparable

INDEXED_FIELDS = {
    "User": ("Username",),
    "Contact": ("Email", "Eventmaker_Id__c", "Eventmaker_Key__c", "AccountId"),
    "Lead": ("Email", "Eventmaker_Id__c", "Eventmaker_Key__c", "ConvertedContactId"),
    "Campaign": ("Eventmaker_Event_Id__c",),
    "CampaignMember": ("CampaignId", "ContactId", "LeadId"),
    "CampaignMemberStatus": ("CampaignId",),
}


@dataclass
class Table:
    """The records of one object, in creation order, with value indexes."""

    sobject: SObject
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    position: dict[str, int] = field(default_factory=dict)
    indexes: dict[str, dict[Any, set[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.types = {f.name: f.type for f in self.sobject.fields}
        self.indexes = {name: {} for name in ("Id",) + INDEXED_FIELDS.get(self.sobject.name, ())}
        self.indexes.pop("Id")

    def key(self, name: str, value: Any) -> Any:
        return comparable(self.types[name], value)

    def index(self, record: dict[str, Any], add: bool) -> None:
        for name, index in self.indexes.items():
            key = self.key(name, record.get(name))
            if key is None:
                continue
            bucket = index.setdefault(key, set())
            if add:
                bucket.add(record["Id"])
            else:
                bucket.discard(record["Id"])

    def put(self, record: dict[str, Any]) -> None:
        old = self.records.get(record["Id"])
        if old is not None:
            self.index(old, add=False)
        else:
            self.position[record["Id"]] = len(self.position)
        self.records[record["Id"]] = record
        self.index(record, add=True)

    def drop(self, record_id: str) -> None:
        self.index(self.records.pop(record_id), add=False)
        self.position.pop(record_id)

    def lookup(self, name: str, keys: tuple[Any, ...] | set[Any]) -> set[str] | None:
        """IDs whose ``name`` has one of ``keys``, or None when ``name`` is not indexed."""
        if name == "Id":
            return {k for k in keys if k in self.records}
        index = self.indexes.get(name)
        if index is None:
            return None
        return set().union(*(index.get(k, ()) for k in keys))

    def live(self, ids: set[str]) -> list[dict[str, Any]]:
        return [r for i in ids if not (r := self.records[i])["IsDeleted"]]
