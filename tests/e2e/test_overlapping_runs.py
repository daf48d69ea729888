"""Two overlapping runs of the same pipeline: Meltano's RUNNING guard refuses the second one."""

import time

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MAIN_STATE_ID = "sandbox:tap-eventmaker-to-target-salesforce-campaign"
FIRST_PAGE_HELD_S = 20  # longer than the second command takes to reach Meltano's guard (two Meltano start-ups)


def hold_first_guest_page(sandbox, seconds: float) -> None:
    """Delay the first participant page: the first run stays RUNNING however fast the rest of it is."""
    fault = {"match": r"GET ^/api/v1/events/[^/]+/guests\.json", "count": 1, "kind": "delay", "delay_ms": seconds * 1000}
    requests.post(f"{sandbox.eventmaker_url}/__sandbox/faults", json=fault, timeout=30).raise_for_status()


def test_a_second_sync_is_refused_while_the_first_runs_and_nothing_is_sent_twice(project, seeded):
    # A fixed latency alone raced: with 16 write-back PUTs in flight the first run could end before
    # the second one reached the guard.
    hold_first_guest_page(seeded, FIRST_PAGE_HELD_S)
    first = project.start("run", "sync")
    deadline = time.monotonic() + 60
    while project.run_states(MAIN_STATE_ID) != ["RUNNING"]:
        assert first.poll() is None and time.monotonic() < deadline, "the first run never showed as RUNNING"
        time.sleep(0.2)

    second = project.monitor("sync", ok=False)

    assert second.startswith("NOT STARTED") and "already running" in second
    assert first.wait(timeout=180) == 0, first.stderr.read()[-3000:]
    assert project.run_states(MAIN_STATE_ID) == ["SUCCESS"]  # the refused run left no row
    seeded.assert_no_duplicates()
    # The bookmark written by the first run is intact: the next run has nothing to send.
    assert project.outcomes(project.monitor("sync")).get("created", 0) == 0
