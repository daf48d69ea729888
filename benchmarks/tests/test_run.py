"""The benchmark's pure accounting: what counts as an API call, a write, the minimum, a verdict."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from run import Measurement, economy, evaluate, minimum_salesforce_calls  # noqa: E402

NEW_1K_SALESFORCE = {
    "POST /services/oauth2/token": 1,
    "GET /services/data/{v}/query/": 1,
    "GET /services/data/{v}/sobjects/Contact/describe": 1,
    "GET /services/data/{v}/sobjects/Lead/describe": 1,
    "POST /services/data/{v}/composite": 5,
    "POST /services/data/{v}/composite/sobjects": 10,
}
NEW_1K_EVENTMAKER = {"GET /api/v1/events.json": 1, "GET /api/v1/events/{id}/guests.json": 8,
                     "PUT /api/v1/events/{id}/guests/{id}.json": 1000}


def counters(by_endpoint: dict) -> dict:
    return {"total": sum(by_endpoint.values()), "by_endpoint": by_endpoint}


def measured(scenario, n, latency, wall, salesforce=None, eventmaker=None, rss=None) -> Measurement:
    m = Measurement(scenario, n, latency, wall, 0, target_peak_rss_mb=rss)
    return economy(m, counters(salesforce or {}), counters(eventmaker or {}))


def test_minimum_is_one_call_per_200_records_per_write_phase():
    assert minimum_salesforce_calls("new", 1000) == 10
    assert minimum_salesforce_calls("changed", 1001) == 12
    assert minimum_salesforce_calls("unchanged", 100_000) == 0


def test_logins_are_not_api_calls_and_composite_lookups_are_not_writes():
    m = measured("new", 1000, 0, 4.0, NEW_1K_SALESFORCE, NEW_1K_EVENTMAKER)
    assert (m.salesforce_calls, m.salesforce_logins, m.salesforce_writes) == (18, 1, 10)
    assert (m.eventmaker_calls, m.eventmaker_writes) == (1009, 1000)
    assert m.ratio_to_minimum == 1.8
    assert m.participants_per_s == 250.0


def test_an_unchanged_run_with_only_a_login_and_reads_has_no_writes():
    reads = {k: v for k, v in NEW_1K_SALESFORCE.items() if "composite" not in k}
    m = measured("unchanged", 1000, 0, 2.5, reads, {"GET /api/v1/events.json": 1})
    assert (m.salesforce_writes, m.eventmaker_writes, m.ratio_to_minimum) == (0, 0, None)


def test_verdicts():
    results = [
        measured("new", 1000, 0, 4.0, NEW_1K_SALESFORCE, NEW_1K_EVENTMAKER, rss=70.0),
        measured("new", 10_000, 50, 145.0, rss=71.0),
        measured("unchanged", 100_000, 0, 18.0),
        measured("new", 100_000, 0, 120.0, rss=200.0),
        Measurement("sdk-floor", 100_000, 0, 13.0, 0),
    ]
    verdicts = [goal.met for goal in evaluate(results)]
    # calls per 1k new, unchanged writes, 10k at 50 ms, unchanged vs floor, RSS (200 MB > 1.5 x 70 MB: not flat)
    assert verdicts == [True, True, False, True, False]
