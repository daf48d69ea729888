"""The pytest fixtures of contracts §3: fresh servers, handles, middleware around the real stand-ins."""

import requests

from sandbox.seed import generate


def test_eventmaker_fixture_serves_the_store_through_the_middleware(eventmaker_sandbox):
    dataset = generate(participants=30, events=2, seed=3)
    eventmaker_sandbox.store.load(dataset.eventmaker)
    event_id = dataset.eventmaker["events"][0]["_id"]
    url = f"{eventmaker_sandbox.url}/api/v1/events/{event_id}/guests.json"

    page = requests.get(url, params={"page": 1, "auth_token": eventmaker_sandbox.auth_token}, timeout=5)
    expected = [guest["_id"] for guest in dataset.eventmaker["guests"] if guest["event_id"] == event_id]
    assert sorted(guest["_id"] for guest in page.json()) == sorted(expected)

    eventmaker_sandbox.inject_fault("GET /guests\\.json", status=503, body="<h1>Service Unavailable</h1>")
    assert requests.get(url, params={"page": 1, "auth_token": "sandbox-token"}, timeout=5).status_code == 503
    assert eventmaker_sandbox.counters() == {"total": 2, "by_endpoint": {"GET /api/v1/events/{id}/guests.json": 2}}
    assert [entry["status"] for entry in eventmaker_sandbox.requests()] == [200, 503]
    eventmaker_sandbox.clear_requests()
    assert eventmaker_sandbox.requests() == []


def test_each_test_gets_a_fresh_eventmaker(eventmaker_sandbox):
    assert eventmaker_sandbox.snapshot()["guests"] == []
    assert eventmaker_sandbox.counters()["total"] == 0


def test_salesforce_fixture_over_https_with_its_ca_and_a_session(salesforce_sandbox):
    token = salesforce_sandbox.access_token()
    query = f"SELECT Id, Name FROM Campaign WHERE Id = '{salesforce_sandbox.campaign_id}'"
    response = requests.get(
        f"{salesforce_sandbox.url}/services/data/v60.0/query",
        params={"q": query},
        headers={"Authorization": f"Bearer {token}"},
        verify=salesforce_sandbox.ca_bundle,
        timeout=5,
    )
    assert response.status_code == 200
    assert [record["Id"] for record in response.json()["records"]] == [salesforce_sandbox.campaign_id]
    assert salesforce_sandbox.credentials["login_url"] == salesforce_sandbox.url
    assert salesforce_sandbox.counters()["by_endpoint"] == {
        "POST /services/oauth2/token": 1,
        "GET /services/data/{v}/query": 1,
    }


def test_salesforce_fixture_configure_and_seed_load(salesforce_sandbox):
    dataset = generate(participants=40, events=2, seed=5)
    loaded = salesforce_sandbox.load(dataset.salesforce)
    assert loaded["ids"]["Contact"] == [record["Id"] for record in dataset.salesforce["records"]["Contact"]]
    salesforce_sandbox.configure(daily_api_limit=1)
    token = salesforce_sandbox.access_token()
    headers = {"Authorization": f"Bearer {token}"}
    limits_url = f"{salesforce_sandbox.url}/services/data/v60.0/limits"
    first = requests.get(limits_url, headers=headers, verify=salesforce_sandbox.ca_bundle, timeout=5)
    second = requests.get(limits_url, headers=headers, verify=salesforce_sandbox.ca_bundle, timeout=5)
    assert (first.status_code, second.status_code) == (200, 403)
