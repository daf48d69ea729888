"""Run-time behaviour of the Eventmaker stand-in, changed live through ``POST /__sandbox/config``.

``ignore_refs_writes``: emulate an account whose API does not take ``third_party_applications_refs``
(whether the public API persists it is undocumented): creates and updates then drop that parameter
silently, as Eventmaker drops every parameter it does not know, and still answer 201 / 204.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

REFS = "third_party_applications_refs"


@dataclass
class EventmakerConfig:
    ignore_refs_writes: bool = False

    def update(self, changes: Any) -> None:
        """Apply ``changes``; ValueError on an unknown key or a value of the wrong type (nothing applied)."""
        if not isinstance(changes, dict):
            raise ValueError("the config must be a JSON object")
        unknown = sorted(set(changes) - {f.name for f in fields(self)})
        if unknown:
            raise ValueError(f"unknown settings: {unknown}")
        wrong = sorted(name for name, value in changes.items() if not isinstance(value, bool))
        if wrong:
            raise ValueError(f"settings must be true or false: {wrong}")
        for name, value in changes.items():
            setattr(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def accepted(self, body: dict) -> dict:
        """The guest fields of a create/update body this account takes."""
        return {name: value for name, value in body.items() if not (self.ignore_refs_writes and name == REFS)}
