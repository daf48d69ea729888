"""Parsed SOQL bound to the schema, and evaluated against records.

Names become canonical :class:`FieldRef` paths (``Contact.Email`` follows ``ContactId``); literals
become comparison keys: text by simple lower-casing (``str.lower``: Salesforce ignores case but does
not case-fold, so ``straße`` is not ``strasse``), Ids in their 18-character form. Refused as
Salesforce refuses them: a malformed Id literal on an Id or reference field
(INVALID_QUERY_FILTER_OPERATOR), OFFSET over 2,000 (NUMBER_OUTSIDE_VALID_RANGE), semi-joins that
are nested, under OR or NOT, on the same object, or more than two.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Iterable

from .errors import SalesforceError
from .ids import normalize_id
from .schema import FULL, ID_TYPES, TEXT_TYPES, Field, Schema, SObject
from .soql_parser import NULL, Comparison, Junction, Negation, Query, SubQuery, malformed, parse_temporal

MAX_OFFSET = 2000
MAX_SEMI_JOINS = 2


def comparable(field_type: str, value: Any) -> Any:
    """The key a stored or literal value compares (and is indexed) by, for a field type."""
    if value is None or value is NULL:
        return None
    if field_type in ID_TYPES and isinstance(value, str):
        return normalize_id(value) or value or None
    if field_type in TEXT_TYPES and isinstance(value, str):
        return value.lower()
    if field_type == "datetime" and isinstance(value, str):
        return parse_temporal(value.replace("+0000", "+00:00"))
    if field_type == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def invalid_field(name: str, sobject: SObject) -> SalesforceError:
    return SalesforceError(
        "INVALID_FIELD",
        f"No such column '{name}' on entity '{sobject.name}'. If you are attempting to use a custom "
        "field, be sure to append the '__c' after the custom field name. Please reference your "
        "WSDL or the describe call for the appropriate names.",
    )


def invalid_type(name: str) -> SalesforceError:
    return SalesforceError(
        "INVALID_TYPE",
        f"sObject type '{name}' is not supported. If you are attempting to use a custom object, be "
        "sure to append the '__c' after the entity name. Please reference your WSDL or the "
        "describe call for the appropriate names.",
    )


def invalid_id_filter(message: str) -> SalesforceError:
    return SalesforceError("INVALID_QUERY_FILTER_OPERATOR", message)


@dataclass(frozen=True)
class FieldRef:
    """A field of the queried object, or of a parent reached through ``hops`` (reference fields)."""

    hops: tuple[Field, ...]
    field: Field

    @property
    def direct(self) -> str | None:
        """The field's name when it is on the queried object itself."""
        return None if self.hops else self.field.name


@dataclass(frozen=True)
class Condition:
    """A bound comparison: ``values`` are keys, or one :class:`BoundQuery` for a semi-join."""

    ref: FieldRef
    op: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Order:
    ref: FieldRef
    descending: bool
    nulls_last: bool | None


@dataclass(frozen=True)
class BoundQuery:
    """A query whose names are canonical and whose literals are comparison keys."""

    sobject: SObject
    fields: tuple[FieldRef, ...]
    where: Any
    order_by: tuple[Order, ...]
    limit: int | None
    offset: int
    count_only: bool


class Binder:
    """Binds one statement (and its semi-joins) against ``schema``."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.semi_joins = 0

    def bind(self, query: Query, nested: bool = False) -> BoundQuery:
        sobject = self.schema.lookup(query.sobject)
        if sobject is None:
            raise invalid_type(query.sobject)
        if query.offset > MAX_OFFSET:
            raise SalesforceError("NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}")
        fields = tuple(dict.fromkeys(self.ref(sobject, name) for name in query.fields))
        orders = tuple(Order(self.ref(sobject, o.field), o.descending, o.nulls_last) for o in query.order_by)
        where = self.node(sobject, query.where, nested, ()) if query.where is not None else None
        return BoundQuery(sobject, fields, where, orders, query.limit, query.offset, query.count_only)

    def ref(self, sobject: SObject, path: str) -> FieldRef:
        """``Email``, ``Contact.Email``, ``CampaignMember.Contact.Email`` (object-name prefix)."""
        steps = path.split(".")
        if len(steps) > 1 and steps[0].lower() == sobject.name.lower() and sobject.relationship(steps[0]) is None:
            steps = steps[1:]
        hops, current = [], sobject
        for step in steps[:-1]:
            hop = current.relationship(step)
            if hop is None:
                raise SalesforceError(
                    "INVALID_FIELD", f"Didn't understand relationship '{step}' in field path. If you are "
                    "attempting to use a custom relationship, be sure to append the '__r' after the custom "
                    "relationship name. Please reference your WSDL or the describe call for the appropriate names.")
            hops.append(hop)
            current = self.schema.objects[hop.reference_to[0]]
        field = current.field(steps[-1])
        if field is None:
            raise invalid_field(steps[-1], current)
        return FieldRef(tuple(hops), field)

    def node(self, sobject: SObject, node: Any, nested: bool, above: tuple[str, ...]) -> Any:
        if isinstance(node, Junction):
            return Junction(node.op, tuple(self.node(sobject, p, nested, above + (node.op,)) for p in node.parts))
        if isinstance(node, Negation):
            return Negation(self.node(sobject, node.part, nested, above + ("NOT",)))
        return self.comparison(sobject, node, nested, above)

    def comparison(self, sobject: SObject, node: Comparison, nested: bool, above: tuple[str, ...]) -> Condition:
        ref = self.ref(sobject, node.field)
        if node.values and isinstance(node.values[0], SubQuery):
            return Condition(ref, node.op, (self.semi_join(sobject, ref, node.values[0].query, nested, above),))
        if ref.field.type in ID_TYPES:
            if node.op == "LIKE":
                raise invalid_id_filter("invalid operator on id field")
            for value in node.values:
                if value is not NULL and value != "" and normalize_id(value) is None:
                    raise invalid_id_filter(f"invalid ID field: {value}")
        if node.op == "LIKE":
            return Condition(ref, "LIKE", node.values)
        return Condition(ref, node.op, tuple(comparable(ref.field.type, v) for v in node.values))

    def semi_join(self, sobject: SObject, ref: FieldRef, query: Query, nested: bool, above: tuple[str, ...]) -> BoundQuery:
        if nested:
            raise malformed("Nesting of semi join sub-selects is not supported")
        for operator in ("OR", "NOT"):
            if operator in above:
                raise malformed(f"Semi join sub-selects are not allowed with the '{operator}' operator")
        self.semi_joins += 1
        if self.semi_joins > MAX_SEMI_JOINS:
            raise SalesforceError("EXCEEDED_MAX_SEMIJOIN_SUBSELECTS",
                                  f"No more than {MAX_SEMI_JOINS} semi join sub-selects are allowed")
        inner = self.bind(query, nested=True)
        if inner.sobject.name == sobject.name:
            raise malformed("The inner and outer selects should not be on the same object type")
        if ref.field.type not in ID_TYPES or len(inner.fields) != 1 or inner.fields[0].field.type not in ID_TYPES:
            raise malformed("The selected field in a semi join sub-select and the field it is compared "
                            "with must be Id or reference fields")
        return inner


def bind(query: Query, schema: Schema = FULL) -> BoundQuery:
    """Resolve names against ``schema`` (INVALID_TYPE / INVALID_FIELD) and literals to keys."""
    return Binder(schema).bind(query)


# ---------------------------------------------------------------- evaluation

Parent = Callable[[str], "dict[str, Any] | None"]


def follow(record: dict[str, Any] | None, ref: FieldRef, parent: Parent) -> Any:
    """The raw value of ``ref`` on ``record``, following its hops (None where a parent is missing)."""
    for hop in ref.hops:
        parent_id = record.get(hop.name) if record else None
        record = parent(parent_id) if parent_id else None
    return record.get(ref.field.name) if record else None


def key_of(record: dict[str, Any], ref: FieldRef, parent: Parent) -> Any:
    return comparable(ref.field.type, follow(record, ref, parent))


def resolve_semi_joins(node: Any, run: Callable[[BoundQuery], list[dict[str, Any]]], parent: Parent) -> Any:
    """``node`` with each semi-join replaced by the keys its sub-select returns."""
    if isinstance(node, Junction):
        return Junction(node.op, tuple(resolve_semi_joins(p, run, parent) for p in node.parts))
    if isinstance(node, Negation):
        return Negation(resolve_semi_joins(node.part, run, parent))
    if isinstance(node, Condition) and node.values and isinstance(node.values[0], BoundQuery):
        inner = node.values[0]
        keys = {key_of(row, inner.fields[0], parent) for row in run(inner)} - {None}
        return Condition(node.ref, node.op, tuple(keys))
    return node


def evaluate(node: Any, record: dict[str, Any], parent: Parent) -> bool:
    """Whether ``record`` satisfies the (semi-join-free) bound condition ``node``."""
    if isinstance(node, Junction):
        results = (evaluate(part, record, parent) for part in node.parts)
        return all(results) if node.op == "AND" else any(results)
    if isinstance(node, Negation):
        return not evaluate(node.part, record, parent)
    if node.op == "LIKE":
        raw = follow(record, node.ref, parent)
        return isinstance(raw, str) and bool(node.values[0].match(raw))
    actual = key_of(record, node.ref, parent)
    expected = node.values[0] if node.values else None
    if node.op == "=":
        return actual == expected
    if node.op == "!=":
        return actual != expected
    if node.op == "IN":
        return actual in node.values
    if node.op == "NOT IN":
        return actual not in node.values
    if actual is None or expected is None:
        return False
    try:
        return {"<": actual < expected, "<=": actual <= expected,
                ">": actual > expected, ">=": actual >= expected}[node.op]
    except TypeError:
        return False


def sort_records(records: list[dict[str, Any]], orders: Iterable[Order], parent: Parent) -> list[dict[str, Any]]:
    """Records ordered as ORDER BY asks (nulls first ascending, last descending, by default)."""
    for order in reversed(tuple(orders)):
        nulls_last = order.descending if order.nulls_last is None else order.nulls_last
        keyed = [(key_of(r, order.ref, parent), r) for r in records]
        present = [pair for pair in keyed if pair[0] is not None]
        absent = [r for k, r in keyed if k is None]
        present.sort(key=lambda pair: pair[0], reverse=order.descending)
        records = [r for _, r in present] + absent if nulls_last else absent + [r for _, r in present]
    return records
