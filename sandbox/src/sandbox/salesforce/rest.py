"""The REST API under ``/services/data/vNN.N/``: a small route table of operations on the store.

Each operation takes a :class:`Call` and returns a :class:`Reply`; HTTP concerns (sessions, usage,
headers, URI length) stay in ``app.py``. Collections and Composite live in their own modules and
go through the same table; Composite subrequests run in-process.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any, Callable, Mapping
from urllib.parse import unquote

from starlette.routing import compile_path

from .calls import Call, Reply, error_reply
from .composite import Composite
from .describe import describe_payload, sobject_summary
from .errors import SalesforceError, not_found
from .ids import make_id
from .records import record_url, render, render_row
from .schema import SObject
from .settings import SalesforceSettings, page_size
from .sobject_collections import COLLECTION_LIMIT, Collections, flag, object_body
from .soql_eval import bind
from .soql_parser import parse
from .store import SalesforceStore
from .versions import API_VERSIONS

MAX_OPEN_CURSORS = 500
Row = Callable[[dict[str, Any]], dict[str, Any]]


class QueryCursors:
    """Open query results, paged by ``nextRecordsUrl`` (``/query/{locator}-{offset}``)."""

    def __init__(self) -> None:
        self.open: OrderedDict[str, tuple[list[dict[str, Any]], Row, int]] = OrderedDict()
        self.counter = 0

    def page(self, version: str, rows: list[dict[str, Any]], render_one: Row, size: int, offset: int = 0,
             locator: str | None = None) -> dict[str, Any]:
        end = offset + size
        result: dict[str, Any] = {"totalSize": len(rows), "done": end >= len(rows)}
        if end < len(rows):
            if locator is None:
                self.counter += 1
                locator = make_id("01g", self.counter)
                self.open[locator] = (rows, render_one, size)
                while len(self.open) > MAX_OPEN_CURSORS:
                    self.open.popitem(last=False)
            result["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{end}"
        result["records"] = [render_one(row) for row in rows[offset:end]]
        return result

    def more(self, version: str, token: str) -> dict[str, Any]:
        locator, _, offset = token.partition("-")
        if locator not in self.open or not offset.isdigit():
            raise SalesforceError("INVALID_QUERY_LOCATOR", "invalid query locator")
        rows, render_one, size = self.open[locator]
        return self.page(version, rows, render_one, size, int(offset), locator)


class RestApi:
    """The operations of the REST API over one store."""

    def __init__(self, store: SalesforceStore, settings: SalesforceSettings) -> None:
        self.store = store
        self.settings = settings
        self.cursors = QueryCursors()
        collections, composite = Collections(self), Composite(self)
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
                ("POST", "/composite/sobjects", collections.create),
                ("PATCH", "/composite/sobjects", collections.update),
                ("DELETE", "/composite/sobjects", collections.delete),
                ("GET", "/composite/sobjects/{sobject}", collections.retrieve),
                ("POST", "/composite/sobjects/{sobject}", collections.retrieve),
                ("PATCH", "/composite/sobjects/{sobject}/{field}", collections.upsert),
                ("POST", "/composite", composite.composite),
                ("POST", "/composite/batch", composite.batch),
            )
        ]

    # ------------------------------------------------------------ dispatch

    @staticmethod
    def serves(version: str) -> bool:
        return version in API_VERSIONS

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
                return error_reply(error, version, self.store.schema)
        if allowed:
            return Reply(405, [{"errorCode": "METHOD_NOT_ALLOWED",
                                "message": f"HTTP Method '{method}' not allowed. Allowed are {','.join(allowed)}"}])
        return error_reply(not_found(), version, self.store.schema)

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
        objects = self.store.schema.objects
        return Reply(200, {"encoding": "UTF-8", "maxBatchSize": COLLECTION_LIMIT,
                           "sobjects": [sobject_summary(objects[n], call.version) for n in sorted(objects)]})

    def sobject_info(self, call: Call) -> Reply:
        sobject = self.store.sobject(call.params["sobject"])
        return Reply(200, {"objectDescribe": sobject_summary(sobject, call.version), "recentItems": []})

    def describe(self, call: Call) -> Reply:
        sobject = self.store.sobject(call.params["sobject"])
        labels = tuple(dict.fromkeys(s["Label"] for s in self.store.member_statuses()))
        return Reply(200, describe_payload(sobject, call.version, labels))

    # ------------------------------------------------------------ SOQL

    def query(self, call: Call, include_deleted: bool = False) -> Reply:
        bound = bind(parse(call.query.get("q", "")), self.store.schema)
        rows = self.store.select(bound, include_deleted)
        if bound.count_only:
            return Reply(200, {"totalSize": len(rows), "done": True, "records": []})
        size = page_size(self.settings, call.headers.get("sforce-query-options"))

        def render_one(row: dict[str, Any]) -> dict[str, Any]:
            return render_row(call.version, bound.sobject, row, bound.fields, self.store.parent)

        return Reply(200, self.cursors.page(call.version, rows, render_one, size))

    def query_all(self, call: Call) -> Reply:
        return self.query(call, include_deleted=True)

    def query_more(self, call: Call) -> Reply:
        return Reply(200, self.cursors.more(call.version, call.params["token"]))

    # ------------------------------------------------------------ single records

    def create(self, call: Call) -> Reply:
        sobject = self.store.sobject(call.params["sobject"])
        record_id = self.store.create(sobject.name, object_body(call.body))
        return Reply(201, {"id": record_id, "success": True, "errors": []},
                     {"Location": record_url(call.version, sobject.name, record_id)})

    def retrieve(self, call: Call) -> Reply:
        sobject = self.store.sobject(call.params["sobject"])
        record = self.store.get(sobject.name, call.params["record_id"])
        return Reply(200, render(call.version, sobject, record, self._fields_param(sobject, call)))

    def update(self, call: Call) -> Reply:
        self.store.update(call.params["sobject"], call.params["record_id"], object_body(call.body))
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
        return Reply(200, render(call.version, sobject, matches[0], self._fields_param(sobject, call)))

    def upsert(self, call: Call) -> Reply:
        sobject = self.store.sobject(call.params["sobject"])
        record_id, created = self.store.upsert(
            sobject.name, call.params["field"], call.params["value"], object_body(call.body),
            update_only=flag(call.query.get("updateOnly")))
        result = {"id": record_id, "success": True, "errors": [], "created": created}
        if created:
            return Reply(201, result, {"Location": record_url(call.version, sobject.name, record_id)})
        return Reply(200, result)

    def _fields_param(self, sobject: SObject, call: Call) -> tuple[str, ...] | None:
        return self.field_list(sobject, call.query.get("fields", "").split(",")) or None

    def field_list(self, sobject: SObject, names: list[str]) -> tuple[str, ...]:
        """Canonical names of ``names`` (blanks skipped); INVALID_FIELD on an unknown one."""
        fields = []
        for name in (n.strip() for n in names if isinstance(n, str) and n.strip()):
            field = sobject.field(name)
            if field is None:
                raise SalesforceError("INVALID_FIELD", f"No such column '{name}' on entity '{sobject.name}'.")
            fields.append(field.name)
        return tuple(fields)
