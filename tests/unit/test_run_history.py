"""Run-history queries against a `runs` table created by Meltano's own model."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from meltano.core.job.job import Job, State
from sqlalchemy.orm import Session

from sync_monitor import runs

MAIN = "sandbox:tap-eventmaker-to-target-salesforce-campaign"
RESEND = "sandbox:tap-eventmaker--resend-to-target-salesforce-campaign--resend"
T0 = datetime(2026, 11, 20, 12, 0)


@pytest.fixture
def engine(tmp_path):
    engine = runs.connect(f"sqlite:///{tmp_path / 'meltano.db'}")
    Job.metadata.create_all(engine)
    return engine


def add_run(engine, job_name, state, started_at, *, error=None, trigger="cli"):
    run_id = uuid.uuid4()
    job = Job(job_name=job_name, state=state, run_id=run_id, trigger=trigger,
              payload={"error": error} if error else {})
    job.started_at, job.ended_at = started_at, started_at + timedelta(minutes=1)
    with Session(engine) as session:
        session.add(job)
        session.commit()
    return str(run_id)


def test_filters_by_pipeline_status_and_date_range(engine):
    ok = add_run(engine, MAIN, State.SUCCESS, T0)
    failed = add_run(engine, MAIN, State.FAIL, T0 + timedelta(days=1), error="Loader failed")
    add_run(engine, MAIN, State.FAIL, T0 + timedelta(days=5), error="Loader failed")
    add_run(engine, RESEND, State.FAIL, T0 + timedelta(days=1), error="Extractor failed")
    add_run(engine, MAIN, State.STATE_EDIT, T0 + timedelta(days=1))

    listed = runs.list_runs(engine, state_id=MAIN, statuses=("failed",),
                            since=datetime(2026, 11, 21, tzinfo=timezone.utc),
                            until=datetime(2026, 11, 22, tzinfo=timezone.utc))

    assert [(r.run_id, r.status, r.error) for r in listed] == [(failed, "failed", "Loader failed")]
    everything = runs.list_runs(engine, state_id=MAIN)
    assert [r.run_id for r in everything][-1] == ok  # newest first, STATE_EDIT rows left out
    assert len(everything) == 3


def test_job_name_covers_suffixed_state_ids_but_not_lookalikes(engine):
    sliced = add_run(engine, f"{MAIN}:event-abc", State.SUCCESS, T0)
    add_run(engine, f"{MAIN}x", State.SUCCESS, T0)  # another pipeline whose name starts the same
    main = add_run(engine, MAIN, State.RUNNING, T0 + timedelta(hours=1))

    listed = runs.list_runs(engine, state_id=MAIN, include_suffixed=True)

    assert [r.run_id for r in listed] == [main, sliced]
    assert listed[0].status == "running"


def test_get_run_accepts_ids_with_or_without_dashes(engine):
    run_id = add_run(engine, RESEND, State.SUCCESS, T0, trigger='{"by":"sync-monitor"}')

    assert runs.get_run(engine, run_id).state_id == RESEND
    assert runs.get_run(engine, run_id.replace("-", "")).trigger == '{"by":"sync-monitor"}'
    assert runs.get_run(engine, str(uuid.uuid4())) is None
    assert runs.get_run(engine, run_id).started_at == T0.replace(tzinfo=timezone.utc)
