"""Identifiers as Eventmaker makes them: MongoDB ObjectIds for ``_id``, short random ``uid``s."""

from __future__ import annotations

import itertools
import os
import random
import string
import time

_PROCESS_BYTES = os.urandom(5)
_COUNTER = itertools.count(int.from_bytes(os.urandom(3), "big"))
_UID_ALPHABET = string.ascii_lowercase + string.digits
_UID_RANDOM = random.Random(os.urandom(16))  # uids are identifiers, not secrets: speed over entropy


def new_object_id() -> str:
    """A 24-hex ObjectId: 4-byte timestamp, 5 process bytes, 3-byte counter (so ids sort by creation)."""
    counter = next(_COUNTER) % 0x1000000
    return (int(time.time()).to_bytes(4, "big") + _PROCESS_BYTES + counter.to_bytes(3, "big")).hex()


def new_uid() -> str:
    """A guest ``uid`` as the API generates one: 10 lowercase alphanumerics."""
    return "".join(_UID_RANDOM.choices(_UID_ALPHABET, k=10))
