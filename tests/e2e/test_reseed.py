"""Issue 11: after `sandbox seed` on a project that already synced, the next sync syncs the new data.

Two things make it so: `sandbox seed` stamps the participants at seed time, past the bookmarks
(sandbox/tests/test_sandbox_seed.py checks the stamps), and the tap's completeness check finds
participants older than the bookmark anyway (issue 10, class 9); this flow passes with either one.
"""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_the_sync_after_a_reseed_reads_the_new_participants(project, seeded):
    assert project.monitor("sync").startswith("SUCCESS")
    assert project.main_state() is not None  # a bookmark per event, at the first seed's stamp or later

    printed = seeded.cli("seed", "--participants", "20", "--seed", "5")
    assert "20 participants in 3 events, created and updated at" in printed
    assert "the next `meltano run sync` reads them all" in printed

    second = project.monitor("sync")
    assert second.startswith("SUCCESS") and project.outcomes(second)["created"] > 0
    rows = project.monitor_json("participants")
    assert len(rows) == 20
    trashed = {guest["uid"] for guest in seeded.guests() if guest["deleted_at"]}
    never = {row["uid"] for row in rows if not row["sync_status"]}
    assert never <= trashed  # every live participant of the new data was sent (synced, or failed with its error)
