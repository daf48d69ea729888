"""The isolated-Meltano helper points every plugin of meltano.yml at the stand-ins."""

from pathlib import Path

import yaml
from sandbox.meltano_project import CSV_TARGET, TAPS, TARGETS, StandIns, plugin_settings

PROJECT = Path(__file__).resolve().parents[2]


def test_the_plugin_lists_are_the_plugins_of_meltano_yml():
    plugins = yaml.safe_load((PROJECT / "meltano.yml").read_text())["plugins"]
    assert set(TAPS) == {p["name"] for p in plugins["extractors"]}
    assert set(TARGETS) | {CSV_TARGET} == {p["name"] for p in plugins["loaders"]}


def test_every_plugin_copy_gets_its_own_prefixed_settings(tmp_path):
    stand_ins = StandIns("http://127.0.0.1:1", "https://127.0.0.1:2", tmp_path / "ca.pem",
                         salesforce_credentials={"username": "u", "password": "p", "login_url": "ignored"},
                         campaign_id="701000000000001AAA")
    env = plugin_settings(stand_ins, tmp_path / "out")
    assert env["TAP_EVENTMAKER__RESEND_API_URL"] == "http://127.0.0.1:1"
    assert env["TAP_EVENTMAKER__EXPORT_AUTH_TOKEN"] == stand_ins.eventmaker_auth_token
    assert env["TARGET_SALESFORCE_CAMPAIGN__DRY_RUN_LOGIN_URL"] == "https://127.0.0.1:2"
    assert env["TARGET_SALESFORCE_CAMPAIGN_PASSWORD"] == "p"
    assert env["TARGET_SALESFORCE_CAMPAIGN__RESEND_CAMPAIGN_ID"] == "701000000000001AAA"
    assert env["TARGET_SALESFORCE_CAMPAIGN_CAMPAIGN_EVENT_FIELD"] == ""  # not also meltano.yml's per-event campaigns
    assert env["TARGET_SALESFORCE_CAMPAIGN_CREATE_MISSING_CAMPAIGNS"] == "false"
    assert "TARGET_SALESFORCE_CAMPAIGN_LOGIN_URL" in env and env["TARGET_SALESFORCE_CAMPAIGN_LOGIN_URL"] != "ignored"
    assert env["TARGET_CSV_OUTPUT_PATH"] == str(tmp_path / "out")
