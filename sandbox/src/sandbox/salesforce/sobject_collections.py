"""sObject Collections (``/composite/sobjects``): create, update, upsert, delete and retrieve up to
200 records in one call, with per-record results in input order and optional ``allOrNone``."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any, Callable

from .calls import Call, Reply
from .errors import SalesforceError, malformed_id
from .ids import normalize_id
from .records import render
from .soql_eval import comparable

if TYPE_CHECKING:
    from .rest import RestApi

COLLECTION_LIMIT = 200
CHUNK_LIMIT = 10  # runs of consecutive records of one type, per create or update call
ROLLED_BACK = SalesforceError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone header",
)


def flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def object_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise SalesforceError("JSON_PARSER_ERROR", "The request body must be a JSON object")
    return body


def _size_error(size: int) -> SalesforceError:
    if size == 0:
        return SalesforceError("INVALID_INPUT", "records are required")
    return SalesforceError("EXCEEDED_ID_LIMIT",
                           f"record limit reached. cannot submit more than {COLLECTION_LIMIT} records into this call")


def _records(body: Any) -> tuple[list[dict[str, Any]], bool]:
    body = object_body(body)
    records = body.get("records")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise SalesforceError("JSON_PARSER_ERROR", "records must be a list of JSON objects")
    if not records or len(records) > COLLECTION_LIMIT:
        raise _size_error(len(records))
    types = [str((r.get("attributes") or {}).get("type", "")).lower() if isinstance(r.get("attributes"), dict) else ""
             for r in records]
    if 1 + sum(a != b for a, b in zip(types, types[1:])) > CHUNK_LIMIT:
        raise SalesforceError("INVALID_OPERATION", f"Cannot have more than {CHUNK_LIMIT} chunks in a single "
                              "operation. Please rearrange the data to reduce chunking.")
    return records, flag(body.get("allOrNone", False))


def _failure(error: SalesforceError, record_id: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"success": False, "errors": [error.as_save_error()]}
    if isinstance(record_id, dict):
        record_id = record_id.get("Id") or record_id.get("id")
    if record_id:
        result = {"id": record_id, **result}
    return result


class Collections:
    """The Collections operations of one REST API."""

    def __init__(self, api: "RestApi") -> None:
        self.api = api
        self.store = api.store

    def record_type(self, record: dict[str, Any]) -> str:
        attributes = record.get("attributes")
        sobject_type = attributes.get("type") if isinstance(attributes, dict) else None
        if not sobject_type:
            raise SalesforceError("INVALID_TYPE", "Must send a concrete entity type.")
        if self.store.schema.lookup(sobject_type) is None:
            raise SalesforceError("INVALID_TYPE", f"sObject type '{sobject_type}' is not supported.")
        return sobject_type

    def create(self, call: Call) -> Reply:
        records, all_or_none = _records(call.body)

        def create(record: dict[str, Any]) -> dict[str, Any]:
            return {"id": self.store.create(self.record_type(record), record), "success": True, "errors": []}

        return Reply(200, self.save_all(records, all_or_none, create, keep_id=False))

    def update(self, call: Call) -> Reply:
        records, all_or_none = _records(call.body)

        def update(record: dict[str, Any]) -> dict[str, Any]:
            record_id = record.get("Id") or record.get("id")
            if not record_id:
                raise SalesforceError("MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
            return {"id": self.store.update(self.record_type(record), record_id, record), "success": True, "errors": []}

        return Reply(200, self.save_all(records, all_or_none, update, keep_id=True))

    def delete(self, call: Call) -> Reply:
        ids = [i for i in call.query.get("ids", "").split(",") if i]
        if not ids or len(ids) > COLLECTION_LIMIT:
            raise _size_error(len(ids))

        def delete(record_id: str) -> dict[str, Any]:
            full_id = normalize_id(record_id)
            sobject = self.store.schema.for_id(full_id) if full_id else None
            if sobject is None:
                raise SalesforceError("MALFORMED_ID", f"malformed id {record_id}", ["Id"])
            self.store.delete(sobject.name, full_id)
            return {"id": full_id, "success": True, "errors": []}

        return Reply(200, self.save_all(ids, flag(call.query.get("allOrNone")), delete, keep_id=True))

    def upsert(self, call: Call) -> Reply:
        """Upsert on an external ID: records sharing a value (compared as the field compares) all fail
        with ``DUPLICATE_VALUE`` "Duplicate external id specified"; one matching several records
        fails with ``DUPLICATE_EXTERNAL_ID``."""
        records, all_or_none = _records(call.body)
        sobject = self.store.sobject(call.params["sobject"])
        field_name = call.params["field"]
        field = sobject.field(field_name)

        def value_of(record: dict[str, Any]) -> Any:
            return next((v for k, v in record.items() if k.lower() == field_name.lower()), None)

        keys = Counter(comparable(field.type, str(value_of(r))) for r in records if field and value_of(r) not in (None, ""))

        def upsert(record: dict[str, Any]) -> dict[str, Any]:
            if self.record_type(record).lower() != sobject.name.lower():
                raise SalesforceError("INVALID_TYPE", f"Records must all be of type {sobject.name}")
            value = value_of(record)
            if value in (None, ""):
                raise SalesforceError("MISSING_ARGUMENT", f"{field_name} not specified", [field_name])
            if field and keys[comparable(field.type, str(value))] > 1:
                raise SalesforceError("DUPLICATE_VALUE", f"Duplicate external id specified: {value}", [field.name])
            body = {k: v for k, v in record.items() if k != "attributes"}
            try:
                record_id, created = self.store.upsert(sobject.name, field_name, str(value), body)
            except SalesforceError as error:
                if error.status != 300:
                    raise
                raise SalesforceError("DUPLICATE_EXTERNAL_ID", "More than one record found for external id field: "
                                      f"{error.extra['ids']}", [field.name]) from error
            return {"id": record_id, "success": True, "errors": [], "created": created}

        return Reply(200, self.save_all(records, all_or_none, upsert, keep_id=False))

    def retrieve(self, call: Call) -> Reply:
        """``GET ?ids=&fields=`` or ``POST {"ids", "fields"}``: the records in order, null where an Id
        names no live record of the type; a malformed Id refuses the call."""
        sobject = self.store.sobject(call.params["sobject"])
        if call.method == "POST":
            body = object_body(call.body)
            ids, names = body.get("ids"), body.get("fields")
        else:
            ids = [i for i in call.query.get("ids", "").split(",") if i]
            names = [n for n in call.query.get("fields", "").split(",") if n]
        if not isinstance(ids, list) or not isinstance(names, list) or not names:
            raise SalesforceError("INVALID_INPUT", "ids and fields are required")
        if not ids or len(ids) > 2000:
            raise SalesforceError("EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 2000 records into this call")
        fields = self.api.field_list(sobject, names)
        rows = []
        for record_id in ids:
            full_id = normalize_id(record_id)
            if full_id is None:
                raise malformed_id(sobject.name, record_id)
            record = self.store.tables[sobject.name].records.get(full_id)
            rows.append(render(call.version, sobject, record, fields) if record and not record["IsDeleted"] else None)
        return Reply(200, rows)

    def save_all(self, items: list[Any], all_or_none: bool, save: Callable[[Any], dict[str, Any]],
                 keep_id: bool) -> list[dict[str, Any]]:
        """Per-item results in input order; with ``all_or_none`` one failure rolls every write back."""

        class RollBack(Exception):
            pass

        results: list[dict[str, Any]] = []
        try:
            with self.store.transaction():
                for item in items:
                    try:
                        with self.store.transaction():
                            results.append(save(item))
                    except SalesforceError as error:
                        results.append(_failure(error, item if keep_id else None))
                if all_or_none and any(not r["success"] for r in results):
                    raise RollBack
        except RollBack:
            results = [r if not r["success"] else _failure(ROLLED_BACK, r["id"] if keep_id else None)
                       for r in results]
        return results
