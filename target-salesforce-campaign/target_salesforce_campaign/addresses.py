"""Opt-in `map_address` (issue 12): Eventmaker address fields -> Contact Mailing* / Lead address fields.

With State and Country Picklists enabled (describe shows `MailingCountryCode` / `CountryCode`), the
country is sent as its ISO code; an unknown country is the participant's own error, with a hint.
"""

from __future__ import annotations

from target_salesforce_campaign.countries import country_code
from target_salesforce_campaign.errors import RecordError

ADDRESS_FIELDS = {
    "Contact": {"address": "MailingStreet", "postal_code": "MailingPostalCode", "city": "MailingCity"},
    "Lead": {"address": "Street", "postal_code": "PostalCode", "city": "City"},
}
COUNTRY_FIELDS = {"Contact": ("MailingCountry", "MailingCountryCode"), "Lead": ("Country", "CountryCode")}
COUNTRY_SOURCES = ("country_alpha2", "country", "country_name")  # the first filled one is used
UNKNOWN_COUNTRY = "UNKNOWN_COUNTRY"


def _text(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def target_fields(sobject: str) -> set[str]:
    """Every Salesforce field the address mapping may write on `sobject`."""
    return set(ADDRESS_FIELDS[sobject].values()) | set(COUNTRY_FIELDS[sobject])


def uses_country_codes(sobject: str, sobject_fields: set[str]) -> bool:
    """State and Country Picklists are enabled for the object (its describe has the code field)."""
    return COUNTRY_FIELDS[sobject][1] in sobject_fields


def address_payload(participant: dict, sobject: str, sobject_fields: set[str]) -> tuple[dict, RecordError | None]:
    """The address fields of `sobject` filled from the participant, or the unknown-country error."""
    payload = {}
    for source, target in ADDRESS_FIELDS[sobject].items():
        value = _text(participant.get(source))
        if value is not None and target in sobject_fields:
            payload[target] = value
    country = next((v for v in (_text(participant.get(s)) for s in COUNTRY_SOURCES) if v), None)
    if country is None:
        return payload, None
    name_field, code_field = COUNTRY_FIELDS[sobject]
    if not uses_country_codes(sobject, sobject_fields):
        if name_field in sobject_fields:
            payload[name_field] = _text(participant.get("country_name")) or country
        return payload, None
    code = country_code(country)
    if code is None:
        return payload, RecordError(UNKNOWN_COUNTRY, f"{code_field}: unknown country: {country}", (code_field,))
    payload[code_field] = code
    return payload, None


def international_phone(participant: dict) -> str | None:
    """The phone number with its `phone_number_prefix` (e.g. +33) when it has none of its own."""
    number, prefix = _text(participant.get("phone_number")), _text(participant.get("phone_number_prefix"))
    if number is None or prefix is None or number.startswith("+"):
        return number
    return f"{prefix if prefix.startswith('+') else '+' + prefix} {number}"


def address_problems(describes: dict[str, dict]) -> list[str]:
    """`map_address` against the describes: each object's address fields must exist, be createable and
    updateable, and a country code field be a picklist."""
    problems = []
    for sobject, described in sorted(describes.items()):
        if sobject not in ADDRESS_FIELDS:
            continue
        fields = {f["name"]: f for f in described.get("fields", [])}
        wanted = [*ADDRESS_FIELDS[sobject].values(), COUNTRY_FIELDS[sobject][0]]
        for name in wanted:
            found = fields.get(name)
            if found is None:
                problems.append(f"map_address: {sobject} has no field {name!r} (or it is not visible to this user)")
            elif not (found.get("createable") and found.get("updateable")):
                problems.append(f"map_address: {sobject}.{name} is not createable and updateable (field-level security)")
        code = fields.get(COUNTRY_FIELDS[sobject][1])
        if code is not None and code.get("type") != "picklist":
            problems.append(f"map_address: {sobject}.{code['name']} is a {code.get('type')} field, not a picklist")
    return problems
