"""One batch of participants: prepare, match, write Contacts/Leads, then CampaignMembers (member_sync.py).

Costs per batch of ≤200 new participants: one Composite call for all lookups (lookup.py: people
by stored Id, external ID and key, and their CampaignMembers), one Collections create (an upsert
on `key_external_id_field` or `external_id_field` when set), one Collections create of members.
Changed participants already in Salesforce cost one Collections update for their Contacts/Leads and
their members' Status together. Unchanged participants cost nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

from target_salesforce_campaign import lookup as lookups
from target_salesforce_campaign import mapping, validation
from target_salesforce_campaign.campaigns import no_campaign_error
from target_salesforce_campaign.controls import Controls
from target_salesforce_campaign.errors import ErrorClass, RecordError, error_from_save_result
from target_salesforce_campaign.fingerprint import fingerprint
from target_salesforce_campaign.ids import canonical_id
from target_salesforce_campaign.lookup import KnownMembers
from target_salesforce_campaign.member_sync import MemberSync, StatusChange, campaign_ids
from target_salesforce_campaign.matching import (
    CONTACTS_THEN_LEADS,
    Lookup,
    Matched,
    StoredIds,
    match,
    normalize_key,
    stored_ids,
)
from target_salesforce_campaign.salesforce_client import SalesforceClient
from target_salesforce_campaign.writeback_home import REFS, read_entry

@dataclass(frozen=True)
class Settings:
    """The settings the batch logic needs."""

    campaign_id: str | None  # single-campaign shorthand; per event: the `campaign_for` of BatchSync
    match_mode: str
    create_as: str
    uniqueness_key: str
    field_mapping: dict
    status_mapping: dict
    lead_company_fallback: str
    force_resend: bool = False
    external_id_field: str | None = None  # Contact/Lead External ID field holding the participant's _id
    writeback_field: str = REFS  # where the participant's sync state lives in Eventmaker (contracts §1)
    key_external_id_field: str | None = None  # Contact/Lead External ID field holding the normalised key


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
    campaign_id: str | None = None  # the Campaign of the participant's event (None: it has none)
    current: dict | None = None  # the matched record's values read for field_write_policy (None: not read)
    cut: list[str] = field(default_factory=list)  # fields truncate_long_values cut (written back as a warning)
    payload_error: RecordError | None = None  # e.g. an unknown country (map_address)
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

    def __init__(
        self,
        client: SalesforceClient,
        settings: Settings,
        rules: dict[str, dict],
        campaign_for: Callable[[str | None], str | None] | None = None,
        controls: Controls | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.rules = rules  # sobject -> {field name: FieldRule}
        self.campaign_for = campaign_for or (lambda _event_id: settings.campaign_id)  # event _id -> Campaign Id
        self.controls = controls or Controls()
        self.members = MemberSync(client, self._lookup_fields, self._final_fingerprint)

    # --- preparation (no calls) ---------------------------------------------------------------

    def _payload(self, record: dict, sobject: str) -> dict:
        """Mapped fields; with `key_external_id_field`, the normalised key stamped in it (creates and updates)."""
        s = self.settings
        payload = mapping.build_payload(
            record, s.field_mapping, set(self.rules[sobject]), sobject, s.lead_company_fallback, s.external_id_field
        )
        key = normalize_key(payload.get(s.uniqueness_key))
        if s.key_external_id_field and key:
            payload[s.key_external_id_field] = key
        return payload

    def _fingerprint(self, p: Participant) -> str:
        return fingerprint(p.payload, p.status, p.campaign_id or "", p.sobject)

    def _set_object(self, p: Participant, sobject: str) -> None:
        s = self.settings
        keep = {f for f in (s.uniqueness_key, s.external_id_field, s.key_external_id_field) if f}
        payload = self._payload(p.record, sobject)
        p.payload, p.cut, p.payload_error = self.controls.extend(
            p.record, sobject, payload, self.rules[sobject], s.field_mapping, keep
        )
        p.sobject = sobject

    def _value_errors(self, p: Participant) -> list[RecordError]:
        """The participant's own payload error, else what describe refuses in its values."""
        return [p.payload_error] if p.payload_error else validation.validate_values(p.payload, self.rules[p.sobject])

    def prepare(self, record: dict) -> Participant:
        """Participant with its payload; already accounted for when nothing must be sent."""
        entry = read_entry(record, self.settings.writeback_field)
        ids = stored_ids(entry)
        status = mapping.member_status(record, self.settings.status_mapping)
        p = Participant(record, entry, StoredIds() if isinstance(ids, RecordError) else ids, status, self.settings.uniqueness_key)
        self._set_object(p, expected_object(p.ids, self.settings.create_as))
        p.campaign_id = self.campaign_for(record.get("event_id"))
        if isinstance(ids, RecordError):
            p.fail(ids, None)  # not final: re-importing the right ID changes the participant
            return p
        if record.get("deleted_at") and not (ids.contact_id or ids.lead_id):
            p.result = "skipped"  # trashed and never synced: nothing to create (contracts §3)
            return p
        current = self._fingerprint(p)
        if not self.settings.force_resend and entry.get("fingerprint") == current:
            p.result = "unchanged"
            return p
        if p.campaign_id is None:  # never sent to another event's campaign; final until the event has one
            p.fail(no_campaign_error(record.get("event_id")), current)
            return p
        if p.status is None:
            key = mapping.status_key(record)
            message = f"No CampaignMember status mapped for '{key}'" if key else "The participant has no status to map"
            p.fail(RecordError("STATUS_NOT_MAPPED", message, ("Status",)), current)
            return p
        errors = self._value_errors(p)
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
        matched = [p for p in pending if p.result is None and p.person_id]
        self._save_updates(matched, self.members.known_status_changes(matched, known_members))
        self._create_records(to_create)
        for p, first in twins.items():
            if first.error:
                p.fail(first.error, self._fingerprint(p) if first.fingerprint else None)
            else:
                p.person_id, p.created = first.person_id, first.created  # a new record has no member yet
        self.members.write([p for p in pending if p.result is None], known_members)
        for p in pending:
            if p.result is None:
                p.result = "created" if p.created else "updated"
                p.fingerprint = self._fingerprint(p)

    def _lookup_fields(self) -> lookups.Fields:
        s = self.settings
        return lookups.Fields(
            (s.uniqueness_key,), s.external_id_field, s.match_mode == CONTACTS_THEN_LEADS, self.controls.read_fields()
        )

    def _lookup(self, pending: list[Participant]) -> tuple[Lookup, KnownMembers]:
        """One Composite call: people by stored ID, external ID and key, and the campaign's members among them."""
        s = self.settings
        wanted = lookups.Wanted(
            contact_ids=frozenset(p.ids.contact_id for p in pending if p.ids.contact_id),
            lead_ids=frozenset(p.ids.lead_id for p in pending if p.ids.lead_id),
            external_ids=frozenset(p.record["_id"] for p in pending) if s.external_id_field else frozenset(),
            match_values={s.uniqueness_key: frozenset(p.key for p in pending if p.key)},
        )
        return self._run_lookup(wanted, campaign_ids(pending))

    def _run_lookup(self, wanted: lookups.Wanted, campaigns: list[str]) -> tuple[Lookup, KnownMembers]:
        fields = self._lookup_fields()
        plan = lookups.plan(wanted, fields, campaigns, self.client.url_budget)
        results = self.client.query_many([soql for _, soql in plan.people] + plan.members)
        return lookups.read(plan, results, fields, wanted)

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
        first_by_key: dict[tuple, Participant] = {}
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
                accept=self.controls.accept(lambda sobject, record=p.record: self._payload(record, sobject)),
            )
            if isinstance(decision, RecordError):
                p.fail(decision, self._fingerprint(p))
                continue
            if decision.sobject != p.sobject:
                self._set_object(p, decision.sobject)
                errors = self._value_errors(p)
                if errors:
                    p.fail(errors[0], self._fingerprint(p))
                    continue
            if isinstance(decision, Matched):
                p.person_id = decision.id
                found = (lookup.contacts_by_id if decision.sobject == "Contact" else lookup.leads_by_id).get(decision.id)
                p.current = found.values if found else None
                continue
            errors = validation.validate_required(p.payload, self.rules[p.sobject])
            if errors:
                p.fail(errors[0], self._fingerprint(p))
                continue
            group = (p.sobject, p.key or p.record["_id"], *self.controls.group_values(p.sobject, p.payload))
            first = first_by_key.setdefault(group, p)  # keyless: external ID only
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

    def _save_updates(self, people: list[Participant], status_changes: list[StatusChange]) -> None:
        """One Collections PATCH: the matched Contacts/Leads and their members' new Status.

        Sorted by object, so a request holds at most 3 type chunks (Collections allow 10). A person's
        failure is accounted before its member's, so it is the error its participant keeps.
        """
        people = sorted(people, key=lambda p: p.sobject)
        body = [
            {"attributes": {"type": p.sobject}, "Id": p.person_id, **self.controls.for_update(p.payload, p.current)}
            for p in people
        ] + [change for _, change in status_changes]
        if not body:
            return
        results = self.client.save("PATCH", body)
        for p, result in zip(people, results):
            if not result.get("success"):
                self._fail_from_result(p, result)
        for (group, _), result in zip(status_changes, results[len(people):]):
            self.members.account_update(group, result)

    def _create_records(self, creates: list[Participant]) -> None:
        for p, result in zip(creates, self._create(creates)):
            if result.get("success"):
                p.person_id, p.created = canonical_id(result["id"]), result.get("created", True)
            else:
                self._fail_from_result(p, result)

    def _upsert_field(self, p: Participant) -> str | None:
        """The External ID a new record is upserted on: the normalised key, else the participant's _id."""
        s = self.settings
        return s.key_external_id_field if s.key_external_id_field and p.key else s.external_id_field

    def _create(self, creates: list[Participant]) -> list[dict]:
        """Save results of the new records, in order: upserts on an External ID, else plain creates.

        An upsert on the key is what keeps concurrent runs from creating one person twice: the
        second run's upsert finds the first run's record by the key and updates it.
        """
        groups: dict[tuple[str, str | None], list[Participant]] = {}
        for p in creates:
            groups.setdefault((p.sobject, self._upsert_field(p)), []).append(p)
        results: dict[Participant, dict] = {}
        for (sobject, upsert_field), group in groups.items():
            body = [{"attributes": {"type": sobject}, **p.payload} for p in group]
            if upsert_field:
                results.update(zip(group, self.client.upsert(sobject, upsert_field, body)))
            else:  # retry=False: after a failed create call its outcome is unknown; the batch re-matches instead
                results.update(zip(group, self.client.save("POST", body, retry=False)))
        return [results[p] for p in creates]
