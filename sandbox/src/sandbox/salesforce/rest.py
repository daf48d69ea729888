"""The REST API under ``/services/data/vNN.N/``: a small route table of operations on the store.

Each operation takes a :class:`Call` and returns a :class:`Reply`; HTTP concerns (sessions, usage,
headers) stay in ``app.py``. Composite subrequests go through the same table, in-process.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping
from urllib.parse import parse_qsl, unquote, urlsplit

from starlette.routing import compile_path

from .describe import DESCRIBED, OBJECTS, SObject, describe_payload, object_for_id, sobject_summary
from .errors import SalesforceError, not_found
from .ids import make_id
from .settings import SalesforceSettings, page_size
from .soql import bind, parse
from .store import SalesforceStore

API_PATH = re.compile(r"^/services/data/v(?P<version>\d+\.\d+)(?P<rest>/.*)?$")
COLLECTION_LIMIT = 200
COMPOSITE_LIMIT = 25
MAX_OPEN_CURSORS = 500
REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)\.([^}]+)\}")
ROLLED_BACK = SalesforceError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone header",
)
HALTED = "The transaction was rolled back since another operation in the same transaction failed."


@dataclass
class Call:
    """One API call: method, version, path parameters, query string, parsed JSON body, headers."""

    method: str
    version: str
    params: dict[str, str]
    query: Mapping[str, str]
    body: Any
    headers: Mapping[str, str]


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def error_reply(error: SalesforceError, version: str) -> Reply:
    """Salesforce's top-level error list (300: the list of matching record URLs)."""
    if error.status == 300:
        sobject = object_for_id(error.extra["ids"][0])
        return Reply(300, [record_url(version, sobject.name, i) for i in error.extra["ids"]])
    return Reply(error.status, [error.as_rest()])


def record_url(version: str, sobject: str, record_id: str) -> str:
    return f"/services/data/v{version}/sobjects/{sobject}/{record_id}"


def render(version: str, sobject: SObject, record: dict[str, Any], fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    """A record as the API returns it: ``attributes`` then the fields asked for (all by default)."""
    names = fields or tuple(f.name for f in sobject.fields)
    return {"attributes": {"type": sobject.name, "url": record_url(version, sobject.name, record["Id"])},
            **{name: record.get(name) for name in names}}


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


class QueryCursors:
    """Open query results, paged by ``nextRecordsUrl`` (``/query/{locator}-{offset}``)."""

    def __init__(self) -> None:
        self.open: OrderedDict[str, tuple[SObject, list[dict[str, Any]], tuple[str, ...], int]] = OrderedDict()
        self.counter = 0

    def page(self, version: str, sobject: SObject, rows: list[dict[str, Any]], fields: tuple[str, ...],
             size: int, offset: int = 0, locator: str | None = None) -> dict[str, Any]:
        end = offset + size
        result: dict[str, Any] = {"totalSize": len(rows), "done": end >= len(rows)}
        if end < len(rows):
            if locator is None:
                self.counter += 1
                locator = make_id("01g", self.counter)
                self.open[locator] = (sobject, rows, fields, size)
                while len(self.open) > MAX_OPEN_CURSORS:
                    self.open.popitem(last=False)
            result["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{end}"
        result["records"] = [render(version, sobject, row, fields) for row in rows[offset:end]]
        return result

    def more(self, version: str, token: str) -> dict[str, Any]:
        locator, _, offset = token.partition("-")
        if locator not in self.open or not offset.isdigit():
            raise SalesforceError("INVALID_QUERY_LOCATOR", "invalid query locator")
        sobject, rows, fields, size = self.open[locator]
        return self.page(version, sobject, rows, fields, size, int(offset), locator)


class RestApi:
    """The operations of the REST API over one store."""

    def __init__(self, store: SalesforceStore, settings: SalesforceSettings) -> None:
        self.store = store
        self.settings = settings
        self.cursors = QueryCursors()
        self.routes: list[tuple[str, re.Pattern[str], Callable[[Call], Reply]]] = [
            (method, compile_path(path)[0], handler) for method, path, handler in (
                ("GET", "/", self.resources),
                ("GET", "/limits", self.limits),
                ("GET", "/query", self.query),
                ("GET", "/queryAll", self.query_all),
                ("GET", "/query/{token}", self.query_more),
                ("GET", "/queryAll/{token}", self.query_more),
                ("GET", "/sobjects", self.sobjects),
                ("GET", "/sobjects/{sobject}", self.sobject_info),
                ("GET", "/sobjects/{sobject}/describe", self.describe),
                ("POST", "/sobjects/{sobject}", self.create),
                ("GET", "/sobjects/{sobject}/{record_id}", self.retrieve),
                ("PATCH", "/sobjects/{sobject}/{record_id}", self.update),
                ("DELETE", "/sobjects/{sobject}/{record_id}", self.delete),
                ("GET", "/sobjects/{sobject}/{field}/{value}", self.retrieve_by_external_id),
                ("PATCH", "/sobjects/{sobject}/{field}/{value}", self.upsert),
                ("POST", "/composite/sobjects", self.collection_create),
                ("PATCH", "/composite/sobjects", self.collection_update),
                ("DELETE", "/composite/sobjects", self.collection_delete),
                ("PATCH", "/composite/sobjects/{sobject}/{field}", self.collection_upsert),
                ("POST", "/composite", self.composite),
            )
        ]

    # ------------------------------------------------------------ dispatch

    def handle(self, method: str, version: str, path: str, query: Mapping[str, str], body: Any,
               headers: Mapping[str, str]) -> Reply:
        """Route ``path`` (relative to ``/services/data/vNN.N``, any trailing slash) and run it."""
        path = "/" + path.strip("/")
        allowed = []
        for route_method, pattern, handler in self.routes:
            match = pattern.match(path)
            if not match:
                continue
            if route_method != method:
                allowed.append(route_method)
                continue
            params = {k: unquote(v) for k, v in match.groupdict().items()}
            try:
                return handler(Call(method, version, params, query, body, headers))
            except SalesforceError as error:
                return error_reply(error, version)
        if allowed:
            return Reply(405, [{"errorCode": "METHOD_NOT_ALLOWED",
                                "message": f"HTTP Method '{method}' not allowed. Allowed are {','.join(allowed)}"}])
        return error_reply(not_found(), version)

    # ------------------------------------------------------------ org and schema

    def resources(self, call: Call) -> Reply:
        base = f"/services/data/v{call.version}"
        return Reply(200, {name: f"{base}/{name}" for name in ("sobjects", "query", "queryAll", "limits", "composite")})

    def limits(self, call: Call) -> Reply:
        limit = self.settings.daily_api_limit
        return Reply(200, {
            "DailyApiRequests": {"Max": limit, "Remaining": max(0, limit - self.store.api_usage)},
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
            "DataStorageMB": {"Max": 1024, "Remaining": 1024},
        })

    def sobjects(self, call: Call) -> Reply:
        return Reply(200, {"encoding": "UTF-8", "maxBatchSize": COLLECTION_LIMIT,
                           "sobjects": [sobject_summary(OBJECTS[n], call.version) for n in sorted(OBJECTS)]})

    def sobject_info(self, call: Call) -> Reply:
        sobject = self.store.sobject(call.params["sobject"])
        return Reply(200, {"objectDescribe": sobject_summary(sobject, call.version), "recentItems": []})

    def describe(self, call: Call) -> Reply:
        sobject = self.store.sobject(call.params["sobject"])
        if sobject.name not in DESCRIBED + ("Account",):
            raise not_found()
        labels = tuple(dict.fromkeys(s["Label"] for s in self.store.member_statuses()))
        return Reply(200, describe_payload(sobject, call.version, labels))

    # ------------------------------------------------------------ SOQL

    def query(self, call: Call, include_deleted: bool = False) -> Reply:
        bound = bind(parse(call.query.get("q", "")))
        rows = self.store.select(bound, include_deleted)
        if bound.count_only:
            return Reply(200, {"totalSize": len(rows), "done": True, "records": []})
        size = page_size(self.settings, call.headers.get("sforce-query-options"))
        return Reply(200, self.cursors.page(call.version, bound.sobject, rows, bound.fields, size))

    def query_all(self, call: Call) -> Reply:
        return self.query(call, include_deleted=True)

    def query_more(self, call: Call) -> Reply:
        return Reply(200, self.cursors.more(call.version, call.params["token"]))

    # ------------------------------------------------------------ single records

    def create(self, call: Call) -> Reply:
        sobject = self.store.sobject(call.params["sobject"])
        record_id = self.store.create(sobject.name, _object_body(call.body))
        return Reply(201, {"id": record_id, "success": True, "errors": []},
                     {"Location": record_url(call.version, sobject.name, record_id)})

    def retrieve(self, call: Call) -> Reply:
        sobject = self.store.sobject(call.params["sobject"])
        record = self.store.get(sobject.name, call.params["record_id"])
        return Reply(200, render(call.version, sobject, record, self._field_list(sobject, call)))

    def update(self, call: Call) -> Reply:
        self.store.update(call.params["sobject"], call.params["record_id"], _object_body(call.body))
        return Reply(204)

    def delete(self, call: Call) -> Reply:
        self.store.delete(call.params["sobject"], call.params["record_id"])
        return Reply(204)

    def retrieve_by_external_id(self, call: Call) -> Reply:
        sobject = self.store.sobject(call.params["sobject"])
        field = sobject.field(call.params["field"])
        if field is None or not field.external_id:
            raise not_found(f"Provided external ID field does not exist or is not accessible: {call.params['field']}")
        matches = self.store.find(sobject.name, field.name, call.params["value"])
        if not matches:
            raise not_found()
        if len(matches) > 1:
            raise SalesforceError("MULTIPLE_CHOICES", "", status=300, extra={"ids": [r["Id"] for r in matches]})
        return Reply(200, render(call.version, sobject, matches[0], self._field_list(sobject, call)))

    def upsert(self, call: Call) -> Reply:
        sobject = self.store.sobject(call.params["sobject"])
        record_id, created = self.store.upsert(
            sobject.name, call.params["field"], call.params["value"], _object_body(call.body),
            update_only=_flag(call.query.get("updateOnly")))
        result = {"id": record_id, "success": True, "errors": [], "created": created}
        if created:
            return Reply(201, result, {"Location": record_url(call.version, sobject.name, record_id)})
        return Reply(200, result)

    def _field_list(self, sobject: SObject, call: Call) -> tuple[str, ...] | None:
        names = [n.strip() for n in call.query.get("fields", "").split(",") if n.strip()]
        fields = [sobject.field(n) for n in names]
        if None in fields:
            bad = names[fields.index(None)]
            raise SalesforceError("INVALID_FIELD", f"No such column '{bad}' on entity '{sobject.name}'.")
        return tuple(f.name for f in fields) or None

    # ------------------------------------------------------------ sObject Collections

    def collection_create(self, call: Call) -> Reply:
        records, all_or_none = _collection_body(call.body)

        def create(record: dict[str, Any]) -> dict[str, Any]:
            record_id = self.store.create(_record_type(record), record)
            return {"id": record_id, "success": True, "errors": []}

        return Reply(200, self._save_all(records, all_or_none, create, keep_id=False))

    def collection_update(self, call: Call) -> Reply:
        records, all_or_none = _collection_body(call.body)

        def update(record: dict[str, Any]) -> dict[str, Any]:
            record_id = record.get("Id") or record.get("id")
            if not record_id:
                raise SalesforceError("MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
            self.store.update(_record_type(record), record_id, record)
            return {"id": record_id, "success": True, "errors": []}

        return Reply(200, self._save_all(records, all_or_none, update, keep_id=True))

    def collection_delete(self, call: Call) -> Reply:
        ids = [i for i in call.query.get("ids", "").split(",") if i]
        if not ids or len(ids) > COLLECTION_LIMIT:
            raise _collection_size_error(len(ids))

        def delete(record_id: str) -> dict[str, Any]:
            sobject = object_for_id(record_id)
            if sobject is None:
                raise SalesforceError("MALFORMED_ID", f"malformed id {record_id}", ["Id"])
            self.store.delete(sobject.name, record_id)
            return {"id": record_id, "success": True, "errors": []}

        return Reply(200, self._save_all(ids, _flag(call.query.get("allOrNone")), delete, keep_id=True))

    def collection_upsert(self, call: Call) -> Reply:
        records, all_or_none = _collection_body(call.body)
        sobject = self.store.sobject(call.params["sobject"])
        field_name = call.params["field"]

        def upsert(record: dict[str, Any]) -> dict[str, Any]:
            if _record_type(record).lower() != sobject.name.lower():
                raise SalesforceError("INVALID_TYPE", f"Records must all be of type {sobject.name}")
            value = next((v for k, v in record.items() if k.lower() == field_name.lower()), None)
            if value in (None, ""):
                raise SalesforceError("MISSING_ARGUMENT", f"{field_name} not specified", [field_name])
            body = {k: v for k, v in record.items() if k != "attributes"}
            record_id, created = self.store.upsert(sobject.name, field_name, str(value), body)
            return {"id": record_id, "success": True, "errors": [], "created": created}

        return Reply(200, self._save_all(records, all_or_none, upsert, keep_id=False))

    def _save_all(self, items: list[Any], all_or_none: bool, save: Callable[[Any], dict[str, Any]],
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

    # ------------------------------------------------------------ Composite

    def composite(self, call: Call) -> Reply:
        body = _object_body(call.body)
        subrequests = body.get("compositeRequest")
        if not isinstance(subrequests, list) or not subrequests:
            raise SalesforceError("INVALID_INPUT", "compositeRequest is required")
        if len(subrequests) > COMPOSITE_LIMIT:
            raise SalesforceError("LIMIT_EXCEEDED", f"The number of subrequests exceeded the limit of {COMPOSITE_LIMIT}.")
        if _flag(body.get("allOrNone")):
            return Reply(200, {"compositeResponse": self._composite_all_or_none(subrequests)})
        outputs: dict[str, Any] = {}
        return Reply(200, {"compositeResponse": [self._subrequest(s, outputs, call) for s in subrequests]})

    def _composite_all_or_none(self, subrequests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        class RollBack(Exception):
            pass

        outputs: dict[str, Any] = {}
        responses: list[dict[str, Any]] = []
        try:
            with self.store.transaction():
                for subrequest in subrequests:
                    responses.append(self._subrequest(subrequest, outputs, None))
                    if responses[-1]["httpStatusCode"] >= 400:
                        raise RollBack
        except RollBack:
            failed = len(responses) - 1
            halted = [self._halted(s.get("referenceId"), HALTED) for s in subrequests]
            return halted[:failed] + [responses[failed]] + halted[failed + 1:]
        return responses

    def _halted(self, reference_id: str | None, message: str) -> dict[str, Any]:
        return {"body": [{"errorCode": "PROCESSING_HALTED", "message": message}], "httpHeaders": {},
                "httpStatusCode": 400, "referenceId": reference_id}

    def _subrequest(self, subrequest: dict[str, Any], outputs: dict[str, Any], outer: Call | None) -> dict[str, Any]:
        reference_id = subrequest.get("referenceId")
        try:
            url = _substitute(subrequest.get("url", ""), outputs)
            body = _substitute(subrequest.get("body"), outputs)
        except KeyError as missing:
            return self._halted(reference_id, f"Invalid reference specified. No value for {missing.args[0]} "
                                              f"found in {missing.args[0].split('.')[0]}.")
        parts = urlsplit(url)
        match = API_PATH.match(parts.path)
        if not match:
            reply = error_reply(not_found(), "59.0")
        else:
            reply = self.handle(str(subrequest.get("method", "GET")).upper(), match["version"],
                                match["rest"] or "/", dict(parse_qsl(parts.query)), body,
                                {k.lower(): v for k, v in (subrequest.get("httpHeaders") or {}).items()})
        if reference_id and reply.status < 400:
            outputs[reference_id] = reply.body
        return {"body": reply.body, "httpHeaders": reply.headers, "httpStatusCode": reply.status,
                "referenceId": reference_id}


# ---------------------------------------------------------------- body helpers


def _object_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise SalesforceError("JSON_PARSER_ERROR", "The request body must be a JSON object")
    return body


def _collection_size_error(size: int) -> SalesforceError:
    if size == 0:
        return SalesforceError("INVALID_INPUT", "records are required")
    return SalesforceError("EXCEEDED_ID_LIMIT",
                           f"record limit reached. cannot submit more than {COLLECTION_LIMIT} records into this call")


def _collection_body(body: Any) -> tuple[list[dict[str, Any]], bool]:
    body = _object_body(body)
    records = body.get("records")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise SalesforceError("JSON_PARSER_ERROR", "records must be a list of JSON objects")
    if not records or len(records) > COLLECTION_LIMIT:
        raise _collection_size_error(len(records))
    return records, _flag(body.get("allOrNone", False))


def _record_type(record: dict[str, Any]) -> str:
    attributes = record.get("attributes")
    sobject_type = attributes.get("type") if isinstance(attributes, dict) else None
    if not sobject_type:
        raise SalesforceError("INVALID_TYPE", "Must send a concrete entity type.")
    if sobject_type.lower() not in {name.lower() for name in OBJECTS}:
        raise SalesforceError("INVALID_TYPE", f"sObject type '{sobject_type}' is not supported.")
    return sobject_type


def _failure(error: SalesforceError, record_id: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"success": False, "errors": [error.as_save_error()]}
    if isinstance(record_id, dict):
        record_id = record_id.get("Id") or record_id.get("id")
    if record_id:
        result = {"id": record_id, **result}
    return result


def _resolve(outputs: dict[str, Any], expression: str) -> Any:
    """The value of ``ref.path`` (``records[0].Id`` style paths) among earlier outputs."""
    reference, _, path = expression.partition(".")
    value: Any = outputs[reference] if reference in outputs else None
    for step in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if value is None:
            break
        if step.startswith("["):
            index = int(step[1:-1])
            value = value[index] if isinstance(value, list) and index < len(value) else None
        else:
            value = value.get(step) if isinstance(value, dict) else None
    if value is None:
        raise KeyError(expression)
    return value


def _substitute(value: Any, outputs: dict[str, Any]) -> Any:
    """``@{ref.path}`` references replaced inside strings, lists and objects."""
    if isinstance(value, str):
        return REFERENCE.sub(lambda m: str(_resolve(outputs, f"{m[1]}.{m[2]}")), value)
    if isinstance(value, list):
        return [_substitute(item, outputs) for item in value]
    if isinstance(value, dict):
        return {key: _substitute(item, outputs) for key, item in value.items()}
    return value
