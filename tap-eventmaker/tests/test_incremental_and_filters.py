"""Bookmarks per event, client-side updated_at filtering, and filtered runs that move no bookmark."""

from __future__ import annotations

import copy
import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from singer_sdk.exceptions import ConfigValidationError

from tap_eventmaker.tap import TapEventmaker
from tap_eventmaker.timestamps import to_utc_iso

API = "https://eventmaker.test"
TOKEN = "s3cret-token"
EVENT = "c" * 24
GUESTS_URL = f"{API}/api/v1/events/{EVENT}/guests.json"
BOOKMARK = "2026-11-10T00:00:00.000000Z"
SYNCED = {"salesforce": {"contact_id": "003000000000001AAA", "last_synced_at": "2026-11-01T00:00:00Z"}}
FAILED = {"salesforce": {"last_error": {"code": "INVALID_EMAIL_ADDRESS", "message": "bad"}}}
BOTH = {"salesforce": {**SYNCED["salesforce"], **FAILED["salesforce"]}}

# The API below ignores updated_since, uid and search, as the real one may: the tap must cope.
GUESTS = [
    {"_id": "1" * 24, "uid": "old-synced", "updated_at": "2026-11-01T09:00:00Z", "third_party_applications_refs": SYNCED},
    {"_id": "2" * 24, "uid": "old-error", "updated_at": "2026-11-02T09:00:00+02:00", "third_party_applications_refs": FAILED},
    {"_id": "3" * 24, "uid": "at-bookmark", "updated_at": "2026-11-10T01:00:00+01:00"},
    {"_id": "4" * 24, "uid": "new-both", "updated_at": "2026-11-12T08:00:00Z", "third_party_applications_refs": BOTH},
    {"_id": "5" * 24, "uid": "new-never", "updated_at": "2026-11-11T08:00:00Z"},
]
LAST_FULL_PASS = to_utc_iso(dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1))  # no full pass due
STATE = {
    "bookmarks": {
        "guests": {
            "partitions": [
                {
                    "context": {"event_id": EVENT}, "replication_key": "updated_at", "replication_key_value": BOOKMARK,
                    "last_full_pass_at": LAST_FULL_PASS,
                },
            ]
        }
    }
}


@pytest.fixture(autouse=True)
def api(requests_mock):
    requests_mock.get(f"{API}/api/v1/events/{EVENT}.json", json={"_id": EVENT, "guest_count": len(GUESTS)})
    requests_mock.get(f"{API}/api/v1/events/{EVENT}/guest_categories.json", json=[])
    requests_mock.get(GUESTS_URL, json=GUESTS)
    return requests_mock


def config(**overrides) -> dict:
    return {"api_url": API, "auth_token": TOKEN, "event_ids": [EVENT], **overrides}


def guest_queries(api) -> list[dict]:
    return [parse_qs(urlsplit(r.url).query) for r in api.request_history if r.path.endswith("/guests.json")]


def uids(output) -> list[str]:
    return [g["uid"] for g in output.records("guests")]


def test_first_run_reads_everyone_and_bookmarks_the_latest_update(api, run_tap):
    output = run_tap(config())
    assert uids(output) == [g["uid"] for g in GUESTS]
    assert "updated_since" not in guest_queries(api)[0]
    assert output.bookmark(EVENT)["replication_key_value"] == "2026-11-12T08:00:00.000000Z"


def test_next_run_asks_updated_since_and_still_filters_what_the_api_ignored(api, run_tap):
    output = run_tap(config(), state=copy.deepcopy(STATE))
    assert guest_queries(api)[0]["updated_since"] == [BOOKMARK]
    # at-bookmark is 2026-11-10T00:00Z exactly: re-read (>=), so nothing at that instant is lost.
    assert uids(output) == ["at-bookmark", "new-both", "new-never"]
    assert output.bookmark(EVENT)["replication_key_value"] == "2026-11-12T08:00:00.000000Z"


def test_start_date_bounds_the_first_run(api, run_tap):
    output = run_tap(config(start_date="2026-11-11T00:00:00Z"))
    assert uids(output) == ["new-both", "new-never"]
    assert guest_queries(api)[0]["updated_since"] == ["2026-11-11T00:00:00.000000Z"]


def test_bookmark_stays_when_nothing_changed(api, run_tap):
    state = copy.deepcopy(STATE)
    state["bookmarks"]["guests"]["partitions"][0]["replication_key_value"] = "2026-12-01T00:00:00.000000Z"
    output = run_tap(config(), state=state)
    assert uids(output) == []
    assert output.bookmark(EVENT)["replication_key_value"] == "2026-12-01T00:00:00.000000Z"


@pytest.mark.parametrize(
    ("sync_status", "expected"),
    [
        ("error", ["old-error", "new-both"]),
        ("synced", ["old-synced", "new-both"]),
        ("never", ["at-bookmark", "new-never"]),
        (["synced", "error"], ["new-both"]),  # synced before and failed since
        (["error"], ["old-error", "new-both"]),
        (["never"], ["at-bookmark", "new-never"]),
    ],
)
def test_sync_status_runs_read_in_full_and_leave_the_bookmark_they_were_given(api, run_tap, sync_status, expected):
    output = run_tap(config(sync_status=sync_status), state=copy.deepcopy(STATE))
    assert uids(output) == expected
    assert "updated_since" not in guest_queries(api)[0]
    assert output.bookmark(EVENT) == STATE["bookmarks"]["guests"]["partitions"][0]


@pytest.mark.parametrize(
    ("sync_status", "error"),
    [
        (["never", "error"], "'never' (neither synced nor error) cannot be combined with error"),
        (["synced", "broken"], "is not valid under any of the given schemas in config['sync_status']"),
        ("sometimes", "is not valid under any of the given schemas in config['sync_status']"),
    ],
)
def test_a_sync_status_the_tap_cannot_apply_is_a_config_error_before_any_request(api, sync_status, error):
    with pytest.raises(ConfigValidationError) as raised:
        TapEventmaker(config=config(sync_status=sync_status))
    assert any(error in message for message in raised.value.errors), raised.value.errors
    assert api.request_history == []


def test_participant_uids_make_one_uid_request_each_and_keep_only_those(api, run_tap):
    output = run_tap(config(participant_uids=["old-error", "new-never"]), state=copy.deepcopy(STATE))
    assert [q["uid"] for q in guest_queries(api)] == [["old-error"], ["new-never"]]
    assert uids(output) == ["old-error", "new-never"]
    assert output.bookmark(EVENT) == STATE["bookmarks"]["guests"]["partitions"][0]


def test_search_is_passed_to_the_api_and_makes_a_filtered_run(api, run_tap):
    output = run_tap(config(search='status:registered label:"VIP guests"'), state=copy.deepcopy(STATE))
    assert guest_queries(api)[0]["search"] == ['status:registered label:"VIP guests"']
    assert len(uids(output)) == len(GUESTS)  # this API ignores search; the tap cannot evaluate it
    assert output.bookmark(EVENT) == STATE["bookmarks"]["guests"]["partitions"][0]


def test_a_filtered_run_then_the_main_run_still_emits_every_change(api, run_tap):
    filtered = run_tap(config(sync_status="error"), state=copy.deepcopy(STATE))
    main = run_tap(config(), state=filtered.final_state)
    assert uids(main) == ["at-bookmark", "new-both", "new-never"]


def test_flattened_sync_columns_reach_the_records(run_tap):
    by_uid = {g["uid"]: g for g in run_tap(config()).records("guests")}
    assert by_uid["new-both"]["salesforce_sync_status"] == ["synced", "error"]
    assert by_uid["new-both"]["salesforce_contact_id"] == "003000000000001AAA"
    assert by_uid["old-error"]["salesforce_last_error_code"] == "INVALID_EMAIL_ADDRESS"
    assert by_uid["old-error"]["updated_at"] == "2026-11-02T07:00:00.000000Z"
    assert by_uid["new-never"]["salesforce_sync_status"] == []


def test_a_participant_with_a_broken_updated_at_is_emitted_with_a_warning(api, run_tap, caplog):
    broken = {"_id": "6" * 24, "uid": "broken", "updated_at": "not a date"}
    api.get(GUESTS_URL, json=[*GUESTS, broken])
    output = run_tap(config(), state=copy.deepcopy(STATE))
    assert "broken" in uids(output)
    assert f"Participant {'6' * 24} has no readable updated_at" in caplog.text
    assert output.bookmark(EVENT)["replication_key_value"] == "2026-11-12T08:00:00.000000Z"
