"""Shared by the project-level suites: how `make test` spreads the suites over two pytest-xdist workers.

Each suite that drives the real `meltano` CLI (tests/e2e, tests/resilience) runs in one worker, one
test at a time as without xdist; the two suites are the largest units, so xdist sends them first,
one to each worker, and every other test (its own unit) goes to whichever worker is free. xdist's
`loadgroup` would do this with `xdist_group` marks, but pytest-xdist 3.8.0 marks a group by renaming
`item._nodeid`, which pytest 9 no longer reads; the scheduler below is xdist's `loadscope` with one
scope per Meltano-driven suite.
"""

from __future__ import annotations

import pytest

MELTANO_SUITES = ("tests/e2e/", "tests/resilience/")


def _scheduler_class() -> type:
    from xdist.scheduler import LoadScopeScheduling

    class MeltanoSuitesWhole(LoadScopeScheduling):
        """Scopes: one per Meltano-driven suite, one per other test."""

        def _split_scope(self, nodeid: str) -> str:
            return next((suite for suite in MELTANO_SUITES if nodeid.startswith(suite)), nodeid)

    return MeltanoSuitesWhole


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """With `--dist loadscope` (scripts/test.sh), our scheduler; other modes are left to xdist."""
    if config.getoption("dist") != "loadscope":
        return None
    return _scheduler_class()(config, log)
