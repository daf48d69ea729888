"""The real `meltano run` of the sync job, killed with SIGKILL (Meltano, tap and target at once) at
varied points, then run again: nothing duplicated, nothing lost, bookmarks consistent throughout."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PARTICIPANTS = 60
MEMBER_OR_PERSON_WRITES = re.compile(r"^(POST|PATCH) /services/data/v[\d.]+/composite/sobjects")
WRITE_BACK = re.compile(r"^PUT /api/v1/events/[^/]+/guests/")


def wait_for(count_requests, at_least: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while count_requests() < at_least:
        assert time.monotonic() < deadline, "the run never reached the kill point"
        time.sleep(0.01)


@pytest.mark.parametrize(("sandbox_side", "pattern", "after"), [
    ("salesforce", MEMBER_OR_PERSON_WRITES, 1),
    ("salesforce", MEMBER_OR_PERSON_WRITES, 4),
    ("eventmaker", WRITE_BACK, 15),
], ids=["first-salesforce-write", "later-salesforce-write", "mid-write-back"])
def test_sigkill_mid_run_then_rerun(meltano_project, harness, sandbox_side, pattern, after):
    project = meltano_project
    project.eventmaker.store.load(harness.clean_dataset(PARTICIPANTS, events=3))
    project.eventmaker.set_latency(20)
    project.salesforce.set_latency(20)
    sandbox = getattr(project, sandbox_side)

    run = project.start("run", "sync")
    wait_for(lambda: len(harness.write_requests(sandbox, pattern)), after)
    os.killpg(run.pid, signal.SIGKILL)
    assert run.wait(timeout=10) == -signal.SIGKILL, "the run ended before the kill point: nothing was killed"

    killed_state = project.state
    outcome = harness.Outcome.read(project)
    harness.assert_bookmarks_never_pass_unaccounted(killed_state, outcome)
    harness.assert_no_duplicate_members(outcome)

    project.eventmaker.set_latency(0)
    project.salesforce.set_latency(0)
    # The killed run's `runs` row stays RUNNING (no heartbeat for 5 minutes): --force, as an operator would.
    assert project.run("run", "--force", "sync") == 0, project.output()[-3000:]
    harness.assert_all_synced(project)
