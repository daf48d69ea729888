"""The code location in process against the sandbox, with PostgreSQL as Meltano's system database.

Each test drives the real assets and sensor (`materialize`, `build_sensor_context`) on a Dagster
test instance; each Dagster run starts the project's real `meltano` in its own system directory.
"""

import json
import time

from dagster import (
    AssetRecordsFilter, DagsterEventType, DagsterRunStatus, DeleteDynamicPartitionsRequest, SensorResult, SkipReason,
    build_sensor_context, materialize,
)

from eventmaker_sync_dagster.assets import EVENT_PARTITIONS, SYNC_ASSET, salesforce_campaign_members
from eventmaker_sync_dagster.automation import eventmaker_events
from eventmaker_sync_dagster.events import ABSENT_LISTINGS_BEFORE_REMOVAL
from eventmaker_sync_dagster.commands import sync_command
from eventmaker_sync_dagster.resource import MeltanoProject

STATE_ID = "sandbox:tap-eventmaker-to-target-salesforce-campaign:{}"
# A person create: an sObject Collections upsert on a Contact/Lead external id (meltano.yml's sandbox
# environment sets external_id_field, so every person create is one; a Campaign create is not).
PERSON_CREATE = r"PATCH /services/data/[^/]+/composite/sobjects/(Lead|Contact)/"
CREATE_HELD_S = 20  # longer than the other run takes to reach its lookups (two Dagster + Meltano start-ups)


def discover(instance, meltano) -> None:
    """Run the event sensor once and add the partitions it asks for, as the daemon does."""
    result = eventmaker_events(build_sensor_context(instance=instance, resources={"meltano": meltano}))
    assert isinstance(result, SensorResult), result
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))


def sync(instance, meltano, event_id: str):
    return materialize([salesforce_campaign_members], partition_key=event_id, instance=instance,
                       resources={"meltano": meltano}, raise_on_error=False)


def materialization_metadata(instance, event_id: str) -> dict:
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=SYNC_ASSET, asset_partitions=[event_id]), limit=10).records
    (record,) = records
    return {key: value.value for key, value in record.asset_materialization.metadata.items()}


def failures(result) -> list:
    return [event.step_failure_data for event in result.all_events if event.event_type == DagsterEventType.STEP_FAILURE]


def test_the_sensor_adds_a_partition_per_event_and_removes_one_missing_from_three_listings(instance, meltano, stand_ins):
    discover(instance, meltano)
    assert sorted(instance.get_dynamic_partitions(EVENT_PARTITIONS.name)) == sorted(stand_ins.event_ids)

    gone = "6a96860000000001000000ff"  # an event deleted from Eventmaker since its partition was added
    instance.add_dynamic_partitions(EVENT_PARTITIONS.name, [gone])
    context = build_sensor_context(instance=instance, resources={"meltano": meltano})
    again = eventmaker_events(context)
    assert isinstance(again, SkipReason) and "no new event" in again.skip_message
    assert json.loads(context.cursor) == {gone: 1}, "its first absence is counted, the partition kept"

    context = build_sensor_context(instance=instance, resources={"meltano": meltano},
                                   cursor=json.dumps({gone: ABSENT_LISTINGS_BEFORE_REMOVAL - 1}))
    removed = eventmaker_events(context)
    assert isinstance(removed, SensorResult) and json.loads(context.cursor) == {}
    [request] = removed.dynamic_partitions_requests
    assert isinstance(request, DeleteDynamicPartitionsRequest) and list(request.partition_keys) == [gone]


def test_two_partitions_in_parallel_leave_every_person_once(instance, meltano, stand_ins, run_history, launch):
    discover(instance, meltano)  # also brings the fresh system database up to date, once
    seed_people, seed_members = stand_ins.people()
    # Hold the first person create of whichever run gets there first: the other run looks the shared
    # people up (and finds none) and creates them meanwhile; then the held create lands.
    stand_ins.salesforce.inject_fault(PERSON_CREATE, count=1, kind="delay", delay_ms=CREATE_HELD_S * 1000)

    # One process per run, as Dagster's run launchers do (in-process runs must not share a process).
    processes = [launch(event_id) for event_id in stand_ins.event_ids]
    outputs = [process.communicate(timeout=240)[0] for process in processes]

    assert [process.returncode for process in processes] == [0, 0], "\n".join(output[-3000:] for output in outputs)
    metadata = [materialization_metadata(instance, event_id) for event_id in stand_ins.event_ids]
    assert all(entry["created"] + entry["updated"] > 0 and entry["salesforce_calls"] > 0 for entry in metadata)
    assert not any("--force" in entry["command"] for entry in metadata)
    windows = [run_history.window(STATE_ID.format(event_id)) for event_id in stand_ins.event_ids]
    assert max(start for start, _ in windows) < min(end for _, end in windows), "the two runs did not overlap"

    people, members = stand_ins.people()
    shared = {email.lower() for email in stand_ins.shared_emails}
    assert len(shared) > 1
    assert {email: people[email] for email in shared} == {email: 1 for email in shared}, "a shared person twice"
    # Each event has its own campaign (meltano.yml's sandbox environment): one member in each of the two.
    memberships = {email: sorted(n for (_, member_email), n in members.items() if member_email == email) for email in shared}
    assert memberships == {email: [1, 1] for email in shared}
    # Nobody else was duplicated either: only the seed's own duplicates remain duplicated.
    assert {e for e, n in people.items() if n > 1} <= {e for e, n in seed_people.items() if n > 1}
    assert {p for p, n in members.items() if n > 1} <= {p for p, n in seed_members.items() if n > 1}


def test_a_second_launch_of_a_running_partition_is_refused(instance, meltano, stand_ins, run_history, launch):
    event_id = stand_ins.event_ids[0]
    instance.add_dynamic_partitions(EVENT_PARTITIONS.name, [event_id])
    # Hold the first run on its first participant page, so it stays RUNNING while the others try.
    stand_ins.eventmaker.inject_fault(r"GET ^/api/v1/events/[^/]+/guests\.json", count=1, kind="delay", delay_ms=15000)
    first = launch(event_id)
    deadline = time.monotonic() + 90
    while run_history.states(STATE_ID.format(event_id)) != ["RUNNING"]:
        assert first.poll() is None and time.monotonic() < deadline, "the first run never showed as RUNNING"
        time.sleep(0.3)

    second = sync(instance, meltano, event_id)
    # Meltano's own guard, on the shared PostgreSQL run history, refuses a run that got past Dagster.
    direct = meltano.execute(sync_command(event_id, "outside-dagster", "00000000-0000-4000-8000-000000000013"), "direct")
    output = first.communicate(timeout=240)[0]

    assert not second.success
    (refusal,) = failures(second)  # refused once, not retried
    assert "already being synced" in refusal.user_failure_data.description
    assert direct.returncode != 0 and "already running" in direct.log.error_line()
    assert first.returncode == 0, output[-3000:]
    assert [run.status for run in instance.get_runs()] == [DagsterRunStatus.FAILURE, DagsterRunStatus.SUCCESS]
    assert run_history.states(STATE_ID.format(event_id)) == ["SUCCESS"]  # one run, refused ones left no row


def test_a_failed_partition_shows_the_plugins_error_line_and_is_not_retried(instance, meltano_config, stand_ins, run_history):
    event_id = stand_ins.event_ids[1]
    instance.add_dynamic_partitions(EVENT_PARTITIONS.name, [event_id])
    wrong_password = "not-the-sandbox-password"
    broken = MeltanoProject(**{**meltano_config, "env": {**meltano_config["env"],
                                                          "TARGET_SALESFORCE_CAMPAIGN_PASSWORD": wrong_password}})

    result = sync(instance, broken, event_id)

    assert not result.success
    (failure,) = failures(result)  # a configuration error: no retry
    metadata = {key: value.value for key, value in failure.user_failure_data.metadata.items()}
    assert metadata["error"].startswith("target-salesforce-campaign: Salesforce login (password flow)")
    assert "invalid_grant" in metadata["error"] and metadata["retryable"] is False
    assert wrong_password not in str(metadata)
    assert metadata["error"] in failure.user_failure_data.description
    assert run_history.states(STATE_ID.format(event_id)) == ["FAIL"]
