"""Logins: the SOAP partner ``login`` call and the OAuth 2.0 token endpoint.

Both check the sandbox's fixed credentials (contracts §3) and open a session in the store. Bodies
are Salesforce's: unprefixed ``sessionId``/``serverUrl`` in the SOAP response, a SOAP fault with
``sf:exceptionCode`` on failure, and ``{"error", "error_description"}`` 400s for OAuth.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from .store import ORG_ID, USER_ID, SalesforceStore

USERNAME = "integration@sandbox.example"
PASSWORD = "sandbox-password"
SECURITY_TOKEN = "SANDBOXTOKEN"
CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
INVALID_LOGIN = "Invalid username, password, security token; or user locked out."


@dataclass(frozen=True)
class OAuthError(Exception):
    error: str
    description: str

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


AUTHENTICATION_FAILURE = OAuthError("invalid_grant", "authentication failure")


def credentials() -> dict[str, str]:
    return {"username": USERNAME, "password": PASSWORD, "security_token": SECURITY_TOKEN,
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}


def password_ok(username: str | None, password: str | None) -> bool:
    """The sandbox user with its password, with or without the security token appended.

    (The sandbox user behaves as if it logged in from a trusted IP range, where the token is optional.)
    """
    return username == USERNAME and password in (PASSWORD + SECURITY_TOKEN, PASSWORD)


# ------------------------------------------------------------------ SOAP


def _local_texts(xml: bytes) -> dict[str, str]:
    """Text of every element of a SOAP envelope, keyed by local (namespace-free) tag name."""
    root = ElementTree.fromstring(xml)
    return {element.tag.rsplit("}", 1)[-1]: (element.text or "") for element in root.iter()}


def soap_login(body: bytes, store: SalesforceStore, base_url: str, version: str) -> tuple[int, str]:
    """``(status, xml)`` of a partner ``login`` call."""
    try:
        texts = _local_texts(body)
    except ElementTree.ParseError:
        return 500, soap_fault("INVALID_LOGIN", INVALID_LOGIN)
    if not password_ok(texts.get("username"), texts.get("password")):
        return 500, soap_fault("INVALID_LOGIN", INVALID_LOGIN)
    session_id = store.issue_session()
    server_url = f"{base_url}/services/Soap/u/{version}/{ORG_ID[:15]}"
    return 200, (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><loginResponse><result>"
        f"<metadataServerUrl>{base_url}/services/Soap/m/{version}/{ORG_ID[:15]}</metadataServerUrl>"
        "<passwordExpired>false</passwordExpired><sandbox>true</sandbox>"
        f"<serverUrl>{escape(server_url)}</serverUrl><sessionId>{escape(session_id)}</sessionId>"
        f"<userId>{USER_ID}</userId><userInfo><organizationId>{ORG_ID}</organizationId>"
        f"<userEmail>{USERNAME}</userEmail><userId>{USER_ID}</userId><userName>{USERNAME}</userName>"
        "</userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>"
    )


def soap_fault(code: str, message: str) -> str:
    """The partner API's login fault, as Salesforce sends it (HTTP 500)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<soapenv:Body><soapenv:Fault><faultcode>{code}</faultcode>"
        f"<faultstring>{code}: {escape(message)}</faultstring><detail>"
        f'<sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>{code}</sf:exceptionCode>'
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage></sf:LoginFault></detail>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )


# ------------------------------------------------------------------ OAuth


def _client(form: dict[str, str], authorization: str | None) -> tuple[str | None, str | None]:
    """Client id and secret from an ``Authorization: Basic`` header, else from the form."""
    if authorization and authorization.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError("invalid_client", "invalid client credentials") from None
        return client_id, secret
    return form.get("client_id"), form.get("client_secret")


def _check_client(client_id: str | None, secret: str | None, secret_required: bool) -> None:
    if client_id != CLIENT_ID:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    if (secret_required or secret is not None) and secret != CLIENT_SECRET:
        raise OAuthError("invalid_client", "invalid client credentials")


def _jwt_claims(assertion: str) -> dict[str, Any]:
    """The claims of a JWT (signature not checked: the sandbox has no certificate to check it with)."""
    try:
        payload = assertion.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        raise OAuthError("invalid_grant", "invalid assertion") from None


def oauth_token(form: dict[str, str], authorization: str | None, store: SalesforceStore,
                base_url: str) -> dict[str, Any]:
    """The token response for one ``POST /services/oauth2/token``; raises OAuthError (HTTP 400)."""
    grant = form.get("grant_type")
    client_id, secret = _client(form, authorization)
    if grant == "password":
        _check_client(client_id, secret, secret_required=True)
        if not password_ok(form.get("username"), form.get("password")):
            raise AUTHENTICATION_FAILURE
    elif grant == "client_credentials":
        _check_client(client_id, secret, secret_required=True)
    elif grant == "refresh_token":
        _check_client(client_id, secret, secret_required=False)
        if form.get("refresh_token") not in store.refresh_tokens:
            raise OAuthError("invalid_grant", "expired access/refresh token")
    elif grant == JWT_BEARER:
        claims = _jwt_claims(form.get("assertion", ""))
        if claims.get("iss") != CLIENT_ID:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if claims.get("sub") != USERNAME or float(claims.get("exp", 0)) < time.time():
            raise OAuthError("invalid_grant", "user hasn't approved this consumer"
                             if claims.get("sub") != USERNAME else "expired authorization code")
    else:
        raise OAuthError("unsupported_grant_type", "grant type not supported")
    origin = form.get("refresh_token") if grant == "refresh_token" else None
    return token_response(store.issue_session(origin), base_url, with_scope=grant != "password")


def token_response(access_token: str, base_url: str, with_scope: bool) -> dict[str, Any]:
    issued_at = str(int(time.time() * 1000))
    identity = f"{base_url}/id/{ORG_ID}/{USER_ID}"
    signature = base64.b64encode(
        hmac.new(CLIENT_SECRET.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
    ).decode()
    body = {"access_token": access_token, "instance_url": base_url, "id": identity,
            "token_type": "Bearer", "issued_at": issued_at, "signature": signature}
    if with_scope:
        body["scope"] = "api"
    return body
