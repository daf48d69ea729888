"""HTTP behaviour against a mocked Eventmaker API (requests-mock): paging, redirects, errors, retries."""

from __future__ import annotations

import logging

import pytest
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from tap_eventmaker.tap import TapEventmaker

API = "https://eventmaker.test"
TOKEN = "s3cret-token"
EVENT = "a" * 24
EVENT_URL = f"{API}/api/v1/events/{EVENT}.json"
GUESTS_URL = f"{API}/api/v1/events/{EVENT}/guests.json"
CATEGORIES_URL = f"{API}/api/v1/events/{EVENT}/guest_categories.json"


def config(**overrides) -> dict:
    return {"api_url": API, "auth_token": TOKEN, "event_ids": [EVENT], **overrides}


def guest(n: int, updated_at: str = "2026-11-01T10:00:00Z", **fields) -> dict:
    return {"_id": f"{n:024x}", "uid": f"uid{n}", "event_id": EVENT, "updated_at": updated_at, **fields}


@pytest.fixture
def api(requests_mock):
    """An event with no categories; tests register the guest pages they need."""
    requests_mock.get(EVENT_URL, json={"_id": EVENT, "title": "Summit", "guest_count": 5})
    requests_mock.get(CATEGORIES_URL, json=[])
    return requests_mock


def guest_requests(api) -> list:
    return [r for r in api.request_history if r.path.endswith("/guests.json")]


def serve_pages(api, pages: list[list[dict]]) -> None:
    for number, page in enumerate(pages, start=1):
        api.get(f"{GUESTS_URL}?page={number}", json=page)


def test_pages_until_a_short_page_with_token_and_page_size_in_the_query(api, run_tap):
    serve_pages(api, [[guest(1), guest(2)], [guest(3), guest(4)], [guest(5)]])
    output = run_tap(config(page_size=2))
    assert [g["uid"] for g in output.records("guests")] == ["uid1", "uid2", "uid3", "uid4", "uid5"]
    sent = guest_requests(api)[:3]  # then the completeness check's requests
    assert [r.qs["page"] for r in sent] == [["1"], ["2"], ["3"]]
    assert all(r.qs["per_page"] == ["2"] and r.qs["auth_token"] == [TOKEN] for r in sent)


def test_a_full_last_page_is_followed_by_one_empty_page(api, run_tap):
    serve_pages(api, [[guest(1), guest(2)], []])
    assert len(run_tap(config(page_size=2)).records("guests")) == 2
    assert [r.qs["page"] for r in guest_requests(api)][:2] == [["1"], ["2"]]


def test_a_participant_seen_on_two_pages_is_emitted_once(api, run_tap):
    serve_pages(api, [[guest(1), guest(2)], [guest(2), guest(3)], []])
    assert [g["uid"] for g in run_tap(config(page_size=2)).records("guests")] == ["uid1", "uid2", "uid3"]


def test_the_302_to_the_same_host_is_followed(api, run_tap):
    canonical = f"{GUESTS_URL}?auth_token={TOKEN}&page=1&per_page=500&canonical=1"
    api.get(f"{GUESTS_URL}?page=1", [{"status_code": 302, "headers": {"Location": canonical}}])
    api.get(f"{GUESTS_URL}?canonical=1", json=[guest(1)])
    assert [g["uid"] for g in run_tap(config()).records("guests")] == ["uid1"]


def test_a_redirect_to_another_host_is_refused_before_the_token_leaves(api, run_tap):
    api.get(f"{GUESTS_URL}?page=1", status_code=302, headers={"Location": f"https://evil.test/x?auth_token={TOKEN}"})
    evil = api.get("https://evil.test/x", json=[])
    with pytest.raises(FatalAPIError, match="another host") as failure:
        run_tap(config())
    assert not evil.called
    assert TOKEN not in str(failure.value)


def test_403_says_the_auth_token_was_rejected_without_showing_it(api, run_tap):
    api.get(EVENT_URL, status_code=403, json={"error": f"Invalid auth_token {TOKEN}"})
    with pytest.raises(FatalAPIError, match="auth_token rejected") as failure:
        run_tap(config())
    assert TOKEN not in str(failure.value)
    assert f"/api/v1/events/{EVENT}.json" in str(failure.value)


def test_5xx_is_retried_then_the_sync_goes_on(api, run_tap):
    api.get(
        f"{GUESTS_URL}?page=1",
        [{"status_code": 503, "text": "busy"}, {"status_code": 500, "json": {"error": "x"}}, {"json": [guest(1)]}],
    )
    assert len(run_tap(config()).records("guests")) == 1
    assert len(guest_requests(api)) == 4  # two retries, the page, then the completeness check's page


def test_an_html_error_page_that_persists_fails_with_a_readable_message(api, run_tap):
    page = "<html><head><title>We're sorry, but something went wrong (500)</title></head><body>...</body></html>"
    api.get(f"{GUESTS_URL}?page=1", status_code=500, text=page, headers={"Content-Type": "text/html"})
    with pytest.raises(RetriableAPIError) as failure:
        run_tap(config())
    message = str(failure.value)
    assert "500" in message and "HTML page" in message and "something went wrong" in message
    assert "<body>" not in message
    assert len(guest_requests(api)) == 5  # the SDK's default number of tries


def test_max_tries_bounds_the_attempts(api, run_tap):
    api.get(f"{GUESTS_URL}?page=1", status_code=503, text="busy")
    with pytest.raises(RetriableAPIError):
        run_tap(config(max_tries=2))
    assert len(guest_requests(api)) == 2


def test_retry_backoff_seconds_is_the_first_wait_then_doubles(monkeypatch):
    monkeypatch.undo()  # the real wait generator, not the test suite's zero waits
    stream = TapEventmaker(config=config(retry_backoff_seconds=0.5)).streams["guests"]
    waits = stream.backoff_wait_generator()
    waits.send(None)  # backoff primes its generators
    assert [next(waits) for _ in range(3)] == [0.5, 1.0, 2.0]


def test_an_html_page_served_with_200_is_a_clear_error_not_a_json_traceback(api, run_tap):
    api.get(f"{GUESTS_URL}?page=1", text="<!DOCTYPE html><html><title>Sign in</title></html>")
    with pytest.raises(FatalAPIError, match=r"HTML page \('Sign in'\) instead of JSON"):
        run_tap(config())


@pytest.mark.parametrize("error", [requests.exceptions.ConnectTimeout, requests.exceptions.ConnectionError])
def test_timeouts_and_connection_errors_are_retried(api, run_tap, error):
    api.get(f"{GUESTS_URL}?page=1", [{"exc": error(f"failed for {GUESTS_URL}?auth_token={TOKEN}")}, {"json": [guest(1)]}])
    assert len(run_tap(config()).records("guests")) == 1


def test_a_persistent_timeout_fails_without_the_token_in_message_or_logs(api, run_tap, caplog):
    api.get(f"{GUESTS_URL}?page=1", exc=requests.exceptions.ReadTimeout(f"Read timed out. url: {GUESTS_URL}?auth_token={TOKEN}"))
    with caplog.at_level(logging.DEBUG), pytest.raises(requests.exceptions.ReadTimeout) as failure:
        run_tap(config())
    assert TOKEN not in str(failure.value)
    assert failure.value.__cause__ is None and failure.value.__suppress_context__
    tap_logs = [r.getMessage() for r in caplog.records if not r.name.startswith("requests_mock")]
    assert tap_logs and not any(TOKEN in message for message in tap_logs)


def test_listed_events_are_read_one_by_one_and_unlisted_ones_not_at_all(api, run_tap):
    serve_pages(api, [[guest(1)]])
    output = run_tap(config())
    assert output.records("events")[0]["guest_count"] == 5
    assert not any(r.path == "/api/v1/events.json" for r in api.request_history)


def test_without_event_ids_every_visible_event_is_listed(api, run_tap):
    other = "b" * 24
    api.get(f"{API}/api/v1/events.json?page=1", json=[{"_id": EVENT}, {"_id": other}])
    api.get(f"{API}/api/v1/events/{other}/guest_categories.json", json=[{"_id": "c1", "name": "VIP"}])
    api.get(f"{API}/api/v1/events/{other}/guests.json?page=1", json=[guest(9)])
    serve_pages(api, [[guest(1)]])
    output = run_tap(config(event_ids=[]))
    assert {e["_id"] for e in output.records("events")} == {EVENT, other}
    assert {g["uid"] for g in output.records("guests")} == {"uid1", "uid9"}
    assert output.records("guest_categories") == [{"_id": "c1", "name": "VIP", "event_id": other}]


def test_custom_fields_are_asked_for_only_when_enabled(api, run_tap):
    metadata = [{"name": "diet", "value": "vegan"}]
    serve_pages(api, [[guest(1, guest_metadata=metadata)]])
    assert "guest_metadata" not in run_tap(config()).records("guests")[0]
    assert "guest_metadata" not in guest_requests(api)[-1].qs
    assert run_tap(config(include_guest_metadata=True)).records("guests")[0]["guest_metadata"] == metadata
    assert guest_requests(api)[-1].qs["guest_metadata"] == ["true"]


def test_a_log_line_per_event(api, run_tap, caplog):
    serve_pages(api, [[guest(1), guest(2)], [guest(2), guest(3)], []])
    with caplog.at_level(logging.INFO):
        run_tap(config(page_size=2))
    assert f"Event {EVENT}: 3 pages read, 3 distinct participants read, 3 emitted" in caplog.text
