"""SalesforceClient on requests-mock: transient retries, one re-login on INVALID_SESSION_ID, budget stops."""

import pytest
import requests

from target_salesforce_campaign.errors import BudgetExceeded, ErrorClass, SalesforceCallError
from target_salesforce_campaign.salesforce_client import SalesforceClient
from simple_salesforce import Salesforce

URL = "https://sf.test/services/data/v59.0/query"
OK = {"totalSize": 0, "done": True, "records": []}


def make_client(logins, **kwargs):
    def connect(session):
        logins.append(1)
        return Salesforce(instance_url="https://sf.test", session_id=f"token{len(logins)}", session=session)

    return SalesforceClient(connect, requests.Session(), backoff_base_seconds=0.001, **kwargs)


def test_transient_errors_are_retried(requests_mock):
    requests_mock.get(URL, [
        {"status_code": 503, "json": [{"errorCode": "SERVER_UNAVAILABLE", "message": "busy"}]},
        {"status_code": 400, "json": [{"errorCode": "UNABLE_TO_LOCK_ROW", "message": "locked"}]},
        {"exc": requests.ConnectionError},
        {"json": OK},
    ])
    client = make_client([])
    assert client.query_all("SELECT Id FROM Contact") == []
    assert requests_mock.call_count == 4


def test_data_errors_are_not_retried(requests_mock):
    requests_mock.get(URL, status_code=400, json=[{"errorCode": "MALFORMED_QUERY", "message": "bad"}])
    with pytest.raises(SalesforceCallError, match="MALFORMED_QUERY"):
        make_client([]).query_all("SELECT")
    assert requests_mock.call_count == 1


def test_expired_session_reauthenticates_once(requests_mock):
    expired = {"status_code": 401, "json": [{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}]}
    requests_mock.get(URL, [expired, {"json": OK}])
    logins = []
    make_client(logins).query_all("SELECT Id FROM Contact")
    assert len(logins) == 2
    assert requests_mock.request_history[-1].headers["Authorization"] == "Bearer token2"


def test_expired_direct_token_fails_clearly(requests_mock):
    requests_mock.get(URL, status_code=401, json=[{"errorCode": "INVALID_SESSION_ID", "message": "expired"}])
    with pytest.raises(SalesforceCallError, match="INVALID_SESSION_ID"):
        make_client([], can_reauthenticate=False).query_all("SELECT Id FROM Contact")


def test_request_limit_exceeded_is_a_budget_stop(requests_mock):
    requests_mock.get(URL, status_code=403, json=[{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}])
    with pytest.raises(BudgetExceeded):
        make_client([]).query_all("SELECT Id FROM Contact")
    assert requests_mock.call_count == 1


def test_usage_header_stops_before_the_next_call(requests_mock):
    requests_mock.get(URL, json=OK, headers={"Sforce-Limit-Info": "api-usage=81/100; api-bursts=1/750"})
    client = make_client([], max_api_usage_percent=80)
    client.query_all("SELECT Id FROM Contact")
    assert client.calls == 1 and client.usage.left == 19
    with pytest.raises(BudgetExceeded, match="81/100"):
        client.query_all("SELECT Id FROM Contact")
    assert requests_mock.call_count == 1


def test_locked_records_are_resent_alone(requests_mock):
    collections = "https://sf.test/services/data/v59.0/composite/sobjects"
    locked = {"success": False, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "locked"}]}
    requests_mock.patch(collections, [
        {"json": [{"id": "003000000000001AAA", "success": True, "errors": []}, locked]},
        {"json": [{"id": "003000000000002AAA", "success": True, "errors": []}]},
    ])
    results = make_client([]).save("PATCH", [{"Id": "003000000000001AAA"}, {"Id": "003000000000002AAA"}])
    assert [r["id"] for r in results] == ["003000000000001AAA", "003000000000002AAA"]
    assert requests_mock.request_history[1].json()["records"] == [{"Id": "003000000000002AAA"}]


def test_collections_are_split_by_200(requests_mock):
    collections = "https://sf.test/services/data/v59.0/composite/sobjects"
    requests_mock.post(collections, json=lambda req, ctx: [{"id": r["i"], "success": True} for r in req.json()["records"]])
    ids = [f"003{i:012d}AAA" for i in range(450)]
    results = make_client([]).save("POST", [{"i": i} for i in ids])
    assert [r["id"] for r in results] == ids
    assert [len(h.json()["records"]) for h in requests_mock.request_history] == [200, 200, 50]


COMPOSITE = "https://sf.test/services/data/v59.0/composite"
TWO_QUERIES = ["SELECT Id FROM Contact WHERE Email IN ('a@x.io')", "SELECT Id FROM Lead WHERE Email IN ('a@x.io')"]


def composite_reply(status, body):
    return {"compositeResponse": [{"httpStatusCode": 200, "body": OK, "referenceId": "r0"},
                                  {"httpStatusCode": status, "body": body, "referenceId": "r1"}]}


def test_a_refused_composite_subquery_is_a_budget_stop(requests_mock):
    body = [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}]
    requests_mock.post(COMPOSITE, json=composite_reply(403, body))
    with pytest.raises(BudgetExceeded, match="REQUEST_LIMIT_EXCEEDED"):
        make_client([]).query_many(TWO_QUERIES)


def test_a_failed_composite_subquery_without_error_body_is_classified_by_status(requests_mock):
    requests_mock.post(COMPOSITE, json=composite_reply(503, None))
    with pytest.raises(SalesforceCallError) as failure:
        make_client([]).query_many(TWO_QUERIES)
    assert failure.value.code == "HTTP_503" and failure.value.error_class is ErrorClass.TRANSIENT
