"""The benchmark's pure accounting: what counts as an API call, a write, the minimum, a verdict."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from goals import add_latency_floors, evaluate, latency_floor_s  # noqa: E402
from run import Measurement, economy, minimum_salesforce_calls  # noqa: E402

NEW_1K_SALESFORCE = {  # the start reads and 5 lookups are Composite calls; 5 Lead upserts + 5 member creates
    "POST /services/oauth2/token": 1,
    "POST /services/data/{v}/composite": 6,
    "PATCH /services/data/{v}/composite/sobjects/Lead/Eventmaker_Key__c": 5,
    "POST /services/data/{v}/composite/sobjects": 5,
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
    assert (m.salesforce_calls, m.salesforce_logins, m.salesforce_writes) == (16, 1, 10)
    assert (m.eventmaker_calls, m.eventmaker_writes) == (1009, 1000)
    assert m.ratio_to_minimum == 1.6
    assert m.participants_per_s == 250.0


def test_an_unchanged_run_with_only_a_login_and_reads_has_no_writes():
    reads = {"POST /services/oauth2/token": 1, "POST /services/data/{v}/composite": 1}
    m = measured("unchanged", 1000, 0, 2.5, reads, {"GET /api/v1/events.json": 1})
    assert (m.salesforce_calls, m.salesforce_writes, m.eventmaker_writes, m.ratio_to_minimum) == (1, 0, 0, None)


def test_latency_floor_is_sequential_calls_plus_concurrent_puts_plus_the_sdk_floor():
    # issue 9's figure: 153 calls and 10,000 PUTs at 50 ms, 16 in flight, SDK floor 3.8 s
    assert latency_floor_s(153, 10_000, 50, 3.8) == round(153 * 0.05 + 10_000 / 16 * 0.05 + 3.8, 2)
    runs = [measured("new", 10_000, 50, 50.0, {"POST /services/data/{v}/composite": 153},
                     {"PUT /api/v1/events/{id}/guests/{id}.json": 10_000}),
            measured("new", 10_000, 0, 20.0), Measurement("sdk-floor", 10_000, 0, 3.8, 0)]
    add_latency_floors(runs, 16)
    assert (runs[0].latency_floor_s, runs[0].wall_to_floor) == (42.7, round(50.0 / 42.7, 2))
    assert runs[0].writeback_reads == 0 and runs[0].floor_with_reads_s == 42.7
    read_first = measured("new", 10_000, 50, 90.0, {"POST /services/data/{v}/composite": 153},
                          {"GET /api/v1/events/{id}/guests/{id}.json": 10_000, "PUT /api/v1/events/{id}/guests/{id}.json": 10_000})
    add_latency_floors([read_first, runs[2]], 16)
    assert read_first.writeback_reads == 10_000 and read_first.floor_with_reads_s == round(42.7 + 10_000 / 16 * 0.05, 2)
    assert runs[1].latency_floor_s is None  # no added latency: no latency floor


def test_verdicts():
    seeded = {"POST /services/data/{v}/composite": 10, "POST /services/data/{v}/composite/sobjects": 16}
    results = [
        measured("new", 1000, 0, 4.0, NEW_1K_SALESFORCE, NEW_1K_EVENTMAKER, rss=70.0),
        measured("seeded-new", 1000, 0, 4.0, seeded),
        measured("new", 10_000, 50, 145.0, {"POST /services/data/{v}/composite": 151},
                 {"PUT /api/v1/events/{id}/guests/{id}.json": 10_000}, rss=71.0),
        measured("unchanged", 100_000, 0, 18.0, {"POST /services/data/{v}/composite": 1}),
        measured("new", 100_000, 0, 120.0, rss=200.0),
        Measurement("sdk-floor", 100_000, 0, 13.0, 0),
        Measurement("sdk-floor", 10_000, 0, 3.0, 0),
    ]
    add_latency_floors(results, 16)
    verdicts = [goal.met for goal in evaluate(results)]
    # calls per 1k new, seeded (26 > 25), unchanged, 10k wall/floor (145 / 41.8) without and with GETs (none
    # here), 10k < 60 s, idle vs floor, RSS (200 MB > 1.5 x 70 MB: not flat)
    assert verdicts == [True, False, True, False, False, False, True, False]
