"""Pure matching rules: stored IDs first, then the uniqueness key, else create (issue 4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from target_salesforce_campaign.errors import RecordError
from target_salesforce_campaign.ids import KEY_PREFIXES, canonical_id

CONTACTS_ONLY = "contacts_only"
CONTACTS_THEN_LEADS = "contacts_then_leads"


def normalize_key(value: object) -> str | None:
    """Key as Salesforce compares it: trimmed, lower case (case-insensitive like SOQL); None when empty.

    Lower case, not Unicode case folding: `ß` stays `ß` and `ﬀ` stays `ﬀ`, so `straße` is not
    `strasse`, and the dotless `ı` is not `i` (issue 10, class 8).
    """
    if value is None:
        return None
    text = str(value).strip().lower()
    return text or None


@dataclass(frozen=True)
class StoredIds:
    """IDs already on the participant (earlier sync or CSV import), any subset."""

    contact_id: str | None = None
    lead_id: str | None = None
    campaign_member_id: str | None = None


def stored_ids(entry: dict) -> StoredIds | RecordError:
    """The entry's IDs in canonical 18-character form; a malformed one is the participant's error."""
    found = {}
    for name, sobject in (("contact_id", "Contact"), ("lead_id", "Lead"), ("campaign_member_id", "CampaignMember")):
        raw = entry.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            found[name] = None
            continue
        found[name] = canonical_id(raw, sobject)
        if found[name] is None:
            return RecordError(
                "INVALID_STORED_ID",
                f"The stored {name} {str(raw)[:40]!r} is not a {sobject} Id (15 or 18 characters, prefix "
                f"{KEY_PREFIXES[sobject]})",
                (name,),
            )
    return StoredIds(**found)


@dataclass(frozen=True)
class FoundRecord:
    """A Contact or Lead as read back from Salesforce (`key` and `external_id` normalised)."""

    sobject: str
    id: str
    key: str | None = None
    converted_contact_id: str | None = None
    external_id: str | None = None
    values: dict = field(default_factory=dict, compare=False, hash=False)  # fields read for the write policy


@dataclass
class Candidates:
    """Records sharing one value of a field: Contacts, unconverted Leads, converted Leads."""

    contacts: dict[str, list[FoundRecord]] = field(default_factory=dict)
    leads: dict[str, list[FoundRecord]] = field(default_factory=dict)
    converted_leads: dict[str, list[FoundRecord]] = field(default_factory=dict)

    def put(self, value: str | None, record: FoundRecord) -> None:
        """Index a record under `value` (converted Leads apart: they only lead to their Contact)."""
        if not value:
            return
        if record.sobject == "Contact":
            index = self.contacts
        else:
            index = self.converted_leads if record.converted_contact_id else self.leads
        index.setdefault(value, []).append(record)


@dataclass
class Lookup:
    """What the batch's queries found, by Id, by uniqueness key and by external ID."""

    contacts_by_id: dict[str, FoundRecord] = field(default_factory=dict)
    leads_by_id: dict[str, FoundRecord] = field(default_factory=dict)
    by_key: Candidates = field(default_factory=Candidates)
    by_external_id: Candidates = field(default_factory=Candidates)

    def add(self, record: FoundRecord) -> None:
        """Index a record once, whichever query found it."""
        by_id = self.contacts_by_id if record.sobject == "Contact" else self.leads_by_id
        if record.id in by_id:
            return
        by_id[record.id] = record
        self.by_key.put(record.key, record)
        self.by_external_id.put(record.external_id, record)


@dataclass(frozen=True)
class Matched:
    """An existing record to update."""

    sobject: str
    id: str
    via: str  # stored_id | converted_lead | external_id | key


@dataclass(frozen=True)
class ToCreate:
    """No record found: create one."""

    sobject: str


def _from_stored(ids: StoredIds, lookup: Lookup) -> Matched | None:
    if ids.contact_id and ids.contact_id in lookup.contacts_by_id:
        return Matched("Contact", ids.contact_id, "stored_id")
    lead = lookup.leads_by_id.get(ids.lead_id) if ids.lead_id else None
    if lead is None:
        return None
    if lead.converted_contact_id:
        return Matched("Contact", lead.converted_contact_id, "converted_lead")
    return Matched("Lead", lead.id, "stored_id")


def _single(candidates: list[FoundRecord], key_field: str, via: str) -> Matched | RecordError | None:
    if not candidates:
        return None
    if len(candidates) > 1:
        ids = ", ".join(sorted(c.id for c in candidates))
        return RecordError(
            "AMBIGUOUS_MATCH", f"{len(candidates)} {candidates[0].sobject}s share this {key_field}: {ids}", (key_field,)
        )
    return Matched(candidates[0].sobject, candidates[0].id, via)


def _converted_contact(converted_leads: list[FoundRecord], key_field: str) -> Matched | RecordError | None:
    """The one Contact that the converted Leads sharing the key were converted into."""
    contact_ids = sorted({lead.converted_contact_id for lead in converted_leads})
    if len(contact_ids) > 1:
        return RecordError(
            "AMBIGUOUS_MATCH",
            f"Converted Leads sharing this {key_field} lead to {len(contact_ids)} Contacts: {', '.join(contact_ids)}",
            (key_field,),
        )
    return Matched("Contact", contact_ids[0], "converted_lead") if contact_ids else None


def _by_value(
    candidates: Candidates,
    value: str,
    field_name: str,
    via: str,
    *,
    with_leads: bool,
    accept: Callable[[FoundRecord], bool] | None = None,
) -> Matched | RecordError | None:
    """Contacts, then unconverted Leads (`with_leads`), then the Contact converted Leads became; of the
    records sharing `value`, only those `accept` keeps (the other match_fields agree)."""

    def kept(found: list[FoundRecord]) -> list[FoundRecord]:
        return [r for r in found if accept is None or accept(r)]

    for found in (kept(candidates.contacts.get(value, [])), kept(candidates.leads.get(value, [])) if with_leads else []):
        single = _single(found, field_name, via)
        if single:
            return single
    return _converted_contact(kept(candidates.converted_leads.get(value, [])), field_name) if with_leads else None


def match(
    ids: StoredIds,
    key: str | None,
    lookup: Lookup,
    *,
    mode: str,
    create_as: str,
    key_field: str,
    external_id: str | None = None,
    external_id_field: str = "",
    accept: Callable[[FoundRecord], bool] | None = None,
) -> Matched | ToCreate | RecordError:
    """Decide what to do with one participant.

    Stored IDs win when they still exist (a converted Lead leads to its Contact); deleted or merged
    records fall back to the participant's `external_id` (when `external_id_field` is in use: a
    record carrying it is ours, Contact or Lead whatever the mode), then to the key: Contacts, then
    unconverted Leads when `mode` allows, then the Contact that converted Leads with that key became
    (as Salesforce's own lead conversion moves campaign history to the Contact). Several matches is
    an error, never a random pick. A participant without a key value is not created blindly unless
    it has an external ID: otherwise nothing would find it again after a crash between create and
    write-back.
    """
    stored = _from_stored(ids, lookup)
    if stored:
        return stored
    if external_id:
        owned = _by_value(lookup.by_external_id, external_id, external_id_field, "external_id", with_leads=True)
        if owned:
            return owned
    if key is None:
        if external_id:
            return ToCreate(create_as)
        return RecordError(
            "MISSING_UNIQUENESS_KEY", f"No {key_field} value and no stored Salesforce ID: cannot match safely", (key_field,)
        )
    found = _by_value(lookup.by_key, key, key_field, "key", with_leads=mode == CONTACTS_THEN_LEADS, accept=accept)
    return found or ToCreate(create_as)
