"""State-id naming, participant filters and the `meltano run` a command starts."""

import json
import pathlib

import pytest
import yaml
from meltano.core.setting_definition import SettingDefinition

from sync_monitor.filters import ParticipantFilter, env_prefix
from sync_monitor.meltano import parse_trigger, plan_run, singer_records
from sync_monitor.pipelines import DRY_RUN, EXPORT, RESEND, SYNC, parse_state_id, runs_of
from tap_eventmaker.selection import ParticipantSelection

MELTANO_YML = pathlib.Path(__file__).parents[2] / "meltano.yml"


def test_main_pipeline_keeps_the_contract_state_id_and_others_differ():
    assert SYNC.state_id("sandbox") == "sandbox:tap-eventmaker-to-target-salesforce-campaign"
    others = {p.state_id("sandbox") for p in (RESEND, DRY_RUN, EXPORT)}
    assert SYNC.state_id("sandbox") not in others and len(others) == 3
    assert SYNC.state_id("prod", "event-1") == "prod:tap-eventmaker-to-target-salesforce-campaign:event-1"


@pytest.mark.parametrize("pipeline", [SYNC, RESEND, DRY_RUN, EXPORT])
def test_state_ids_parse_back_to_their_pipeline(pipeline):
    parsed = parse_state_id(pipeline.state_id("prod", "event-9"))
    assert (parsed.environment, parsed.pipeline, parsed.suffix) == ("prod", pipeline, "event-9")
    assert parse_state_id(pipeline.state_id("prod")).suffix is None


def test_unknown_state_ids():
    assert parse_state_id("2026-01-01T000000--tap-x--target-y") is None
    assert parse_state_id("dev:tap-x-to-target-y").pipeline is None


def test_runs_of_a_job_includes_suffixed_ids_but_a_state_id_is_exact():
    assert runs_of("sync", "prod") == ("prod:tap-eventmaker-to-target-salesforce-campaign", True)
    assert runs_of("prod:custom", "prod") == ("prod:custom", False)


def test_filter_reaches_the_named_plugin_as_its_settings():
    selection = ParticipantFilter(participant_uids=("u1", "u2"), event_ids=("e1",), search="acme",
                                  sync_status=("synced", "error"))
    env = selection.tap_env("tap-eventmaker--resend")
    assert env == {
        "TAP_EVENTMAKER__RESEND_PARTICIPANT_UIDS": '["u1", "u2"]',
        "TAP_EVENTMAKER__RESEND_EVENT_IDS": '["e1"]',
        "TAP_EVENTMAKER__RESEND_SEARCH": "acme",
        "TAP_EVENTMAKER__RESEND_SYNC_STATUS": '["synced", "error"]',
    }
    assert ParticipantFilter().tap_env("tap-eventmaker") == {}
    assert env_prefix("target-salesforce-campaign") == "TARGET_SALESFORCE_CAMPAIGN"


def meltano_sync_status_setting() -> SettingDefinition:
    """The project's `sync_status` setting of tap-eventmaker, as Meltano reads it from meltano.yml."""
    project = yaml.safe_load(MELTANO_YML.read_text())
    tap = next(plugin for plugin in project["plugins"]["extractors"] if plugin["name"] == "tap-eventmaker")
    return SettingDefinition.parse(next(s for s in tap["settings"] if s["name"] == "sync_status"))


@pytest.mark.parametrize(
    ("statuses", "selected"),
    [
        (("synced", "error"), ["both"]),
        (("error",), ["both", "only_error"]),
        (("synced",), ["both", "only_synced"]),
        (("never",), ["never"]),
    ],
)
@pytest.mark.parametrize("pipeline", [RESEND, DRY_RUN, EXPORT])
def test_every_status_reaches_the_tap_which_keeps_participants_with_all_of_them(pipeline, statuses, selected):
    # Through Meltano's cast of the env var (meltano.yml's setting kind) into the tap's own selection.
    planned = plan_run(pipeline, participants=ParticipantFilter(sync_status=statuses))
    setting = meltano_sync_status_setting().cast_value(planned.env[f"{env_prefix(pipeline.extractor)}_SYNC_STATUS"])
    assert setting == list(statuses)
    selection = ParticipantSelection.from_config({"sync_status": setting})
    participants = {"both": ["synced", "error"], "only_error": ["error"], "only_synced": ["synced"], "never": []}
    kept = [name for name, status in participants.items() if selection.matches({"salesforce_sync_status": status})]
    assert kept == selected


def test_bad_status_combinations_are_refused():
    with pytest.raises(ValueError, match="unknown sync status"):
        ParticipantFilter(sync_status=("broken",))
    with pytest.raises(ValueError, match="never"):
        ParticipantFilter(sync_status=("never", "error"))


def test_resend_run_reads_everyone_selected_and_records_its_filter_for_retries():
    selection = ParticipantFilter(sync_status=("error",), event_ids=("e1",))
    planned = plan_run(RESEND, participants=selection)

    assert planned.args == ["run", "--full-refresh", "resend"]
    assert planned.env["MELTANO_RUN_ID"] == planned.run_id
    assert planned.env["TAP_EVENTMAKER__RESEND_SYNC_STATUS"] == '["error"]'
    action, recorded = parse_trigger(planned.env["MELTANO_JOB_TRIGGER"])
    assert (action, recorded) == ("resend", selection)


def test_sync_run_is_incremental_and_a_retry_keeps_the_slice_suffix():
    planned = plan_run(SYNC, suffix="event-1", retry_of="abc")
    assert planned.args == ["run", "--state-id-suffix", "event-1", "sync"]
    assert json.loads(planned.env["MELTANO_JOB_TRIGGER"])["retry_of"] == "abc"
    assert plan_run(SYNC).run_id != planned.run_id


def test_foreign_triggers_carry_no_filter():
    for trigger in ("cli", None, "[1]", '{"by": "airflow"}'):
        assert parse_trigger(trigger) == (None, ParticipantFilter())


def test_singer_records_picks_one_stream_and_skips_other_lines():
    lines = [
        '{"type": "SCHEMA", "stream": "guests", "schema": {}}',
        '{"type": "RECORD", "stream": "events", "record": {"_id": "e"}}',
        "not json",
        '{"type": "RECORD", "stream": "guests", "record": {"_id": "g"}}',
        '{"type": "STATE", "value": {}}',
    ]
    assert list(singer_records(lines, "guests")) == [{"_id": "g"}]
