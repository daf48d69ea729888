"""Composite (``/composite``: dependent subrequests with ``@{ref.path}`` references and optional
``allOrNone``) and Composite Batch (``/composite/batch``: independent subrequests), run in-process
through the REST API's own route table, within Salesforce's limits: 25 subrequests per call, of
which at most 5 query/queryAll or sObject Collections operations (Composite)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from .calls import Call, Reply, error_reply
from .errors import SalesforceError, not_found
from .sobject_collections import flag, object_body

if TYPE_CHECKING:
    from .rest import RestApi

API_PATH = re.compile(r"^/services/data/v(?P<version>\d+\.\d+)(?P<rest>/.*)?$")
SUBREQUEST_LIMIT = 25
QUERY_OR_COLLECTIONS_LIMIT = 5
QUERY_OR_COLLECTIONS = re.compile(r"^/(?:query|queryAll)(?:/|$)|^/composite/sobjects(?:/|$)")
REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)\.([^}]+)\}")
HALTED = "The transaction was rolled back since another operation in the same transaction failed."


def _limit_refusal(message: str) -> Reply:
    """The whole call refused, as Salesforce answers it: one 400 entry with no referenceId."""
    return Reply(200, {"compositeResponse": [{"body": [{"errorCode": "LIMIT_EXCEEDED", "message": message}],
                                              "httpHeaders": {}, "httpStatusCode": 400, "referenceId": None}]})


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


def _halted(reference_id: str | None, message: str) -> dict[str, Any]:
    return {"body": [{"errorCode": "PROCESSING_HALTED", "message": message}], "httpHeaders": {},
            "httpStatusCode": 400, "referenceId": reference_id}


class Composite:
    """The Composite resources of one REST API."""

    def __init__(self, api: "RestApi") -> None:
        self.api = api
        self.store = api.store

    def composite(self, call: Call) -> Reply:
        body = object_body(call.body)
        subrequests = body.get("compositeRequest")
        if not isinstance(subrequests, list) or not subrequests:
            raise SalesforceError("INVALID_INPUT", "compositeRequest is required")
        if len(subrequests) > SUBREQUEST_LIMIT:
            return _limit_refusal(f"The request can’t contain more than {SUBREQUEST_LIMIT} operations.")
        heavy = sum(1 for s in subrequests if QUERY_OR_COLLECTIONS.match(self._relative_path(s)))
        if heavy > QUERY_OR_COLLECTIONS_LIMIT:
            return _limit_refusal(f"The request can’t contain more than {QUERY_OR_COLLECTIONS_LIMIT} "
                                  "query or sObject Collections operations.")
        if flag(body.get("allOrNone")):
            return Reply(200, {"compositeResponse": self._all_or_none(subrequests)})
        outputs: dict[str, Any] = {}
        return Reply(200, {"compositeResponse": [self._subrequest(s, outputs) for s in subrequests]})

    def batch(self, call: Call) -> Reply:
        """Independent subrequests, each committed on its own; ``haltOnError`` stops at the first failure."""
        body = object_body(call.body)
        subrequests = body.get("batchRequests")
        if not isinstance(subrequests, list) or not subrequests:
            raise SalesforceError("INVALID_INPUT", "batchRequests is required")
        if len(subrequests) > SUBREQUEST_LIMIT:
            raise SalesforceError("LIMIT_EXCEEDED", f"A batch can't contain more than {SUBREQUEST_LIMIT} subrequests.")
        results, halted = [], False
        for subrequest in subrequests:
            if halted:
                results.append({"statusCode": 412, "result": [{"errorCode": "BATCH_PROCESSING_HALTED",
                                                                "message": "Batch processing halted per request"}]})
                continue
            url = str(subrequest.get("url", ""))
            url = url if url.startswith("/services/data/") else f"/services/data/{url.lstrip('/')}"  # "v59.0/..."
            reply = self._run(str(subrequest.get("method", "GET")).upper(), url, subrequest.get("richInput"), {})
            results.append({"statusCode": reply.status, "result": reply.body})
            halted = reply.status >= 400 and flag(body.get("haltOnError"))
        return Reply(200, {"hasErrors": any(r["statusCode"] >= 400 for r in results), "results": results})

    def _relative_path(self, subrequest: dict[str, Any]) -> str:
        match = API_PATH.match(urlsplit(str(subrequest.get("url", ""))).path)
        return (match["rest"] or "/") if match else ""

    def _all_or_none(self, subrequests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        class RollBack(Exception):
            pass

        outputs: dict[str, Any] = {}
        responses: list[dict[str, Any]] = []
        try:
            with self.store.transaction():
                for subrequest in subrequests:
                    responses.append(self._subrequest(subrequest, outputs))
                    if responses[-1]["httpStatusCode"] >= 400:
                        raise RollBack
        except RollBack:
            failed = len(responses) - 1
            halted = [_halted(s.get("referenceId"), HALTED) for s in subrequests]
            return halted[:failed] + [responses[failed]] + halted[failed + 1:]
        return responses

    def _subrequest(self, subrequest: dict[str, Any], outputs: dict[str, Any]) -> dict[str, Any]:
        reference_id = subrequest.get("referenceId")
        try:
            url = _substitute(subrequest.get("url", ""), outputs)
            body = _substitute(subrequest.get("body"), outputs)
        except KeyError as missing:
            return _halted(reference_id, f"Invalid reference specified. No value for {missing.args[0]} "
                                         f"found in {missing.args[0].split('.')[0]}.")
        headers = {k.lower(): v for k, v in (subrequest.get("httpHeaders") or {}).items()}
        reply = self._run(str(subrequest.get("method", "GET")).upper(), url, body, headers)
        if reference_id and reply.status < 400:
            outputs[reference_id] = reply.body
        return {"body": reply.body, "httpHeaders": reply.headers, "httpStatusCode": reply.status,
                "referenceId": reference_id}

    def _run(self, method: str, url: str, body: Any, headers: dict[str, str]) -> Reply:
        parts = urlsplit(url)
        match = API_PATH.match(parts.path)
        if not match or not self.api.serves(match["version"]):
            return error_reply(not_found(), match["version"] if match else "59.0", self.store.schema)
        return self.api.handle(method, match["version"], match["rest"] or "/", dict(parse_qsl(parts.query)),
                               body, headers)
