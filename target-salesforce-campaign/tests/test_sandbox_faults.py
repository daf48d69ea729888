"""Faults injected through the sandbox fixtures: transient errors, budget, session expiry, duplicate rule, timeouts."""

import re
import time

import pytest

from target_salesforce_campaign.errors import BudgetExceeded

LOOKUP = r"POST /services/data/v[\d.]+/composite$"
COLLECTIONS_CREATE = r"POST /services/data/v[\d.]+/composite/sobjects"
WRITE_BACK = r"PUT /api/v1/events/[^/]+/guests/"


LOCKED = [{"errorCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access to this record"}]


@pytest.fixture
def ten(pipeline):
    """Ten new participants in one event."""
    return pipeline.add_guests(*[{"email": f"p{i}@x.example", "last_name": f"P{i}", "status": "registered"}
                                 for i in range(10)])


def assert_all_synced_once(pipeline, guests):
    for g in guests:
        entry = pipeline.entry(g["_id"])
        assert entry["last_error"] is None and entry["last_synced_at"], entry
        assert pipeline.member_of(entry["lead_id"])["Id"] == entry["campaign_member_id"]
    assert len(pipeline.records("Lead")) == len(pipeline.members()) == len(guests)


FAULTS = {
    "500": dict(status=500, body=[{"errorCode": "UNKNOWN_EXCEPTION", "message": "An unexpected error occurred."}]),
    "503": dict(status=503, body="Service Unavailable", content_type="text/plain"),
    "lock-400": dict(status=400, body=LOCKED),
    "lock-500": dict(status=500, body=LOCKED),
    "reset": dict(kind="reset"),
}


@pytest.mark.parametrize("where", [LOOKUP, COLLECTIONS_CREATE], ids=["lookup", "create"])
@pytest.mark.parametrize("fault", list(FAULTS))
def test_transient_fault_is_retried_and_recovers(pipeline, ten, fault, where):
    pipeline.sf.inject_fault(where, count=1, **FAULTS[fault])
    result = pipeline.run()
    assert result.error is None, result.error
    failed = [r for r in pipeline.sf.requests() if re.match(where, f"{r['method']} {r['path']}") and r["status"] != 200]
    assert len(failed) == 1, "the fault did not land"
    assert_all_synced_once(pipeline, ten)
    assert pipeline.run().error is None and pipeline.salesforce_writes() == []


def test_lock_as_a_per_record_error_is_resent_alone(pipeline, ten):
    results = [{"id": None, "success": False,
                "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access", "fields": []}]}]
    pipeline.add_guests({"email": "solo@x.example", "last_name": "Solo", "status": "registered"})
    pipeline.sf.inject_fault(COLLECTIONS_CREATE, count=1, status=200, body=results * 11)
    result = pipeline.run()
    assert result.error is None, result.error
    assert len(pipeline.records("Lead")) == len(pipeline.members()) == 11


def test_daily_api_limit_stops_cleanly_and_the_rerun_finishes(pipeline):
    guests = pipeline.add_guests(*[{"email": f"b{i}@x.example", "last_name": f"B{i}", "status": "invited"}
                                   for i in range(30)])
    pipeline.sf.configure(daily_api_limit=5)  # start (1) + one batch (3) + the next lookup refused
    stopped = pipeline.run(batch_size=10)
    assert isinstance(stopped.error, BudgetExceeded), stopped.error
    done = [g for g in guests if (pipeline.entry(g["_id"]) or {}).get("last_synced_at")]
    assert len(done) == 10, "the batch done before the stop is written back"
    untouched = [g for g in guests if g not in done]
    assert all(not pipeline.entry(g["_id"])["lead_id"] for g in untouched)
    assert stopped.summary.outcomes["left_for_next_run"] == 10
    pipeline.sf.configure(daily_api_limit=100_000)
    assert pipeline.run(batch_size=10).error is None
    assert len(pipeline.records("Lead")) == len(pipeline.members()) == 30


def test_max_api_usage_percent_stops_before_the_limit(pipeline):
    pipeline.add_guests(*[{"email": f"u{i}@x.example", "last_name": f"U{i}", "status": "invited"} for i in range(30)])
    pipeline.sf.configure(daily_api_limit=100)
    stopped = pipeline.run(batch_size=10, max_api_usage_percent=8)
    assert isinstance(stopped.error, BudgetExceeded) and "max_api_usage_percent" in str(stopped.error)
    assert pipeline.salesforce_calls() == 8, "stops once usage reaches 8% (of 100), before the next call"
    assert not [r for r in pipeline.sf.requests() if r["status"] == 403], "never runs into the org's limit"


def test_expired_session_is_renewed_once(pipeline, ten):
    pipeline.sf.configure(session_ttl_seconds=1)
    pipeline.sf.inject_fault(LOOKUP, count=1, kind="delay", delay_ms=1500)  # the session idles out meanwhile
    result = pipeline.run()
    assert result.error is None, result.error
    logins = [r for r in pipeline.sf.requests() if "/Soap/" in r["path"]]
    assert len(logins) == 2
    assert [r["status"] for r in pipeline.sf.requests() if r["status"] == 401] == [401]
    assert_all_synced_once(pipeline, ten)


def test_duplicate_rule_is_a_per_participant_error(pipeline):
    pipeline.sf.configure(duplicate_rule=True)
    pipeline.add_salesforce("Lead", {"LastName": "Lead", "Company": "C", "Email": "dup@x.example"})
    dup, ok = pipeline.add_guests({"email": "dup@x.example", "last_name": "Dup", "status": "registered"},
                                  {"email": "fine@x.example", "last_name": "Fine", "status": "registered"})
    result = pipeline.run(match_mode="contacts_only", create_as="Contact")
    assert result.error is None, result.error
    error = pipeline.entry(dup["_id"])["last_error"]
    assert error["code"] == "DUPLICATES_DETECTED" and error["hint"]
    assert pipeline.entry(ok["_id"])["contact_id"]
    assert len(pipeline.records("Contact")) == len(pipeline.members()) == 1


def test_hung_lookup_times_out_and_is_retried(pipeline, ten):
    pipeline.sf.inject_fault(LOOKUP, count=1, kind="delay", delay_ms=6000)
    started = time.monotonic()
    result = pipeline.run(request_timeout=1)
    assert result.error is None, result.error
    assert time.monotonic() - started < 5, "the run waited for the hung response"
    assert_all_synced_once(pipeline, ten)


def test_hung_write_back_times_out_and_is_retried(pipeline, ten):
    pipeline.em.inject_fault(WRITE_BACK, count=1, kind="delay", delay_ms=6000)
    started = time.monotonic()
    result = pipeline.run(request_timeout=1)
    assert result.error is None, result.error
    assert time.monotonic() - started < 5
    assert_all_synced_once(pipeline, ten)


def test_write_back_faults_are_retried(pipeline, ten):
    pipeline.em.inject_fault(WRITE_BACK, count=3, status=503, body="busy", content_type="text/plain")
    assert pipeline.run().error is None
    assert_all_synced_once(pipeline, ten)
