"""Unit tests of the search language subset (sandbox/eventmaker/search.py)."""

import pytest

from sandbox.eventmaker.search import Term, guest_matcher, parse_query, split_values

CATEGORIES = {"c1": "VIP", "c2": "Press corps"}


def guest(**fields):
    base = {
        "uid": "abc123defg",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "company_name": "Analytical Engines",
        "status": "registered",
        "guest_category_id": "c1",
        "label_ids": ["l1"],
        "phone_number": None,
        "guest_metadata": [{"name": "diet", "value": "vegan"}],
        "third_party_applications_refs": {"salesforce": {"last_synced_at": None, "last_error": None}},
    }
    return {**base, **fields}


def refs(synced_at=None, error=None):
    return {"salesforce": {"last_synced_at": synced_at, "last_error": error}, "other_app": {"id": 1}}


def matches(query, record):
    return guest_matcher(query, CATEGORIES)(record)


def test_parse_keys_negation_quotes_and_commas():
    assert parse_query('status:registered,cancelled -label:"big fish",x ada "two words"') == [
        Term("status", ("registered", "cancelled")),
        Term("label", ("big fish", "x"), negated=True),
        Term(None, ("ada",)),
        Term(None, ("two words",)),
    ]


def test_parse_keeps_the_last_guest_category_and_ignores_sort():
    assert parse_query("guest_category:VIP sort:registered-desc guest_category:c2") == [
        Term("guest_category", ("c2",)),
    ]


def test_split_values_keeps_commas_inside_quotes():
    assert split_values('a,"b, c",d') == ("a", "b, c", "d")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status:registered", True),
        ("status:invited", False),
        ("status:invited,registered", True),
        ("-status:registered", False),
        ("status:REGISTERED", True),
        ("guest_category:VIP", True),
        ('guest_category:"Press corps"', False),
        ("guest_category:c1", True),
        ("label:l1", True),
        ("label:l2", False),
        ("label:l2,l1", True),
        ("label:l1 label:l2", False),
        ("no:phone_number", True),
        ("no:email", False),
        ("no:diet", False),
        ("no:allergies", True),
        ("diet:vegan", True),
        ("diet:meat", False),
        ("email:ADA@example.com", True),
        ("lovelace", True),
        ("ANALYTICAL", True),
        ("abc123", True),
        ("ada babbage", False),
        ('"Analytical Engines"', True),
        ("-lovelace", False),
        ("status:registered lovelace -label:l9", True),
        ("", True),
    ],
)
def test_guest_matches(query, expected):
    assert matches(query, guest()) is expected


@pytest.mark.parametrize(
    ("sync_refs", "synced", "error"),
    [
        (refs(), False, False),
        (refs(synced_at="2026-11-25T10:00:00Z"), True, False),
        (refs(error={"code": "INVALID_EMAIL_ADDRESS"}), False, True),
        (refs(synced_at="2026-11-25T10:00:00Z", error={"code": "STRING_TOO_LONG"}), True, True),
        (None, False, False),
    ],
)
def test_salesforce_sync_status_synced_and_error_overlap(sync_refs, synced, error):
    record = guest(third_party_applications_refs=sync_refs)
    assert matches("salesforce_sync_status:synced", record) is synced
    assert matches("salesforce_sync_status:error", record) is error
    assert matches("salesforce_sync_status:synced,error", record) is (synced or error)
    assert matches("-salesforce_sync_status:error", record) is not error
