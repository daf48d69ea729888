"""No secret in the target's log lines at any level (retries of both APIs included), and Meltano's run
config file of the target left without secrets, owner only, in private directories (issue 10 class 3)."""

import json
import logging
import os
import stat
import subprocess
import sys
import time

import pytest

from target_salesforce_campaign import redaction, run_config
from target_salesforce_campaign.target import TargetSalesforceCampaign


@pytest.mark.parametrize("text, secret", [
    ("PUT /api/v1/events/e/guests/g.json?auth_token=s3cr3t-Tok&guest_metadata=true", "s3cr3t-Tok"),
    ('{"access_token": "abcDEF123", "instance_url": "https://x"}', "abcDEF123"),
    ("headers={'Authorization': 'Bearer 00Dxx0000001gPL!AR8AQJXg5oj8jXSgxJfA0lBog'}", "AR8AQJXg5oj8jXSgxJfA0lBog"),
    ("<sessionId>00D000000000001!AQ4AQFabc.def</sessionId>", "AQ4AQFabc.def"),
    ("grant_type=refresh_token&refresh_token=5Aep861xyz&client_secret=qwerty99", "5Aep861xyz"),
    ("grant_type=password&password=hunter2SANDBOXTOKEN&client_secret=qwerty99", "qwerty99"),
    ("session 00D5g000004XyZq!ARoAQP.long_session_part expired", "ARoAQP.long_session_part"),
])
def test_secret_looking_values_are_redacted_even_when_never_configured(text, secret):
    assert secret not in redaction.redact(text)
    assert redaction.REDACTED in redaction.redact(text)


def test_every_record_of_the_process_is_scrubbed_whoever_logs_it(caplog):
    redaction.install(["configured-Secret-Value"])
    caplog.set_level(logging.DEBUG)
    child = logging.getLogger("urllib3.connectionpool.some.child")  # a logger nobody listed
    child.debug("GET %s", "http://h/x.json?auth_token=abcdef123456")
    try:
        raise ValueError("boom with configured-Secret-Value inside")
    except ValueError:
        logging.getLogger("anything").exception("failed: %s", "configured-Secret-Value")
    assert "abcdef123456" not in caplog.text and "configured-Secret-Value" not in caplog.text
    assert caplog.text.count(redaction.REDACTED) >= 3 and "Traceback" in caplog.text


def test_no_token_in_logs_at_debug_level_with_retries_of_both_apis(pipeline, caplog, monkeypatch):
    pipeline.add_guests(*[{"email": f"sec{i}@x.example", "last_name": f"Sec{i}", "status": "registered"} for i in range(4)])
    pipeline.em.inject_fault(r"PUT ^/api/v1/events/[^/]+/guests/", count=2, kind="reset")
    pipeline.sf.inject_fault(r"POST ^/services/data/v[\d.]+/composite$", count=1, status=503,
                             body=[{"message": "Server unavailable", "errorCode": "SERVER_UNAVAILABLE"}])
    lines = pipeline.tap_lines()  # the tap first: its own scrubbing (of its token) must not hide the target's leaks
    monkeypatch.setattr(pipeline, "tap_lines", lambda: lines)
    monkeypatch.setattr(logging, "_logRecordFactory", logging.LogRecord)
    caplog.set_level(logging.DEBUG)
    result = pipeline.run()
    assert result.error is None, result.error
    assert "Retrying" in caplog.text, "urllib3 never retried the reset write-back: the leak path was not exercised"
    secrets = [pipeline.em.auth_token, pipeline.sf.credentials["password"], pipeline.sf.credentials["security_token"],
               pipeline.sf.access_token()[:20]]
    assert [s for s in secrets if s in caplog.text] == []


@pytest.fixture
def run_file(tmp_path):
    directory = tmp_path / ".meltano" / "run" / "target-salesforce-campaign"
    directory.mkdir(parents=True)
    for d in (directory.parent, directory):
        d.chmod(0o755)
    path = directory / "target.6a1c9c1e-33a4-4a5e-9a55-2a4b6f3f0c11.config.json"
    path.write_text(json.dumps({"campaign_id": "701000000000001AAA", "access_token": "00Dabc!sessionSECRET",
                                "instance_url": "https://x.my.salesforce.com", "eventmaker_auth_token": "emSECRET"}))
    path.chmod(0o644)
    return path


def test_the_target_scrubs_its_meltano_run_file_once_it_has_read_it(run_file, monkeypatch):
    config = json.loads(run_file.read_text())
    monkeypatch.setattr(sys, "argv", ["target-salesforce-campaign", "--config", str(run_file)])
    TargetSalesforceCampaign(config=config)
    left = run_file.read_text()
    assert "SECRET" not in left and json.loads(left) == {"campaign_id": "701000000000001AAA",
                                                         "instance_url": "https://x.my.salesforce.com"}
    assert stat.S_IMODE(run_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(run_file.parent.stat().st_mode) == stat.S_IMODE(run_file.parent.parent.stat().st_mode) == 0o700
    assert [p.name for p in run_file.parent.iterdir()] == [run_file.name]  # no temporary copy left


def test_a_config_file_outside_meltano_run_dirs_is_never_touched(tmp_path, monkeypatch):
    path = tmp_path / "my-config.json"
    path.write_text(json.dumps({"campaign_id": "701000000000001AAA", "access_token": "00Dabc!keepME"}))
    before = path.read_text()
    assert run_config.scrub_meltano_run_files(["x", f"--config={path}", "--config", "ENV"], ["access_token"]) == []
    assert path.read_text() == before and os.access(path, os.R_OK)


def test_the_taps_run_file_of_this_run_is_scrubbed_at_the_taps_first_message(run_file, monkeypatch):
    tap_dir = run_file.parent.parent / "tap-eventmaker"
    tap_dir.mkdir(mode=0o755)
    ours = tap_dir / "tap.0f0e9c1e-33a4-4a5e-9a55-2a4b6f3f0c11.config.json"
    ours.write_text(json.dumps({"api_url": "http://em", "auth_token": "emSECRET", "page_size": 500}))
    # Another run of the same tap plugin shares the run dir; its tap may not have read its file yet.
    other = tap_dir / "tap.1f0e9c1e-33a4-4a5e-9a55-2a4b6f3f0c11.config.json"
    other.write_text(json.dumps({"auth_token": "emSECRET"}))
    os.utime(other, (1, 1))  # written before this target started, too
    monkeypatch.setattr(run_config, "sibling_config_paths", lambda: [ours])  # our sibling tap's --config
    monkeypatch.setattr(sys, "argv", ["target-salesforce-campaign", "--config", str(run_file)])
    monkeypatch.setenv("MELTANO_EXTRACTOR_NAME", "tap-eventmaker")
    monkeypatch.setenv("MELTANO_EXTRACT_AUTH_TOKEN", "emSECRET")
    target = TargetSalesforceCampaign(config=json.loads(run_file.read_text()))
    assert "emSECRET" in ours.read_text(), "scrubbed before the tap could read it (its discovery needs it)"
    target.get_sink_class("events")
    assert json.loads(ours.read_text()) == {"api_url": "http://em", "page_size": 500}
    assert stat.S_IMODE(ours.stat().st_mode) == 0o600 and stat.S_IMODE(tap_dir.stat().st_mode) == 0o700
    assert "emSECRET" in other.read_text(), "another run's tap file must keep its token"


def test_sibling_config_paths_are_read_from_the_processes_of_our_parent(tmp_path, monkeypatch):
    wanted = tmp_path / "tap.0f0e9c1e-33a4-4a5e-9a55-2a4b6f3f0c11.config.json"
    code = "import sys, time; time.sleep(30)"
    sibling = subprocess.Popen([sys.executable, "-c", code, "--config", str(wanted)])
    try:
        monkeypatch.setattr(os, "getppid", os.getpid)  # our children stand for the target's siblings
        deadline = time.monotonic() + 10  # until the children's command lines are in /proc
        while wanted not in run_config.sibling_config_paths() and time.monotonic() < deadline:
            time.sleep(0.05)
        found = run_config.sibling_config_paths()
        assert wanted in found
        monkeypatch.setattr(os, "getppid", lambda: sibling.pid)  # a parent with no children: nothing
        assert run_config.sibling_config_paths() == []
    finally:
        sibling.kill()
        sibling.wait()


def test_a_run_file_that_cannot_be_scrubbed_is_reported_and_the_target_still_starts(run_file, monkeypatch, caplog):
    run_file.write_text("{not json")
    monkeypatch.setattr(sys, "argv", ["target-salesforce-campaign", "--config", str(run_file)])
    TargetSalesforceCampaign(config={"campaign_id": "701000000000001AAA"})
    assert "Could not remove the secrets" in caplog.text
