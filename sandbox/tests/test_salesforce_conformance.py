"""Conformance of the Salesforce stand-in, driven over real HTTPS by simple-salesforce 1.12.10
and plain requests."""

import base64
import json
import time

import pytest
import requests
from importlib.metadata import version
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)
from simple_salesforce.login import soap_login, token_login

from sandbox.salesforce import auth
from sandbox.salesforce.store import SANDBOX_CAMPAIGN_ID

assert version("simple-salesforce") == "1.12.10"
JSON_TYPE = "application/json;charset=UTF-8"


class Redirect(requests.adapters.HTTPAdapter):
    """Sends https://*.salesforce.com/... to the sandbox, so login flows work unchanged."""

    def __init__(self, base_url):
        super().__init__()
        self.base_url = base_url

    def send(self, request, **kwargs):
        path = request.url.split("://", 1)[1].split("/", 1)[1]
        request.url = f"{self.base_url}/{path}"
        return super().send(request, **kwargs)


def api(sf_box, path):
    return f"{sf_box.url}/services/data/v59.0/{path}"


# ------------------------------------------------------------------ logins


def test_soap_login_success_and_fault(sf_box):
    soap_url = f"{sf_box.url}/services/Soap/u/59.0"
    body = ('<?xml version="1.0" encoding="utf-8" ?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">'
            '<env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com"><n1:username>{u}</n1:username>'
            '<n1:password>{p}</n1:password></n1:login></env:Body></env:Envelope>')
    headers = {"content-type": "text/xml", "charset": "UTF-8", "SOAPAction": "login"}
    session_id, instance = soap_login(soap_url, body.format(u=auth.USERNAME, p=auth.PASSWORD + auth.SECURITY_TOKEN),
                                      headers, None, sf_box.session())
    assert instance == sf_box.url.removeprefix("https://")
    assert sf_box.store.session_valid(session_id, None)
    with pytest.raises(SalesforceAuthenticationFailed) as failure:
        soap_login(soap_url, body.format(u=auth.USERNAME, p="wrong"), headers, None, sf_box.session())
    assert failure.value.code == "INVALID_LOGIN"
    assert failure.value.auth_message == "Invalid username, password, security token; or user locked out."


def test_oauth_token_grants(sf_box):
    token_url = f"{sf_box.url}/services/oauth2/token"
    password_form = {"grant_type": "password", "client_id": auth.CLIENT_ID, "client_secret": auth.CLIENT_SECRET,
                     "username": auth.USERNAME, "password": auth.PASSWORD + auth.SECURITY_TOKEN}
    token, instance = token_login(token_url, password_form, "login", auth.CLIENT_ID, None, None, sf_box.session())
    assert instance == sf_box.url.removeprefix("https://") and sf_box.store.session_valid(token, None)

    basic = base64.b64encode(f"{auth.CLIENT_ID}:{auth.CLIENT_SECRET}".encode()).decode()
    token, _ = token_login(token_url, {"grant_type": "client_credentials"}, "x.my", auth.CLIENT_ID,
                           {"Authorization": f"Basic {basic}"}, None, sf_box.session())
    assert sf_box.store.session_valid(token, None)

    refresh = sf_box.store.issue_refresh_token()
    reply = sf_box.session().post(token_url, data={"grant_type": "refresh_token", "refresh_token": refresh,
                                                    "client_id": auth.CLIENT_ID})
    assert reply.status_code == 200 and reply.json()["instance_url"] == sf_box.url
    assert "refresh_token" not in reply.json()

    bad = sf_box.session().post(token_url, data={**password_form, "password": "nope"})
    assert (bad.status_code, bad.json()) == (400, {"error": "invalid_grant", "error_description": "authentication failure"})
    with pytest.raises(SalesforceAuthenticationFailed):
        token_login(token_url, {**password_form, "password": "nope"}, "login", auth.CLIENT_ID, None, None, sf_box.session())


def test_jwt_bearer_grant(sf_box):
    def segment(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {"iss": auth.CLIENT_ID, "sub": auth.USERNAME, "aud": "https://login.salesforce.com", "exp": time.time() + 60}
    assertion = f"{segment({'alg': 'RS256'})}.{segment(claims)}.sig"
    reply = sf_box.session().post(f"{sf_box.url}/services/oauth2/token",
                                  data={"grant_type": auth.JWT_BEARER, "assertion": assertion})
    assert reply.status_code == 200 and sf_box.store.session_valid(reply.json()["access_token"], None)


def test_login_partial_client_logs_in_again_after_session_expiry(sf_box):
    session = sf_box.session()
    session.mount("https://", Redirect(sf_box.url))
    sf = Salesforce(username=auth.USERNAME, password=auth.PASSWORD, security_token=auth.SECURITY_TOKEN, session=session)
    first_session = sf.session_id
    sf.Contact.create({"LastName": "Before"})
    sf_box.store.expire_sessions()
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 1  # 401 -> re-login -> retried
    assert sf.session_id != first_session


def test_session_ttl_and_direct_session_expiry(sf_box, sf):
    sf_box.settings.update({"session_ttl_seconds": 0.2})
    time.sleep(0.3)
    with pytest.raises(SalesforceExpiredSession) as expired:
        sf.query("SELECT Id FROM Contact")
    assert expired.value.content == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


# ------------------------------------------------------------------ records


def test_create_get_update_delete_status_codes(sf_box, sf):
    created = sf.Contact.create({"LastName": "Lovelace", "Email": "ada@x.com"})
    assert created["success"] and created["errors"] == [] and created["id"].startswith("003")
    assert len(created["id"]) == 18
    record = sf.Contact.get(created["id"])
    assert record["attributes"]["type"] == "Contact" and record["Email"] == "ada@x.com"
    assert sf.Contact.update(created["id"], {"Title": "Countess"}) == 204
    assert sf.Contact.get(created["id"])["Title"] == "Countess"
    assert sf.Contact.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound) as deleted:
        sf.Contact.update(created["id"], {"Title": "x"})
    assert deleted.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"
    with pytest.raises(SalesforceResourceNotFound) as missing:
        sf.Contact.get("003000000000999AAA")
    assert missing.value.content == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND", "fields": []}]
    with pytest.raises(SalesforceMalformedRequest) as malformed:
        sf.Contact.get("00Q000000000001AAA")
    assert malformed.value.content[0]["errorCode"] == "MALFORMED_ID"


def test_raw_http_shapes_location_and_headers(sf_box, http):
    reply = http.post(api(sf_box, "sobjects/Contact/"), json={"LastName": "Raw"})
    assert reply.status_code == 201 and reply.headers["Content-Type"] == JSON_TYPE
    assert reply.headers["Location"] == f"/services/data/v59.0/sobjects/Contact/{reply.json()['id']}"
    assert reply.headers["Sforce-Limit-Info"] == "api-usage=1/100000"
    patched = http.patch(api(sf_box, f"sobjects/contact/{reply.json()['id']}"), json={"Title": "x"})
    assert patched.status_code == 204 and patched.content == b""
    invalid = http.post(api(sf_box, "sobjects/Lead"), json={"LastName": "NoCompany"})
    assert invalid.status_code == 400
    assert invalid.json() == [{"message": "Required fields are missing: [Company]", "errorCode": "REQUIRED_FIELD_MISSING",
                               "fields": ["Company"]}]
    assert http.post(api(sf_box, "sobjects/Contact"), data="{not json").json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    assert http.get(api(sf_box, "sobjects/Nope/describe")).status_code == 404
    versions = http.get(f"{sf_box.url}/services/data/")
    assert versions.status_code == 200 and "Sforce-Limit-Info" not in versions.headers
    assert {"version": "59.0", "label": "Winter '24", "url": "/services/data/v59.0"} in versions.json()


def test_describe_lists_fields_with_lengths_and_picklists(sf):
    fields = {f["name"]: f for f in sf.Contact.describe()["fields"]}
    assert (fields["LastName"]["length"], fields["LastName"]["nillable"]) == (80, False)
    assert fields["Eventmaker_Id__c"]["externalId"] and fields["Eventmaker_Id__c"]["length"] == 255
    lead = {f["name"]: f for f in sf.Lead.describe()["fields"]}
    assert lead["Company"]["length"] == 255 and not lead["ConvertedContactId"]["createable"]
    member = {f["name"]: f for f in sf.CampaignMember.describe()["fields"]}
    assert not member["CampaignId"]["updateable"] and member["Status"]["length"] == 40
    assert "Attended" in [v["value"] for v in member["Status"]["picklistValues"]]
    assert {f["name"] for f in sf.CampaignMemberStatus.describe()["fields"]} >= {"Label", "IsDefault", "HasResponded"}
    assert sf.Campaign.describe()["keyPrefix"] == "701"


def test_upsert_by_external_id_status_codes(sf_box, sf):
    assert sf.Contact.upsert("Eventmaker_Id__c/G-1", {"LastName": "New"}) == 201
    assert sf.Contact.upsert("Eventmaker_Id__c/G-1", {"LastName": "Same"}) == 200
    raw = sf.Contact.upsert("Eventmaker_Id__c/G-1", {"LastName": "Again"}, raw_response=True)
    assert raw.json()["created"] is False
    sf_box.store.load({"records": {"Contact": [{"LastName": "Twin", "Eventmaker_Id__c": "G-1"}]}})
    with pytest.raises(SalesforceMoreThanOneRecord) as several:
        sf.Contact.upsert("Eventmaker_Id__c/G-1", {"LastName": "x"})
    assert len(several.value.content) == 2 and several.value.content[0].startswith("/services/data/v59.0/sobjects/Contact/")
    with pytest.raises(SalesforceMalformedRequest):
        sf.CampaignMember.upsert("Id/00v000000000001AAA", {"Status": "Sent"})


def test_campaign_member_duplicate_over_http(sf):
    contact = sf.Contact.create({"LastName": "M"})["id"]
    sf.CampaignMember.create({"CampaignId": SANDBOX_CAMPAIGN_ID, "ContactId": contact, "Status": "Registered"})
    with pytest.raises(SalesforceMalformedRequest) as duplicate:
        sf.CampaignMember.create({"CampaignId": SANDBOX_CAMPAIGN_ID, "ContactId": contact})
    assert duplicate.value.content == [{"message": "Already a campaign member.", "errorCode": "DUPLICATE_VALUE", "fields": []}]


# ------------------------------------------------------------------ queries


def test_query_paging_with_batch_size_setting_and_header(sf_box, sf, http):
    sf_box.store.load({"records": {"Contact": [{"LastName": f"L{i:03}"} for i in range(450)]}})
    sf_box.settings.update({"query_batch_size": 100})
    first = sf.query("SELECT Id, LastName FROM Contact")
    assert (first["totalSize"], first["done"], len(first["records"])) == (450, False, 100)
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    everything = sf.query_all("SELECT Id, LastName FROM Contact")
    assert [r["LastName"] for r in everything["records"]] == [f"L{i:03}" for i in range(450)]
    sf_box.settings.update({"query_batch_size": None})
    page = http.get(api(sf_box, "query/"), params={"q": "SELECT Id FROM Contact"},
                    headers={"Sforce-Query-Options": "batchSize=10"}).json()
    assert len(page["records"]) == 200  # Salesforce's minimum batch size
    assert len(http.get(api(sf_box, "query"), params={"q": "SELECT Id FROM Contact"}).json()["records"]) == 450


def test_query_errors_and_query_all(sf_box, sf):
    for soql, code in [("SELECT Id FROM Contact WHERE", "MALFORMED_QUERY"),
                       ("SELECT Id, Bogus FROM Contact", "INVALID_FIELD"), ("SELECT Id FROM Bogus", "INVALID_TYPE")]:
        with pytest.raises(SalesforceMalformedRequest) as error:
            sf.query(soql)
        assert error.value.content[0]["errorCode"] == code
    contact = sf.Contact.create({"LastName": "Gone"})["id"]
    sf.Contact.delete(contact)
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 0
    deleted = sf.query_all("SELECT Id, IsDeleted FROM Contact", include_deleted=True)["records"]
    assert [(r["Id"], r["IsDeleted"]) for r in deleted] == [(contact, True)]


# ------------------------------------------------------------------ Collections and Composite


def test_collections_create_mixed_results_in_order(sf):
    records = [{"attributes": {"type": "Contact"}, "LastName": "Good", "Email": "good@x.com"},
               {"attributes": {"type": "Contact"}, "LastName": "Bad", "Email": "x"},
               {"attributes": {"type": "Lead"}, "LastName": "NoCompany"},
               {"LastName": "NoType"}]
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": records})
    assert results[0]["success"] and results[0]["id"].startswith("003")
    assert results[1] == {"success": False, "errors": [{"statusCode": "INVALID_EMAIL_ADDRESS",
                                                        "message": "Email: invalid email address: x", "fields": ["Email"]}]}
    assert results[2]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert results[3]["errors"][0]["statusCode"] == "INVALID_TYPE"
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 1


def test_collections_all_or_none_rolls_back(sf):
    existing = sf.Contact.create({"LastName": "Keep", "Email": "keep@x.com"})["id"]
    records = [{"attributes": {"type": "Contact"}, "Id": existing, "Email": "changed@x.com"},
               {"attributes": {"type": "Contact"}, "Id": existing, "LastName": ""}]
    results = sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": True, "records": records})
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.Contact.get(existing)["Email"] == "keep@x.com"


def test_collections_upsert_and_size_limit(sf_box, sf, http):
    records = [{"attributes": {"type": "Lead"}, "Eventmaker_Id__c": f"E{i}", "LastName": "L", "Company": "C"} for i in range(3)]
    first = sf.restful("composite/sobjects/Lead/Eventmaker_Id__c", method="PATCH", json={"records": records})
    second = sf.restful("composite/sobjects/Lead/Eventmaker_Id__c", method="PATCH", json={"records": records})
    assert [r["created"] for r in first] == [True] * 3 and [r["created"] for r in second] == [False] * 3
    assert [r["id"] for r in first] == [r["id"] for r in second]
    too_many = [{"attributes": {"type": "Contact"}, "LastName": "x"}] * 201
    reply = http.post(api(sf_box, "composite/sobjects"), json={"records": too_many})
    assert reply.status_code == 400 and reply.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_collections_insert_of_200_records_timing(sf):
    """Prints the round-trip time of a 200-record Collections insert (a figure, not an assertion)."""
    records = [{"attributes": {"type": "Contact"}, "LastName": f"P{i}", "Email": f"p{i}@x.com"} for i in range(200)]
    sf.query("SELECT Id FROM Contact LIMIT 1")  # warm the TLS connection
    started = time.perf_counter()
    results = sf.restful("composite/sobjects", method="POST", json={"records": records})
    elapsed_ms = (time.perf_counter() - started) * 1000
    print(f"\n200-record Collections insert over HTTPS: {elapsed_ms:.1f} ms")
    assert sum(r["success"] for r in results) == 200


def test_composite_references_and_all_or_none(sf_box, sf):
    body = {"compositeRequest": [
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "person",
         "body": {"LastName": "Ref"}},
        {"method": "POST", "url": "/services/data/v59.0/sobjects/CampaignMember", "referenceId": "member",
         "body": {"CampaignId": SANDBOX_CAMPAIGN_ID, "ContactId": "@{person.id}", "Status": "Attended"}},
        {"method": "GET", "url": "/services/data/v59.0/sobjects/CampaignMember/@{member.id}", "referenceId": "read"},
    ]}
    responses = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert [r["httpStatusCode"] for r in responses] == [201, 201, 200]
    assert responses[2]["body"]["HasResponded"] is True
    assert responses[0]["httpHeaders"]["Location"].endswith(responses[0]["body"]["id"])

    failing = {"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "ok", "body": {"LastName": "X"}},
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "bad", "body": {}},
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "never", "body": {"LastName": "Y"}},
    ]}
    usage_before = sf_box.store.api_usage
    responses = sf.restful("composite", method="POST", json=failing)["compositeResponse"]
    assert [r["httpStatusCode"] for r in responses] == [400, 400, 400]
    assert responses[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert responses[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.query("SELECT Id FROM Contact WHERE LastName IN ('X', 'Y')")["totalSize"] == 0
    assert sf_box.store.api_usage == usage_before + 2  # the composite call and the query


# ------------------------------------------------------------------ limits and control routes


def test_api_usage_header_limits_and_daily_limit(sf_box, sf):
    sf.query("SELECT Id FROM Contact")
    assert sf.api_usage["api-usage"].used == 1 and sf.api_usage["api-usage"].total == 100000
    assert sf.limits()["DailyApiRequests"] == {"Max": 100000, "Remaining": 99998}
    sf_box.settings.update({"daily_api_limit": 3})
    sf.query("SELECT Id FROM Contact")
    with pytest.raises(SalesforceRefusedRequest) as refused:
        sf.query("SELECT Id FROM Contact")
    assert refused.value.content == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]


def test_control_routes_are_not_counted(sf_box):
    session = sf_box.session()
    loaded = session.post(f"{sf_box.url}/__sandbox/load",
                          json={"records": {"Contact": [{"LastName": "A"}, {"Id": "003000000000042AAA", "LastName": "B"}]}})
    assert loaded.json()["ids"]["Contact"][1] == "003000000000042AAA"
    config = session.post(f"{sf_box.url}/__sandbox/config", json={"duplicate_rule": True, "query_batch_size": 250})
    assert config.json()["duplicate_rule"] is True and sf_box.store.duplicate_rule is True
    assert session.post(f"{sf_box.url}/__sandbox/config", json={"nope": 1}).status_code == 400
    snapshot = session.get(f"{sf_box.url}/__sandbox/snapshot").json()
    assert len(snapshot["records"]["Contact"]) == 2
    session.post(f"{sf_box.url}/__sandbox/reset")
    assert sf_box.store.find("Contact", "Id", "003000000000042AAA") == []
    assert sf_box.store.api_usage == 0
