"""Unit tests of the SOQL subset: parsing, Salesforce's string escapes, binding and errors."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simple_salesforce.format import format_soql

from sandbox.salesforce.errors import SalesforceError
from sandbox.salesforce.ids import case_safe_suffix, make_id, normalize_id
from sandbox.salesforce.soql_eval import Condition, bind
from sandbox.salesforce.soql_parser import Comparison, Junction, Negation, parse, unescape
from sandbox.salesforce.store import SalesforceStore


@pytest.mark.parametrize("value", ["O'Brien", 'say "hi"', "back\\slash", "line\nbreak\r\t\b\f", "50%_off"])
def test_simple_salesforce_escaping_round_trips(value):
    query = parse(format_soql("SELECT Id FROM Contact WHERE LastName = {}", value))
    assert query.where == Comparison("LastName", "=", (value,))


def test_like_escapes_keep_wildcards_literal():
    query = bind(parse(format_soql("SELECT Id FROM Contact WHERE Email LIKE '{:like}%'", "a_b")))
    pattern = query.where.values[0]
    assert pattern.match("a_b@x.com") and pattern.match("A_B")
    assert not pattern.match("axb@x.com")


def test_escaped_underscore_outside_like_is_the_character():
    assert unescape(r"'a\_b\%c'") == "a_b%c"


@pytest.mark.parametrize("literal", [r"'bad\q'", r"'bad\u0041'"])
def test_illegal_escape_is_malformed(literal):
    with pytest.raises(SalesforceError) as error:
        parse(f"SELECT Id FROM Contact WHERE LastName = {literal}")
    assert error.value.code == "MALFORMED_QUERY"


def test_parses_in_not_in_null_parentheses_limit_and_order():
    query = parse("select id, EMAIL from contact where (Email IN ('a', 'b') OR Email = null) "
                  "and not LastName != 'x' and FirstName not in ('y') order by LastName desc nulls last limit 5 offset 2")
    assert query.fields == ("id", "EMAIL") and query.sobject == "contact"
    assert query.limit == 5 and query.offset == 2
    assert query.order_by[0].descending and query.order_by[0].nulls_last
    assert isinstance(query.where, Junction) and query.where.op == "AND"
    assert isinstance(query.where.parts[0], Junction) and query.where.parts[0].op == "OR"
    assert isinstance(query.where.parts[1], Negation)
    assert query.where.parts[2] == Comparison("FirstName", "NOT IN", ("y",))


@pytest.mark.parametrize("soql", [
    "SELECT Id FROM Contact WHERE LastName = 'a' AND Email = 'b' OR Phone = 'c'",  # AND/OR unparenthesised
    "SELECT Id FROM Contact WHERE LastName = 'unterminated",
    "SELECT FROM Contact",
    "SELECT Id Contact",
    "SELECT Id FROM Contact LIMIT x",
    "SELECT Id FROM Contact WHERE Email IN 'a'",
    "",
])
def test_malformed_queries(soql):
    with pytest.raises(SalesforceError) as error:
        parse(soql)
    assert error.value.code == "MALFORMED_QUERY"


def test_bind_canonicalises_names_and_normalises_ids():
    bound = bind(parse("SELECT id, campaignid FROM campaignmember WHERE contactid = '003000000000001'"))
    assert bound.sobject.name == "CampaignMember" and [f.field.name for f in bound.fields] == ["Id", "CampaignId"]
    assert isinstance(bound.where, Condition) and bound.where.ref.direct == "ContactId"
    assert (bound.where.op, bound.where.values) == ("=", ("003000000000001AAA",))


def test_bind_rejects_unknown_object_and_field():
    with pytest.raises(SalesforceError) as unknown_type:
        bind(parse("SELECT Id FROM Contactz"))
    with pytest.raises(SalesforceError) as unknown_field:
        bind(parse("SELECT Id, Foo FROM Contact"))
    assert unknown_type.value.code == "INVALID_TYPE"
    assert unknown_field.value.code == "INVALID_FIELD" and "No such column 'Foo'" in unknown_field.value.message


def test_evaluation_semantics():
    store = SalesforceStore()
    store.load({"records": {"Contact": [
        {"LastName": "Ann", "Email": "Ann@X.com"}, {"LastName": "Bob", "Email": None},
        {"LastName": "Cy", "Email": "cy@x.com", "FirstName": "C"}]}})

    def names(where):
        return [r["LastName"] for r in store.select(bind(parse(f"SELECT Id FROM Contact WHERE {where}")))]

    assert names("Email = 'ann@x.COM'") == ["Ann"]  # text compares ignore case
    assert names("Email != 'ann@x.com'") == ["Bob", "Cy"]  # != keeps nulls, as in SOQL
    assert names("Email = null") == ["Bob"]
    assert names("Email IN ('cy@x.com', 'ann@x.com')") == ["Ann", "Cy"]
    assert names("(Email = null OR FirstName = 'C') AND LastName != 'Cy'") == ["Bob"]
    assert names("NOT Email LIKE 'a%'") == ["Bob", "Cy"]
    assert [r["LastName"] for r in store.select(bind(parse(
        "SELECT Id FROM Contact ORDER BY Email DESC NULLS LAST LIMIT 2")))] == ["Cy", "Ann"]


def test_ids_have_real_prefixes_and_case_safe_suffix():
    assert normalize_id("001D000000IqhSL") == "001D000000IqhSLIAZ"  # Salesforce's documented example
    assert case_safe_suffix("701000000000001") == "AAA"
    assert make_id("003", 1) == "003000000000001AAA"
    assert normalize_id("001D000000IqhSLAAA") is None  # wrong suffix
    assert normalize_id("not-an-id") is None


@pytest.fixture
def org():
    store = SalesforceStore()
    ids = store.load({"records": {
        "Contact": [{"LastName": "Ann", "Email": "ann@x.com"}, {"LastName": "Bob", "Email": "straße@x.com"}],
        "Lead": [{"LastName": "Lee", "Company": "C", "Email": "lee@x.com"}],
    }})["ids"]
    (ann, bob), (lee,) = ids["Contact"], ids["Lead"]
    store.load({"records": {"CampaignMember": [
        {"CampaignId": "701000000000001AAA", "ContactId": ann, "Status": "Sent"},
        {"CampaignId": "701000000000001AAA", "ContactId": bob, "Status": "Sent"},
        {"CampaignId": "701000000000001AAA", "LeadId": lee, "Status": "Attended"}]}})
    return store


def rows(store, soql):
    from sandbox.salesforce.records import render_row

    bound = bind(parse(soql), store.schema)
    return [render_row("59.0", bound.sobject, r, bound.fields, store.parent) for r in store.select(bound)]


def test_semi_and_anti_joins(org):
    members = rows(org, "SELECT Status FROM CampaignMember WHERE ContactId IN "
                        "(SELECT Id FROM Contact WHERE Email IN ('ANN@x.com'))")
    assert [m["Status"] for m in members] == ["Sent"]
    both = rows(org, "SELECT Id FROM CampaignMember WHERE CampaignId = '701000000000001AAA' AND "
                     "LeadId IN (SELECT Id FROM Lead WHERE Email = 'lee@x.com') AND "
                     "ContactId NOT IN (SELECT Id FROM Contact WHERE Email = 'ann@x.com')")
    assert len(both) == 1


def test_parent_fields_in_select_and_where(org):
    members = rows(org, "SELECT Id, Contact.Email, Lead.Email, Lead.Company FROM CampaignMember "
                        "WHERE Contact.Email IN ('ann@x.com') OR Lead.Email = 'LEE@x.com' ORDER BY Status DESC")
    assert [(m["Contact"], m["Lead"]) for m in members] == [
        ({"attributes": members[0]["Contact"]["attributes"], "Email": "ann@x.com"}, None),
        (None, {"attributes": members[1]["Lead"]["attributes"], "Email": "lee@x.com", "Company": "C"})]
    assert members[0]["Contact"]["attributes"]["type"] == "Contact"
    assert rows(org, "SELECT CampaignMember.Contact.LastName FROM CampaignMember WHERE Contact.LastName = 'bob'")[0][
        "Contact"]["LastName"] == "Bob"
    with pytest.raises(SalesforceError) as unknown:
        rows(org, "SELECT Person.Email FROM CampaignMember")
    assert unknown.value.code == "INVALID_FIELD"


def test_id_or_key_combination(org):
    ann = org.find("Contact", "Email", "ann@x.com")[0]["Id"]
    found = rows(org, f"SELECT Id, Email FROM Contact WHERE Id IN ('{ann[:15]}') OR Email IN ('STRASSE@x.com', 'straße@X.com')")
    assert sorted(r["Email"] for r in found) == ["ann@x.com", "straße@x.com"]


@pytest.mark.parametrize("stored, literal, equal", [
    ("straße@x.com", "STRASSE@x.com", False), ("straße@x.com", "STRAßE@X.COM", True),
    ("ﬀ@x.com", "ff@x.com", False), ("ÄBC@x.com", "äbc@x.com", True), ("İ@x.com", "i̇@x.com", True),
])
def test_text_equality_is_simple_lower_casing_not_case_folding(stored, literal, equal):
    store = SalesforceStore()
    store.load({"records": {"Contact": [{"LastName": "U", "Email": stored}]}})
    assert len(rows(store, f"SELECT Id FROM Contact WHERE Email = '{literal}'")) == int(equal)
    assert len(rows(store, f"SELECT Id FROM Contact WHERE Email IN ('{literal}')")) == int(equal)


@pytest.mark.parametrize("soql, code", [
    ("SELECT Id FROM CampaignMember WHERE ContactId IN (SELECT Id FROM Contact) OR Status = 'Sent'", "MALFORMED_QUERY"),
    ("SELECT Id FROM CampaignMember WHERE NOT ContactId IN (SELECT Id FROM Contact)", "MALFORMED_QUERY"),
    ("SELECT Id FROM Contact WHERE Id IN (SELECT Id FROM Contact)", "MALFORMED_QUERY"),
    ("SELECT Id FROM CampaignMember WHERE ContactId IN (SELECT Id FROM Contact WHERE AccountId IN "
     "(SELECT Id FROM Account))", "MALFORMED_QUERY"),
    ("SELECT Id FROM CampaignMember WHERE Status IN (SELECT Id FROM Contact)", "MALFORMED_QUERY"),
    ("SELECT Id FROM CampaignMember WHERE ContactId IN (SELECT Email FROM Contact)", "MALFORMED_QUERY"),
    ("SELECT Id FROM CampaignMember WHERE ContactId IN (SELECT Id FROM Contact) AND LeadId IN "
     "(SELECT Id FROM Lead) AND CampaignId IN (SELECT Id FROM Campaign)", "EXCEEDED_MAX_SEMIJOIN_SUBSELECTS"),
])
def test_semi_join_restrictions(org, soql, code):
    with pytest.raises(SalesforceError) as refused:
        rows(org, soql)
    assert refused.value.code == code


BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@settings(max_examples=300, derandomize=True)
@given(st.text(alphabet=BASE62, min_size=12, max_size=12), st.sampled_from(["003", "00Q", "701", "00v"]))
def test_id_forms_name_one_record(body, prefix):
    """A 15-char Id, its 18-char form, and that form in all upper or all lower case are one Id;
    flipping the case of one letter of the first 15 characters makes another 15-char Id, and an
    18-char one that is malformed (unless the flip leaves every letter in one case)."""
    base_id = prefix + body
    full = normalize_id(base_id)
    assert full is not None and full[:15] == base_id and full == normalize_id(full)
    assert normalize_id(full.lower()) == full and normalize_id(full.upper()) == full

    def one_case(text):
        letters = [c for c in text if c.isalpha()]
        return all(c.islower() for c in letters) or all(c.isupper() for c in letters)

    for index in [i for i, c in enumerate(base_id) if c.isalpha()]:
        flipped = full[:index] + full[index].swapcase() + full[index + 1:]
        assert normalize_id(flipped) == (full if one_case(flipped[:15]) else None)
        assert normalize_id(flipped[:15]) not in (None, full)
