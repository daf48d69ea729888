"""Fault suite: each fault lands at a chosen point of a run (before the first, or after the k-th
matching request), then the pipeline runs again. Afterwards every participant is exactly one
Contact or Lead and one CampaignMember, none is lost, and no bookmark passed an unaccounted one."""

from __future__ import annotations

import time

import pytest

PARTICIPANTS = 40  # 4 target batches of 10, 2 events, 2 pages of 10 per event
SHARED_EVERY = 4  # every 4th participant of the 2nd event is a person of the 1st: 5 people in both campaigns

# As the sandbox environment of meltano.yml: each event in a campaign of its own (the 1st event's
# campaign carries its _id, the 2nd is created by the run), creates are upserts on the normalised key.
CAMPAIGN_PER_EVENT = {
    "campaign_event_field": "Eventmaker_Event_Id__c",
    "create_missing_campaigns": True,
    "external_id_field": "Eventmaker_Id__c",
    "key_external_id_field": "Eventmaker_Key__c",
}

# The sandbox's fault format: "<METHOD or *> <path regex>" (contracts §3).
COMPOSITE = r"POST ^/services/data/v[\d.]+/composite$"  # the start-of-run reads, then each batch's lookups
PERSON_UPSERT = r"PATCH ^/services/data/v[\d.]+/composite/sobjects/(Contact|Lead)/"
CAMPAIGN_UPSERT = r"PATCH ^/services/data/v[\d.]+/composite/sobjects/Campaign/"  # the 2nd event's campaign
COLLECTION_CREATE = r"POST ^/services/data/v[\d.]+/composite/sobjects$"  # members (and people, with no key field)
ANY_SALESFORCE_CALL = r"* ^/services/data/v[\d.]+/(query|composite|sobjects)"
GUEST_PAGES = r"GET ^/api/v1/events/[^/]+/guests\.json"
WRITE_BACK_PUT = r"PUT ^/api/v1/events/[^/]+/guests/"
WRITE_BACK_GET = r"GET ^/api/v1/events/[^/]+/guests/[^/]+\.json$"  # each write-back's read (and the read-back)

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


def is_start_reads(call) -> bool:
    """The one Composite call at start: GETs only, the people's describes among them."""
    return bool(call.subrequests) and all(m == "GET" for m, _ in call.subrequests) and any(
        url.endswith("/sobjects/Contact/describe") for _, url in call.subrequests)


def is_lookup(call) -> bool:
    """A batch's lookup: a Composite call of queries only."""
    return bool(call.subrequests) and all(m == "GET" and "/query?q=" in url for m, url in call.subrequests)


def writes(*types: str):
    def is_write_of(call) -> bool:
        return call.writes and bool(call.record_types) and call.record_types <= set(types)

    return is_write_of


# point -> (match, matching requests let through first, what the faulted call must be, target settings)
POINTS = {
    "start-reads": (COMPOSITE, 0, is_start_reads, {}),
    "first-lookup": (COMPOSITE, 1, is_lookup, {}),
    "mid-run-lookup": (COMPOSITE, 3, is_lookup, {}),
    "first-person-upsert": (PERSON_UPSERT, 0, writes("Contact", "Lead"), {}),
    "mid-run-person-upsert": (PERSON_UPSERT, 2, writes("Contact", "Lead"), {}),
    "mid-run-member-create": (COLLECTION_CREATE, 3, writes("CampaignMember"), {}),
    "campaign-create": (CAMPAIGN_UPSERT, 0, writes("Campaign"), {}),
    "campaign-statuses-create": (COLLECTION_CREATE, 2, writes("CampaignMemberStatus"), {}),
    # No External ID field: people are plain creates, whose outcome a lost reply leaves unknown.
    "first-person-create": (COLLECTION_CREATE, 0, writes("Contact", "Lead"),
                            {"key_external_id_field": "", "external_id_field": ""}),
}


@pytest.fixture
def seeded(pipeline, harness):
    dataset = harness.clean_dataset(PARTICIPANTS, events=2, shared_every=SHARED_EVERY)
    first_event = dataset["events"][0]["_id"]
    by_event = [{g["email"] for g in dataset["guests"] if g["event_id"] == e["_id"]} for e in dataset["events"]]
    assert len(by_event[0] & by_event[1]) == PARTICIPANTS // SHARED_EVERY, "people in both events"
    pipeline.target_settings.update(CAMPAIGN_PER_EVENT)
    pipeline.load(dataset, {"records": {"Campaign": [{  # the sandbox campaign (statuses kept) is the 1st event's
        "Id": pipeline.salesforce.campaign_id, "Name": "Resilience event 0", "IsActive": True,
        CAMPAIGN_PER_EVENT["campaign_event_field"]: first_event}]}})
    return pipeline


def run_under_fault(seeded, harness, sandbox, match, after, expect=None, **fault):
    """Run the pipeline with `fault` injected after `after` matching requests; it must land (on a
    Salesforce call that `expect` accepts, if given)."""
    first_call = len(seeded.salesforce_calls)
    with harness.FaultTrigger(sandbox, match, after, **fault) as trigger:
        faulted = seeded.run()
    assert trigger.landed(), f"the fault {trigger.match!r} never reached the sandbox"
    if expect:
        hit = harness.calls_matching(seeded.salesforce_calls[first_call:], match)[after]
        assert expect(hit), f"the fault {trigger.match!r} landed on {hit}, not on a {expect.__name__} call"
    return faulted


def rerun_and_check(pipeline, harness) -> None:
    """The faulted run kept invariant 3; the re-run syncs everyone exactly once."""
    outcome = harness.Outcome.read(pipeline)
    harness.assert_bookmarks_never_pass_unaccounted(pipeline.state, outcome)
    harness.assert_no_duplicate_people(outcome)
    harness.assert_no_duplicate_members(outcome)
    pipeline.run_until_ok()
    outcome = harness.assert_all_synced(pipeline)
    assert len({outcome.campaign_of(g["event_id"]) for g in outcome.guests}) == 2, "the events share a campaign"


# Each transient fault at two points: the reads (start or lookup) and the writes (people, members).
FAULT_POINTS = [
    ("salesforce-500", "first-person-upsert"), ("salesforce-500", "first-lookup"),
    ("salesforce-503", "start-reads"), ("salesforce-503", "mid-run-member-create"),
    ("unable-to-lock-row", "first-person-create"), ("unable-to-lock-row", "mid-run-person-upsert"),
    ("invalid-session-id", "start-reads"), ("invalid-session-id", "mid-run-member-create"),
    ("connection-reset", "mid-run-lookup"), ("connection-reset", "first-person-create"),
    ("connection-reset", "campaign-create"), ("salesforce-503", "campaign-statuses-create"),
    ("connection-reset", "mid-run-member-create"),
]


@pytest.mark.parametrize(("fault", "point"), FAULT_POINTS, ids=[f"{f}@{p}" for f, p in FAULT_POINTS])
def test_transient_salesforce_fault_is_retried_within_the_run(seeded, harness, fault, point):
    match, after, expect, settings = POINTS[point]
    seeded.target_settings.update(settings)
    faulted = run_under_fault(seeded, harness, seeded.salesforce, match, after, expect, count=1, **TRANSIENT[fault])
    assert faulted.ok, f"{fault} at {point} was not retried: {faulted.target_error!r}"
    harness.assert_all_synced(seeded)
    rerun_and_check(seeded, harness)


@pytest.mark.slow
def test_slow_salesforce_response_past_client_timeout_is_retried(seeded, harness):
    timeout_s, delay_s = 2, 30  # the run takes ~5 s; 27 s of margin for a loaded machine
    seeded.target_settings["request_timeout"] = timeout_s
    with harness.FaultTrigger(seeded.salesforce, PERSON_UPSERT, 1, count=1, kind="delay",
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
    seeded.salesforce.configure(daily_api_limit=6)  # the start-of-run reads, a batch's 3 calls, then a stop
    faulted = seeded.run()
    assert not faulted.ok
    assert "API usage" in str(faulted.target_error), f"not a budget stop: {faulted.target_error!r}"
    synced = [g for g in harness.Outcome.read(seeded).guests if harness.sync_entry(g).get("last_synced_at")]
    assert 0 < len(synced) < PARTICIPANTS, f"the stop came mid-run, yet {len(synced)} participants synced"
    seeded.salesforce.configure(daily_api_limit=100_000)
    rerun_and_check(seeded, harness)


def test_salesforce_outage_longer_than_the_retries_loses_nothing(seeded, harness):
    faulted = run_under_fault(seeded, harness, seeded.salesforce, COLLECTION_CREATE, 1, writes("CampaignMember"),
                              count=1000, status=503, body="Service Unavailable", content_type="text/plain")
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


HTML_500_TWICE = dict(count=2, status=500, body=HTML_500, content_type="text/html")
RESET = dict(count=1, kind="reset")  # the request may have landed; the reply is lost
WRITE_BACK_FAULTS = {
    "500@first-put": (WRITE_BACK_PUT, 0, HTML_500_TWICE), "500@mid-run-put": (WRITE_BACK_PUT, 5, HTML_500_TWICE),
    "500@first-get": (WRITE_BACK_GET, 0, HTML_500_TWICE), "500@mid-run-get": (WRITE_BACK_GET, 7, HTML_500_TWICE),
    "reset@mid-run-put": (WRITE_BACK_PUT, 3, RESET), "reset@mid-run-get": (WRITE_BACK_GET, 3, RESET),
}


@pytest.mark.parametrize("point", WRITE_BACK_FAULTS)
def test_transient_write_back_failure_is_retried(seeded, harness, point):
    match, after, fault = WRITE_BACK_FAULTS[point]
    faulted = run_under_fault(seeded, harness, seeded.eventmaker, match, after, **fault)
    assert faulted.ok, faulted.target_error
    rerun_and_check(seeded, harness)


@pytest.mark.parametrize("match", [WRITE_BACK_PUT, WRITE_BACK_GET], ids=["put", "get"])
def test_write_back_down_fails_the_run_and_the_rerun_is_idempotent(seeded, harness, match):
    faulted = run_under_fault(seeded, harness, seeded.eventmaker, match, 5, count=100_000, status=503,
                              body="Service Unavailable", content_type="text/plain")
    assert not faulted.ok, "write-back that keeps failing must fail the run"
    rerun_and_check(seeded, harness)
    harness.assert_converged(seeded)


# --------------------------------------------------------------------------- the checks themselves


def test_the_checks_catch_a_second_member_or_person_in_the_created_campaign(seeded, harness):
    """What a faulted run could leave behind, planted by hand: the checks must see it in the campaign
    the run created as well (a check of one campaign alone would pass)."""
    assert seeded.run().ok
    outcome = harness.assert_all_synced(seeded)
    created, second_event = next((outcome.campaign_of(g["event_id"]), g["event_id"]) for g in outcome.guests
                                 if outcome.campaign_of(g["event_id"]) != seeded.salesforce.campaign_id)
    guest = next(g for g in outcome.guests if g["event_id"] == second_event)
    person = harness.sync_entry(guest)
    owner = {"ContactId": person["contact_id"]} if person.get("contact_id") else {"LeadId": person["lead_id"]}
    seeded.salesforce.store.load({"records": {"CampaignMember": [{"CampaignId": created, "Status": "Sent", **owner}]}})
    with pytest.raises(AssertionError, match="duplicate CampaignMembers"):
        harness.assert_no_duplicate_members(harness.Outcome.read(seeded))
    with pytest.raises(AssertionError, match="CampaignMembers in campaign"):
        harness.assert_person_and_member_once(harness.Outcome.read(seeded), guest)
    seeded.salesforce.store.load({"records": {"Lead": [
        {"LastName": guest["last_name"], "Company": "X", "Email": guest["email"].upper()}]}})
    with pytest.raises(AssertionError, match="duplicate Contacts/Leads"):
        harness.assert_no_duplicate_people(harness.Outcome.read(seeded))


def test_the_converged_check_counts_upserts_as_writes_not_the_start_reads(seeded, harness):
    assert seeded.run().ok
    harness.assert_converged(seeded)
    assert any(is_start_reads(call) for call in seeded.salesforce_calls), "the re-run made its start-of-run reads"
    seeded.target_settings["force_resend"] = True  # everyone sent again: people upserted, members updated
    with pytest.raises(AssertionError, match="composite/sobjects"):
        harness.assert_converged(seeded)
