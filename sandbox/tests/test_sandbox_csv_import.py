"""CSV import of participants with optional Salesforce ID columns, through the Eventmaker API."""

import pytest
import requests

from sandbox.csv_import import CsvFileError, guest_from_row, import_participants, read_csv_text
from sandbox.seed import generate


@pytest.fixture
def event(eventmaker_sandbox):
    dataset = generate(participants=0, events=1, seed=9)
    eventmaker_sandbox.store.load(dataset.eventmaker)
    event_id = dataset.eventmaker["events"][0]["_id"]
    category_id = dataset.eventmaker["guest_categories"][0]["_id"]
    url = f"{eventmaker_sandbox.url}/api/v1/events/{event_id}/guests.json"

    def create_guest(guest):
        response = requests.post(url, params={"auth_token": eventmaker_sandbox.auth_token}, json={"guest": guest},
                                 timeout=5)
        if response.status_code != 201:
            raise ValueError(str(response.json()))
        return response.json()

    return eventmaker_sandbox, event_id, category_id, create_guest


CSV = """\ufeffEmail,First_Name,Last_Name,salesforce_contact_id,salesforce_lead_id,salesforce_campaign_member_id,Badge
ada@example.org,Ada,Lovelace,003000000000001,,,gold
alan@example.org,Alan,Turing,,00Q000000000002AAA,00v000000000003AAA,
grace@example.org,Grace,Hopper,001000000000001,,00v000000000004aaa,
,,,,,,
,Nameless,,,,,
"""


def test_valid_rows_are_created_with_their_refs_and_bad_rows_reported(event):
    sandbox, event_id, category_id, create_guest = event
    result = import_participants(CSV, create_guest, default_category_id=category_id)

    assert [str(error) for error in result.errors] == ["line 6: needs at least one of email, last_name, company_name, uid"]
    assert result.ignored_columns == ["badge"]
    stored = [sandbox.store.guest(event_id, guest_id) for guest_id in result.created]
    assert [guest["email"] for guest in stored] == ["ada@example.org", "alan@example.org", "grace@example.org"]
    ada, alan, grace = (guest["third_party_applications_refs"]["salesforce"] for guest in stored)
    # Stored as written, as Eventmaker's import does: 15 characters, a wrong prefix, a lower-case suffix.
    assert (ada["contact_id"], ada["lead_id"], ada["campaign_member_id"]) == ("003000000000001", None, None)
    assert (alan["contact_id"], alan["lead_id"], alan["campaign_member_id"]) == \
        (None, "00Q000000000002AAA", "00v000000000003AAA")
    assert (grace["contact_id"], grace["campaign_member_id"]) == ("001000000000001", "00v000000000004aaa")
    assert ada["last_synced_at"] is None and ada["last_error"] is None


def test_ids_go_to_custom_fields_of_their_column_names_with_the_guest_metadata_home(event):
    sandbox, event_id, category_id, create_guest = event
    result = import_participants(CSV, create_guest, default_category_id=category_id, into="guest_metadata")

    alan = sandbox.store.guest(event_id, result.created[1])
    refs_entry = (alan.get("third_party_applications_refs") or {}).get("salesforce") or {}
    assert not any(refs_entry.values()), "the Ids are not in the refs"
    assert alan["guest_metadata"] == [{"name": "salesforce_lead_id", "value": "00Q000000000002AAA"},
                                      {"name": "salesforce_campaign_member_id", "value": "00v000000000003AAA"}]


def test_rows_the_api_refuses_are_reported_and_the_rest_imported(event):
    sandbox, event_id, category_id, create_guest = event
    text = "email,last_name,status\na@example.org,A,registered\nb@example.org,B,vip\n"
    result = import_participants(text, create_guest, default_category_id=category_id)
    assert len(result.created) == 1
    assert [error.line for error in result.errors] == [3] and "status" in result.errors[0].message


def test_a_file_without_identity_columns_or_header_is_refused():
    with pytest.raises(CsvFileError, match="identity"):
        import_participants("first_name,phone_number\nAda,1\n", lambda guest: guest)
    with pytest.raises(CsvFileError, match="header"):
        import_participants("", lambda guest: guest)


def test_a_row_needs_a_category():
    with pytest.raises(ValueError, match="guest_category_id"):
        guest_from_row({"email": "a@example.org"}, default_category_id=None)


def test_a_file_that_is_not_utf8_is_refused_with_a_clear_error(tmp_path):
    exported = tmp_path / "excel.csv"
    exported.write_bytes("email,last_name\nh@example.org,Hélène\n".encode("cp1252"))
    with pytest.raises(CsvFileError, match="not UTF-8"):
        read_csv_text(exported)
    exported.write_text("email,last_name\nh@example.org,Hélène\n", encoding="utf-8")
    assert "Hélène" in read_csv_text(exported)
