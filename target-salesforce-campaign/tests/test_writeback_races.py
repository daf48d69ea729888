"""The write-back against participants that change or vanish during the run (issue 10, classes 6 and 7).

Generated interleavings: while the target writes back, "another application" writes its own refs onto
random participants and random participants are hard-deleted, each at a random write-back request
(hooks on the Eventmaker stand-in's store). Every run must succeed, keep every other application's
refs, write our entry on every surviving participant, and account each participant the write-back
found gone as skipped.

The one window no Eventmaker client can close (its API has no conditional update): another
application's write landing between our fresh GET of a participant and our PUT of that participant.
The hooks move such a write to just after our PUT; contracts §1 documents the window.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.eventmaker.errors import NotFound
from target_salesforce_campaign.writeback_home import HOMES, METADATA, REFS, read_entry

PARTICIPANTS = 12
OTHER_APP = "ticketing"


def other_apps_data(guest, home):
    """What applications other than ours keep in `home`: refs keys, or custom fields by name."""
    if home == METADATA:
        return {f["name"]: f["value"] for f in guest.get(METADATA) or [] if not f["name"].startswith("salesforce_")}
    return {key: value for key, value in (guest.get(REFS) or {}).items() if key != "salesforce"}


def with_other_app(guest, home, value):
    """The `home` field with another application's data set to `value` (what that application PUTs)."""
    if home == METADATA:
        fields = [f for f in guest.get(METADATA) or [] if f["name"] != OTHER_APP]
        return fields + [{"name": OTHER_APP, "value": str(value)}]
    return {**(guest.get(REFS) or {}), OTHER_APP: {"seen": value}}


class WritebackHooks:
    """Counts the write-back's requests reaching the store (reads and updates of one guest) and runs the
    actions scheduled at each request number: ("delete" | "other_app", participant index)."""

    def __init__(self, store, guests, schedule, home=REFS):
        self.store, self.guests, self.schedule, self.home = store, guests, schedule, home
        self._guest, self._update = store.guest, store.update_guest
        self.requests, self.in_put, self.acting = 0, False, False
        self.read_not_put: set[str] = set()  # our GET done, our PUT not yet: the window
        self.postponed: dict[str, list[int]] = {}
        self.deleted: set[str] = set()
        self.found_gone: set[str] = set()
        self.other_refs: dict[str, dict] = {}
        store.guest, store.update_guest = self.guest, self.update_guest

    def remove(self):
        del self.store.guest, self.store.update_guest

    def guest(self, event_id, guest_id):
        if not (self.in_put or self.acting):
            self._on_request(guest_id)
            self.read_not_put.add(guest_id)
        return self._guest(event_id, guest_id)

    def update_guest(self, event_id, guest_id, body):
        if self.acting:
            return self._update(event_id, guest_id, body)
        self._on_request(guest_id)
        self.in_put = True
        try:
            return self._update(event_id, guest_id, body)
        finally:
            self.in_put = False
            self.read_not_put.discard(guest_id)
            for value in self.postponed.pop(guest_id, []):
                self._other_app_writes(guest_id, value)

    def _on_request(self, guest_id):
        self.requests += 1
        for kind, index in self.schedule.get(self.requests, []):
            target = self.guests[index % len(self.guests)]
            if kind == "delete":
                self._delete(target)
            elif target in self.read_not_put:
                self.postponed.setdefault(target, []).append(self.requests)
            else:
                self._other_app_writes(target, self.requests)
        if guest_id in self.deleted:
            self.found_gone.add(guest_id)

    def _delete(self, guest_id):
        if guest_id not in self.deleted:
            self.acting = True
            try:
                self.store.delete_guest("e" * 24, guest_id)
            finally:
                self.acting = False
            self.deleted.add(guest_id)

    def _other_app_writes(self, guest_id, value):
        if guest_id in self.deleted:
            return
        self.acting = True
        try:
            guest = self._guest("e" * 24, guest_id)
            self._update("e" * 24, guest_id, {self.home: with_other_app(guest, self.home, value)})
        except NotFound:
            return
        finally:
            self.acting = False
        self.other_refs[guest_id] = other_apps_data(self._guest("e" * 24, guest_id), self.home)


def schedules(max_actions):
    request_number = st.integers(min_value=1, max_value=2 * PARTICIPANTS + 1)
    action = st.tuples(st.sampled_from(["delete", "other_app", "other_app"]), st.integers(0, PARTICIPANTS - 1))
    return st.dictionaries(request_number, st.lists(action, min_size=1, max_size=2), max_size=max_actions)


def run_with_schedule(pipeline, schedule, home=REFS):
    pipeline.em.store.clear()
    pipeline.sf.store.reset()
    crm = {REFS: lambda i: {REFS: {"crm": {"id": i}}}, METADATA: lambda i: {METADATA: [{"name": "crm", "value": str(i)}]}}
    guests = pipeline.add_guests(*[
        {"email": f"race{i}@x.example", "last_name": f"Race{i}", "status": "registered", **(crm[home](i) if i % 3 == 0 else {})}
        for i in range(PARTICIPANTS)])
    pipeline.tap_settings = {"include_guest_metadata": home == METADATA}
    hooks = WritebackHooks(pipeline.em.store, [g["_id"] for g in guests], schedule, home)
    try:
        result = pipeline.run(batch_size=5, writeback_concurrency=4, writeback_field=home)
    finally:
        hooks.remove()
    return guests, hooks, result


def check_run(pipeline, guests, hooks, result):
    """The run succeeded, every participant found gone is skipped, every other one carries our entry and
    every other application's data as that application last wrote it."""
    assert result.error is None, result.error
    outcomes = result.summary.outcomes
    assert outcomes["skipped"] == len(hooks.found_gone), (dict(outcomes), hooks.found_gone)
    assert outcomes["created"] + outcomes["skipped"] == PARTICIPANTS, dict(outcomes)
    for index, guest in enumerate(guests):
        if guest["_id"] in hooks.deleted:
            continue
        stored = pipeline.guest(guest["_id"])
        assert read_entry(stored, hooks.home)["last_synced_at"], (guest["_id"], stored)
        others = other_apps_data(stored, hooks.home)
        if index % 3 == 0:
            assert others["crm"] in ({"id": index}, str(index)), others
        if guest["_id"] in hooks.other_refs:
            assert others == hooks.other_refs[guest["_id"]], ("another app's data lost", guest["_id"], stored)


RACES = settings(max_examples=4, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])


@RACES
@given(schedule=schedules(max_actions=6), home=st.sampled_from(HOMES))
def test_writeback_keeps_other_apps_data_and_skips_deleted_participants(pipeline, schedule, home):
    check_run(pipeline, *run_with_schedule(pipeline, schedule, home))


@pytest.mark.slow
@pytest.mark.randomised_long
@settings(RACES, max_examples=40, derandomize=False)
@given(schedule=schedules(max_actions=12), home=st.sampled_from(HOMES))
def test_writeback_races_many_interleavings(pipeline, schedule, home):
    check_run(pipeline, *run_with_schedule(pipeline, schedule, home))


def test_a_participant_deleted_before_its_writeback_is_skipped_and_the_rest_written(pipeline):
    guests, hooks, result = run_with_schedule(pipeline, {1: [("delete", 5)], 3: [("delete", 11)]})
    check_run(pipeline, guests, hooks, result)
    assert hooks.found_gone == {guests[5]["_id"], guests[11]["_id"]}
    assert result.summary.writebacks == PARTICIPANTS - 2


@pytest.mark.parametrize("home", HOMES)
def test_another_apps_data_written_after_the_tap_read_is_kept(pipeline, home):
    guests, hooks, result = run_with_schedule(pipeline, {1: [("other_app", 7), ("other_app", 0)]}, home)
    check_run(pipeline, guests, hooks, result)
    assert set(hooks.other_refs) == {guests[7]["_id"], guests[0]["_id"]}
