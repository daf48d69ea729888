"""The in-memory org: records per object, indexes for the fields the sync filters on, the org's
rules (references, campaign members, converted leads, duplicate rule), undo-journal transactions
for allOrNone, sessions and API usage.

Deleted records stay in their table with ``IsDeleted`` true (the recycle bin): ``queryAll`` sees
them, everything else answers ENTITY_IS_DELETED.
"""

from __future__ import annotations

import copy
import secrets
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator

from . import rules
from .describe import OBJECTS, SObject, lookup_object, object_for_id
from .errors import SalesforceError, entity_is_deleted, malformed_id, not_found
from .ids import KEY_PREFIXES, make_id, normalize_id
from .soql import BoundQuery, Comparison, Junction, comparable, evaluate, sort_records

SANDBOX_CAMPAIGN_ID = "701000000000001AAA"
SANDBOX_CAMPAIGN_NAME = "Eventmaker Sandbox Event"
SANDBOX_STATUSES = (  # label, is default, has responded
    ("Sent", True, False), ("Responded", False, True), ("Invited", False, False),
    ("Registered", False, False), ("Attended", False, True), ("No Show", False, False),
    ("Cancelled", False, False),
)
NEW_CAMPAIGN_STATUSES = (("Sent", True, False), ("Responded", False, True))
INDEXED_FIELDS = {
    "Contact": ("Email", "Eventmaker_Id__c", "AccountId"),
    "Lead": ("Email", "Eventmaker_Id__c", "ConvertedContactId"),
    "CampaignMember": ("CampaignId", "ContactId", "LeadId"),
    "CampaignMemberStatus": ("CampaignId",),
}
CHILDREN = {  # deleting a parent deletes these children (Salesforce's cascade for members)
    "Contact": (("CampaignMember", "ContactId"),),
    "Lead": (("CampaignMember", "LeadId"),),
    "Campaign": (("CampaignMember", "CampaignId"), ("CampaignMemberStatus", "CampaignId")),
}
ORG_ID = "00D000000000001AAA"
USER_ID = "005000000000001AAA"


def now_stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


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

    def lookup(self, name: str, keys: tuple[Any, ...]) -> set[str] | None:
        """IDs whose ``name`` has one of ``keys``, or None when ``name`` is not indexed."""
        if name == "Id":
            return {k for k in keys if k in self.records}
        index = self.indexes.get(name)
        if index is None:
            return None
        return set().union(*(index.get(k, ()) for k in keys))

    def live(self, ids: set[str]) -> list[dict[str, Any]]:
        return [r for i in ids if not (r := self.records[i])["IsDeleted"]]


class SalesforceStore:
    """An org with the sandbox campaign; every write goes through the org's rules."""

    def __init__(self) -> None:
        self.tables = {name: Table(sobject) for name, sobject in OBJECTS.items()}
        self.counters = {prefix: 0 for prefix in KEY_PREFIXES.values()}
        self.sessions: dict[str, float] = {}
        self.refresh_tokens: set[str] = set()
        self.session_origins: dict[str, str] = {}  # access token -> the refresh token it came from
        self.api_usage = 0
        self.duplicate_rule = False
        self._journal: list[tuple[str, str, dict[str, Any] | None]] | None = None
        self._seed_campaign()

    # ------------------------------------------------------------ sessions and usage

    def issue_session(self, refresh_token: str | None = None) -> str:
        token = f"{ORG_ID[:15]}!AQ{secrets.token_urlsafe(48)}"
        self.sessions[token] = time.time()
        if refresh_token:
            self.session_origins[token] = refresh_token
        return token

    def issue_refresh_token(self) -> str:
        token = f"5Aep{secrets.token_urlsafe(60)}"
        self.refresh_tokens.add(token)
        return token

    def session_valid(self, token: str, ttl_seconds: float | None) -> bool:
        """Whether ``token`` is a live session; using it keeps it alive (inactivity timeout)."""
        last_used = self.sessions.get(token)
        now = time.time()
        if last_used is None or (ttl_seconds is not None and now - last_used > ttl_seconds):
            self.sessions.pop(token, None)
            return False
        self.sessions[token] = now
        return True

    def expire_sessions(self) -> None:
        self.sessions.clear()

    # ------------------------------------------------------------ transactions

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Undo every write made inside the block if it raises (nested blocks are savepoints)."""
        outermost = self._journal is None
        if outermost:
            self._journal = []
        savepoint = len(self._journal)
        try:
            yield
        except BaseException:
            self._rollback_to(savepoint)
            raise
        finally:
            if outermost:
                self._journal = None

    def _rollback_to(self, savepoint: int) -> None:
        while len(self._journal) > savepoint:
            name, record_id, old = self._journal.pop()
            if old is None:
                self.tables[name].drop(record_id)
            else:
                self.tables[name].put(old)

    def _write(self, name: str, record: dict[str, Any]) -> None:
        table = self.tables[name]
        if self._journal is not None:
            old = table.records.get(record["Id"])
            self._journal.append((name, record["Id"], copy.copy(old) if old else None))
        table.put(record)

    # ------------------------------------------------------------ reads

    def sobject(self, name: str) -> SObject:
        sobject = lookup_object(name)
        if sobject is None:
            raise not_found()
        return sobject

    def get(self, name: str, record_id: str) -> dict[str, Any]:
        """A live record of ``name``: MALFORMED_ID, NOT_FOUND or ENTITY_IS_DELETED otherwise."""
        sobject = self.sobject(name)
        full_id = normalize_id(record_id)
        if full_id is None or not full_id.startswith(sobject.key_prefix):
            raise malformed_id(sobject.name, record_id)
        record = self.tables[sobject.name].records.get(full_id)
        if record is None:
            raise not_found()
        if record["IsDeleted"]:
            raise entity_is_deleted()
        return record

    def find(self, name: str, field_name: str, value: Any) -> list[dict[str, Any]]:
        """Live records whose indexed ``field_name`` equals ``value`` (case-insensitive text)."""
        table = self.tables[name]
        ids = table.lookup(field_name, (table.key(field_name, value),))
        return sorted(table.live(ids), key=lambda r: table.position[r["Id"]])

    def select(self, query: BoundQuery, include_deleted: bool = False) -> list[dict[str, Any]]:
        """The records a bound SOQL query matches, using an index when the filter allows."""
        table = self.tables[query.sobject.name]
        ids = self._candidates(table, query.where)
        if ids is None:
            rows = list(table.records.values())
        else:
            rows = [table.records[i] for i in sorted(ids, key=table.position.__getitem__)]
        rows = [r for r in rows if (include_deleted or not r["IsDeleted"])
                and (query.where is None or evaluate(query.where, r, table.key))]
        if query.order_by:
            rows = sort_records(rows, query.order_by, table.key)
        end = None if query.limit is None else query.offset + query.limit
        return rows[query.offset : end]

    def _candidates(self, table: Table, node: Any) -> set[str] | None:
        """A superset of the IDs matching ``node`` from the indexes, or None (scan everything)."""
        if isinstance(node, Comparison) and node.op in ("=", "IN") and None not in node.values:
            return table.lookup(node.field, node.values)  # nulls are not indexed
        if isinstance(node, Junction):
            parts = [self._candidates(table, part) for part in node.parts]
            if node.op == "AND":
                known = [p for p in parts if p is not None]
                return min(known, key=len) if known else None
            return None if any(p is None for p in parts) else set().union(*parts)
        return None

    def member_statuses(self, campaign_id: str | None = None) -> list[dict[str, Any]]:
        """CampaignMemberStatus rows of one campaign (all campaigns when None), by SortOrder."""
        table = self.tables["CampaignMemberStatus"]
        rows = (table.live(table.lookup("CampaignId", (campaign_id,))) if campaign_id
                else [r for r in table.records.values() if not r["IsDeleted"]])
        return sorted(rows, key=lambda r: (r["SortOrder"] or 0, table.position[r["Id"]]))

    # ------------------------------------------------------------ writes

    def create(self, name: str, payload: dict[str, Any]) -> str:
        """Validate and insert one record; returns its ID."""
        sobject = self.sobject(name)
        fields = rules.canonical_payload(sobject, payload)
        if "Id" in fields:
            raise SalesforceError("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
        rules.check_writable(sobject, fields, creating=True)
        fields = rules.coerce_values(sobject, fields)
        record = self._new_record(sobject, fields)
        rules.check_required(sobject, record)
        self._check_references(sobject, fields)
        self._apply_object_rules(sobject, record, None)
        with self.transaction():
            self._write(sobject.name, record)
            if sobject.name == "Campaign":
                self._add_statuses(record["Id"], NEW_CAMPAIGN_STATUSES)
        return record["Id"]

    def update(self, name: str, record_id: str, payload: dict[str, Any]) -> None:
        """Validate and apply a partial update of one record."""
        current = self.get(name, record_id)
        sobject = self.sobject(name)
        fields = rules.canonical_payload(sobject, payload)
        fields.pop("Id", None)
        rules.check_writable(sobject, fields, creating=False)
        if sobject.name == "Lead" and current["IsConverted"]:
            raise SalesforceError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", ["Id"])
        fields = rules.coerce_values(sobject, fields)
        record = {**current, **fields, "LastModifiedDate": now_stamp(), "SystemModstamp": now_stamp()}
        rules.check_required(sobject, record)
        self._check_references(sobject, fields)
        self._apply_object_rules(sobject, record, current)
        self._write(sobject.name, record)

    def upsert(self, name: str, field_name: str, value: str, payload: dict[str, Any],
               update_only: bool = False) -> tuple[str, bool]:
        """Create or update the one record whose external ID ``field_name`` is ``value``.

        Returns ``(id, created)``; raises with status 300 and the matching record URLs when
        several records match.
        """
        sobject = self.sobject(name)
        if not sobject.upsertable:
            raise SalesforceError("INVALID_TYPE", f"entity type {sobject.name} does not support upsert")
        field = sobject.field(field_name)
        if field is None or not (field.external_id or field.name == "Id"):
            raise not_found(f"Provided external ID field does not exist or is not accessible: {field_name}")
        matches = ([r for r in [self.tables[sobject.name].records.get(normalize_id(value) or "")]
                    if r and not r["IsDeleted"]] if field.name == "Id"
                   else self.find(sobject.name, field.name, value))
        if len(matches) > 1:
            raise SalesforceError("MULTIPLE_CHOICES", "More than one record found for external id field",
                                  status=300, extra={"ids": [r["Id"] for r in matches]})
        body = {k: v for k, v in payload.items() if k.lower() != field.name.lower()}
        if matches:
            self.update(sobject.name, matches[0]["Id"], body)
            return matches[0]["Id"], False
        if update_only or field.name == "Id":
            raise not_found()
        return self.create(sobject.name, {**body, field.name: value}), True

    def delete(self, name: str, record_id: str) -> None:
        """Move one record (and the campaign members hanging off it) to the recycle bin."""
        record = self.get(name, record_id)
        sobject = self.sobject(name)
        with self.transaction():
            self._write(sobject.name, {**record, "IsDeleted": True, "SystemModstamp": now_stamp()})
            for child, link in CHILDREN.get(sobject.name, ()):
                for row in self.find(child, link, record["Id"]):
                    self._write(child, {**row, "IsDeleted": True, "SystemModstamp": now_stamp()})

    # ------------------------------------------------------------ org rules

    def _new_record(self, sobject: SObject, fields: dict[str, Any], record_id: str | None = None) -> dict[str, Any]:
        stamp = now_stamp()
        record = {f.name: f.default for f in sobject.fields}
        record.update({k: v for k, v in fields.items() if v is not None})
        record.update(Id=record_id or self._next_id(sobject), IsDeleted=False,
                      CreatedDate=record.get("CreatedDate") or stamp,
                      LastModifiedDate=record.get("LastModifiedDate") or stamp, SystemModstamp=stamp)
        return record

    def _next_id(self, sobject: SObject) -> str:
        prefix = sobject.key_prefix
        while True:
            self.counters[prefix] += 1
            candidate = make_id(prefix, self.counters[prefix])
            if candidate not in self.tables[sobject.name].records:
                return candidate

    def _check_references(self, sobject: SObject, fields: dict[str, Any]) -> None:
        for name, value in fields.items():
            field = sobject.field(name)
            if field.type != "reference" or value is None:
                continue
            target = object_for_id(value)
            record = self.tables[target.name].records.get(value) if target else None
            if (target is None or target.name not in field.reference_to or record is None
                    or record["IsDeleted"]):
                raise SalesforceError("INVALID_CROSS_REFERENCE_KEY",
                                      "invalid cross reference id", [name])

    def _apply_object_rules(self, sobject: SObject, record: dict[str, Any], current: dict[str, Any] | None) -> None:
        if sobject.name in ("Contact", "Lead"):
            record["Name"] = " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p)
            if self.duplicate_rule:
                self._check_duplicates(sobject, record)
        elif sobject.name == "CampaignMember":
            self._apply_member_rules(record, current)

    def _apply_member_rules(self, record: dict[str, Any], current: dict[str, Any] | None) -> None:
        """Contact wins over Lead, one member per person and campaign, status falls back to default."""
        if current is None:
            if record.get("ContactId"):
                record["LeadId"] = None
            person_field = "ContactId" if record.get("ContactId") else "LeadId"
            if not record.get(person_field):
                raise SalesforceError("REQUIRED_FIELD_MISSING",
                                      "Required fields are missing: [ContactId, LeadId]", ["ContactId", "LeadId"])
            if any(m["CampaignId"] == record["CampaignId"]
                   for m in self.find("CampaignMember", person_field, record[person_field])):
                raise SalesforceError("DUPLICATE_VALUE", "Already a campaign member.")
            record["Type"] = person_field[:-2]
        statuses = self.member_statuses(record["CampaignId"])
        by_label = {s["Label"].lower(): s for s in statuses}
        chosen = by_label.get((record.get("Status") or "").lower()) or next(
            (s for s in statuses if s["IsDefault"]), None)
        if chosen is not None:
            record["Status"] = chosen["Label"]
        record["HasResponded"] = bool(chosen and chosen["HasResponded"])
        if record["HasResponded"] and not record.get("FirstRespondedDate"):
            record["FirstRespondedDate"] = now_stamp()[:10]

    def _check_duplicates(self, sobject: SObject, record: dict[str, Any]) -> None:
        """The optional duplicate rule: same Email as a Contact or an unconverted Lead."""
        if not record.get("Email"):
            return
        matches = [
            (name, row) for name in ("Contact", "Lead") for row in self.find(name, "Email", record["Email"])
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

    # ------------------------------------------------------------ bulk load and persistence

    def _seed_campaign(self) -> None:
        campaign = {"Id": SANDBOX_CAMPAIGN_ID, "Name": SANDBOX_CAMPAIGN_NAME, "IsActive": True,
                    "Status": "In Progress", "Type": "Conference"}
        statuses = [{"CampaignId": SANDBOX_CAMPAIGN_ID, "Label": label, "IsDefault": default,
                     "HasResponded": responded, "SortOrder": order}
                    for order, (label, default, responded) in enumerate(SANDBOX_STATUSES, start=1)]
        self.load({"records": {"Campaign": [campaign], "CampaignMemberStatus": statuses}})

    def _add_statuses(self, campaign_id: str, statuses: tuple[tuple[str, bool, bool], ...]) -> None:
        sobject = OBJECTS["CampaignMemberStatus"]
        for order, (label, default, responded) in enumerate(statuses, start=1):
            self._write(sobject.name, self._new_record(sobject, {
                "CampaignId": campaign_id, "Label": label, "IsDefault": default,
                "HasResponded": responded, "SortOrder": order}))

    def load(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Bulk-load records as they are (no org rules, no API usage); returns their IDs in order.

        Objects load parents first; a record may carry its own ``Id``; a campaign loaded without
        statuses gets Salesforce's two defaults. Unknown objects or fields raise ValueError.
        """
        records = payload.get("records", {})
        order = ["Account", "Campaign", "CampaignMemberStatus", "Contact", "Lead", "CampaignMember"]
        unknown = [name for name in records if lookup_object(name) is None]
        if unknown:
            raise ValueError(f"unknown sObject types: {unknown}")
        by_canonical = {lookup_object(name).name: rows for name, rows in records.items()}
        ids: dict[str, list[str]] = {}
        for name in order:
            if name in by_canonical:
                ids[name] = [self._load_one(OBJECTS[name], row) for row in by_canonical[name]]
        for campaign_id in ids.get("Campaign", ()):
            if not self.member_statuses(campaign_id):
                self._add_statuses(campaign_id, NEW_CAMPAIGN_STATUSES)
        return {"ids": ids}

    def _load_one(self, sobject: SObject, row: dict[str, Any]) -> str:
        try:
            fields = rules.canonical_payload(sobject, row)
        except SalesforceError as error:
            raise ValueError(error.message) from error
        record_id = normalize_id(fields.pop("Id", None)) if fields.get("Id") else None
        record = self._new_record(sobject, fields, record_id)
        if sobject.name in ("Contact", "Lead"):
            record["Name"] = " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p)
        if sobject.name == "CampaignMember":
            record["Type"] = "Contact" if record.get("ContactId") else "Lead"
            statuses = {s["Label"]: s for s in self.member_statuses(record["CampaignId"])}
            if "HasResponded" not in fields and record.get("Status") in statuses:
                record["HasResponded"] = statuses[record["Status"]]["HasResponded"]
        self._write(sobject.name, record)
        return record["Id"]

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to restore this org (JSON-serialisable)."""
        return {
            "records": {name: list(table.records.values()) for name, table in self.tables.items()},
            "counters": dict(self.counters),
            "sessions": dict(self.sessions),
            "refresh_tokens": sorted(self.refresh_tokens),
            "session_origins": dict(self.session_origins),
            "api_usage": self.api_usage,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SalesforceStore":
        store = cls.__new__(cls)
        store.tables = {name: Table(sobject) for name, sobject in OBJECTS.items()}
        for name, rows in data.get("records", {}).items():
            for row in rows:
                store.tables[name].put(dict(row))
        store.counters = {prefix: 0 for prefix in KEY_PREFIXES.values()} | data.get("counters", {})
        store.sessions = dict(data.get("sessions", {}))
        store.refresh_tokens = set(data.get("refresh_tokens", ()))
        store.session_origins = dict(data.get("session_origins", {}))
        store.api_usage = data.get("api_usage", 0)
        store.duplicate_rule = False
        store._journal = None
        return store

    def reset(self) -> None:
        """Back to a fresh org (the sandbox campaign only); settings such as the duplicate rule stay, and
        so do issued sessions and refresh tokens (new data in an org does not revoke its users' tokens)."""
        kept = (self.duplicate_rule, self.sessions, self.refresh_tokens, self.session_origins)
        self.__init__()
        self.duplicate_rule, self.sessions, self.refresh_tokens, self.session_origins = kept
