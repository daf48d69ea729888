"""Salesforce record IDs: 15-character base IDs with the 3-character case-safe suffix (18 chars).

Key prefixes are the real ones (Contact 003, Lead 00Q, ...). The suffix is Salesforce's documented
checksum: one character per 5-character chunk, encoding which characters of the chunk are upper
case.
"""

from __future__ import annotations

import re
import string

SUFFIX_ALPHABET = string.ascii_uppercase + "012345"
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ID_PATTERN = re.compile(r"^[a-zA-Z0-9]{15}(?:[A-Za-z0-5]{3})?$")

KEY_PREFIXES = {
    "User": "005",
    "Account": "001",
    "Contact": "003",
    "Lead": "00Q",
    "Campaign": "701",
    "CampaignMember": "00v",
    "CampaignMemberStatus": "01Y",
    "QueryLocator": "01g",
}


def case_safe_suffix(base_id: str) -> str:
    """The 3 characters Salesforce appends to a 15-character ID to make it case-insensitive."""
    suffix = ""
    for start in (0, 5, 10):
        chunk = base_id[start : start + 5]
        bits = sum(1 << position for position, char in enumerate(chunk) if char.isupper())
        suffix += SUFFIX_ALPHABET[bits]
    return suffix


def make_id(prefix: str, number: int) -> str:
    """The 18-character ID of the ``number``-th record with this key prefix."""
    body = ""
    while number:
        number, digit = divmod(number, 62)
        body = BASE62[digit] + body
    base_id = prefix + body.rjust(12, "0")
    return base_id + case_safe_suffix(base_id)


def _restore_case(base_id: str, suffix: str) -> str | None:
    """The 15 characters with the case the suffix encodes (None if it marks a digit upper case)."""
    chars = []
    for chunk_index, code in enumerate(suffix.upper()):
        bits = SUFFIX_ALPHABET.index(code)
        for position, char in enumerate(base_id[chunk_index * 5 : chunk_index * 5 + 5]):
            upper = bool(bits >> position & 1)
            if upper and not char.isalpha():
                return None
            chars.append(char.upper() if upper else char.lower())
    return "".join(chars)


def normalize_id(value: object) -> str | None:
    """The 18-character form of a well-formed 15- or 18-character ID, else None.

    An 18-character ID is case-insensitive: its suffix restores the case of the first 15, so an ID
    whose case was changed as a whole (all upper or all lower) is the same record; one whose mixed
    case disagrees with its suffix is malformed.
    """
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        return None
    base_id = value[:15]
    if len(value) == 18:
        restored = _restore_case(base_id, value[15:])
        letters = [c for c in base_id if c.isalpha()]
        if restored is None or (restored != base_id and not (all(c.islower() for c in letters)
                                                               or all(c.isupper() for c in letters))):
            return None
        base_id = restored
    return base_id + case_safe_suffix(base_id)


def prefix_of(record_id: str) -> str:
    return record_id[:3]
