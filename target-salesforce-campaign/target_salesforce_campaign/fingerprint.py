"""Fingerprint of what a final attempt sent (contracts §1)."""

from __future__ import annotations

import hashlib
import json


def fingerprint(payload: dict, member_status: str | None, campaign_id: str, sobject: str) -> str:
    """sha256 of the canonical JSON of payload + member status + campaign + target object."""
    canonical = json.dumps(
        {"campaign_id": campaign_id, "member_status": member_status, "object": sobject, "payload": payload},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
