"""The CRM admin controls of issue 12, as the batch applies them: `field_write_policy`,
`truncate_long_values` and `map_address` (rules in write_policy.py, truncation.py, addresses.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from target_salesforce_campaign import addresses, truncation, write_policy
from target_salesforce_campaign.errors import RecordError
from target_salesforce_campaign.validation import FieldRule

PHONE_SOURCE = "phone_number"


@dataclass(frozen=True)
class Controls:
    """The admin controls configured (defaults: none of them)."""

    write_policy: dict[str, str] = field(default_factory=dict)  # Salesforce field -> always | if_empty | on_create
    truncate_long_values: bool = False
    map_address: bool = False

    @classmethod
    def from_config(cls, config: dict) -> Controls:
        """Controls from the target's config."""
        return cls(
            write_policy=dict(config.get("field_write_policy") or {}),
            truncate_long_values=bool(config.get("truncate_long_values")),
            map_address=bool(config.get("map_address")),
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
        """Fields the lookup reads so that `if_empty` can see the current values."""
        return tuple(write_policy.fields_to_read(self.write_policy))

    def for_update(self, payload: dict, current: dict | None) -> dict:
        """What an update sends; `current` None (the record was not read): `if_empty` fields are left out."""
        if not self.write_policy:
            return payload
        if current is None:
            blank_unknown = {name: write_policy.ON_CREATE if p == write_policy.IF_EMPTY else p
                             for name, p in self.write_policy.items()}
            return write_policy.for_update(payload, blank_unknown, {})
        return write_policy.for_update(payload, self.write_policy, current)

    def problems(self, describes: dict[str, dict], protected: set[str]) -> list[str]:
        """What is wrong with the controls against the org's describe (empty: nothing)."""
        found = write_policy.policy_problems(self.write_policy, describes, protected)
        if self.map_address:
            found += addresses.address_problems(describes)
        return found
