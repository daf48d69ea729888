"""Every Salesforce auth flow of the target, end to end against the Salesforce sandbox.

The request log shows which login endpoint was called; the grant (and the JWT) is seen by a spy on the
sandbox's token endpoint, which runs in this process. The sandbox decodes JWT assertions without
checking their signature (it has no certificate), so the signature is checked here with the test key.
"""

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sandbox.salesforce import auth as sandbox_auth

from target_salesforce_campaign.errors import ConfigError
from target_salesforce_campaign.sinks import GuestsSink

SOAP = "/services/Soap/u/"
TOKEN = "/services/oauth2/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LOGIN_KEYS = ("access_token", "instance_url", "client_id", "client_secret", "refresh_token", "username", "password",
              "security_token", "jwt_private_key")
SECRET_KEYS = ("access_token", "client_secret", "refresh_token", "password", "security_token", "jwt_private_key")

# flow -> (login endpoint, grant_type) the target must use; None: no login at all.
EXPECTED_LOGIN = {
    "access_token": None,
    "jwt": (TOKEN, JWT_GRANT),
    "refresh_token": (TOKEN, "refresh_token"),
    "oauth_password": (TOKEN, "password"),
    "soap": (SOAP, None),
    "client_credentials": (TOKEN, "client_credentials"),
}
LOGIN_FLOWS = [flow for flow, login in EXPECTED_LOGIN.items() if login]


@pytest.fixture(scope="module")
def rsa_key():
    """A throwaway RSA key: (private PEM, public key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem.decode(), key.public_key()


@pytest.fixture
def token_requests(monkeypatch):
    """Forms (and Authorization headers) the sandbox's OAuth token endpoint received (`run` clears it)."""
    seen = []
    original = sandbox_auth.oauth_token

    def spy(form, authorization, *args, **kwargs):
        seen.append({"form": dict(form), "authorization": authorization})
        return original(form, authorization, *args, **kwargs)

    monkeypatch.setattr(sandbox_auth, "oauth_token", spy)
    return seen


def credentials(flow, sf, private_pem):
    """The minimal credential set of one flow, valid for the sandbox (`access_token()` logs in itself)."""
    c = sf.credentials
    if flow == "access_token":
        return {"access_token": sf.access_token(), "instance_url": sf.url}
    if flow == "jwt":
        return {"client_id": c["client_id"], "username": c["username"], "jwt_private_key": private_pem}
    if flow == "refresh_token":
        return {"client_id": c["client_id"], "refresh_token": sf.store.issue_refresh_token()}
    keys = {"oauth_password": ("client_id", "client_secret", "username", "password", "security_token"),
            "soap": ("username", "password", "security_token"),
            "client_credentials": ("client_id", "client_secret")}[flow]
    return {k: c[k] for k in keys}


def run(pipeline, token_requests, **settings):
    """One pipeline run, token requests recorded from its start (as the sandbox's request log)."""
    token_requests.clear()
    return pipeline.run(**settings)


def use_only(pipeline, creds):
    """Replace the pipeline's Salesforce credentials (the login URL and CA are kept)."""
    config = {k: v for k, v in pipeline.target_config.items() if k not in LOGIN_KEYS}
    pipeline.target_config = {**config, **creds}


def logins(pipeline, token_requests):
    """(endpoint, grant) of every login the target made, in order."""
    paths = [r["path"] for r in pipeline.sf.requests() if r["path"].startswith((SOAP, TOKEN))]
    grants = iter(t["form"].get("grant_type") for t in token_requests)
    return [(SOAP, None) if p.startswith(SOAP) else (TOKEN, next(grants)) for p in paths]


def assert_synced(pipeline, guests):
    for g in guests:
        entry = pipeline.entry(g["_id"])
        assert entry and entry["last_error"] is None and entry["last_synced_at"], entry
        assert pipeline.member_of(entry["lead_id"])["Id"] == entry["campaign_member_id"]


def add_guests(pipeline, n):
    return pipeline.add_guests(*[{"email": f"a{i}@x.example", "last_name": f"A{i}", "status": "registered"}
                                 for i in range(n)])


@pytest.mark.parametrize("flow", list(EXPECTED_LOGIN))
def test_each_flow_logs_in_as_expected_and_syncs(pipeline, token_requests, rsa_key, flow):
    guests = add_guests(pipeline, 3)
    use_only(pipeline, credentials(flow, pipeline.sf, rsa_key[0]))
    result = run(pipeline, token_requests)
    assert result.error is None, result.error
    expected = EXPECTED_LOGIN[flow]
    assert logins(pipeline, token_requests) == ([expected] if expected else [])
    assert_synced(pipeline, guests)


def test_jwt_assertion_is_signed_with_the_key_and_names_app_user_and_login_url(pipeline, token_requests, rsa_key):
    add_guests(pipeline, 1)
    use_only(pipeline, credentials("jwt", pipeline.sf, rsa_key[0]))
    assert run(pipeline, token_requests).error is None
    (request,) = token_requests
    claims = jwt.decode(request["form"]["assertion"], rsa_key[1], algorithms=["RS256"], audience=pipeline.sf.url)
    assert claims["iss"] == pipeline.sf.credentials["client_id"]
    assert claims["sub"] == pipeline.sf.credentials["username"]


def test_client_secret_goes_only_where_the_flow_needs_it(pipeline, token_requests, rsa_key):
    """The refresh grant sends the secret only when configured; client credentials always do (in the body)."""
    add_guests(pipeline, 1)
    creds = credentials("refresh_token", pipeline.sf, rsa_key[0])
    use_only(pipeline, creds)
    assert run(pipeline, token_requests).error is None
    assert "client_secret" not in token_requests[-1]["form"]
    use_only(pipeline, {**creds, "client_secret": pipeline.sf.credentials["client_secret"]})
    assert run(pipeline, token_requests).error is None
    assert token_requests[-1]["form"]["client_secret"] == pipeline.sf.credentials["client_secret"]
    use_only(pipeline, credentials("client_credentials", pipeline.sf, rsa_key[0]))
    assert run(pipeline, token_requests).error is None
    assert token_requests[-1]["form"]["client_secret"] == pipeline.sf.credentials["client_secret"]


WRONG = "WRONG-SECRET-0123456789"
# flow -> (credential replaced by WRONG, reason the error must give). The JWT key is replaced by a malformed
# key: the sandbox cannot check signatures, so a well-formed wrong key would be accepted.
WRONG_SECRET = {
    "access_token": ("access_token", "INVALID_SESSION_ID"),
    "jwt": ("jwt_private_key", "InvalidKeyError"),
    "refresh_token": ("refresh_token", "invalid_grant"),
    "oauth_password": ("password", "invalid_grant"),
    "soap": ("password", "INVALID_LOGIN"),
    "client_credentials": ("client_secret", "invalid_client"),
}


@pytest.mark.parametrize("flow", list(WRONG_SECRET))
def test_wrong_secret_fails_at_start_clearly_without_the_secret(pipeline, token_requests, rsa_key, caplog, flow):
    add_guests(pipeline, 2)
    creds = credentials(flow, pipeline.sf, rsa_key[0])
    key, reason = WRONG_SECRET[flow]
    use_only(pipeline, {**creds, key: WRONG})
    result = run(pipeline, token_requests)
    assert isinstance(result.error, ConfigError), result.error
    message = str(result.error)
    assert reason in message and "credentials" in message and pipeline.sf.url in message, message
    assert pipeline.salesforce_writes() == [] and pipeline.writebacks() == [] and result.states == []
    for text in (message, caplog.text):
        assert WRONG not in text
        assert all(v not in text for k, v in creds.items() if k in SECRET_KEYS)


@pytest.mark.filterwarnings("ignore::UserWarning:simple_salesforce.login")
def test_wrong_jwt_subject_is_refused_by_the_token_endpoint(pipeline, token_requests, rsa_key):
    add_guests(pipeline, 1)
    use_only(pipeline, {**credentials("jwt", pipeline.sf, rsa_key[0]), "username": "someone@else.example"})
    result = run(pipeline, token_requests)
    assert isinstance(result.error, ConfigError), result.error
    assert [t["form"]["grant_type"] for t in token_requests] == [JWT_GRANT]
    assert pipeline.salesforce_writes() == []


# Precedence (README): access_token+instance_url -> JWT -> client_id+refresh_token -> username+password
# (OAuth password flow when client_id is set) -> client_id+client_secret.
PRECEDENCE = ["access_token", "jwt", "refresh_token", "oauth_password", "client_credentials"]
DROPPED_WHEN_LOWER = {"access_token": ("access_token",), "jwt": ("jwt_private_key",),
                      "refresh_token": ("refresh_token",), "oauth_password": ("password",)}


@pytest.mark.parametrize("winner", PRECEDENCE)
def test_first_complete_credential_set_wins(pipeline, token_requests, rsa_key, winner):
    """Every set of `winner` and below is complete (and valid); the sets above it are left incomplete."""
    add_guests(pipeline, 1)
    creds = {}
    for flow in PRECEDENCE:
        creds.update(credentials(flow, pipeline.sf, rsa_key[0]))
    for flow in PRECEDENCE[:PRECEDENCE.index(winner)]:
        for key in DROPPED_WHEN_LOWER[flow]:
            creds.pop(key)
    use_only(pipeline, creds)
    result = run(pipeline, token_requests)
    assert result.error is None, result.error
    expected = EXPECTED_LOGIN[winner]
    assert logins(pipeline, token_requests) == ([expected] if expected else [])


def test_password_without_client_id_is_a_soap_login_even_with_other_keys(pipeline, token_requests, rsa_key):
    """A stray client_secret (no client_id) completes no OAuth set: SOAP login."""
    add_guests(pipeline, 1)
    use_only(pipeline, {**credentials("soap", pipeline.sf, rsa_key[0]),
                        "client_secret": pipeline.sf.credentials["client_secret"]})
    assert run(pipeline, token_requests).error is None
    assert logins(pipeline, token_requests) == [(SOAP, None)]


@pytest.fixture
def sessions_expire_between_batches(pipeline, monkeypatch):
    """Every batch after the first starts with all Salesforce sessions expired."""
    batches = []
    original = GuestsSink.process_batch

    def process_batch(self, context):
        if batches:
            pipeline.sf.store.expire_sessions()
        batches.append(len(context.get("records", [])))
        return original(self, context)

    monkeypatch.setattr(GuestsSink, "process_batch", process_batch)
    return batches


@pytest.mark.parametrize("flow", LOGIN_FLOWS)
def test_expired_session_mid_run_logs_in_again_once(pipeline, token_requests, rsa_key, sessions_expire_between_batches,
                                                    flow):
    guests = add_guests(pipeline, 4)
    use_only(pipeline, credentials(flow, pipeline.sf, rsa_key[0]))
    result = run(pipeline, token_requests, batch_size=2)
    assert result.error is None, result.error
    assert sessions_expire_between_batches == [2, 2]
    assert logins(pipeline, token_requests) == [EXPECTED_LOGIN[flow]] * 2
    assert [r["status"] for r in pipeline.sf.requests() if r["status"] == 401] == [401]
    assert_synced(pipeline, guests)


def test_expired_direct_token_mid_run_stops_without_a_login_or_the_token(pipeline, token_requests, rsa_key, caplog,
                                                                         sessions_expire_between_batches):
    guests = add_guests(pipeline, 4)
    creds = credentials("access_token", pipeline.sf, rsa_key[0])
    use_only(pipeline, creds)
    result = run(pipeline, token_requests, batch_size=2)
    assert result.error is not None and "INVALID_SESSION_ID" in str(result.error)
    assert logins(pipeline, token_requests) == []
    assert sum(bool((pipeline.entry(g["_id"]) or {}).get("last_synced_at")) for g in guests) == 2
    assert creds["access_token"] not in str(result.error) + caplog.text
