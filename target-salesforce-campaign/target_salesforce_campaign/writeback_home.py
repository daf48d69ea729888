"""Where a participant's Salesforce sync state lives in Eventmaker (contracts §1), and how one entry is
read from, merged into and checked in a guest, never touching what other applications keep there.

Two homes (target setting `writeback_field`):
- `third_party_applications_refs`: the object keyed by application; ours is the `salesforce` entry.
- `guest_metadata`: the custom fields array of `{name, value}`; ours are the `salesforce_*` names of
  `METADATA_NAMES`, string values ("" = null, `last_error` as JSON).
A PUT of either field replaces the whole field, so a write merges our entry into the guest as just read.
"""

from __future__ import annotations

import json

from target_salesforce_campaign.errors import ConfigError

APP_KEY = "salesforce"
REFS = "third_party_applications_refs"
METADATA = "guest_metadata"
HOMES = (REFS, METADATA)
EMPTY_ENTRY = {
    "contact_id": None,
    "lead_id": None,
    "campaign_member_id": None,
    "campaign_id": None,
    "last_synced_at": None,
    "last_error": None,
    "fingerprint": None,
}
METADATA_NAMES = {key: f"{APP_KEY}_{key}" for key in EMPTY_ENTRY}


def _from_metadata(fields: object) -> dict:
    values = {f.get("name"): f.get("value") for f in fields if isinstance(f, dict)} if isinstance(fields, list) else {}
    entry = {}
    for key, name in METADATA_NAMES.items():
        value = values.get(name)
        if key == "last_error" and isinstance(value, str) and value:
            try:
                value = json.loads(value)
            except ValueError:
                value = None
            value = value if isinstance(value, dict) else None
        entry[key] = value if value not in ("", None) else None
    return entry


def _to_metadata_value(key: str, value: object) -> str:
    if value is None:
        return ""
    return json.dumps(value, sort_keys=True, separators=(",", ":")) if key == "last_error" else str(value)


def read_entry(guest: dict, home: str = REFS) -> dict:
    """The participant's Salesforce entry in `home`, all keys present (null when absent or malformed).

    A participant without any `guest_metadata` field while that is the home is a configuration error:
    the tap was not asked for custom fields, every run would resend everyone.
    """
    if home == METADATA:
        if METADATA not in guest:
            raise ConfigError(
                "writeback_field is guest_metadata but participants arrive without their guest_metadata: set the "
                "tap's sync_state_field to guest_metadata too (it then reads the custom fields), or change writeback_field."
            )
        return {**EMPTY_ENTRY, **_from_metadata(guest.get(METADATA))}
    refs = guest.get(REFS) or {}
    entry = refs.get(APP_KEY) if isinstance(refs, dict) else None
    return {**EMPTY_ENTRY, **(entry if isinstance(entry, dict) else {})}


def merged_field(guest: dict, entry: dict, home: str = REFS) -> object:
    """The whole `home` field of `guest` with our entry replaced; every other application's data kept."""
    if home == METADATA:
        fields = [f for f in guest.get(METADATA) or [] if isinstance(f, dict)]
        ours = {name: _to_metadata_value(key, entry.get(key)) for key, name in METADATA_NAMES.items()}
        kept = [{**f, "value": ours.pop(f.get("name"))} if f.get("name") in ours else f for f in fields]
        return kept + [{"name": name, "value": value} for name, value in ours.items()]
    refs = guest.get(REFS)
    return {**(refs if isinstance(refs, dict) else {}), APP_KEY: {**EMPTY_ENTRY, **entry}}


def holds(guest: dict, entry: dict, home: str = REFS) -> bool:
    """True when `guest` already stores `entry` in `home` (e.g. the write-back was read back)."""
    return read_entry(guest, home) == {**EMPTY_ENTRY, **entry}
