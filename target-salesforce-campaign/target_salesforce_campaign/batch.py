"""One batch of participants: prepare, match, write Contacts/Leads, then CampaignMembers.

Costs per batch of ≤200 new participants: one Composite call for all lookups, one Collections
create (an upsert on `external_id_field` when set), one Collections create of members.
Participants that carry stored IDs have their CampaignMembers looked up in that same Composite
call. Unchanged participants cost nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from target_salesforce_campaign import mapping, membership, validation
from target_salesforce_campaign.errors import ErrorClass, RecordError, error_from_save_result
from target_salesforce_campaign.fingerprint import fingerprint
from target_salesforce_campaign.matching import (
    CONTACTS_THEN_LEADS,
    FoundRecord,
    Lookup,
    Matched,
    StoredIds,
    ToCreate,
    match,
    normalize_key,
)
from target_salesforce_campaign.salesforce_client import SalesforceClient, in_clause_queries
from target_salesforce_campaign.writeback import salesforce_entry

MEMBERS_SOQL = (
    "SELECT Id, ContactId, LeadId, Status FROM CampaignMember WHERE CampaignId = {cid} AND {link:literal} IN {values}"
)


@dataclass
class KnownMembers:
    """The campaign's members already read for some Contacts/Leads (`looked_up`), by person Id."""

    by_person: dict[str, membership.Member] = field(default_factory=dict)
    looked_up: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Settings:
    """The settings the batch logic needs."""

    campaign_id: str
    match_mode: str
    create_as: str
    uniqueness_key: str
    field_mapping: dict
    status_mapping: dict
    lead_company_fallback: str
    force_resend: bool = False
    external_id_field: str | None = None  # Contact/Lead External ID field holding the participant's _id


@dataclass(eq=False)
class Participant:
    """One guest on its way through the batch; `result` is set once it is accounted for."""

    record: dict
    old_entry: dict
    ids: StoredIds
    status: str | None
    key_field: str
    sobject: str = ""
    payload: dict = field(default_factory=dict)
    person_id: str | None = None
    member_id: str | None = None
    result: str | None = None  # created | updated | unchanged | failed | skipped
    error: RecordError | None = None
    fingerprint: str | None = None
    created: bool = False

    @property
    def key(self) -> str | None:
        """Normalised uniqueness key of the current payload."""
        return normalize_key(self.payload.get(self.key_field))

    def fail(self, error: RecordError, final_fingerprint: str | None) -> None:
        """Account as failed; a data error is final (fingerprinted), a transient one is not."""
        self.result, self.error, self.fingerprint = "failed", error, final_fingerprint


def now_iso() -> str:
    """UTC timestamp as written back."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def expected_object(ids: StoredIds, create_as: str) -> str:
    """The object a participant's fingerprint refers to before matching."""
    if ids.contact_id:
        return "Contact"
    if ids.lead_id:
        return "Lead"
    return create_as


class BatchSync:
    """Runs the batch logic against one Salesforce client."""

    def __init__(self, client: SalesforceClient, settings: Settings, rules: dict[str, dict]) -> None:
        self.client = client
        self.settings = settings
        self.rules = rules  # sobject -> {field name: FieldRule}

    # --- preparation (no calls) ---------------------------------------------------------------

    def _payload(self, record: dict, sobject: str) -> dict:
        s = self.settings
        return mapping.build_payload(
            record, s.field_mapping, set(self.rules[sobject]), sobject, s.lead_company_fallback, s.external_id_field
        )

    def _fingerprint(self, p: Participant) -> str:
        return fingerprint(p.payload, p.status, self.settings.campaign_id, p.sobject)

    def _set_object(self, p: Participant, sobject: str) -> None:
        p.sobject, p.payload = sobject, self._payload(p.record, sobject)

    def prepare(self, record: dict) -> Participant:
        """Participant with its payload; already accounted for when nothing must be sent."""
        entry = salesforce_entry(record)
        ids = StoredIds(entry["contact_id"], entry["lead_id"], entry["campaign_member_id"])
        status = mapping.member_status(record, self.settings.status_mapping)
        p = Participant(record, entry, ids, status, self.settings.uniqueness_key)
        self._set_object(p, expected_object(ids, self.settings.create_as))
        if record.get("deleted_at") and not (ids.contact_id or ids.lead_id):
            p.result = "skipped"  # trashed and never synced: nothing to create (contracts §3)
            return p
        current = self._fingerprint(p)
        if not self.settings.force_resend and entry.get("fingerprint") == current:
            p.result = "unchanged"
            return p
        if p.status is None:
            key = mapping.status_key(record)
            message = f"No CampaignMember status mapped for '{key}'" if key else "The participant has no status to map"
            p.fail(RecordError("STATUS_NOT_MAPPED", message, ("Status",)), current)
            return p
        errors = validation.validate_values(p.payload, self.rules[p.sobject])
        if errors:
            p.fail(errors[0], current)
        return p

    # --- Salesforce work ----------------------------------------------------------------------

    def run(self, participants: list[Participant], *, dry_run: bool) -> None:
        """Match, then write records and members; every pending participant ends accounted for."""
        pending = [p for p in participants if p.result is None]
        if not pending:
            return
        lookup, known_members = self._lookup(pending)
        to_create, twins = self._match_all(pending, lookup)
        if dry_run:
            for p in pending:
                if p.result is None:
                    p.result = "created" if p in to_create or p in twins else "updated"
            return
        updates = [p for p in pending if p.result is None and p.person_id]
        self._write_records(updates, to_create)
        for p, first in twins.items():
            if first.error:
                p.fail(first.error, self._fingerprint(p) if first.fingerprint else None)
            else:
                p.person_id, p.created = first.person_id, first.created  # a new record has no member yet
        self._write_members([p for p in pending if p.result is None], known_members)
        for p in pending:
            if p.result is None:
                p.result = "created" if p.created else "updated"
                p.fingerprint = self._fingerprint(p)

    def _member_queries(self, contact_ids: list[str], lead_ids: list[str]) -> list[str]:
        cid = self.settings.campaign_id
        return in_clause_queries(MEMBERS_SOQL, contact_ids, cid=cid, link="ContactId") + in_clause_queries(
            MEMBERS_SOQL, lead_ids, cid=cid, link="LeadId"
        )

    def _lookup(self, pending: list[Participant]) -> tuple[Lookup, KnownMembers]:
        """One Composite call: records by stored ID, by external ID and by key, and the stored IDs' members."""
        key, ext = self.settings.uniqueness_key, self.settings.external_id_field
        contact_fields = ", ".join(dict.fromkeys(f for f in ("Id", key, ext) if f))
        lead_fields = f"{contact_fields}, IsConverted, ConvertedContactId"
        contact_ids = [p.ids.contact_id for p in pending if p.ids.contact_id]
        lead_ids = [p.ids.lead_id for p in pending if p.ids.lead_id]
        keys = [p.payload[key] for p in pending if p.key]
        by_field = "SELECT {f:literal} FROM {o:literal} WHERE {field:literal} IN {values}"  # converted Leads too
        plan = [
            ("Contact", in_clause_queries(by_field, contact_ids, f=contact_fields, o="Contact", field="Id")),
            ("Lead", in_clause_queries(by_field, lead_ids, f=lead_fields, o="Lead", field="Id")),
        ]
        if ext:  # our own records, Contacts and Leads whatever match_mode
            external_ids = [p.record["_id"] for p in pending]
            plan.append(("Contact", in_clause_queries(by_field, external_ids, f=contact_fields, o="Contact", field=ext)))
            plan.append(("Lead", in_clause_queries(by_field, external_ids, f=lead_fields, o="Lead", field=ext)))
        plan.append(("Contact", in_clause_queries(by_field, keys, f=contact_fields, o="Contact", field=key)))
        if self.settings.match_mode == CONTACTS_THEN_LEADS:
            plan.append(("Lead", in_clause_queries(by_field, keys, f=lead_fields, o="Lead", field=key)))
        soqls = [(sobject, soql) for sobject, queries in plan for soql in queries]
        member_soqls = self._member_queries(contact_ids, lead_ids)
        results = self.client.query_many([soql for _, soql in soqls] + member_soqls)
        lookup = Lookup()
        for (sobject, _), rows in zip(soqls, results):
            for row in rows:
                converted = row.get("ConvertedContactId") if row.get("IsConverted") else None
                external_id = normalize_key(row.get(ext)) if ext else None
                lookup.add(FoundRecord(sobject, row["Id"], normalize_key(row.get(key)), converted, external_id))
        member_rows = [row for rows in results[len(soqls):] for row in rows]
        members = membership.index_members([membership.member_from_record(row) for row in member_rows])
        return lookup, KnownMembers(members, set(contact_ids) | set(lead_ids))

    def _match_all(
        self, pending: list[Participant], lookup: Lookup
    ) -> tuple[list[Participant], dict[Participant, Participant]]:
        """Set each participant's object and person.

        Returns the participants to create (one per object and key) and, for the others sharing a
        new key in this batch, the participant whose created record they reuse.
        """
        s = self.settings
        to_create: list[Participant] = []
        twins: dict[Participant, Participant] = {}
        first_by_key: dict[tuple[str, str], Participant] = {}
        for p in pending:
            decision = match(
                p.ids,
                p.key,
                lookup,
                mode=s.match_mode,
                create_as=s.create_as,
                key_field=s.uniqueness_key,
                external_id=normalize_key(p.record["_id"]) if s.external_id_field else None,
                external_id_field=s.external_id_field or "",
            )
            if isinstance(decision, RecordError):
                p.fail(decision, self._fingerprint(p))
                continue
            if decision.sobject != p.sobject:
                self._set_object(p, decision.sobject)
                errors = validation.validate_values(p.payload, self.rules[p.sobject])
                if errors:
                    p.fail(errors[0], self._fingerprint(p))
                    continue
            if isinstance(decision, Matched):
                p.person_id = decision.id
                continue
            errors = validation.validate_required(p.payload, self.rules[p.sobject])
            if errors:
                p.fail(errors[0], self._fingerprint(p))
                continue
            first = first_by_key.setdefault((p.sobject, p.key or p.record["_id"]), p)  # keyless: external ID only
            if first is p:
                to_create.append(p)
            else:
                twins[p] = first
        return to_create, twins

    def _final_fingerprint(self, p: Participant, error: RecordError) -> str | None:
        """Data errors are final (not re-sent until the data changes); transient ones are not."""
        return None if error.error_class is ErrorClass.TRANSIENT else self._fingerprint(p)

    def _fail_from_result(self, p: Participant, result: dict) -> None:
        error = error_from_save_result(result)
        p.fail(error, self._final_fingerprint(p, error))

    def _write_records(self, updates: list[Participant], creates: list[Participant]) -> None:
        if updates:
            body = [{"attributes": {"type": p.sobject}, "Id": p.person_id, **p.payload} for p in updates]
            for p, result in zip(updates, self.client.save("PATCH", body)):
                if not result.get("success"):
                    self._fail_from_result(p, result)
        for p, result in zip(creates, self._create(creates)):
            if result.get("success"):
                p.person_id, p.created = result["id"], result.get("created", True)
            else:
                self._fail_from_result(p, result)

    def _create(self, creates: list[Participant]) -> list[dict]:
        """Save results of the new records, in order: upserts on the external ID, else plain creates."""
        ext = self.settings.external_id_field
        if not creates:
            return []
        if not ext:
            body = [{"attributes": {"type": p.sobject}, **p.payload} for p in creates]
            # retry=False: after a failed create call its outcome is unknown; the batch re-matches instead.
            return self.client.save("POST", body, retry=False)
        results: dict[Participant, dict] = {}
        for sobject in dict.fromkeys(p.sobject for p in creates):
            group = [p for p in creates if p.sobject == sobject]
            body = [{"attributes": {"type": sobject}, **p.payload} for p in group]
            results.update(zip(group, self.client.upsert(sobject, ext, body)))
        return [results[p] for p in creates]

    # --- CampaignMembers ------------------------------------------------------------------------

    def _members_of(self, people: list[Participant], known: KnownMembers | None = None) -> dict[str, membership.Member]:
        """The campaign's members for these Contacts/Leads: those not already known, in one query call."""
        known = known or KnownMembers()
        unknown = [p for p in people if p.person_id not in known.looked_up]
        soqls = self._member_queries(
            [p.person_id for p in unknown if p.sobject == "Contact"], [p.person_id for p in unknown if p.sobject == "Lead"]
        )
        rows = [row for rows in self.client.query_many(soqls) for row in rows] if soqls else []
        return {**known.by_person, **membership.index_members([membership.member_from_record(row) for row in rows])}

    def _write_members(self, ready: list[Participant], known: KnownMembers) -> None:
        # New Contacts/Leads cannot be members yet: only existing ones are looked up.
        existing = self._members_of([p for p in ready if not p.created], known)
        by_person: dict[str, list[Participant]] = {}
        for p in ready:
            by_person.setdefault(p.person_id, []).append(p)
        creates, updates = [], []
        for person_id, group in by_person.items():
            last = group[-1]  # the latest participant of the batch decides the status
            member = existing.get(person_id)
            if member is None:
                creates.append(group)
            else:
                for p in group:
                    p.member_id = member.id
                change = membership.status_update(member, last.status)
                if change:
                    updates.append((group, change))
        self._create_members(creates)
        self._save_member_updates(updates)

    def _create_members(self, groups: list[list[Participant]]) -> None:
        if not groups:
            return
        cid = self.settings.campaign_id
        body = [membership.new_member(cid, g[-1].sobject, g[-1].person_id, g[-1].status) for g in groups]
        duplicates = []
        for group, result in zip(groups, self.client.save("POST", body)):
            if result.get("success"):
                for p in group:
                    p.member_id = result["id"]
                continue
            error = error_from_save_result(result)
            if error.code == "DUPLICATE_VALUE":
                duplicates.append(group)  # created meanwhile (e.g. an earlier, interrupted run)
            else:
                for p in group:
                    p.fail(error, self._final_fingerprint(p, error))
        if duplicates:
            self._resolve_duplicates(duplicates)

    def _resolve_duplicates(self, groups: list[list[Participant]]) -> None:
        found = self._members_of([g[-1] for g in groups])
        updates = []
        for group in groups:
            member = found.get(group[-1].person_id)
            if member is None:
                for p in group:
                    p.fail(RecordError("DUPLICATE_VALUE", "Already a campaign member, but not found again"), None)
                continue
            for p in group:
                p.member_id = member.id
            change = membership.status_update(member, group[-1].status)
            if change:
                updates.append((group, change))
        self._save_member_updates(updates)

    def _save_member_updates(self, updates: list[tuple[list[Participant], dict]]) -> None:
        if not updates:
            return
        for (group, _), result in zip(updates, self.client.save("PATCH", [change for _, change in updates])):
            if not result.get("success"):
                error = error_from_save_result(result)
                for p in group:
                    p.fail(error, self._final_fingerprint(p, error))
