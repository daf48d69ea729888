"""Records as the REST API returns them: ``attributes`` first, then the fields asked for."""

from __future__ import annotations

from typing import Any

from .schema import SObject
from .soql_eval import FieldRef, Parent


def record_url(version: str, sobject: str, record_id: str) -> str:
    return f"/services/data/v{version}/sobjects/{sobject}/{record_id}"


def attributes(version: str, sobject: str, record_id: str) -> dict[str, Any]:
    return {"type": sobject, "url": record_url(version, sobject, record_id)}


def render(version: str, sobject: SObject, record: dict[str, Any], fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    """One record with the fields named (all fields by default)."""
    names = fields or tuple(f.name for f in sobject.fields)
    return {"attributes": attributes(version, sobject.name, record["Id"]), **{name: record.get(name) for name in names}}


def render_row(version: str, sobject: SObject, record: dict[str, Any], refs: tuple[FieldRef, ...],
               parent: Parent) -> dict[str, Any]:
    """A query row: parent fields nest under their relationship name (null when there is no parent)."""
    row: dict[str, Any] = {"attributes": attributes(version, sobject.name, record["Id"])}
    for ref in refs:
        target, source = row, record
        for hop in ref.hops:
            if source is None:
                break
            parent_id = source.get(hop.name)
            source = parent(parent_id) if parent_id else None
            name = hop.relationship_name
            if source is None:
                target.setdefault(name, None)
                break
            if not isinstance(target.get(name), dict):
                target[name] = {"attributes": attributes(version, hop.reference_to[0], source["Id"])}
            target = target[name]
        else:
            target[ref.field.name] = source.get(ref.field.name)
    return row
