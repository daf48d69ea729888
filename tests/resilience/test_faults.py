"""Fault suite: each fault lands at a chosen point of a run (before the first, or after the k-th
matching request), then the pipeline runs again. Afterwards every participant is exactly one
Contact or Lead and one CampaignMember, none is lost, and no bookmark passed an unaccounted one."""

from __future__ import annotations

import time

import pytest

PARTICIPANTS = 40  # 4 target batches of 10, 2 events, 2 pages of 10 per event

# The sandbox's fault format: "<METHOD or *> <path regex>" (contracts §3).
QUERY = r"GET ^/services/data/v[\d.]+/query"  # one query at start (the campaign's member statuses)
LOOKUPS = r"POST ^/services/data/v[\d.]+/composite$"  # each batch's lookup queries, in one Composite call
COLLECTION_CREATE = r"POST ^/services/data/v[\d.]+/composite/sobjects"
ANY_SALESFORCE_CALL = r"* ^/services/data/v[\d.]+/(query|composite|sobjects)"
GUEST_PAGES = r"GET ^/api/v1/events/[^/]+/guests\.json"
WRITE_BACK = r"PUT ^/api/v1/events/[^/]+/guests/"

HTML_500 = "<html><head><title>500 Internal Server Error</title></head><body><h1>Oops</h1></body></html>"


def salesforce_error(code: str, message: str) -> list[dict]:
    return [{"message": message, "errorCode": code}]


# Transient faults: retried inside the run, so the faulted run itself must succeed.
TRANSIENT = {
    "salesforce-500": dict(status=500, body=salesforce_error("UNKNOWN_EXCEPTION", "An unexpected error occurred.")),
    "salesforce-503": dict(status=503, body="Service Unavailable", content_type="text/plain"),
    "unable-to-lock-row": dict(status=400, body=salesforce_error(
        "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 records")),
    "invalid-session-id": dict(status=401, body=salesforce_error("INVALID_SESSION_ID", "Session expired or invalid")),
    "connection-reset": dict(kind="reset"),
}

POINTS = {
    "first-query": (QUERY, 0),
    "mid-run-query": (LOOKUPS, 1),
    "first-create": (COLLECTION_CREATE, 0),
    "mid-run-create": (COLLECTION_CREATE, 2),
}


@pytest.fixture
def seeded(pipeline, harness):
    pipeline.load(harness.clean_dataset(PARTICIPANTS, events=2))
    return pipeline


def run_under_fault(seeded, harness, sandbox, match, after, **fault):
    """Run the pipeline with `fault` injected after `after` matching requests; it must land."""
    with harness.FaultTrigger(sandbox, match, after, **fault) as trigger:
        faulted = seeded.run()
    assert trigger.landed(), f"the fault {trigger.match!r} never reached the sandbox"
    return faulted


def rerun_and_check(pipeline, harness) -> None:
    """The faulted run kept invariant 3; the re-run syncs everyone exactly once."""
    outcome = harness.Outcome.read(pipeline)
    harness.assert_bookmarks_never_pass_unaccounted(pipeline.state, outcome)
    harness.assert_no_duplicate_members(outcome)
    pipeline.run_until_ok()
    harness.assert_all_synced(pipeline)


# Each transient fault at two points: one before the first matching call, one mid-run.
FAULT_POINTS = [
    ("salesforce-500", "first-create"), ("salesforce-500", "mid-run-query"),
    ("salesforce-503", "first-query"), ("salesforce-503", "mid-run-create"),
    ("unable-to-lock-row", "first-create"), ("unable-to-lock-row", "mid-run-create"),
    ("invalid-session-id", "first-query"), ("invalid-session-id", "mid-run-create"),
    ("connection-reset", "mid-run-query"), ("connection-reset", "mid-run-create"),
]


@pytest.mark.parametrize(("fault", "point"), FAULT_POINTS, ids=[f"{f}@{p}" for f, p in FAULT_POINTS])
def test_transient_salesforce_fault_is_retried_within_the_run(seeded, harness, fault, point):
    match, after = POINTS[point]
    faulted = run_under_fault(seeded, harness, seeded.salesforce, match, after, count=1, **TRANSIENT[fault])
    assert faulted.ok, f"{fault} at {point} was not retried: {faulted.target_error!r}"
    harness.assert_all_synced(seeded)
    rerun_and_check(seeded, harness)


@pytest.mark.slow
def test_slow_salesforce_response_past_client_timeout_is_retried(seeded, harness):
    timeout_s, delay_s = 2, 15
    seeded.target_settings["request_timeout"] = timeout_s
    with harness.FaultTrigger(seeded.salesforce, COLLECTION_CREATE, 1, count=1, kind="delay",
                              delay_ms=delay_s * 1000) as trigger:
        started = time.monotonic()
        faulted = seeded.run()
        elapsed = time.monotonic() - started
    assert trigger.landed(), f"the fault {trigger.match!r} never reached the sandbox"
    assert faulted.ok, faulted.target_error
    assert elapsed < delay_s - 3, f"the run waited {elapsed:.1f} s for a response: no client timeout"
    rerun_and_check(seeded, harness)


@pytest.mark.parametrize("after", [0, 3], ids=["first-call", "mid-run"])
def test_request_limit_exceeded_stops_cleanly_and_the_rerun_finishes(seeded, harness, after):
    limit = dict(status=403, body=salesforce_error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."))
    faulted = run_under_fault(seeded, harness, seeded.salesforce, ANY_SALESFORCE_CALL, after, count=1000, **limit)
    assert not faulted.ok, "a budget stop must end the run with a non-zero exit"
    assert "REQUEST_LIMIT_EXCEEDED" in f"{faulted.target_error}\n{faulted.logs}", "the stop must say why"
    rerun_and_check(seeded, harness)
    harness.assert_converged(seeded)


def test_daily_api_limit_reached_mid_run(seeded, harness):
    seeded.salesforce.configure(daily_api_limit=6)  # 3 start-of-run reads + one batch's 3 calls
    faulted = seeded.run()
    assert not faulted.ok
    assert "API usage" in str(faulted.target_error), f"not a budget stop: {faulted.target_error!r}"
    synced = [g for g in harness.Outcome.read(seeded).guests if harness.sync_entry(g).get("last_synced_at")]
    assert 0 < len(synced) < PARTICIPANTS, f"the stop came mid-run, yet {len(synced)} participants synced"
    seeded.salesforce.configure(daily_api_limit=100_000)
    rerun_and_check(seeded, harness)


def test_salesforce_outage_longer_than_the_retries_loses_nothing(seeded, harness):
    faulted = run_under_fault(seeded, harness, seeded.salesforce, COLLECTION_CREATE, 1, count=1000, status=503,
                              body="Service Unavailable", content_type="text/plain")
    assert not faulted.ok
    rerun_and_check(seeded, harness)


# --------------------------------------------------------------------------- Eventmaker


@pytest.mark.parametrize("after", [0, 2], ids=["first-page", "later-page"])
def test_eventmaker_500_html_page_is_retried(seeded, harness, after):
    faulted = run_under_fault(seeded, harness, seeded.eventmaker, GUEST_PAGES, after, count=1, status=500,
                              body=HTML_500, content_type="text/html")
    assert faulted.ok, faulted.tap_error
    rerun_and_check(seeded, harness)


def test_eventmaker_persistent_html_500_fails_clearly(seeded, harness):
    faulted = run_under_fault(seeded, harness, seeded.eventmaker, GUEST_PAGES, 1, count=1000, status=500,
                              body=HTML_500, content_type="text/html")
    assert faulted.tap_error is not None
    assert "<html" not in str(faulted.tap_error).lower(), "the HTML page leaked into the error"
    rerun_and_check(seeded, harness)


def test_eventmaker_timeout_is_retried(seeded, harness):
    timeout_s = 2
    seeded.tap_settings["request_timeout"] = timeout_s
    faulted = run_under_fault(seeded, harness, seeded.eventmaker, GUEST_PAGES, 1, count=1, kind="delay",
                              delay_ms=(timeout_s + 2) * 1000)
    assert faulted.ok, faulted.tap_error
    rerun_and_check(seeded, harness)


@pytest.mark.parametrize("after", [0, 2], ids=["first-page", "later-page"])
def test_eventmaker_403_fails_with_a_clear_error(seeded, harness, after):
    faulted = run_under_fault(seeded, harness, seeded.eventmaker, GUEST_PAGES, after, count=1000, status=403,
                              body={"error": "Forbidden"})
    assert faulted.tap_error is not None
    assert "auth_token" in str(faulted.tap_error) or "auth_token" in faulted.logs
    assert seeded.eventmaker.auth_token not in str(faulted.tap_error)
    rerun_and_check(seeded, harness)


# --------------------------------------------------------------------------- write-back


@pytest.mark.parametrize("after", [0, 5], ids=["first", "mid-run"])
def test_transient_write_back_failure_is_retried(seeded, harness, after):
    faulted = run_under_fault(seeded, harness, seeded.eventmaker, WRITE_BACK, after, count=2, status=500,
                              body=HTML_500, content_type="text/html")
    assert faulted.ok, faulted.target_error
    rerun_and_check(seeded, harness)


def test_write_back_down_fails_the_run_and_the_rerun_is_idempotent(seeded, harness):
    faulted = run_under_fault(seeded, harness, seeded.eventmaker, WRITE_BACK, 5, count=100_000, status=503,
                              body="Service Unavailable", content_type="text/plain")
    assert not faulted.ok, "write-back that keeps failing must fail the run"
    rerun_and_check(seeded, harness)
    harness.assert_converged(seeded)
