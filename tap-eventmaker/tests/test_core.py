"""The SDK's standard tap tests, run against a seeded Eventmaker sandbox."""

from __future__ import annotations

import pytest
from sandbox.common.standins import eventmaker_stand_in
from sandbox.pytest_plugin import serving
from sandbox.seed import generate
from singer_sdk.testing import SuiteConfig, TapTestRunner, get_tap_test_class

from tap_eventmaker.tap import TapEventmaker

# The URL is only known once the sandbox runs; the runner below fills it in.
SAMPLE_CONFIG = {"api_url": "http://127.0.0.1:1", "auth_token": "sandbox-token", "page_size": 50, "clock_skew_margin_seconds": 0}
SUITE_CONFIG = SuiteConfig(max_records_limit=150)

_StandardTests = get_tap_test_class(TapEventmaker, config=SAMPLE_CONFIG, suite_config=SUITE_CONFIG)


class TestTapEventmaker(_StandardTests):
    """Standard tests with a runner pointed at a fresh sandbox holding 120 participants."""

    @pytest.fixture(scope="class")
    @classmethod
    def runner(cls):
        stand_in = eventmaker_stand_in()
        stand_in.store.load(generate(participants=120, events=2, seed=3).eventmaker)
        with serving(stand_in) as url:
            runner = TapTestRunner(
                TapEventmaker,
                config={**SAMPLE_CONFIG, "api_url": url},
                suite_config=SUITE_CONFIG,
            )
            runner.sync_all()
            yield runner
