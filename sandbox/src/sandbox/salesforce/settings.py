"""Run-time settings of the Salesforce stand-in (changed live through ``POST /__sandbox/config``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

DEFAULT_BATCH_SIZE = 2000
MIN_BATCH_SIZE = 200


@dataclass
class SalesforceSettings:
    """``daily_api_limit``: calls per day before 403 REQUEST_LIMIT_EXCEEDED.
    ``session_ttl_seconds``: inactivity after which a session is refused (None = never).
    ``query_batch_size``: forces query pages of this size (tests of paging; None = Salesforce's rules).
    ``duplicate_rule``: refuse a Contact/Lead whose Email matches a Contact or unconverted Lead.
    ``state_country_picklists``: the org's "State and Country/Territory Picklists" (address
    ``...StateCode`` / ``...CountryCode`` restricted picklists of ISO 3166 codes).
    """

    daily_api_limit: int = 100_000
    session_ttl_seconds: float | None = 7200
    query_batch_size: int | None = None
    duplicate_rule: bool = False
    state_country_picklists: bool = True

    def update(self, changes: dict[str, Any]) -> None:
        """Apply the known keys of ``changes``; ValueError on an unknown key."""
        known = {f.name: f.type for f in fields(self)}
        unknown = set(changes) - set(known)
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        not_boolean = [name for name, value in changes.items() if known[name] == "bool" and not isinstance(value, bool)]
        if not_boolean:
            raise ValueError(f"settings must be true or false: {sorted(not_boolean)}")
        for name, value in changes.items():
            setattr(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def page_size(settings: SalesforceSettings, query_options: str | None) -> int:
    """Rows per query page: the forced setting, else ``Sforce-Query-Options: batchSize=N``
    clamped to 200..2000, else 2000."""
    if settings.query_batch_size:
        return settings.query_batch_size
    for option in (query_options or "").split(","):
        name, _, value = option.partition("=")
        if name.strip().lower() == "batchsize" and value.strip().isdigit():
            return max(MIN_BATCH_SIZE, min(DEFAULT_BATCH_SIZE, int(value)))
    return DEFAULT_BATCH_SIZE
