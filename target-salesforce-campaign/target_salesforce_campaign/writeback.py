"""Write each participant's Salesforce sync state back to Eventmaker (contracts §1).

Each write-back is a fresh GET of the participant and a PUT of its sync field with only our entry
replaced, so what other applications wrote since the tap read it is kept. A participant gone from
Eventmaker (404) is skipped. The first write-back of a run is read back: an account that accepts the
PUT but stores nothing stops the run before more is written (`WritebackNotStored`).
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from target_salesforce_campaign import truncation
from target_salesforce_campaign.errors import TargetError
from target_salesforce_campaign.writeback_home import HOMES, METADATA, REFS, holds, merged_field

if TYPE_CHECKING:
    from target_salesforce_campaign.batch import Participant

logger = logging.getLogger(__name__)

# One GET and one PUT per participant, so write-back time is 2 x participants x latency / concurrency:
# 16 in flight keeps 10,000 participants at 50 ms around a minute (BENCHMARKS.md), a polite client.
DEFAULT_WRITEBACK_CONCURRENCY = 16
WRITTEN, UNCHANGED, DELETED, FAILED = "written", "unchanged", "deleted", "failed"

def current_ids(p: Participant) -> dict:
    """The IDs this attempt established; none when it found no person (earlier IDs are then kept).

    A participant is one Contact or one Lead (contracts §1): once matched, the other ID is cleared,
    e.g. the Lead ID of a Lead that was converted into the Contact now used.
    """
    ids = {}
    if p.person_id:
        ids = {"contact_id": None, "lead_id": None, "contact_id" if p.sobject == "Contact" else "lead_id": p.person_id}
    if p.member_id:
        ids.update(campaign_member_id=p.member_id, campaign_id=p.campaign_id)  # the member's campaign
    return ids


def new_entry(p: Participant, at: str) -> dict:
    """The participant's next sync state: earlier IDs kept unless replaced, this attempt's result applied.

    A participant left for the next run (no result) keeps its old state, plus any ID already established.
    """
    entry = {**p.old_entry, **current_ids(p)}
    if p.result in {"created", "updated"}:
        entry.update(last_synced_at=at, last_error=None, fingerprint=p.fingerprint)
        entry.pop("warnings", None)  # present only while a value is cut (truncate_long_values)
        if p.cut:
            entry["warnings"] = [truncation.warning(p.cut)]
    elif p.result == "failed" and p.error:
        entry["last_error"] = p.error.to_state(at)
        if p.fingerprint:
            entry["fingerprint"] = p.fingerprint
    return entry


def _comparable(entry: dict) -> dict:
    error = entry.get("last_error")
    return {
        **entry,
        "last_synced_at": None,
        "last_error": {k: v for k, v in error.items() if k != "at"} if isinstance(error, dict) else error,
    }


def needs_writeback(old: dict, new: dict, *, force: bool) -> bool:
    """Write only when something but a timestamp changed (else every run would re-read everyone)."""
    return force or _comparable(old) != _comparable(new)




@dataclass(frozen=True)
class Writeback:
    """One participant's entry to write (merged into the participant as read just before the PUT)."""

    event_id: str
    guest_id: str
    entry: dict


def writeback_items(participants: list[Participant], at: str, *, force: bool) -> list[Writeback]:
    """The entries that changed (skipped participants keep theirs)."""
    items = []
    for p in participants:
        if p.result == "skipped":
            continue
        entry = new_entry(p, at)
        if needs_writeback(p.old_entry, entry, force=force):
            items.append(Writeback(p.record["event_id"], p.record["_id"], entry))
    return items


@dataclass
class WritebackOutcome:
    """What one `write` did: PUTs that landed, participants gone from Eventmaker, failures (no token)."""

    written: int = 0
    deleted: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, item: Writeback, kind: str, detail: str | None) -> None:
        """Account one item's result."""
        if kind == DELETED:
            self.deleted.append(item.guest_id)
        elif kind == FAILED:
            self.failures.append(detail or f"guest {item.guest_id}")
        else:
            self.written += 1


class WritebackNotStored(TargetError):
    """Eventmaker accepted a write-back but did not store it (the field is ignored by this account)."""


def eventmaker_defaults(config: dict) -> tuple[str | None, str | None]:
    """URL and token: the target's settings, else the tap's through Meltano's MELTANO_EXTRACT_* variables."""
    url = config.get("eventmaker_api_url") or os.environ.get("MELTANO_EXTRACT_API_URL")
    token = config.get("eventmaker_auth_token") or os.environ.get("MELTANO_EXTRACT_AUTH_TOKEN")
    return url, token


class EventmakerWriter:
    """Fresh GET then merged PUT per participant, with bounded concurrency; retries 429/5xx/connection
    errors with backoff. `calls` counts the Eventmaker requests made (retries included by urllib3 only)."""

    def __init__(
        self,
        api_url: str,
        auth_token: str,
        *,
        home: str = REFS,
        timeout: float = 60,
        max_workers: int = DEFAULT_WRITEBACK_CONCURRENCY,
        retries: int = 4,
    ) -> None:
        if home not in HOMES:
            raise ValueError(f"writeback_field must be one of {HOMES}, not {home!r}")
        self.api_url = api_url.rstrip("/")
        self.home = home
        self.timeout = timeout
        self.auth_token = auth_token
        self.max_workers = max_workers
        self.calls = 0
        self._verified = False
        self._lock = threading.Lock()
        self.session = requests.Session()
        retry = Retry(
            total=retries,
            backoff_factor=0.3,
            backoff_jitter=0.2,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"GET", "PUT"}),  # a read, and the same whole field again
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry, pool_maxsize=max_workers)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def _request(self, method: str, item: Writeback, **kwargs: object) -> requests.Response:
        with self._lock:
            self.calls += 1
        url = f"{self.api_url}/api/v1/events/{item.event_id}/guests/{item.guest_id}.json"
        params = {"auth_token": self.auth_token, **({"guest_metadata": "true"} if self.home == METADATA else {})}
        return self.session.request(method, url, params=params, timeout=self.timeout, **kwargs)

    def _read(self, item: Writeback) -> tuple[str, dict | str | None]:
        """(kind, guest or failure): the participant as Eventmaker holds it now."""
        response = self._request("GET", item)
        if response.status_code == 404:
            return DELETED, None
        if response.status_code >= 300:
            return FAILED, f"guest {item.guest_id}: read HTTP {response.status_code}"
        try:
            guest = response.json()
        except ValueError:
            guest = None
        if not isinstance(guest, dict):
            return FAILED, f"guest {item.guest_id}: read answered no guest object"
        return WRITTEN, guest

    def _write_one(self, item: Writeback, *, verify: bool = False) -> tuple[str, str | None]:
        """GET, merge our entry, PUT; with `verify`, read back and raise if nothing was stored."""
        try:
            kind, guest = self._read(item)
            if kind != WRITTEN:
                return kind, guest
            if holds(guest, item.entry, self.home):
                return UNCHANGED, None
            response = self._request("PUT", item, json={"guest": {self.home: merged_field(guest, item.entry, self.home)}})
            if response.status_code == 404:
                return DELETED, None
            if response.status_code >= 300:
                return FAILED, f"guest {item.guest_id}: HTTP {response.status_code}"
            if verify:
                return self._check_stored(item)
        except requests.RequestException as exc:
            return FAILED, f"guest {item.guest_id}: {type(exc).__name__}"
        return WRITTEN, None

    def _check_stored(self, item: Writeback) -> tuple[str, str | None]:
        kind, guest = self._read(item)
        if kind != WRITTEN:
            return kind, guest
        if not holds(guest, item.entry, self.home):
            raise WritebackNotStored(
                f"Eventmaker accepted the write-back of participant {item.guest_id} but did not store its {self.home}: "
                "this account ignores that field, so every run would look like a first sync. The run stops before "
                f"writing more back. Set the target setting writeback_field to "
                f"{METADATA if self.home == REFS else REFS} (and the tap's matching setting, docs/contracts.md §1), "
                "or writeback to none."
            )
        return WRITTEN, None

    def write(self, items: list[Writeback]) -> WritebackOutcome:
        """Write all (already retried); the run's first landed write-back is read back first, alone."""
        outcome = WritebackOutcome()
        items = list(items)
        with self._lock:
            verified = self._verified
        while items and not verified:
            item = items.pop(0)
            kind, detail = self._write_one(item, verify=True)
            outcome.add(item, kind, detail)
            verified = kind in (WRITTEN, UNCHANGED)
            with self._lock:
                self._verified = self._verified or verified
        if items:
            with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
                for item, (kind, detail) in zip(items, pool.map(self._write_one, items)):
                    outcome.add(item, kind, detail)
        for guest_id in outcome.deleted:
            logger.warning("Participant %s was deleted from Eventmaker during the run: skipped, nothing written back "
                           "(its Salesforce records are kept).", guest_id)
        return outcome
