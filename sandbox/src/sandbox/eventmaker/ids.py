"""Identifiers as Eventmaker makes them: MongoDB ObjectIds for ``_id``, short random ``uid``s."""

from __future__ import annotations

import itertools
import os
import secrets
import string
import time

_PROCESS_BYTES = os.urandom(5)
_COUNTER = itertools.count(int.from_bytes(os.urandom(3), "big"))
_UID_ALPHABET = string.ascii_lowercase + string.digits


def new_object_id() -> str:
    """A 24-hex ObjectId: 4-byte timestamp, 5 process bytes, 3-byte counter (so ids sort by creation)."""
    counter = next(_COUNTER) % 0x1000000
    return (int(time.time()).to_bytes(4, "big") + _PROCESS_BYTES + counter.to_bytes(3, "big")).hex()


def new_uid() -> str:
    """A guest ``uid`` as the API generates one: 10 lowercase alphanumerics."""
    return "".join(secrets.choice(_UID_ALPHABET) for _ in range(10))
