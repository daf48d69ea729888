"""No log line of the tap's process shows the auth token, at any level, whoever logs it."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sandbox.seed import generate

from tap_eventmaker import log_redaction

GUESTS_PATH = r"/api/v1/events/[0-9a-f]+/guests\.json"
TOKEN = "s3cret-token-for-the-log-test"


def test_a_debug_run_with_a_reset_and_a_503_never_logs_the_token(eventmaker_sandbox, tmp_path):
    dataset = generate(participants=40, events=1, seed=3)
    eventmaker_sandbox.store.load(dataset.eventmaker)
    token = eventmaker_sandbox.auth_token
    eventmaker_sandbox.inject_fault(f"GET {GUESTS_PATH}", count=1, kind="reset")
    eventmaker_sandbox.inject_fault(f"GET {GUESTS_PATH}", count=1, status=503, body={"error": "busy"})
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "api_url": eventmaker_sandbox.url, "auth_token": token, "retry_backoff_seconds": 0, "clock_skew_margin_seconds": 0,
        "event_ids": [dataset.eventmaker["events"][0]["_id"]],
    }))
    tap = Path(sys.executable).with_name("tap-eventmaker")
    done = subprocess.run(
        [str(tap), "--config", str(config)], capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "LOGLEVEL": "DEBUG"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    log = done.stderr
    # Both faults and urllib3's request lines reached the log, so there was something to scrub.
    assert "Backing off" in log and "ConnectionError" in log and "503" in log
    assert "| DEBUG    | urllib3.connectionpool" in log and "auth_token=***" in log
    assert token not in log
    assert sum(1 for line in done.stdout.splitlines() if '"type":"RECORD"' in line.replace(" ", "")) > 40


@pytest.fixture
def installed():
    factory = logging.getLogRecordFactory()
    log_redaction.install(TOKEN)
    yield
    logging.setLogRecordFactory(factory)


def test_any_logger_any_level_and_tracebacks_are_scrubbed(installed, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("some.library.nobody.listed").debug("GET /x?auth_token=%s&page=2", TOKEN)
    logging.getLogger("urllib3.util.retry").warning("Retrying after %r", f"/x?page=1&auth_token={TOKEN}")
    try:
        raise ValueError(f"token {TOKEN} in an exception")
    except ValueError:
        logging.getLogger("tap").exception("boom")
    text = caplog.text + "".join(logging.Formatter().format(record) for record in caplog.records)
    assert TOKEN not in text
    assert text.count("***") >= 4
    assert "token *** in an exception" in caplog.text


def test_an_auth_token_parameter_is_hidden_even_with_another_value(installed, caplog):
    caplog.set_level(logging.INFO)
    logging.getLogger("x").info("url=https://h/p?auth_token=other-value&b=1")
    assert "other-value" not in caplog.text
    assert "auth_token=***&b=1" in caplog.text
