"""The Eventmaker stand-in's data: events, guest categories and guests, in memory.

Indexed for 100,000 guests: by ``_id`` globally, and per event by ``_id`` (kept in ``_id`` order, the
API's stable list order), by ``uid`` and by ``updated_at`` (so an ``updated_since`` page costs the
matching guests, not the whole event). Records returned by the store are its own: read them, and
change them only through its methods (which validate and bump ``updated_at``).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from sandbox.eventmaker import clock, guests
from sandbox.eventmaker.errors import NotFound, ValidationError
from sandbox.eventmaker.ids import new_object_id, new_uid


class EventGuests:
    """One event's guests: by ``_id``, by ``uid``, listed in ``_id`` order, and ranged by ``updated_at``.

    Both sorted lists are rebuilt lazily (``None``) when a new guest does not come last; an update
    moves the guest's ``(updated_at, _id)`` key in place.
    """

    def __init__(self) -> None:
        self.by_id: dict[str, dict] = {}
        self.by_uid: dict[str, str] = {}
        self._ordered_ids: list[str] | None = []
        self._by_updated_at: list[tuple[str, str]] | None = []

    def put(self, guest: dict, previous: dict | None = None) -> None:
        guest_id, key = guest["_id"], updated_key(guest)
        if previous is not None:
            del self.by_uid[previous["uid"]]
            self._drop_updated_key(previous)
            if self._by_updated_at is not None:
                insort(self._by_updated_at, key)
        else:
            self._ordered_ids = appended_in_order(self._ordered_ids, guest_id)
            self._by_updated_at = appended_in_order(self._by_updated_at, key)
        self.by_id[guest_id] = guest
        self.by_uid[guest["uid"]] = guest_id

    def remove(self, guest: dict) -> None:
        del self.by_id[guest["_id"]]
        del self.by_uid[guest["uid"]]
        self._drop_updated_key(guest)
        self._ordered_ids = None

    def in_order(self) -> GuestsInOrder:
        if self._ordered_ids is None:
            self._ordered_ids = sorted(self.by_id)
        return GuestsInOrder(self._ordered_ids, self.by_id)

    def updated_in(self, since: str | None, before: str | None) -> GuestsInOrder:
        """Guests with ``since <= updated_at < before`` (canonical timestamps; None = unbounded), in
        ``_id`` order."""
        if self._by_updated_at is None:
            self._by_updated_at = sorted(map(updated_key, self.by_id.values()))
        keys = self._by_updated_at
        start = 0 if since is None else bisect_left(keys, (since,))
        stop = len(keys) if before is None else bisect_left(keys, (before,))
        if start == 0 and stop == len(keys):
            return self.in_order()
        return GuestsInOrder(sorted(guest_id for _, guest_id in keys[start:stop]), self.by_id)

    def _drop_updated_key(self, guest: dict) -> None:
        if self._by_updated_at is not None:
            del self._by_updated_at[bisect_left(self._by_updated_at, updated_key(guest))]


def updated_key(guest: dict) -> tuple[str, str]:
    return guest["updated_at"], guest["_id"]


def appended_in_order(ordered: list | None, item) -> list | None:
    """``ordered`` with ``item`` appended if it sorts last, else ``None`` (to be rebuilt when next read)."""
    if ordered is not None and (not ordered or item > ordered[-1]):
        ordered.append(item)
        return ordered
    return None


class GuestsInOrder(Sequence):
    """A read-only view of an event's guests in ``_id`` order; slicing it costs only the slice."""

    def __init__(self, ordered_ids: list[str], by_id: dict[str, dict]) -> None:
        self._ids = ordered_ids
        self._by_id = by_id

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._by_id[guest_id] for guest_id in self._ids[index]]
        return self._by_id[self._ids[index]]

    def __iter__(self) -> Iterator[dict]:
        by_id = self._by_id
        return (by_id[guest_id] for guest_id in self._ids)


class EventmakerStore:
    """Events, guest categories and guests, with the API's rules for guests."""

    def __init__(self, now: Callable[[], datetime] = clock.utc_now) -> None:
        self._now = now
        self.clear()

    def clear(self) -> None:
        """Forget every record (``POST /__sandbox/reset``)."""
        self._events: dict[str, dict] = {}
        self._categories: dict[str, dict] = {}
        self._guests: dict[str, dict] = {}
        self._event_guests: dict[str, EventGuests] = {}

    # -- persistence and bulk load -------------------------------------------------------------

    def to_dict(self) -> dict:
        """Every record in API shape; ``from_dict`` and ``load`` take it back."""
        return {
            "events": self.events(),
            "guest_categories": sorted(self._categories.values(), key=lambda category: category["_id"]),
            "guests": [guest for event_id in sorted(self._events) for guest in self.guests(event_id)],
        }

    @classmethod
    def from_dict(cls, data: dict) -> EventmakerStore:
        store = cls()
        store.load(data)
        return store

    def load(self, payload: dict) -> dict[str, list[str]]:
        """Add ``{"events", "guest_categories", "guests"}`` records (API shape; missing ``_id``, ``uid``,
        ``created_at``, ``updated_at`` generated). Returns their ids in input order.

        Raises ``ValidationError`` naming the first bad record (records before it stay loaded).
        """
        loaders = (
            ("events", self.add_event),
            ("guest_categories", self.add_guest_category),
            ("guests", self.add_guest),
        )
        loaded: dict[str, list[str]] = {}
        for kind, add in loaders:
            loaded[kind] = []
            for index, record in enumerate(payload.get(kind) or []):
                try:
                    loaded[kind].append(add(record)["_id"])
                except ValidationError as error:
                    raise ValidationError({f"{kind}[{index}].{field}": messages
                                           for field, messages in error.errors.items()}) from None
        return loaded

    # -- events and guest categories -------------------------------------------------------------

    def add_event(self, record: dict) -> dict:
        event = self._stamped({"title": None, "start_date": None, "end_date": None, "timezone": "UTC",
                               **record}, self._events)
        self._events[event["_id"]] = event
        self._event_guests[event["_id"]] = EventGuests()
        return event

    def events(self) -> list[dict]:
        return [self._events[event_id] for event_id in sorted(self._events)]

    def event(self, event_id: str) -> dict:
        try:
            return self._events[event_id]
        except KeyError:
            raise NotFound(f"Event {event_id} not found") from None

    def guest_count(self, event_id: str) -> int:
        self.event(event_id)
        return len(self._event_guests[event_id].by_id)

    def add_guest_category(self, record: dict) -> dict:
        if record.get("event_id") not in self._events:
            raise ValidationError({"event_id": [guests.INVALID]})
        category = self._stamped({"name": None, "population_type": "attendee", **record}, self._categories)
        self._categories[category["_id"]] = category
        return category

    def guest_categories(self, event_id: str) -> list[dict]:
        self.event(event_id)
        return sorted((category for category in self._categories.values() if category["event_id"] == event_id),
                      key=lambda category: category["_id"])

    def guest_category(self, event_id: str, category_id: str) -> dict:
        category = self._categories.get(category_id)
        if category is None or category["event_id"] != event_id:
            raise NotFound(f"Guest category {category_id} not found")
        return category

    def category_names(self, event_id: str) -> dict[str, str]:
        """``{category _id: name}`` for the event's categories (the search language names them)."""
        return {category["_id"]: category["name"] for category in self.guest_categories(event_id)}

    # -- guests ----------------------------------------------------------------------------------

    def guests(self, event_id: str, *, updated_since: str | None = None,
               updated_before: str | None = None) -> GuestsInOrder:
        """The event's guests in ``_id`` order (the API's list order), as a sliceable view; the bounds
        (canonical timestamps, ``since`` inclusive, ``before`` exclusive) are served from an index."""
        self.event(event_id)
        event_guests = self._event_guests[event_id]
        if updated_since is None and updated_before is None:
            return event_guests.in_order()
        return event_guests.updated_in(updated_since, updated_before)

    def guest(self, event_id: str, guest_id: str) -> dict:
        guest = self._guests.get(guest_id)
        if guest is None or guest["event_id"] != event_id:
            raise NotFound(f"Guest {guest_id} not found")
        return guest

    def guest_by_uid(self, event_id: str, uid: str) -> dict | None:
        self.event(event_id)
        guest_id = self._event_guests[event_id].by_uid.get(uid)
        return None if guest_id is None else self._guests[guest_id]

    def create_guest(self, event_id: str, body: dict) -> dict:
        """``POST .../guests.json``: only writable fields are taken; ids and timestamps are generated."""
        self.event(event_id)
        return self._admit(guests.with_defaults(event_id, new_object_id(), guests.writable_fields(body)))

    def add_guest(self, record: dict) -> dict:
        """Bulk load: a guest in API shape (any fields kept); missing ids and timestamps generated."""
        if record.get("event_id") not in self._events:
            raise ValidationError({"event_id": [guests.INVALID]})
        if record.get("_id") in self._guests:
            raise ValidationError({"_id": [guests.TAKEN]})
        return self._admit(guests.with_defaults(record["event_id"], record.get("_id") or new_object_id(), record))

    def update_guest(self, event_id: str, guest_id: str, body: dict) -> dict:
        """``PUT``: writable fields sent replace those fields, others are kept; ``updated_at`` bumped
        when something changed."""
        current = self.guest(event_id, guest_id)
        updated = self._checked({**current, **guests.writable_fields(body)})
        if updated == current:
            return current
        updated["updated_at"] = clock.later_than(current["updated_at"], self._now())
        self._guests[guest_id] = updated
        self._event_guests[event_id].put(updated, previous=current)
        return updated

    def delete_guest(self, event_id: str, guest_id: str) -> None:
        """``DELETE``: gone for good."""
        guest = self.guest(event_id, guest_id)
        del self._guests[guest_id]
        self._event_guests[event_id].remove(guest)

    # -- helpers ---------------------------------------------------------------------------------

    def _admit(self, guest: dict) -> dict:
        guest = self._checked(guest)
        if guests.is_blank(guest["uid"]):
            guest["uid"] = self._unused_uid(guest["event_id"])
        now = clock.format_timestamp(self._now())
        guest["created_at"] = guest["created_at"] or now
        guest["updated_at"] = guest["updated_at"] or guest["created_at"]
        self._guests[guest["_id"]] = guest
        self._event_guests[guest["event_id"]].put(guest)
        return guest

    def _checked(self, guest: dict) -> dict:
        """Record rules (``guests.shape_errors``) plus those that need the store: category of this event,
        ``uid`` unique per event. A registered guest gets ``registered_at`` if it has none."""
        errors = guests.shape_errors(guest)
        category = self._categories.get(guest["guest_category_id"])
        if "guest_category_id" not in errors and (category is None or category["event_id"] != guest["event_id"]):
            errors["guest_category_id"] = [guests.INVALID]
        owner = self._event_guests[guest["event_id"]].by_uid.get(guest["uid"])
        if owner is not None and owner != guest["_id"]:
            errors.setdefault("uid", []).append(guests.TAKEN)
        if errors:
            raise ValidationError(errors)
        guest = guests.normalized(guest)
        if guest["status"] == "registered" and guest["registered_at"] is None:
            guest["registered_at"] = clock.format_timestamp(self._now())
        return guest

    def _unused_uid(self, event_id: str) -> str:
        taken = self._event_guests[event_id].by_uid
        while (uid := new_uid()) in taken:
            pass
        return uid

    def _stamped(self, record: dict, existing: dict) -> dict:
        """An event or category with ``_id`` and timestamps (generated when missing)."""
        record = {**record, "_id": record.get("_id") or new_object_id()}
        if record["_id"] in existing:
            raise ValidationError({"_id": [guests.TAKEN]})
        now = clock.format_timestamp(self._now())
        record["created_at"] = _canonical_or_invalid(record, "created_at") or now
        record["updated_at"] = _canonical_or_invalid(record, "updated_at") or record["created_at"]
        return record


def _canonical_or_invalid(record: dict, name: str) -> str | None:
    if record.get(name) is None:
        return None
    try:
        return clock.canonical_timestamp(record[name])
    except ValueError:
        raise ValidationError({name: [guests.INVALID]}) from None
