"""Shared by the project-level suites: under pytest-xdist (scripts/test.sh), the tests that drive the
real `meltano` CLI (e2e, resilience) run in one worker, one at a time as without xdist (their
timing assertions assume no second Meltano run competes), while the other suites fill the other."""

from pathlib import Path

import pytest

MELTANO_SUITES = {Path(__file__).parent / name for name in ("e2e", "resilience")}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if MELTANO_SUITES.intersection(item.path.parents):
            item.add_marker(pytest.mark.xdist_group("meltano"))
