"""Salesforce record Ids in their canonical 18-character form (issue 10, class 4).

Salesforce treats a 15-character Id (case-sensitive) and its 18-character form (the same 15
characters plus a case-safe checksum suffix, compared case-insensitively) as the same record.
Every Id the target reads, from Eventmaker refs or from Salesforce replies, goes through
`canonical_id` before it is compared or sent, so `003...abc`, `003...abcAAA` and `003...abcaaa`
are one record; a value that is no Id at all is refused here, never sent in a query.
"""

from __future__ import annotations

import re
import string

SUFFIX_ALPHABET = string.ascii_uppercase + "012345"
ID_BODY = re.compile(r"[a-zA-Z0-9]{15}")
KEY_PREFIXES = {"Contact": "003", "Lead": "00Q", "CampaignMember": "00v", "Campaign": "701"}


def case_safe_suffix(body: str) -> str:
    """The 3 suffix characters: for each 5-character chunk, which of its characters are upper case."""
    suffix = ""
    for start in (0, 5, 10):
        bits = sum(1 << position for position, char in enumerate(body[start : start + 5]) if "A" <= char <= "Z")
        suffix += SUFFIX_ALPHABET[bits]
    return suffix


def canonical_id(value: object, sobject: str | None = None) -> str | None:
    """The 18-character form of a 15- or 18-character Id (of `sobject`, when given), else None.

    The 15-character body keeps its case; the suffix is recomputed (upper case) and, on an
    18-character input, must match the given one case-insensitively.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) not in (15, 18) or not ID_BODY.fullmatch(text[:15]):
        return None
    body = text[:15]
    suffix = case_safe_suffix(body)
    if len(text) == 18 and text[15:].upper() != suffix:
        return None
    if sobject and not body.startswith(KEY_PREFIXES[sobject]):
        return None
    return body + suffix
