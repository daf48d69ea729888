"""The two other pipelines of the code location against the sandbox: the export asset and the resend job.

The export runs on SQLite (the single-machine default), the resend on the PostgreSQL system database
that production uses: `sync-monitor`, which the resend job runs, reads that run history itself.
"""

import csv

from dagster import materialize

from eventmaker_sync_dagster.assets import participants_sync_export
from eventmaker_sync_dagster.resend import resend
from eventmaker_sync_dagster.resource import MeltanoProject


def on_sqlite(meltano_config, tmp_path) -> MeltanoProject:
    return MeltanoProject(**{**meltano_config, "database_uri": f"sqlite:///{tmp_path / 'meltano.db'}"})


def test_the_export_writes_every_participant_to_one_csv(instance, meltano_config, stand_ins, tmp_path):
    result = materialize([participants_sync_export], instance=instance,
                         resources={"meltano": on_sqlite(meltano_config, tmp_path)})

    assert result.success
    (event,) = result.get_asset_materialization_events()
    metadata = {key: value.value for key, value in event.materialization.metadata.items()}
    assert metadata["command"] == "meltano run export"
    (path,) = metadata["files"]
    with open(path, encoding="utf-8", newline="") as exported:
        rows = list(csv.DictReader(exported))
    assert sorted(row["_id"] for row in rows) == sorted(guest["_id"] for guest in stand_ins.dataset.eventmaker["guests"])


def test_resend_sends_the_selected_participants_again_and_only_them(instance, meltano_config, stand_ins, tmp_path):
    chosen = [guest for guest in stand_ins.dataset.eventmaker["guests"] if guest["email"] in stand_ins.shared_emails][:2]
    config = {"ops": {"resend_participants": {"config": {"uids": [guest["uid"] for guest in chosen]}}}}
    before, _ = stand_ins.people()

    result = resend.execute_in_process(run_config=config, instance=instance,
                                       resources={"meltano": MeltanoProject(**meltano_config)})

    assert result.success
    (step,) = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    report = step.step_output_data.metadata["report"].value
    assert report.startswith("SUCCESS") and "read 2: created 2" in report, report
    assert "--force" not in step.step_output_data.metadata["command"].value
    after, _ = stand_ins.people()
    assert {email: n for email, n in after.items() if before[email] != n} == {g["email"].lower(): 1 for g in chosen}
