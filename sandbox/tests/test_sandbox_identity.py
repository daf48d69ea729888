"""The Salesforce stand-in's identity URL, userinfo and revoke, driven by plain requests and simple-salesforce."""

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession

from sandbox.salesforce import auth
from sandbox.salesforce.store import ORG_ID, USER_ID

IDENTITY_KEYS = {"id", "asserted_user", "user_id", "organization_id", "username", "nick_name", "display_name",
                 "email", "email_verified", "first_name", "last_name", "timezone", "photos", "urls", "active",
                 "user_type", "language", "locale", "utcOffset", "last_modified_date", "is_app_installed"}
URL_KEYS = {"enterprise", "metadata", "partner", "rest", "sobjects", "search", "query", "recent", "tooling_soap",
            "tooling_rest", "profile", "feeds", "groups", "users", "feed_items", "feed_elements", "custom_domain"}


def _refresh_login(box, refresh_token):
    return box.session.post(f"{box.url}/services/oauth2/token", data={
        "grant_type": "refresh_token", "refresh_token": refresh_token,
        "client_id": auth.CLIENT_ID, "client_secret": auth.CLIENT_SECRET})


@pytest.fixture
def login(salesforce_sandbox):
    """A refresh token minted on the control path and the token response of logging in with it."""
    refresh = salesforce_sandbox.call("POST", "token")["refresh_token"]
    reply = _refresh_login(salesforce_sandbox, refresh)
    assert reply.status_code == 200
    return refresh, reply.json()


def test_the_id_url_of_the_token_response_answers_the_identity(salesforce_sandbox, login):
    _, token = login
    assert token["id"] == f"{salesforce_sandbox.url}/id/{ORG_ID}/{USER_ID}"
    reply = salesforce_sandbox.session.get(token["id"], headers={"Authorization": f"Bearer {token['access_token']}"})
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("application/json")
    body = reply.json()
    assert IDENTITY_KEYS <= set(body) and URL_KEYS <= set(body["urls"])
    assert (body["user_id"], body["organization_id"], body["username"], body["active"], body["user_type"]) == \
        (USER_ID, ORG_ID, auth.USERNAME, True, "STANDARD")
    assert body["urls"]["rest"] == f"{salesforce_sandbox.url}/services/data/v{{version}}/"
    by_parameter = salesforce_sandbox.session.get(token["id"], params={"oauth_token": token["access_token"]})
    assert by_parameter.json() == body


def test_the_id_url_refuses_missing_or_bad_tokens_and_other_ids(salesforce_sandbox, login):
    _, token = login
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    get = salesforce_sandbox.session.get
    assert (get(token["id"]).status_code, get(token["id"]).text) == (403, "Missing_OAuth_Token")
    bad = get(token["id"], headers={"Authorization": "Bearer 00D000000000001!AQnope"})
    assert (bad.status_code, bad.text) == (403, "Bad_OAuth_Token")
    other = get(f"{salesforce_sandbox.url}/id/{ORG_ID}/005000000000009AAA", headers=bearer)
    assert (other.status_code, other.text) == (404, "Bad_Id")


def test_userinfo_through_simple_salesforce(salesforce_sandbox, login):
    _, token = login
    sf = Salesforce(instance_url=token["instance_url"], session_id=token["access_token"],
                    session=salesforce_sandbox.session)
    info = sf.oauth2("userinfo")
    assert info["sub"] == token["id"] and info["user_id"] == USER_ID and info["organization_id"] == ORG_ID
    assert info["preferred_username"] == auth.USERNAME and info["email_verified"] is True
    assert URL_KEYS <= set(info["urls"])


def test_revoking_a_refresh_token_ends_it_and_its_sessions(salesforce_sandbox, login):
    refresh, token = login
    other = salesforce_sandbox.access_token()  # a password-grant session, not issued from that refresh token
    sf = Salesforce(instance_url=token["instance_url"], session_id=token["access_token"],
                    session=salesforce_sandbox.session)
    assert sf.query("SELECT Id FROM Campaign")["totalSize"] == 1
    revoked = salesforce_sandbox.session.post(f"{salesforce_sandbox.url}/services/oauth2/revoke",
                                              data={"token": refresh})
    assert (revoked.status_code, revoked.content) == (200, b"")
    assert _refresh_login(salesforce_sandbox, refresh).json() == \
        {"error": "invalid_grant", "error_description": "expired access/refresh token"}
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Campaign")
    assert salesforce_sandbox.store.session_valid(other, None)


def test_revoking_an_access_token_keeps_its_refresh_token(salesforce_sandbox, login):
    refresh, token = login
    revoke_url = f"{salesforce_sandbox.url}/services/oauth2/revoke"
    assert salesforce_sandbox.session.post(revoke_url, data={"token": token["access_token"]}).status_code == 200
    reply = salesforce_sandbox.session.get(f"{salesforce_sandbox.url}/services/data/v61.0/limits",
                                           headers={"Authorization": f"Bearer {token['access_token']}"})
    assert (reply.status_code, reply.json()[0]["errorCode"]) == (401, "INVALID_SESSION_ID")
    assert _refresh_login(salesforce_sandbox, refresh).status_code == 200
    again = salesforce_sandbox.session.post(revoke_url, data={"token": token["access_token"]})
    assert (again.status_code, again.json()) == \
        (400, {"error": "unsupported_token_type", "error_description": "this token type is not supported"})


def test_tokens_survive_a_reset_and_a_restart(salesforce_sandbox, login):
    from sandbox.salesforce.store import SalesforceStore

    refresh, token = login
    salesforce_sandbox.reset()  # what `sandbox seed` does before loading
    assert _refresh_login(salesforce_sandbox, refresh).status_code == 200
    restored = SalesforceStore.from_dict(salesforce_sandbox.store.to_dict())  # what a restart does
    assert refresh in restored.refresh_tokens and restored.session_valid(token["access_token"], None)
    assert restored.session_origins[token["access_token"]] == refresh

