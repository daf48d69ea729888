"""Salesforce authentication: a direct session, OAuth flows or SOAP login against `login_url`.

simple-salesforce's `Salesforce(domain=...)` forces `*.salesforce.com`; we call its own
`soap_login` / `token_login` with full URLs built from `login_url` instead, then open a direct session.
"""

from __future__ import annotations

import time
import urllib.parse
from html import escape

import jwt
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed
from simple_salesforce.login import soap_login, token_login

from target_salesforce_campaign.errors import ConfigError, SalesforceCallError

SOAP_ENVELOPE = """<?xml version="1.0" encoding="utf-8" ?>
<env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:urn="urn:partner.soap.sforce.com">
  <env:Header><urn:CallOptions><urn:client>target-salesforce-campaign</urn:client></urn:CallOptions></env:Header>
  <env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com">
    <n1:username>{username}</n1:username><n1:password>{password}</n1:password>
  </n1:login></env:Body>
</env:Envelope>"""

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def auth_flow(config: dict) -> str:
    """Name of the flow the configured credentials select (first complete set wins)."""
    if config.get("access_token") and config.get("instance_url"):
        return "access_token"
    if config.get("client_id") and config.get("jwt_private_key") and config.get("username"):
        return "jwt"
    if config.get("client_id") and config.get("refresh_token"):
        return "refresh_token"
    if config.get("username") and config.get("password"):
        return "password"
    if config.get("client_id") and config.get("client_secret"):
        return "client_credentials"
    raise ConfigError(
        "No complete Salesforce credentials: set access_token + instance_url, client_id + client_secret, "
        "client_id + refresh_token, username + password (+ security_token), or client_id + username + jwt_private_key."
    )


def jwt_audience(login_url: str) -> str:
    """The JWT `aud` Salesforce expects: its authorization server, not a My Domain host.

    Salesforce documents https://login.salesforce.com (production, My Domain included) and
    https://test.salesforce.com (sandboxes, `*.sandbox.my.salesforce.com` included); any other
    host (an Experience Cloud site, the local sandbox) is its own audience.
    """
    url = login_url.rstrip("/")
    host = urllib.parse.urlparse(url).hostname or ""
    if host == "salesforce.com" or host.endswith(".salesforce.com"):
        sandbox = host == "test.salesforce.com" or host.endswith(".sandbox.my.salesforce.com")
        return "https://test.salesforce.com" if sandbox else "https://login.salesforce.com"
    return url


def _token_request(config: dict) -> dict:
    flow = auth_flow(config)
    if flow == "client_credentials":
        return {"grant_type": "client_credentials", "client_id": config["client_id"], "client_secret": config["client_secret"]}
    if flow == "refresh_token":
        data = {"grant_type": "refresh_token", "client_id": config["client_id"], "refresh_token": config["refresh_token"]}
        if config.get("client_secret"):
            data["client_secret"] = config["client_secret"]
        return data
    if flow == "jwt":
        claims = {
            "iss": config["client_id"],
            "sub": config["username"],
            "aud": jwt_audience(config["login_url"]),
            "exp": int(time.time()) + 180,
        }
        return {"grant_type": JWT_GRANT, "assertion": jwt.encode(claims, config["jwt_private_key"], algorithm="RS256")}
    # OAuth username-password flow (a connected app is configured).
    return {
        "grant_type": "password",
        "client_id": config["client_id"],
        "client_secret": config.get("client_secret", ""),
        "username": config["username"],
        "password": config["password"] + config.get("security_token", ""),
    }


def login(config: dict, session: requests.Session) -> tuple[str, str]:
    """Return (session id, instance host[:port]) for the configured flow."""
    flow = auth_flow(config)
    base = config["login_url"].rstrip("/")
    if flow == "access_token":
        return config["access_token"], config["instance_url"].split("://", 1)[-1].rstrip("/")
    if flow == "password" and not config.get("client_id"):
        body = SOAP_ENVELOPE.format(
            username=escape(config["username"]), password=escape(config["password"] + config.get("security_token", ""))
        )
        headers = {"content-type": "text/xml", "charset": "UTF-8", "SOAPAction": "login"}
        return soap_login(f"{base}/services/Soap/u/{config['api_version']}", body, headers, None, session)
    return token_login(f"{base}/services/oauth2/token", _token_request(config), base, config["client_id"], None, None, session)


def login_failure(config: dict, exc: Exception) -> ConfigError:
    """The start-of-run error for refused credentials or an unreachable org: flow, URL and Salesforce's reason.

    Salesforce's reasons (OAuth `error_description`, SOAP fault, REST errorCode) never echo a secret.
    """
    flow = auth_flow(config)
    if isinstance(exc, SalesforceAuthenticationFailed):
        reason = f"{exc.code}: {exc.auth_message[:200]}"
    elif isinstance(exc, SalesforceCallError):
        reason = f"{exc.code}: {exc.message}"
    else:  # connection, TLS or a malformed JWT key: the type says which
        reason = type(exc).__name__
    if flow == "access_token":
        return ConfigError(
            f"Salesforce at {config['instance_url']} refused the access_token ({reason}): it expired or is not valid "
            "for this instance_url; a direct token cannot be renewed (check the credentials, or set a login flow's)."
        )
    return ConfigError(
        f"Salesforce login ({flow} flow) at {config.get('login_url')} failed ({reason}): "
        "check the credentials, login_url and ca_bundle."
    )


def can_reauthenticate(config: dict) -> bool:
    """A direct access token cannot be renewed; every login flow can."""
    return auth_flow(config) != "access_token"


DEFAULT_REQUEST_TIMEOUT = 60


class TimeoutSession(requests.Session):
    """A session whose requests time out unless told otherwise (requests' default is to wait forever).

    simple-salesforce sends every call, logins included, through the session it is given.
    """

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, *args: object, **kwargs: object) -> requests.Response:
        """requests.Session.request with `timeout` defaulted."""
        kwargs.setdefault("timeout", self.timeout)
        return super().request(*args, **kwargs)


def request_timeout(config: dict) -> float:
    """Seconds to wait for a response (connect and each read)."""
    return float(config.get("request_timeout") or DEFAULT_REQUEST_TIMEOUT)


def new_session(config: dict) -> requests.Session:
    """HTTP session with `request_timeout`; `ca_bundle` pins the CA (environment CA variables would override it otherwise)."""
    session = TimeoutSession(request_timeout(config))
    if config.get("ca_bundle"):
        session.verify = config["ca_bundle"]
        session.trust_env = False
    return session


def connect(config: dict, session: requests.Session) -> Salesforce:
    """Log in and return a simple-salesforce client on a direct session."""
    session_id, instance = login(config, session)
    return Salesforce(
        instance_url=f"https://{instance}", session_id=session_id, session=session, version=config["api_version"]
    )
