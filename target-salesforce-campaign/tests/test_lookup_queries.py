"""The lookup's SOQL (issue 9 §2): escaped, OR'ed IN conditions split only at the URI and SOQL limits,
at most 5 query subrequests per Composite call, members found in the same call when they fit."""

import re
import urllib.parse

from hypothesis import given, settings
from hypothesis import strategies as st

from target_salesforce_campaign import lookup, soql
from target_salesforce_campaign.ids import case_safe_suffix

BUDGET = soql.url_budget("59.0")
LITERAL = re.compile(r"'((?:[^'\\]|\\.)*)'")
FIELDS = lookup.Fields(("Email",), "Eventmaker_Id__c")


UNESCAPE = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


def values_in(statement):
    return [re.sub(r"\\(.)", lambda m: UNESCAPE.get(m[1], m[1]), v) for v in LITERAL.findall(statement)]


def test_values_are_escaped_and_decoded_back_exactly():
    evil = "x' OR Name != '"
    [statement] = soql.or_in_queries("SELECT Id FROM Contact", [("Email", [evil])], url_bytes=BUDGET)
    assert statement == "SELECT Id FROM Contact WHERE (Email IN ('x\\' OR Name != \\''))"
    url = soql.query_url("59.0", statement)
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["q"] == [statement]


def test_conditions_are_ored_in_one_statement_until_a_limit():
    [statement] = soql.or_in_queries(
        "SELECT Id FROM Lead", [("Id", ["00Q000000000001AAA"]), ("Email", ["a@x.io", "b@x.io"])], where="IsDeleted = false",
        url_bytes=BUDGET,
    )
    assert statement == "SELECT Id FROM Lead WHERE IsDeleted = false AND (Id IN ('00Q000000000001AAA') OR Email IN ('a@x.io', 'b@x.io'))"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=80), max_size=250),
    st.lists(st.from_regex(r"[0-9a-f]{24}", fullmatch=True), max_size=200),
    st.integers(min_value=300, max_value=BUDGET),
)
def test_every_value_is_in_one_statement_and_every_statement_within_the_limits(emails, ids, budget):
    conditions = [("Eventmaker_Id__c", ids), ("Email", emails)]
    statements = soql.or_in_queries("SELECT Id, Email FROM Contact", conditions, url_bytes=budget, soql_chars=20_000)
    for statement in statements:
        assert len(statement) <= 20_000 and len(soql.encode(statement)) <= budget
    assert sorted(v for s in statements for v in values_in(s)) == sorted(set(emails) | set(ids))
    assert len(statements) <= 1 + len(set(emails) | set(ids))  # no empty statement


def test_long_emails_are_split_before_the_uri_limit():
    emails = [f"{'x' * 60}.{i}@{'y' * 12}.example" for i in range(200)]  # 80 characters each
    statements = soql.or_in_queries("SELECT Id FROM Contact", [("Email", emails)], url_bytes=BUDGET)
    assert len(statements) == 2
    assert all(len(soql.query_url("59.0", s)) <= soql.MAX_URI_BYTES - soql.HEADER_ALLOWANCE for s in statements)


def _wanted(n, *, email_length=40, stored=0):
    emails = {f"{'p' * (email_length - 14)}{i:04d}@x.example" for i in range(n)}
    contact_ids = {f"003{i:012d}" for i in range(stored)}
    return lookup.Wanted(
        contact_ids=frozenset(i + case_safe_suffix(i) for i in contact_ids),
        external_ids=frozenset(f"{i:024x}" for i in range(n)),
        match_values={"Email": frozenset(emails)},
    )


def test_a_batch_of_200_new_participants_is_one_composite_call_with_its_members():
    plan = lookup.plan(_wanted(200), FIELDS, ["701000000000001AAA"], None)
    assert len(plan.people) + len(plan.members) <= lookup.QUERIES_PER_CALL
    assert plan.members_by_match and plan.members
    assert all("Contact.Email IN" in s or "Lead.Email IN" in s for s in plan.members)


def test_long_emails_and_stored_ids_still_fit_one_composite_call():
    plan = lookup.plan(_wanted(200, email_length=80, stored=200), FIELDS, ["701000000000001AAA"], None)
    assert len(plan.people) == 2 and plan.members_by_match and len(plan.people) + len(plan.members) <= 5


def test_members_that_would_need_a_call_of_their_own_are_left_for_later():
    plan = lookup.plan(_wanted(200, email_length=80, stored=200), FIELDS, ["701000000000001AAA"], BUDGET)
    total = len(plan.people) + len(plan.members)
    assert -(-total // lookup.QUERIES_PER_CALL) == -(-len(plan.people) // lookup.QUERIES_PER_CALL)
    if not plan.members_by_match:
        assert not plan.members or plan.members_cover == _wanted(200, stored=200).contact_ids


def test_a_lone_statement_too_long_for_a_get_travels_in_a_composite_call(requests_mock):
    import requests
    from simple_salesforce import Salesforce

    from target_salesforce_campaign.salesforce_client import SalesforceClient

    emails = [f"{'x' * 60}.{i}@{'y' * 12}.example" for i in range(200)]  # 80 characters each: ~18 kB encoded
    [statement] = soql.or_in_queries("SELECT Id FROM Contact", [("Email", emails)])  # no URL budget: Composite body
    assert len(soql.encode(statement)) > BUDGET
    page = {"records": [], "done": True, "totalSize": 0}
    requests_mock.post("https://sf.test/services/data/v59.0/composite",
                       json={"compositeResponse": [{"httpStatusCode": 200, "referenceId": "r0", "body": page}]})
    client = SalesforceClient(lambda session: Salesforce(instance_url="https://sf.test", session_id="t", session=session),
                              requests.Session())
    assert client.query_many([statement]) == [[]]
    [call] = requests_mock.request_history
    assert call.json()["compositeRequest"][0]["url"] == soql.query_url("59.0", statement)
    requests_mock.get("https://sf.test/services/data/v59.0/query", json=page)
    assert client.query_many(["SELECT Id FROM Contact"]) == [[]]
    assert requests_mock.request_history[-1].method == "GET"  # a short lone statement stays a plain GET
