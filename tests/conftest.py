"""Shared by the project-level suites: how `make test` spreads the suites over two pytest-xdist workers.

The tests that drive the real `meltano` CLI (tests/e2e, tests/resilience) run in one worker, one at a
time as without xdist: some assert that a run did not wait for a delayed response, and two Meltano
runs at once would compete for the 2 cores. Every other test is its own unit, given to whichever
worker is free. xdist's `loadgroup` would do this with `xdist_group` marks, but pytest-xdist 3.8.0
marks a group by renaming `item._nodeid`, which pytest 9 no longer reads; the scheduler below is
xdist's `loadscope` with that one scope.
"""

from __future__ import annotations

import pytest

MELTANO_SCOPE = "meltano"
MELTANO_SUITES = ("tests/e2e/", "tests/resilience/")


def _scheduler_class() -> type:
    from xdist.scheduler import LoadScopeScheduling

    class MeltanoInOneWorker(LoadScopeScheduling):
        """Scopes: one for the Meltano-driven suites (the largest, so sent first), one per other test."""

        def _split_scope(self, nodeid: str) -> str:
            return MELTANO_SCOPE if nodeid.startswith(MELTANO_SUITES) else nodeid

    return MeltanoInOneWorker


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """With `--dist loadscope` (scripts/test.sh), our scheduler; other modes are left to xdist."""
    if config.getoption("dist") != "loadscope":
        return None
    return _scheduler_class()(config, log)
