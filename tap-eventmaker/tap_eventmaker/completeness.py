"""Prove that a read of one event's window missed no participant, or say why it cannot be proven.

The API pages by offset: a participant deleted (or moved out of the window by an update) during a
paged read shifts the later pages, and a wrong page (an empty ``200 []``, a page served twice) drops
a whole page. So the paged read is followed by a check that does not depend on offsets: the window
is cut, by the ``updated_at`` of the participants read, into pieces that fit in one page. One page
that comes back short is the whole piece at one instant; a participant read before but absent from
it must be gone (deleted, or updated out of it), which a GET of that participant confirms, or the
answer was wrong and is asked again. A full piece is cut further; an instant holding more than a
page is read in pages until two reads agree. What the check finds is emitted too.
"""

from __future__ import annotations

import collections
import dataclasses
import typing as t

from tap_eventmaker.timestamps import parse_timestamp, to_utc_iso
from tap_eventmaker.window import Window, cut

if t.TYPE_CHECKING:
    from collections.abc import Iterator

#: Answers asked for one piece before giving up on it.
ATTEMPTS = 3
#: Participants missing from one answer that are confirmed gone one by one; more means no proof.
MAX_CONFIRMATIONS = 50


class Reader(t.Protocol):
    """What the check needs from the stream."""

    page_size: int

    def window_page(self, window: Window, page: int) -> tuple[dict, ...]:
        """The raw guests of one page of ``window``."""

    def guest(self, guest_id: str) -> dict | None:
        """One guest as it is now; ``None`` when it no longer exists."""


class BoundsIgnored(Exception):  # noqa: N818 - a finding that changes the method
    """The API answered a bounded request with guests outside the bounds, every time."""


class Unwitnessed(Exception):  # noqa: N818 - a finding that changes the method
    """An empty answer for a piece whose participants read before are all gone: nothing vouches for it."""


class Unproven(Exception):  # noqa: N818 - a verdict, not a failure of the run
    """The read cannot be shown complete; the message says why."""


def stamp(guest: t.Mapping[str, t.Any]) -> str | None:
    """``updated_at`` as the tap's fixed-width UTC text; ``None`` when unreadable."""
    moment = parse_timestamp(guest.get("updated_at"))
    return to_utc_iso(moment) if moment else None


@dataclasses.dataclass(frozen=True)
class Page:
    """The guests of one answer that lie in the piece asked for, and whether the answer was a full page."""

    rows: tuple[dict, ...]
    full: bool


@dataclasses.dataclass
class Check:
    """The check of one window, given ``known``: ``_id`` -> ``updated_at`` of what the paged read got."""

    reader: Reader
    window: Window
    known: dict[str, str]
    #: False when the API answered outside the bounds asked: it ignores them, pages are the event's.
    bounds_honoured: bool = True
    gone: int = 0
    requests: int = 0

    def run(self) -> Iterator[dict]:
        """Yield the guests the paged read missed; raise ``Unproven`` when no proof is possible."""
        if not self.known:
            return  # nothing read: the bookmark cannot move, there is nothing to prove
        capacity = max(1, self.reader.page_size * 4 // 5)
        pieces = collections.deque(cut(self.window, self.known.values(), capacity) if self.bounds_honoured else [])
        try:
            while pieces:
                piece = pieces.popleft()
                try:
                    pieces.extend((yield from self._piece(piece, capacity)))
                except Unwitnessed:
                    if not pieces:
                        raise Unproven(f"window {piece}: answered empty, and every participant read there is gone") from None
                    pieces[0] = Window(piece.since, pieces[0].before)  # let the next piece's participants vouch
        except BoundsIgnored:
            self.bounds_honoured = False
        if not self.bounds_honoured:
            yield from self._paged(self.window)

    def _piece(self, piece: Window, capacity: int) -> Iterator[dict]:
        """Check one piece with single pages; return the pieces it had to be cut into."""
        if sum(moment in piece for moment in self.known.values()) > capacity:  # one instant, over a page
            yield from self._paged(piece)
            return []
        outside = 0
        for _ in range(ATTEMPTS):
            answer = self._page(piece, 1)
            if answer is None:
                outside += 1
                continue
            yield from self._take(answer.rows)
            if answer.full:
                inner = [moment for moment in self.known.values() if moment in piece]
                smaller = cut(piece, inner, max(1, len(inner) // 2))
                if len(smaller) > 1:
                    return smaller
                yield from self._paged(piece)
                return []
            if (yield from self._absent_are_gone(piece, {row.get("_id") for row in answer.rows})):
                if not answer.rows:  # nobody read there is left to show that "nothing" is the truth
                    raise Unwitnessed
                return []
        if outside == ATTEMPTS:
            raise BoundsIgnored
        raise Unproven(f"window {piece}: {ATTEMPTS} answers lacked participants that are still there")

    def _paged(self, piece: Window) -> Iterator[dict]:
        """An instant with more than a page: read it in pages until two reads in a row agree."""
        previous: set | None = None
        last_page = 2 + 2 * sum(moment in piece for moment in self.known.values()) // self.reader.page_size
        for _ in range(ATTEMPTS):
            seen: set = set()
            page = 1
            while (answer := self._page(piece, page)) is not None:
                yield from self._take(answer.rows)
                seen.update(row.get("_id") for row in answer.rows)
                if not answer.full:
                    break
                if page == last_page:  # more pages than there can be: a page served for every number
                    answer = None
                    break
                page += 1
            if answer is not None and seen == previous and (yield from self._absent_are_gone(piece, seen)):
                return
            previous = seen if answer is not None else None
        raise Unproven(f"window {piece}: no two paged reads in a row agreed")

    def _page(self, piece: Window, page: int) -> Page | None:
        """One page of ``piece``; ``None`` when it holds guests outside the piece (a wrong answer).

        When the API ignores bounds, a page is the event's: full or short as it came, and only its
        guests in the piece are kept.
        """
        self.requests += 1
        rows = self.reader.window_page(piece, page)
        inside = tuple(row for row in rows if (moment := stamp(row)) is None or moment in piece)
        if len(inside) < len(rows) and self.bounds_honoured:
            return None
        return Page(inside, full=len(rows) >= self.reader.page_size)

    def _take(self, rows: t.Iterable[dict]) -> Iterator[dict]:
        """Yield the guests not known yet (or known with an older ``updated_at``) and learn them."""
        for row in rows:
            guest_id, moment = row.get("_id"), stamp(row)
            if guest_id and moment and self.known.get(guest_id) != moment:
                self.known[guest_id] = moment
                yield row

    def _absent_are_gone(self, piece: Window, seen: set) -> Iterator[dict]:
        """Confirm that every known guest of ``piece`` missing from ``seen`` is gone from it.

        Returns False when one is still there unchanged: the answer was wrong.
        """
        absent = [guest_id for guest_id, moment in self.known.items() if moment in piece and guest_id not in seen]
        if len(absent) > MAX_CONFIRMATIONS:
            raise Unproven(f"window {piece}: {len(absent)} participants left it during the read, too many to confirm")
        for guest_id in absent:
            self.requests += 1
            now = self.reader.guest(guest_id)
            moment = stamp(now) if now else None
            if moment == self.known[guest_id]:
                return False
            if now is not None and moment is not None and moment in self.window:
                self.known[guest_id] = moment  # updated, still in the run's window: a change to send
                yield now
            else:
                del self.known[guest_id]
                self.gone += 1
        return True
