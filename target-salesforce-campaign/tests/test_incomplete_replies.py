"""A Salesforce reply that does not match its request is a transient error for what it does not cover
(issue 10, class 5): truncated replies of every length, none, wrong types (requests-mock)."""

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from simple_salesforce import Salesforce

from target_salesforce_campaign.errors import ErrorClass, SalesforceCallError
from target_salesforce_campaign.ids import case_safe_suffix
from target_salesforce_campaign.salesforce_client import INCOMPLETE, SalesforceClient, checked_results

API = "https://sf.test/services/data/v59.0"
COLLECTIONS = f"{API}/composite/sobjects"
N = 5


def sf_id(prefix, i):
    body = f"{prefix}{i:012d}"
    return body + case_safe_suffix(body)


IDS = [sf_id("003", i) for i in range(N)]
UPDATES = [{"attributes": {"type": "Contact"}, "Id": i, "LastName": "L"} for i in IDS]


def ok(record_id, **extra):
    return {"id": record_id, "success": True, "errors": [], **extra}


def make_client(max_tries=3):
    def connect(session):
        return Salesforce(instance_url="https://sf.test", session_id="token", session=session)

    return SalesforceClient(connect, requests.Session(), backoff_base_seconds=0.001, max_tries=max_tries)


def resent_ids(requests_mock):
    return [[r["Id"] for r in h.json()["records"]] for h in requests_mock.request_history[1:]]


@pytest.mark.parametrize("length", range(N))
def test_a_truncated_update_reply_resends_exactly_the_uncovered_records(requests_mock, length):
    requests_mock.patch(COLLECTIONS, [{"json": [ok(i) for i in IDS[:length]]},
                                      {"json": [ok(i) for i in IDS[length:]]}])
    results = make_client().save("PATCH", UPDATES)
    assert [r["id"] for r in results] == IDS and all(r["success"] for r in results)
    assert resent_ids(requests_mock) == [IDS[length:]]


@pytest.mark.parametrize("length", range(N))
def test_a_reply_that_stays_truncated_leaves_the_rest_as_transient_failures(requests_mock, length):
    answered = set(IDS[:length])  # Salesforce answers for these only, however often the rest is sent
    requests_mock.patch(COLLECTIONS, json=lambda request, context: [ok(r["Id"]) for r in request.json()["records"]
                                                                    if r["Id"] in answered])
    results = make_client(max_tries=3).save("PATCH", UPDATES)
    assert all(r["success"] for r in results[:length])
    for result in results[length:]:
        assert not result["success"] and result["errors"][0]["statusCode"] == INCOMPLETE
    assert resent_ids(requests_mock) == [IDS[length:]] * 2  # retried per the retry policy, then left


@pytest.mark.parametrize("length", range(N))
def test_a_truncated_create_reply_fails_the_call_so_the_batch_rematches(requests_mock, length):
    requests_mock.post(COLLECTIONS, json=[ok(i) for i in IDS[:length]])
    with pytest.raises(SalesforceCallError) as failure:
        make_client().save("POST", [{"attributes": {"type": "Contact"}, "LastName": "L"}] * N, retry=False)
    assert failure.value.code == INCOMPLETE and failure.value.error_class is ErrorClass.TRANSIENT
    assert requests_mock.call_count == 1  # never re-sent blindly: the outcome of the rest is unknown


@pytest.mark.parametrize("length", range(N))
def test_a_truncated_upsert_reply_resends_only_the_uncovered_records(requests_mock, length):
    url = f"{COLLECTIONS}/Contact/Eventmaker_Key__c"
    records = [{"attributes": {"type": "Contact"}, "Eventmaker_Key__c": f"k{i}"} for i in range(N)]
    requests_mock.patch(url, [{"json": [ok(i, created=True) for i in IDS[:length]]},
                              {"json": [ok(i, created=False) for i in IDS[length:]]}])
    results = make_client().upsert("Contact", "Eventmaker_Key__c", records)
    assert [r["id"] for r in results] == IDS
    assert [h.json()["records"] for h in requests_mock.request_history[1:]] == [records[length:]]


WRONG = [None, 7, "ok", [], {}, {"success": "yes"}, {"success": True}, {"success": True, "id": "003abc"},
         {"success": False}, {"success": True, "id": IDS[0]}]  # the last: another record's Id


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(range(len(WRONG) + 1)), min_size=0, max_size=N + 2))
def test_any_reply_shape_is_either_refused_whole_or_checked_record_by_record(picks):
    reply = [WRONG[p] if p < len(WRONG) else ok(IDS[i % N]) for i, p in enumerate(picks)]
    records = UPDATES
    try:
        results, bad = checked_results(reply, records, upsert=False)
    except SalesforceCallError as exc:
        assert exc.code == INCOMPLETE and len(reply) > len(records)
        return
    assert len(results) == len(records)
    for i, result in enumerate(results):
        given_result = reply[i] if i < len(reply) else None
        trusted = isinstance(given_result, dict) and given_result.get("success") is True and given_result.get("id") == records[i]["Id"]
        refused = isinstance(given_result, dict) and given_result.get("success") is False and isinstance(given_result.get("errors"), list)
        if trusted:
            assert result["success"]
        elif not refused:
            assert result["errors"][0]["statusCode"] == INCOMPLETE
    assert bad == sum(1 for r in results if not r["success"] and r["errors"][0]["statusCode"] == INCOMPLETE)


@pytest.mark.parametrize("reply", [{}, {"compositeResponse": []}, {"compositeResponse": "x"},
                                   {"compositeResponse": [{"httpStatusCode": 200, "referenceId": "r0",
                                                           "body": {"records": []}}]},
                                   {"compositeResponse": [{"httpStatusCode": 200, "referenceId": f"r{i}",
                                                           "body": {"done": True}} for i in range(2)]}])
def test_a_composite_reply_that_does_not_cover_its_queries_is_transient_and_retried(requests_mock, reply):
    good = {"compositeResponse": [{"httpStatusCode": 200, "referenceId": f"r{i}", "body": {"records": [], "done": True}}
                                  for i in range(2)]}
    requests_mock.post(f"{API}/composite", [{"json": reply}, {"json": good}])
    assert make_client().query_many(["SELECT Id FROM Contact", "SELECT Id FROM Lead"]) == [[], []]
    assert requests_mock.call_count == 2


def test_a_truncated_create_reply_in_a_run_is_rematched_never_counted(config, fake_sf, fake_em, run, guest):
    """The first create call of the run answers for 2 of 5 records: the batch re-runs, re-matches the 2
    created ones by their key and creates the rest; every participant is counted once, nobody twice."""
    fake_sf.truncate_next_creates = [2]
    run(config, [guest(i) for i in range(5)])
    leads = fake_sf.records["Lead"]
    assert len(leads) == 5 and len(fake_sf.records["CampaignMember"]) == 5
    creates = [c for c in fake_sf.calls if c.startswith("POST") and c.endswith("composite/sobjects")]
    assert len(creates) == 2  # the truncated Lead create; re-run: all 5 Leads found by key, then the member create
    entries = fake_em.refs_by_guest()
    assert {e["salesforce"]["lead_id"] for e in entries.values()} == set(leads)
