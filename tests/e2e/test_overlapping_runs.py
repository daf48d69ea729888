"""Two overlapping runs of the same pipeline: Meltano's RUNNING guard refuses the second one."""

import time

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MAIN_STATE_ID = "sandbox:tap-eventmaker-to-target-salesforce-campaign"


def test_a_second_sync_is_refused_while_the_first_runs_and_nothing_is_sent_twice(project, seeded):
    seeded.set_latency(150)  # every Eventmaker call: the first run lasts several seconds
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
    seeded.set_latency(0)
    # The bookmark written by the first run is intact: the next run has nothing to send.
    assert project.outcomes(project.monitor("sync")).get("created", 0) == 0
