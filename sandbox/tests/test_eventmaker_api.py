"""Conformance of the Eventmaker stand-in over HTTP, with ``requests`` (sandbox/eventmaker/app.py)."""

import time
from types import SimpleNamespace

import pytest
import requests

from sandbox.common.server import ServerThread
from sandbox.eventmaker.app import EventmakerSettings, create_app
from sandbox.eventmaker.store import EventmakerStore

TOKEN = "test-token"
JSON_TYPE = "application/json; charset=utf-8"


@pytest.fixture(scope="module")
def server():
    store = EventmakerStore()
    thread = ServerThread(create_app(store, EventmakerSettings(auth_token=TOKEN)))
    url = thread.start()
    yield SimpleNamespace(url=url, store=store)
    thread.stop()


@pytest.fixture
def api(server):
    """A fresh store with one event and two categories, and a client that signs every request."""
    server.store.clear()
    loaded = server.store.load({"events": [{"title": "Sandbox Conf 2026"}, {"title": "Other Summit"}]})
    event_id = loaded["events"][0]
    categories = server.store.load({"guest_categories": [
        {"event_id": event_id, "name": "VIP"}, {"event_id": event_id, "name": "Press"}]})["guest_categories"]
    session = requests.Session()

    def call(method, path, params=None, **kwargs):
        params = {"auth_token": TOKEN, **(params or {})}
        return session.request(method, server.url + path, params=params, timeout=10, **kwargs)

    yield SimpleNamespace(call=call, url=server.url, store=server.store, event_id=event_id,
                          vip=categories[0], press=categories[1], other_event=loaded["events"][1],
                          guests=f"/api/v1/events/{event_id}/guests.json")
    session.close()


def add_guests(api, *records):
    return api.store.load({"guests": [{"event_id": api.event_id, "guest_category_id": api.vip, **record}
                                      for record in records]})["guests"]


def guest_path(api, guest_id):
    return f"/api/v1/events/{api.event_id}/guests/{guest_id}.json"


def listed_ids(api, **params):
    response = api.call("GET", api.guests, {"page": 1, **params})
    assert response.status_code == 200, response.text
    return [guest["_id"] for guest in response.json()]


# -- auth, suffix, routes ------------------------------------------------------------------------

@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_missing_or_wrong_auth_token_is_403(api, token):
    params = {} if token is None else {"auth_token": token}
    response = requests.get(api.url + "/api/v1/events.json", params=params, timeout=10)
    assert response.status_code == 403
    assert response.headers["content-type"] == JSON_TYPE
    assert set(response.json()) == {"error"} and TOKEN not in response.text


def test_me_returns_the_token_user(api):
    response = api.call("GET", "/api/v1/me.json")
    assert response.status_code == 200
    assert set(response.json()) == {"id", "email", "first_name", "last_name"}


@pytest.mark.parametrize("path", ["/api/v1/events", "/api/v1/me", "/api/v1/events.xml", "/api/v1/events/{event}/guests"])
def test_known_route_without_json_suffix_is_406(api, path):
    response = api.call("GET", path.format(event=api.event_id), {"page": 1})
    assert response.status_code == 406
    assert "error" in response.json()


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/v1/nothing.json"), ("DELETE", "/api/v1/events.json"),
                                              ("GET", "/api/v1/nothing"), ("POST", "/api/v1/me.json")])
def test_unknown_route_or_method_is_404_with_the_api_message(api, method, path):
    response = api.call(method, path)
    assert response.status_code == 404
    assert response.json() == {"error": f"No API endpoint found at {path} and method {method}"}


@pytest.mark.parametrize("path", ["/api/v1/events/{missing}.json", "/api/v1/events/{missing}/guests.json",
                                  "/api/v1/events/{event}/guests/{missing}.json",
                                  "/api/v1/events/{other}/guests/{guest}.json",
                                  "/api/v1/events/{event}/guest_categories/{missing}.json"])
def test_unknown_ids_are_404_with_an_error(api, path):
    [guest_id] = add_guests(api, {"last_name": "Doe"})
    path = path.format(missing="f" * 24, event=api.event_id, other=api.other_event, guest=guest_id)
    response = api.call("GET", path, {"page": 1})
    assert response.status_code == 404
    assert set(response.json()) == {"error"}


# -- events and categories ---------------------------------------------------------------------

def test_events_list_search_and_show_with_guest_count(api):
    add_guests(api, {"last_name": "A"}, {"last_name": "B"})
    events = api.call("GET", "/api/v1/events.json").json()
    assert [event["title"] for event in events] == ["Sandbox Conf 2026", "Other Summit"]
    assert [event["_id"] for event in api.call("GET", "/api/v1/events.json", {"search": "summit"}).json()] == [
        api.other_event]
    assert len(api.call("GET", "/api/v1/events.json", {"per_page": 1, "page": 2}).json()) == 1
    shown = api.call("GET", f"/api/v1/events/{api.event_id}.json").json()
    assert shown["_id"] == api.event_id and shown["guest_count"] == 2


def test_guest_categories_list_and_show(api):
    listed = api.call("GET", f"/api/v1/events/{api.event_id}/guest_categories.json").json()
    assert [category["name"] for category in listed] == ["VIP", "Press"]
    shown = api.call("GET", f"/api/v1/events/{api.event_id}/guest_categories/{api.press}.json").json()
    assert shown["name"] == "Press" and shown["event_id"] == api.event_id


# -- guests list ---------------------------------------------------------------------------------

def test_guests_list_without_page_redirects_to_page_1_keeping_the_query(api):
    response = api.call("GET", api.guests, {"category[]": [api.vip, api.press], "per_page": 2}, allow_redirects=False)
    assert response.status_code == 302
    location = requests.Request("GET", response.headers["location"]).prepare()
    assert location.path_url.startswith(api.guests + "?")
    assert sorted(location.path_url.split("?")[1].split("&")) == sorted(
        [f"auth_token={TOKEN}", f"category%5B%5D={api.vip}", f"category%5B%5D={api.press}", "per_page=2", "page=1"])
    add_guests(api, {"last_name": "A"})
    assert len(api.call("GET", api.guests).json()) == 1  # requests follows the redirect


def test_pagination_default_500_cap_500_stable_order_and_empty_past_the_end(api):
    ids = add_guests(api, *({"last_name": f"G{n}"} for n in range(1203)))
    pages = [listed_ids(api, page=page) for page in (1, 2, 3, 4)]
    assert [len(page) for page in pages] == [500, 500, 203, 0]
    assert sum(pages, []) == sorted(ids)
    assert len(listed_ids(api, per_page=1000)) == 500
    assert listed_ids(api, per_page=7, page=2) == sorted(ids)[7:14]
    assert listed_ids(api, page=0, per_page="x") == sorted(ids)[:500]


def test_uid_filter(api):
    add_guests(api, {"uid": "wanted", "last_name": "A"}, {"uid": "other", "last_name": "B"})
    assert [g["uid"] for g in api.call("GET", api.guests, {"page": 1, "uid": "wanted"}).json()] == ["wanted"]
    assert listed_ids(api, uid="nobody") == []


def test_uid_filter_combines_with_updated_bounds(api):
    add_guests(api, {"uid": "wanted", "last_name": "A", "updated_at": "2026-01-02T00:00:00Z"})
    assert len(listed_ids(api, uid="wanted", updated_since="2026-01-02T00:00:00Z")) == 1
    assert listed_ids(api, uid="wanted", updated_since="2026-01-03") == []
    assert listed_ids(api, uid="wanted", updated_before="2026-01-02T00:00:00Z") == []


def test_category_filter_takes_several_ids(api):
    vip, press = add_guests(api, {"last_name": "V"}, {"last_name": "P", "guest_category_id": api.press})
    assert listed_ids(api, **{"category[]": api.press}) == [press]
    assert listed_ids(api, **{"category[]": [api.press, api.vip]}) == sorted([vip, press])


@pytest.mark.parametrize(("parameter", "field"), [("since", "created_at"), ("updated_since", "updated_at")])
def test_time_filters_lower_bound_inclusive_upper_bound_exclusive(api, parameter, field):
    early, middle, late = add_guests(api, *({"last_name": n, field: f"2026-01-0{n}T00:00:00Z"} for n in "123"))
    upper = parameter.replace("since", "before")
    assert listed_ids(api, **{parameter: "2026-01-02T00:00:00Z"}) == sorted([middle, late])
    assert listed_ids(api, **{upper: "2026-01-02T00:00:00Z"}) == [early]
    assert listed_ids(api, **{parameter: "2026-01-02", upper: "2026-01-03T01:00:00+01:00"}) == [middle]
    response = api.call("GET", api.guests, {"page": 1, parameter: "yesterday"})
    assert response.status_code == 400 and "error" in response.json()


def test_search_parameter_uses_the_query_language(api):
    ada, bob, cyd = add_guests(
        api,
        {"last_name": "Lovelace", "email": "ada@example.com", "status": "registered", "label_ids": ["vip"]},
        {"last_name": "Babbage", "company_name": "Engines", "status": "invited", "guest_category_id": api.press},
        {"last_name": "Cyd", "status": "cancelled", "phone_number": "+33 1"},
    )
    assert listed_ids(api, search="lovelace") == [ada]
    assert listed_ids(api, search="status:registered,cancelled") == sorted([ada, cyd])
    assert listed_ids(api, search="-status:registered") == sorted([bob, cyd])
    assert listed_ids(api, search="guest_category:Press") == [bob]
    assert listed_ids(api, search='label:vip "example.com"') == [ada]
    assert listed_ids(api, search="no:phone_number") == sorted([ada, bob])


def test_search_salesforce_sync_status_synced_and_error_overlap(api):
    def refs(synced_at, error):
        return {"third_party_applications_refs": {"salesforce": {"last_synced_at": synced_at, "last_error": error}}}

    failure = {"code": "INVALID_EMAIL_ADDRESS", "message": "Email: invalid email address: x"}
    never, synced, failed, both = add_guests(
        api, {"last_name": "N"}, {"last_name": "S", **refs("2026-11-25T10:00:00Z", None)},
        {"last_name": "F", **refs(None, failure)}, {"last_name": "B", **refs("2026-11-25T10:00:00Z", failure)})
    assert listed_ids(api, search="salesforce_sync_status:synced") == sorted([synced, both])
    assert listed_ids(api, search="salesforce_sync_status:error") == sorted([failed, both])
    assert listed_ids(api, search="-salesforce_sync_status:synced -salesforce_sync_status:error") == [never]


def test_filters_combine_and_unknown_parameters_are_ignored(api):
    vip, press = add_guests(api, {"last_name": "Same"}, {"last_name": "Same", "guest_category_id": api.press})
    add_guests(api, {"last_name": "Else"})
    assert listed_ids(api, search="same", **{"category[]": api.press}) == [press]
    assert listed_ids(api, accesspoint_id="x", sort="desc", documents="false") == listed_ids(api)


def test_guest_metadata_only_with_guest_metadata_true(api):
    [guest_id] = add_guests(api, {"last_name": "M", "guest_metadata": [{"name": "diet", "value": "vegan"}]})
    assert "guest_metadata" not in api.call("GET", api.guests, {"page": 1}).json()[0]
    assert "guest_metadata" not in api.call("GET", api.guests, {"page": 1, "guest_metadata": "false"}).json()[0]
    listed = api.call("GET", api.guests, {"page": 1, "guest_metadata": "true"}).json()[0]
    assert listed["guest_metadata"] == [{"name": "diet", "value": "vegan"}]
    assert "guest_metadata" not in api.call("GET", guest_path(api, guest_id)).json()
    assert api.call("GET", guest_path(api, guest_id), {"guest_metadata": "true"}).json()["guest_metadata"]


def test_listed_guests_carry_the_documented_fields_and_refs(api):
    add_guests(api, {"last_name": "R", "third_party_applications_refs": {"salesforce": {"lead_id": "00Q000000000001AAA"}}})
    response = api.call("GET", api.guests, {"page": 1})
    assert response.headers["content-type"] == JSON_TYPE
    [guest] = response.json()
    assert {"_id", "uid", "event_id", "guest_category_id", "email", "first_name", "last_name", "company_name",
            "position", "phone_number", "status", "registered_at", "showed_up", "created_at", "updated_at",
            "deleted_at", "label_ids", "third_party_applications_refs"} <= set(guest)
    assert guest["third_party_applications_refs"]["salesforce"] == {
        "contact_id": None, "lead_id": "00Q000000000001AAA", "campaign_member_id": None,
        "last_synced_at": None, "last_error": None, "fingerprint": None}


# -- guest show, create, update, delete ----------------------------------------------------------

@pytest.mark.parametrize("wrapped", [True, False])
def test_create_answers_201_with_the_guest(api, wrapped):
    fields = {"guest_category_id": api.vip, "email": "new@example.com", "first_name": "New"}
    response = api.call("POST", api.guests, json={"guest": fields} if wrapped else fields)
    assert response.status_code == 201
    assert response.headers["content-type"] == JSON_TYPE
    created = response.json()
    assert created["email"] == "new@example.com" and created["event_id"] == api.event_id
    assert api.call("GET", guest_path(api, created["_id"])).json() == created


def test_create_validation_errors_are_422_by_field(api):
    response = api.call("POST", api.guests, json={"guest": {"first_name": "Nobody"}})
    assert response.status_code == 422
    assert response.json() == {"errors": {
        "guest_category_id": ["can't be blank"],
        "last_name": ["should be set, or at least one other element of identity: email, company or uid."]}}
    add_guests(api, {"uid": "dup", "last_name": "A"})
    response = api.call("POST", api.guests, json={"guest_category_id": api.vip, "uid": "dup"})
    assert response.status_code == 422 and response.json() == {"errors": {"uid": ["has already been taken"]}}


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]"])
def test_unreadable_body_is_400(api, body):
    response = api.call("POST", api.guests, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "error" in response.json()


@pytest.mark.parametrize("wrapped", [True, False])
def test_update_is_204_replaces_sent_fields_keeps_others_and_bumps_updated_at(api, wrapped):
    [guest_id] = add_guests(api, {"last_name": "Doe", "email": "old@example.com", "updated_at": "2026-01-01T00:00:00Z",
                                  "guest_metadata": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]})
    fields = {"email": "new@example.com", "guest_metadata": [{"name": "c", "value": "3"}]}
    response = api.call("PUT", guest_path(api, guest_id), json={"guest": fields} if wrapped else fields)
    assert response.status_code == 204 and response.content == b""
    guest = api.call("GET", guest_path(api, guest_id), {"guest_metadata": "true"}).json()
    assert (guest["email"], guest["last_name"]) == ("new@example.com", "Doe")
    assert guest["guest_metadata"] == [{"name": "c", "value": "3"}]
    assert guest["updated_at"] > "2026-01-01T00:00:00.000Z"
    assert listed_ids(api, updated_since=guest["updated_at"]) == [guest_id]


def test_write_back_of_refs_preserves_other_apps_and_is_searchable(api):
    [guest_id] = add_guests(api, {"last_name": "Doe", "third_party_applications_refs": {"badges": {"id": "b1"}}})
    refs = api.call("GET", guest_path(api, guest_id)).json()["third_party_applications_refs"]
    refs["salesforce"].update(contact_id="003000000000001AAA", last_synced_at="2026-11-25T10:00:00Z", fingerprint="f")
    response = api.call("PUT", guest_path(api, guest_id), json={"guest": {"third_party_applications_refs": refs}})
    assert response.status_code == 204
    stored = api.call("GET", guest_path(api, guest_id)).json()["third_party_applications_refs"]
    assert stored == refs
    assert listed_ids(api, search="salesforce_sync_status:synced") == [guest_id]


def test_update_validation_error_is_422_and_changes_nothing(api):
    [guest_id] = add_guests(api, {"last_name": "Doe"})
    before = api.call("GET", guest_path(api, guest_id)).json()
    response = api.call("PUT", guest_path(api, guest_id), json={"last_name": "X", "status": "lost"})
    assert response.status_code == 422 and response.json() == {"errors": {"status": ["is not included in the list"]}}
    assert api.call("GET", guest_path(api, guest_id)).json() == before


def test_delete_is_204_then_404(api):
    [guest_id] = add_guests(api, {"last_name": "Doe"})
    assert api.call("DELETE", guest_path(api, guest_id)).status_code == 204
    assert api.call("GET", guest_path(api, guest_id)).status_code == 404
    assert api.call("DELETE", guest_path(api, guest_id)).status_code == 404
    assert api.call("GET", f"/api/v1/events/{api.event_id}.json").json()["guest_count"] == 0


def test_trashed_guests_stay_listed_with_deleted_at(api):
    [guest_id] = add_guests(api, {"last_name": "Doe", "deleted_at": "2026-11-25T10:00:00Z"})
    [listed] = api.call("GET", api.guests, {"page": 1}).json()
    assert (listed["_id"], listed["deleted_at"]) == (guest_id, "2026-11-25T10:00:00.000Z")


# -- control routes ------------------------------------------------------------------------------

def test_control_load_snapshot_reset(api):
    payload = {"guests": [{"event_id": api.event_id, "guest_category_id": api.vip, "last_name": n} for n in "AB"]}
    response = requests.post(api.url + "/__sandbox/load", json=payload, timeout=10)
    assert response.status_code == 200
    ids = response.json()["guests"]
    assert [api.store.guest(api.event_id, i)["last_name"] for i in ids] == ["A", "B"]
    snapshot = requests.get(api.url + "/__sandbox/snapshot", timeout=10).json()
    assert snapshot == api.store.to_dict() and len(snapshot["guests"]) == 2
    bad = requests.post(api.url + "/__sandbox/load", json={"guests": [{"event_id": api.event_id}]}, timeout=10)
    assert bad.status_code == 422 and "guests[0].guest_category_id" in bad.json()["errors"]
    assert requests.post(api.url + "/__sandbox/reset", timeout=10).status_code == 200
    assert requests.get(api.url + "/__sandbox/snapshot", timeout=10).json() == {
        "events": [], "guest_categories": [], "guests": []}


# -- speed (a printed figure, not a timed assertion) ---------------------------------------------

def test_report_time_to_serve_a_500_guest_page_from_100k(api, capsys):
    add_guests(api, *({"last_name": f"Guest {n}", "email": f"g{n}@example.com", "company_name": "ACME",
                       "guest_metadata": [{"name": "diet", "value": "none"}]} for n in range(100_000)))
    def timed(params, expected_count):
        started = time.perf_counter()
        response = api.call("GET", api.guests, {"per_page": 500, "guest_metadata": "true", **params})
        elapsed = (time.perf_counter() - started) * 1000
        assert len(response.json()) == expected_count
        return f"{elapsed:.1f}"

    unfiltered = [timed({"page": page}, 500) for page in (1, 100, 200)]
    searched = timed({"page": 200, "search": "status:registered acme"}, 500)
    none_updated = timed({"page": 1, "updated_since": "2999-01-01"}, 0)
    with capsys.disabled():
        print(f"\n100,000 guests, ms per request: 500-guest pages 1/100/200 {'/'.join(unfiltered)}; "
              f"page 200 with search {searched}; updated_since matching none {none_updated}")
