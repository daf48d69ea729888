"""The CRM admin controls of issue 12, as the batch applies them: `field_write_policy`,
`truncate_long_values` and `map_address` (rules in write_policy.py, truncation.py, addresses.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from target_salesforce_campaign import addresses, truncation, write_policy
from target_salesforce_campaign.errors import RecordError
from target_salesforce_campaign.match_fields import match_fields_problems
from target_salesforce_campaign.matching import FoundRecord, normalize_key
from target_salesforce_campaign.validation import FieldRule

PHONE_SOURCE = "phone_number"


@dataclass(frozen=True)
class Controls:
    """The admin controls configured (defaults: none of them)."""

    write_policy: dict[str, str] = field(default_factory=dict)  # Salesforce field -> always | if_empty | on_create
    truncate_long_values: bool = False
    map_address: bool = False
    match_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)  # object -> fields matched, AND-combined
    uniqueness_key: str = "Email"

    @property
    def extra_match_fields(self) -> dict[str, tuple[str, ...]]:
        """Per object, the match fields beyond the uniqueness key (which the lookup queries by)."""
        extra = {o: tuple(f for f in fields if f != self.uniqueness_key) for o, fields in self.match_fields.items()}
        return {o: fields for o, fields in extra.items() if fields}

    @classmethod
    def from_config(cls, config: dict) -> Controls:
        """Controls from the target's config."""
        return cls(
            write_policy=dict(config.get("field_write_policy") or {}),
            truncate_long_values=bool(config.get("truncate_long_values")),
            map_address=bool(config.get("map_address")),
            match_fields={o: tuple(fields or ()) for o, fields in (config.get("match_fields") or {}).items()},
            uniqueness_key=config.get("uniqueness_key") or "Email",
        )

    def extend(
        self, record: dict, sobject: str, payload: dict, rules: dict[str, FieldRule], field_mapping: dict, keep: set[str]
    ) -> tuple[dict, list[str], RecordError | None]:
        """The payload with the address fields (and international phone) added, over-long text cut; the
        fields cut; the participant's address error (an unknown country), if any. `keep` is never cut."""
        error = None
        if self.map_address:
            extra, error = addresses.address_payload(record, sobject, set(rules))
            payload = {**payload, **extra}
            phone_field = field_mapping.get(PHONE_SOURCE)
            phone = addresses.international_phone(record)
            if phone and phone_field in payload:
                payload[phone_field] = phone
        cut: list[str] = []
        if self.truncate_long_values:
            payload, cut = truncation.truncate(payload, rules, keep)
        return payload, cut, error

    def read_fields(self) -> tuple[str, ...]:
        """Fields the lookup reads: the `if_empty` fields' current values, the other match fields."""
        extra = [f for fields in self.extra_match_fields.values() for f in fields]
        return tuple(dict.fromkeys([*write_policy.fields_to_read(self.write_policy), *extra]))

    def accept(self, payload_for: Callable[[str], dict]) -> Callable[[FoundRecord], bool] | None:
        """Which records sharing the participant's key also share its other match fields (AND); None
        without such fields. `payload_for(object)` is the participant's payload for that object; an empty
        value matches nothing."""
        extra = self.extra_match_fields
        if not extra:
            return None
        wanted = {o: [normalize_key(payload_for(o).get(f)) for f in fields] for o, fields in extra.items()}

        def accepted(record: FoundRecord) -> bool:
            values = [normalize_key(record.values.get(f)) for f in extra.get(record.sobject, ())]
            return all(w is not None and w == v for w, v in zip(wanted.get(record.sobject, []), values))

        return accepted

    def group_values(self, sobject: str, payload: dict) -> tuple:
        """The other match fields' values: new participants share one record only when they agree on them."""
        return tuple(normalize_key(payload.get(f)) for f in self.extra_match_fields.get(sobject, ()))

    def for_update(self, payload: dict, current: dict | None) -> dict:
        """What an update sends; `current` None (the record was not read): `if_empty` fields are left out."""
        if not self.write_policy:
            return payload
        if current is None:
            blank_unknown = {name: write_policy.ON_CREATE if p == write_policy.IF_EMPTY else p
                             for name, p in self.write_policy.items()}
            return write_policy.for_update(payload, blank_unknown, {})
        return write_policy.for_update(payload, self.write_policy, current)

    def problems(self, describes: dict[str, dict], protected: set[str], mapped: set[str]) -> list[str]:
        """What is wrong with the controls against the org's describe (empty: nothing)."""
        found = write_policy.policy_problems(self.write_policy, describes, protected)
        if self.match_fields:
            found += match_fields_problems({o: list(f) for o, f in self.match_fields.items()}, describes, mapped)
            found += [f"match_fields[{o!r}] must include uniqueness_key {self.uniqueness_key!r} (the field looked up)"
                      for o, fields in sorted(self.match_fields.items()) if fields and self.uniqueness_key not in fields]
        if self.map_address:
            found += addresses.address_problems(describes)
        return found
