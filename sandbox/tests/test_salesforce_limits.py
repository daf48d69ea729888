"""The documented limits real Salesforce enforces, enforced by the stand-in (docs/contracts.md §4.1),
driven over HTTPS by simple-salesforce 1.12.10 and plain requests."""

import pytest
from simple_salesforce.api import DEFAULT_API_VERSION
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sandbox.salesforce.store import SANDBOX_CAMPAIGN_ID

NOT_FOUND = [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]


def sub(url, reference_id, method="GET", body=None):
    request = {"method": method, "url": f"/services/data/v59.0/{url}", "referenceId": reference_id}
    return {**request, "body": body} if body is not None else request


def composite(sf, subrequests, **options):
    return sf.restful("composite", method="POST", json={"compositeRequest": subrequests, **options})


def error_code(sf, soql):
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.query(soql)
    return refused.value.content[0]["errorCode"], refused.value.content[0]["message"]


# ------------------------------------------------------------------ Composite


def test_composite_refuses_more_than_25_subrequests_and_runs_none(sf_box, sf):
    creates = [sub("sobjects/Contact", f"c{i}", "POST", {"LastName": f"L{i}"}) for i in range(26)]
    reply = composite(sf, creates)
    assert reply == {"compositeResponse": [{
        "body": [{"errorCode": "LIMIT_EXCEEDED", "message": "The request can’t contain more than 25 operations."}],
        "httpHeaders": {}, "httpStatusCode": 400, "referenceId": None}]}
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 0
    assert [r["httpStatusCode"] for r in composite(sf, creates[:25])["compositeResponse"]] == [201] * 25


@pytest.mark.parametrize("heavy", [
    ["query?q=SELECT+Id+FROM+Contact"] * 6,
    ["queryAll?q=SELECT+Id+FROM+Lead"] * 3 + ["query/?q=SELECT+Id+FROM+Contact"] * 3,
    ["query?q=SELECT+Id+FROM+Contact"] * 3 + ["composite/sobjects/Contact?ids=003000000000001AAA&fields=Id"] * 3,
    ["query/01g000000000001AAA-2000"] * 6,  # nextRecordsUrl pages ("Query More") count too
])
def test_composite_refuses_more_than_5_query_or_collections_subrequests(sf, heavy):
    create = sub("sobjects/Contact", "made", "POST", {"LastName": "Never"})
    reply = composite(sf, [create] + [sub(url, f"r{i}") for i, url in enumerate(heavy)])
    assert reply["compositeResponse"] == [{
        "body": [{"errorCode": "LIMIT_EXCEEDED",
                  "message": "The request can’t contain more than 5 query or sObject Collections operations."}],
        "httpHeaders": {}, "httpStatusCode": 400, "referenceId": None}]
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 0


def test_composite_with_5_queries_and_20_other_subrequests_runs(sf):
    contact = sf.Contact.create({"LastName": "Ok"})["id"]
    subrequests = ([sub("query?q=SELECT+Id+FROM+Contact", f"q{i}") for i in range(4)]
                   + [sub("composite/sobjects", "c", "POST", {"records": [{"attributes": {"type": "Lead"},
                                                                          "LastName": "L", "Company": "C"}]})]
                   + [sub(f"sobjects/Contact/{contact}", f"g{i}") for i in range(20)])
    responses = composite(sf, subrequests)["compositeResponse"]
    assert len(responses) == 25 and all(r["httpStatusCode"] == 200 for r in responses)


def test_composite_batch(sf_box, sf):
    contact = sf.Contact.create({"LastName": "Batch"})["id"]
    reply = sf.restful("composite/batch", method="POST", json={"batchRequests": [
        {"method": "GET", "url": f"v59.0/sobjects/Contact/{contact}?fields=LastName"},
        {"method": "PATCH", "url": f"v59.0/sobjects/Contact/{contact}", "richInput": {"Title": "Dr"}},
        {"method": "GET", "url": "v59.0/query?q=SELECT+Title+FROM+Contact"},
        {"method": "POST", "url": "v59.0/sobjects/Lead", "richInput": {"LastName": "NoCompany"}},
    ]})
    assert reply["hasErrors"] is True
    assert [r["statusCode"] for r in reply["results"]] == [200, 204, 200, 400]
    assert reply["results"][0]["result"]["LastName"] == "Batch"
    assert reply["results"][2]["result"]["records"][0]["Title"] == "Dr"
    assert reply["results"][3]["result"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    halted = sf.restful("composite/batch", method="POST", json={"haltOnError": True, "batchRequests": [
        {"method": "POST", "url": "v59.0/sobjects/Lead", "richInput": {"LastName": "NoCompany"}},
        {"method": "GET", "url": "v59.0/limits"}]})
    assert [r["statusCode"] for r in halted["results"]] == [400, 412]
    with pytest.raises(SalesforceMalformedRequest) as too_many:
        sf.restful("composite/batch", method="POST",
                   json={"batchRequests": [{"method": "GET", "url": "v59.0/limits"}] * 26})
    assert too_many.value.content[0]["errorCode"] == "LIMIT_EXCEEDED"


def test_collections_refuse_more_than_10_chunks_of_types(sf_box, http, api_url):
    def records(types):
        return [{"attributes": {"type": t}, "LastName": "x", **({"Company": "C"} if t == "Lead" else {})} for t in types]

    eleven_runs = ["Contact", "Lead"] * 5 + ["Contact"]
    reply = http.post(api_url("composite/sobjects"), json={"records": records(eleven_runs)})
    assert (reply.status_code, reply.json()[0]["errorCode"]) == (400, "INVALID_OPERATION")
    assert "Cannot have more than 10 chunks" in reply.json()[0]["message"]
    assert sf_box.store.tables["Contact"].records == {}
    reply = http.post(api_url("composite/sobjects"), json={"records": records(["Contact"] * 100 + ["Lead"] * 100)})
    assert reply.status_code == 200 and all(r["success"] for r in reply.json())
    ten_runs = http.post(api_url("composite/sobjects"), json={"records": records(["Contact", "Lead"] * 5)})
    assert ten_runs.status_code == 200


def test_collections_retrieve_by_get_and_post(sf_box, sf, http, api_url):
    first = sf.Contact.create({"LastName": "One", "Email": "one@x.com"})["id"]
    second = sf.Contact.create({"LastName": "Two"})["id"]
    sf.Contact.delete(second)
    posted = sf.restful("composite/sobjects/Contact", method="POST",
                        json={"ids": [first[:15], second, "003000000000999AAA"], "fields": ["email", "LastName"]})
    assert posted[0] == {"attributes": {"type": "Contact", "url": f"/services/data/v59.0/sobjects/Contact/{first}"},
                         "Email": "one@x.com", "LastName": "One"}
    assert posted[1:] == [None, None]
    got = http.get(api_url("composite/sobjects/Contact"), params={"ids": first, "fields": "Id,LastName"})
    assert got.status_code == 200 and got.json()[0]["Id"] == first
    bad = http.get(api_url("composite/sobjects/Contact"), params={"ids": "003abc", "fields": "Id"})
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "MALFORMED_ID"


# ------------------------------------------------------------------ request and statement sizes


def test_request_head_over_16384_bytes_is_414(sf_box, http, api_url):
    def query_with_email_of(length):
        return http.get(api_url("query"), params={"q": f"SELECT Id FROM Contact WHERE Email = '{'a' * length}'"})

    assert query_with_email_of(15_000).status_code == 200
    refused = query_with_email_of(16_400)
    assert refused.status_code == 414
    assert query_with_email_of(200_000).status_code == 414
    big_header = http.get(api_url("limits"), headers={"X-Padding": "p" * 16_400})
    assert big_header.status_code == 414
    assert sf_box.store.api_usage == 1  # refused requests are not API calls


def test_soql_over_100000_characters_is_malformed(sf):
    def query_of(count):
        values = ", ".join(f"'p{i:05}@example.com'" for i in range(count))
        soql = f"SELECT Id FROM Contact WHERE Email IN ({values})"
        response = composite(sf, [{"method": "GET", "url": "/services/data/v59.0/query?q=" + soql.replace(" ", "+"),
                                   "referenceId": "q"}])["compositeResponse"][0]
        return len(soql), response

    length, response = query_of(4_500)
    assert length < 100_000 and response["httpStatusCode"] == 200
    length, response = query_of(4_600)
    assert length > 100_000 and response["httpStatusCode"] == 400
    assert response["body"] == [{"message": "SOQL statements can not be longer than 100000 characters",
                                 "errorCode": "MALFORMED_QUERY", "fields": []}]


def test_offset_over_2000_is_out_of_range(sf):
    assert sf.query("SELECT Id FROM Contact LIMIT 1 OFFSET 2000")["totalSize"] == 0
    assert error_code(sf, "SELECT Id FROM Contact OFFSET 2001") == (
        "NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000")


# ------------------------------------------------------------------ Ids


@pytest.mark.parametrize("literal", ["003abc", "003000000000001AA", "003000000000001AAAA", "003000000000001!AA",
                                     "003000000000001AAB", "Ann"])
def test_malformed_id_literal_refuses_the_whole_query(sf, literal):
    contact = sf.Contact.create({"LastName": "Kept"})["id"]
    for where in (f"Id IN ('{contact}', '{literal}')", f"Id = '{literal}' OR LastName = 'Kept'"):
        assert error_code(sf, f"SELECT Id FROM Contact WHERE {where}") == (
            "INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {literal}")
    assert error_code(sf, f"SELECT Id FROM CampaignMember WHERE ContactId IN ('{literal}')")[0] == \
        "INVALID_QUERY_FILTER_OPERATOR"
    assert error_code(sf, "SELECT Id FROM Contact WHERE Id LIKE '003%'") == (
        "INVALID_QUERY_FILTER_OPERATOR", "invalid operator on id field")


def test_15_character_ids_match_and_ids_come_back_in_18_characters(sf):
    contact = sf.Contact.create({"LastName": "Short"})["id"]
    short = contact[:15]
    for where in (f"Id = '{short}'", f"Id IN ('{short}')", f"Id = '{contact[:15]}{contact[15:].lower()}'"):
        assert [r["Id"] for r in sf.query(f"SELECT Id FROM Contact WHERE {where}")["records"]] == [contact]
    assert sf.Contact.get(short)["Id"] == contact
    assert sf.Contact.update(short, {"Title": "Updated"}) == 204
    member = sf.CampaignMember.create({"CampaignId": SANDBOX_CAMPAIGN_ID[:15], "ContactId": short})["id"]
    assert sf.CampaignMember.get(member)["ContactId"] == contact
    assert sf.query(f"SELECT Id FROM CampaignMember WHERE ContactId = '{short}'")["totalSize"] == 1
    updated = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Contact"}, "Id": short, "Title": "Again"},
        {"attributes": {"type": "Contact"}, "Id": "003abc", "Title": "x"},
        {"attributes": {"type": "Contact"}, "Id": "00Q000000000001AAA", "Title": "x"}]})
    assert updated[0] == {"id": contact, "success": True, "errors": []}
    assert [r["errors"][0]["statusCode"] for r in updated[1:]] == ["MALFORMED_ID", "MALFORMED_ID"]
    assert sf.Contact.upsert(f"Id/{short}", {"Title": "Upserted"}) == 200
    with pytest.raises(SalesforceMalformedRequest) as malformed:
        sf.Contact.upsert("Id/003abc", {"Title": "x"})
    assert malformed.value.content[0]["errorCode"] == "MALFORMED_ID"


def test_references_malformed_or_missing_are_refused_per_record(sf):
    results = sf.restful("composite/sobjects", method="POST", json={"records": [
        {"attributes": {"type": "CampaignMember"}, "CampaignId": SANDBOX_CAMPAIGN_ID, "ContactId": "003abc"},
        {"attributes": {"type": "CampaignMember"}, "CampaignId": SANDBOX_CAMPAIGN_ID, "ContactId": "003000000000999AAA"},
        {"attributes": {"type": "CampaignMember"}, "CampaignId": SANDBOX_CAMPAIGN_ID, "LeadId": "003000000000999AAA"},
    ]})
    assert [r["errors"][0]["statusCode"] for r in results] == [
        "MALFORMED_ID", "INVALID_CROSS_REFERENCE_KEY", "INVALID_CROSS_REFERENCE_KEY"]


# ------------------------------------------------------------------ versions


def test_versions_from_31_to_current_and_others_are_404(sf_box, sf, http):
    versions = http.get(f"{sf_box.url}/services/data/").json()
    assert [v["version"] for v in versions] == [f"{n}.0" for n in range(31, 69)]
    assert {"label": "Winter '27", "url": "/services/data/v68.0", "version": "68.0"} == versions[-1]
    assert DEFAULT_API_VERSION in [v["version"] for v in versions]
    for version in ("30.0", "69.0", "59.5"):
        reply = http.get(f"{sf_box.url}/services/data/v{version}/query", params={"q": "SELECT Id FROM Contact"})
        assert (reply.status_code, reply.json()) == (404, NOT_FOUND)
    assert http.get(f"{sf_box.url}/services/data/v31.0/limits").status_code == 200
    response = composite(sf, [{"method": "GET", "url": "/services/data/v20.0/limits", "referenceId": "old"}])
    assert response["compositeResponse"][0]["httpStatusCode"] == 404
