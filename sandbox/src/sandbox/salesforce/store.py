"""The in-memory org: records per object, indexes for the fields the sync filters on, undo-journal
transactions for allOrNone, sessions and API usage; the org's object rules are in ``org_rules.py``.

Deleted records stay in their table with ``IsDeleted`` true (the recycle bin): ``queryAll`` sees
them, everything else answers ENTITY_IS_DELETED. Every read and write holds one re-entrant lock, so
concurrent callers (threads as well as requests) are serialised: two upserts of one external-ID value
can never both create.
"""

from __future__ import annotations

import copy
import secrets
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, TypeVar

from . import bulk_load, rules
from .bulk_load import NEW_CAMPAIGN_STATUSES
from .errors import SalesforceError, entity_is_deleted, malformed_id, not_found
from .ids import KEY_PREFIXES, make_id, normalize_id
from .org_rules import apply_object_rules
from .schema import FULL, SObject, schema_for
from .soql_eval import BoundQuery, Condition, Junction, evaluate, resolve_semi_joins, sort_records
from .table import Table

SANDBOX_CAMPAIGN_ID = "701000000000001AAA"
SANDBOX_CAMPAIGN_NAME = "Eventmaker Sandbox Event"
SANDBOX_STATUSES = (  # label, is default, has responded
    ("Sent", True, False), ("Responded", False, True), ("Invited", False, False),
    ("Registered", False, False), ("Attended", False, True), ("No Show", False, False),
    ("Cancelled", False, False),
)
CHILDREN = {  # deleting a parent deletes these children (Salesforce's cascade for members)
    "Contact": (("CampaignMember", "ContactId"),),
    "Lead": (("CampaignMember", "LeadId"),),
    "Campaign": (("CampaignMember", "CampaignId"), ("CampaignMemberStatus", "CampaignId")),
}
ORG_ID = "00D000000000001AAA"
USER_ID = "005000000000001AAA"
INTEGRATION_USER = {"Id": USER_ID, "Username": "integration@sandbox.example", "FirstName": "Integration",
                    "LastName": "User", "Email": "integration@sandbox.example", "IsActive": True}
Result = TypeVar("Result")


def locked(method: Callable[..., Result]) -> Callable[..., Result]:
    """Run ``method`` holding the store's lock."""
    def run(self: "SalesforceStore", *args: Any, **kwargs: Any) -> Result:
        with self.lock:
            return method(self, *args, **kwargs)
    run.__doc__, run.__name__ = method.__doc__, method.__name__
    return run


def now_stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class SalesforceStore:
    """An org with the sandbox campaign; every write goes through the org's rules."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.schema = FULL
        self.tables = {name: Table(sobject) for name, sobject in FULL.objects.items()}
        self.counters = {prefix: 0 for prefix in KEY_PREFIXES.values()}
        self.sessions: dict[str, float] = {}
        self.refresh_tokens: set[str] = set()
        self.session_origins: dict[str, str] = {}  # access token -> the refresh token it came from
        self.api_usage = 0
        self.duplicate_rule = False
        self._journal: list[tuple[str, str, dict[str, Any] | None]] | None = None
        self._seed_org()

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

    @property
    def state_country_picklists(self) -> bool:
        return self.schema is schema_for(True)

    @state_country_picklists.setter
    def state_country_picklists(self, enabled: bool) -> None:
        self.schema = schema_for(enabled)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Undo every write made inside the block if it raises (nested blocks are savepoints)."""
        with self.lock:
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

    def write_raw(self, name: str, record: dict[str, Any]) -> None:
        """Store ``record`` as it is (journaled; no rules): for rules that adjust other records."""
        self._write(name, record)

    def _write(self, name: str, record: dict[str, Any]) -> None:
        table = self.tables[name]
        if self._journal is not None:
            old = table.records.get(record["Id"])
            self._journal.append((name, record["Id"], copy.copy(old) if old else None))
        table.put(record)

    # ------------------------------------------------------------ reads

    def sobject(self, name: str) -> SObject:
        sobject = self.schema.lookup(name)
        if sobject is None:
            raise not_found()
        return sobject

    def parent(self, record_id: str) -> dict[str, Any] | None:
        """The record with this (18-character) Id, deleted or not, of any object."""
        sobject = self.schema.for_id(record_id)
        return self.tables[sobject.name].records.get(record_id) if sobject else None

    @locked
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

    @locked
    def find(self, name: str, field_name: str, value: Any) -> list[dict[str, Any]]:
        """Live records whose indexed ``field_name`` equals ``value`` (case-insensitive text)."""
        table = self.tables[name]
        ids = table.lookup(field_name, (table.key(field_name, value),))
        return sorted(table.live(ids), key=lambda r: table.position[r["Id"]])

    @locked
    def select(self, query: BoundQuery, include_deleted: bool = False) -> list[dict[str, Any]]:
        """The records a bound SOQL query matches (semi-joins first), using an index when it can."""
        table = self.tables[query.sobject.name]
        where = resolve_semi_joins(query.where, self.select, self.parent)
        ids = self._candidates(table, where)
        if ids is None:
            rows = list(table.records.values())
        else:
            rows = [table.records[i] for i in sorted(ids, key=table.position.__getitem__)]
        rows = [r for r in rows if (include_deleted or not r["IsDeleted"])
                and (where is None or evaluate(where, r, self.parent))]
        if query.order_by:
            rows = sort_records(rows, query.order_by, self.parent)
        end = None if query.limit is None else query.offset + query.limit
        return rows[query.offset : end]

    def _candidates(self, table: Table, node: Any) -> set[str] | None:
        """A superset of the IDs matching ``node`` from the indexes, or None (scan everything)."""
        if isinstance(node, Condition) and node.ref.direct and node.op in ("=", "IN") and None not in node.values:
            return table.lookup(node.ref.direct, node.values)  # nulls are not indexed
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

    @locked
    def create(self, name: str, payload: dict[str, Any]) -> str:
        """Validate and insert one record; returns its ID."""
        sobject = self.sobject(name)
        fields = rules.canonical_payload(sobject, payload)
        if "Id" in fields:
            raise SalesforceError("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
        rules.check_writable(sobject, fields, creating=True)
        fields = rules.coerce_values(sobject, fields)
        record = self.new_record(sobject, fields)
        rules.check_required(sobject, record)
        self._check_references(sobject, fields)
        with self.transaction():
            apply_object_rules(self, sobject, record, None)
            self._write(sobject.name, record)
            if sobject.name == "Campaign":
                self.add_statuses(record["Id"], NEW_CAMPAIGN_STATUSES)
        return record["Id"]

    @locked
    def update(self, name: str, record_id: str, payload: dict[str, Any]) -> str:
        """Validate and apply a partial update of one record; returns its 18-character ID."""
        current = self.get(name, record_id)
        sobject = self.sobject(name)
        fields = rules.canonical_payload(sobject, payload)
        fields.pop("Id", None)
        rules.check_writable(sobject, fields, creating=False)
        if sobject.name == "Lead" and current["IsConverted"]:
            raise SalesforceError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", ["Id"])
        fields = rules.coerce_values(sobject, fields)
        stamp = now_stamp()
        record = {**current, **fields, "LastModifiedDate": stamp, "SystemModstamp": stamp, "LastModifiedById": USER_ID}
        rules.check_required(sobject, record)
        self._check_references(sobject, fields)
        with self.transaction():
            apply_object_rules(self, sobject, record, current)
            self._write(sobject.name, record)
        return record["Id"]

    @locked
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
        if field.name == "Id":
            full_id = normalize_id(value)
            if full_id is None or not full_id.startswith(sobject.key_prefix):
                raise malformed_id(sobject.name, value)
            matches = [r for r in [self.tables[sobject.name].records.get(full_id)] if r and not r["IsDeleted"]]
        else:
            matches = self.find(sobject.name, field.name, value)
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

    @locked
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

    def new_record(self, sobject: SObject, fields: dict[str, Any], record_id: str | None = None) -> dict[str, Any]:
        stamp = now_stamp()
        record = dict(sobject.defaults, CreatedById=USER_ID, LastModifiedById=USER_ID)
        if "OwnerId" in record:
            record["OwnerId"] = USER_ID
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
            target = self.schema.for_id(value)
            record = self.tables[target.name].records.get(value) if target else None
            if (target is None or target.name not in field.reference_to or record is None
                    or record["IsDeleted"]):
                raise SalesforceError("INVALID_CROSS_REFERENCE_KEY",
                                      "invalid cross reference id", [name])

    # ------------------------------------------------------------ bulk load and persistence

    def _seed_org(self) -> None:
        """The integration user, and the sandbox campaign with its statuses."""
        self.load({"records": {"User": [INTEGRATION_USER]}})
        campaign = {"Id": SANDBOX_CAMPAIGN_ID, "Name": SANDBOX_CAMPAIGN_NAME, "IsActive": True,
                    "Status": "In Progress", "Type": "Conference"}
        statuses = [{"CampaignId": SANDBOX_CAMPAIGN_ID, "Label": label, "IsDefault": default,
                     "HasResponded": responded, "SortOrder": order}
                    for order, (label, default, responded) in enumerate(SANDBOX_STATUSES, start=1)]
        self.load({"records": {"Campaign": [campaign], "CampaignMemberStatus": statuses}})

    def add_statuses(self, campaign_id: str, statuses: tuple[tuple[str, bool, bool], ...]) -> None:
        """Statuses ``(label, is default, has responded)`` for a campaign, in this order (no rules)."""
        sobject = FULL.objects["CampaignMemberStatus"]
        for order, (label, default, responded) in enumerate(statuses, start=1):
            self._write(sobject.name, self.new_record(sobject, {
                "CampaignId": campaign_id, "Label": label, "IsDefault": default,
                "HasResponded": responded, "SortOrder": order}))

    @locked
    def load(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Bulk-load records as they are (no org rules, no API usage): see ``bulk_load.load``."""
        return bulk_load.load(self, payload)

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
        store.lock = threading.RLock()
        store.schema = FULL
        store.tables = {name: Table(sobject) for name, sobject in FULL.objects.items()}
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
        if USER_ID not in store.tables["User"].records:  # saved before the org had users
            store.load({"records": {"User": [INTEGRATION_USER]}})
        return store

    def reset(self) -> None:
        """Back to a fresh org (the sandbox campaign only); settings such as the duplicate rule stay, and
        so do issued sessions and refresh tokens (new data in an org does not revoke its users' tokens)."""
        kept = (self.duplicate_rule, self.sessions, self.refresh_tokens, self.session_origins)
        schema = self.schema
        self.__init__()
        self.schema = schema
        self.duplicate_rule, self.sessions, self.refresh_tokens, self.session_origins = kept
