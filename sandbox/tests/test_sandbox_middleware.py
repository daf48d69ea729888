"""The recording / fault / latency middleware, around a tiny Starlette app on a real uvicorn server."""

import asyncio
import time

import pytest
import requests
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.common.endpoints import endpoint_template
from sandbox.common.middleware import RequestRecorder, SandboxMiddleware
from sandbox.common.server import ServerThread


async def _guests(request):
    request.app.state.served.append(request.method)
    return JSONResponse([{"event": request.path_params["event_id"]}])


async def _app_reset(request):
    return JSONResponse({"reset": True})


@pytest.fixture
def server():
    app = Starlette(
        routes=[
            Route("/api/v1/events/{event_id}/guests.json", _guests, methods=["GET", "POST"]),
            Route("/__sandbox/reset", _app_reset, methods=["POST"]),
        ]
    )
    app.state.served = []
    middleware = SandboxMiddleware(app)
    thread = ServerThread(middleware)
    url = thread.start()
    with requests.Session() as session:
        yield url, session, middleware
    thread.stop()


EVENT = "5f1e0c2b9d3e4a0012345678"
GUESTS = f"/api/v1/events/{EVENT}/guests.json"


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("get", GUESTS, "GET /api/v1/events/{id}/guests.json"),
        ("PUT", f"/api/v1/events/{EVENT}/guests/{EVENT}.json", "PUT /api/v1/events/{id}/guests/{id}.json"),
        ("PATCH", "/services/data/v60.0/composite/sobjects", "PATCH /services/data/{v}/composite/sobjects"),
        ("GET", "/services/data/v60.0/sobjects/Contact/003000000000001AAA", "GET /services/data/{v}/sobjects/Contact/{id}"),
        ("PATCH", "/services/data/v60.0/sobjects/Contact/Eventmaker_Id__c/abc", "PATCH /services/data/{v}/sobjects/Contact/Eventmaker_Id__c/{id}"),
        ("GET", "/services/data/v60.0/query/01g000000000001AAA-2000", "GET /services/data/{v}/query/{id}"),
        ("POST", "/services/Soap/u/60.0", "POST /services/Soap/u/{v}"),
        ("GET", "/services/data/v60.0/sobjects/CampaignMemberStatus/describe", "GET /services/data/{v}/sobjects/CampaignMemberStatus/describe"),
    ],
)
def test_endpoint_template_names_routes_not_identifiers(method, path, template):
    assert endpoint_template(method, path) == template


def test_requests_are_logged_and_counted_per_endpoint(server):
    url, session, _ = server
    session.get(url + GUESTS, params={"page": 2, "auth_token": "sandbox-token"})
    session.post(url + GUESTS, json={})
    session.get(url + "/nowhere.json")

    log = session.get(url + "/__sandbox/requests").json()
    assert [(entry["method"], entry["path"], entry["status"]) for entry in log] == [
        ("GET", GUESTS, 200),
        ("POST", GUESTS, 200),
        ("GET", "/nowhere.json", 404),
    ]
    assert log[0]["query"] == "page=2&auth_token=[redacted]"
    assert all(entry["latency_ms"] >= 0 and entry["at"].endswith("Z") for entry in log)
    assert session.get(url + "/__sandbox/counters").json() == {
        "total": 3,
        "by_endpoint": {
            "GET /api/v1/events/{id}/guests.json": 1,
            "POST /api/v1/events/{id}/guests.json": 1,
            "GET /nowhere.json": 1,
        },
    }


def test_control_requests_are_neither_counted_logged_nor_faulted(server):
    url, session, _ = server
    session.post(url + "/__sandbox/faults", json={"match": "* .*", "count": 5, "status": 503})
    assert session.post(url + "/__sandbox/reset").json() == {"reset": True}  # the app's own control route
    assert session.get(url + "/__sandbox/faults").json()[0]["remaining"] == 5
    assert session.get(url + "/__sandbox/counters").json() == {"total": 0, "by_endpoint": {}}
    assert session.get(url + "/__sandbox/requests").json() == []


def test_clearing_requests_resets_log_and_counters(server):
    url, session, _ = server
    session.get(url + GUESTS)
    assert session.delete(url + "/__sandbox/requests").status_code == 204
    assert session.get(url + "/__sandbox/counters").json()["total"] == 0
    assert session.get(url + "/__sandbox/requests").json() == []


def test_http_fault_with_json_body_hits_only_the_next_n_matching_requests(server):
    url, session, _ = server
    fault = {"match": "GET /guests\\.json$", "count": 2, "status": 503, "body": {"error": "busy"}, "headers": {"Retry-After": "1"}}
    assert session.post(url + "/__sandbox/faults", json=fault).status_code == 201

    assert session.post(url + GUESTS, json={}).status_code == 200  # other method: untouched
    first, second, third = (session.get(url + GUESTS) for _ in range(3))
    assert (first.status_code, first.json(), first.headers["Retry-After"]) == (503, {"error": "busy"}, "1")
    assert second.status_code == 503
    assert third.status_code == 200
    statuses = [entry["status"] for entry in session.get(url + "/__sandbox/requests").json()]
    assert statuses == [200, 503, 503, 200]


def test_http_fault_with_html_body_like_a_proxy_error_page(server):
    url, session, _ = server
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    session.post(url + "/__sandbox/faults", json={"match": "GET .*", "status": 502, "body": page})
    response = session.get(url + GUESTS)
    assert (response.status_code, response.text) == (502, page)
    assert response.headers["content-type"].startswith("text/html")


def test_reset_fault_closes_the_connection_without_a_response(server):
    url, session, _ = server
    session.post(url + "/__sandbox/faults", json={"match": "GET .*", "kind": "reset"})
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url + GUESTS, timeout=5)
    assert requests.get(url + GUESTS, timeout=5).status_code == 200
    assert [entry["status"] for entry in session.get(url + "/__sandbox/requests").json()] == [None, 200]


def test_delay_fault_makes_a_client_time_out_then_answers_normally(server):
    url, session, _ = server
    session.post(url + "/__sandbox/faults", json={"match": "GET .*", "kind": "delay", "delay_ms": 600})
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(url + GUESTS, timeout=0.2)
    assert requests.get(url + GUESTS, timeout=5).status_code == 200


def test_added_latency_applies_to_every_request_until_set_back(server):
    url, session, _ = server
    assert session.post(url + "/__sandbox/latency", json={"ms": 150}).json() == {"ms": 150}
    started = time.perf_counter()
    session.get(url + GUESTS)
    assert time.perf_counter() - started >= 0.15
    assert session.get(url + "/__sandbox/requests").json()[-1]["latency_ms"] >= 150
    session.post(url + "/__sandbox/latency", json={"ms": 0})
    session.get(url + GUESTS)
    assert session.get(url + "/__sandbox/requests").json()[-1]["latency_ms"] < 150


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"match": "GET"}, '"match"'),
        ({"match": "GET (["}, "invalid path regex"),
        ({"match": "^GET /api/v1/.*"}, "HTTP method"),
        ({"match": "GET .*", "kind": "explode"}, '"kind"'),
        ({"match": "GET .*", "count": 0}, '"count"'),
        ({"match": "GET .*", "status": 42}, '"status"'),
    ],
)
def test_bad_fault_specs_get_a_clear_400(server, spec, message):
    url, session, _ = server
    response = session.post(url + "/__sandbox/faults", json=spec)
    assert response.status_code == 400 and message in response.json()["error"]
    assert session.get(url + "/__sandbox/faults").json() == []


def test_bad_latency_gets_a_clear_400(server):
    url, session, _ = server
    assert session.post(url + "/__sandbox/latency", json={"ms": -1}).status_code == 400
    assert session.post(url + "/__sandbox/latency", data="nope").status_code == 400


def test_clearing_faults(server):
    url, session, _ = server
    session.post(url + "/__sandbox/faults", json={"match": "GET .*", "status": 500})
    assert session.delete(url + "/__sandbox/faults").status_code == 204
    assert session.get(url + GUESTS).status_code == 200


def test_state_changing_requests_are_tallied_for_the_periodic_save(server):
    url, session, middleware = server
    session.get(url + GUESTS)
    session.post(url + GUESTS, json={})
    session.post(url + "/__sandbox/reset")
    assert middleware.changes == 2


def test_request_log_keeps_the_newest_entries_and_exact_counters():
    recorder = RequestRecorder(max_entries=3)
    for number in range(5):
        recorder.record({"endpoint": "GET /x", "n": number})
    assert [entry["n"] for entry in recorder.entries()] == [2, 3, 4]
    assert recorder.counters() == {"total": 5, "by_endpoint": {"GET /x": 5}}


def _wait_for_log(session, url, length: int, seconds: float = 2.0) -> list[dict]:
    deadline = time.monotonic() + seconds
    while len(log := session.get(url + "/__sandbox/requests").json()) < length and time.monotonic() < deadline:
        time.sleep(0.02)
    return log


def test_a_request_the_client_gave_up_on_is_logged_and_counted_at_once_as_499(server):
    url, session, _ = server
    session.post(url + "/__sandbox/faults", json={"match": "GET .*", "kind": "delay", "delay_ms": 3000})
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(url + GUESTS, params={"auth_token": "sandbox-token"}, timeout=0.2)

    log = _wait_for_log(session, url, 1)  # well before the 3 s delay is over
    assert [(entry["path"], entry["query"], entry["status"]) for entry in log] == [
        (GUESTS, "auth_token=[redacted]", 499)
    ]
    assert 150 <= log[0]["latency_ms"] < 3000
    assert session.get(url + "/__sandbox/counters").json() == {
        "total": 1,
        "by_endpoint": {"GET /api/v1/events/{id}/guests.json": 1},
    }


def test_an_abandoned_request_is_still_carried_out_but_logged_once(server):
    url, session, middleware = server
    session.post(url + "/__sandbox/faults", json={"match": "POST .*", "kind": "delay", "delay_ms": 400})
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(url + GUESTS, json={}, timeout=0.1)

    deadline = time.monotonic() + 3
    while not middleware.app.state.served and time.monotonic() < deadline:
        time.sleep(0.02)
    assert middleware.app.state.served == ["POST"]  # like a real server, the write still lands
    assert [entry["status"] for entry in session.get(url + "/__sandbox/requests").json()] == [499]
    assert session.get(url + "/__sandbox/counters").json()["total"] == 1


def test_a_cancelled_request_is_recorded_as_499_and_the_cancellation_propagates():
    async def never_answers(scope, receive, send):
        await asyncio.Event().wait()

    body = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive():  # as ASGI servers do: the body, then nothing until the client leaves
        if body:
            return body.pop()
        await asyncio.Event().wait()

    async def send(message):
        raise AssertionError("nothing is sent")

    async def serve_then_cancel(middleware):
        scope = {"type": "http", "method": "GET", "path": GUESTS, "query_string": b""}
        request = asyncio.create_task(middleware(scope, receive, send))
        await asyncio.sleep(0.01)
        request.cancel()
        await request

    middleware = SandboxMiddleware(never_answers)
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(serve_then_cancel(middleware))
    assert [entry["status"] for entry in middleware.recorder.entries()] == [499]
    assert middleware.recorder.counters()["total"] == 1
