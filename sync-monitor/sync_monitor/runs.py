"""Run history: Meltano's own `runs` table in its system database (nothing else keeps history).

Each `meltano run` of a tap -> target pair writes one row: `job_name` is the state id, `state` is
RUNNING / SUCCESS / FAIL (or STATE_EDIT for `meltano state` edits), `payload.error` says why a run
failed and `trigger` says who started it. On SQLite `run_id` is stored as dash-less hex.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import MetaData, Table, create_engine, or_, select
from sqlalchemy.engine import Engine

STATUSES = {"success": "SUCCESS", "failed": "FAIL", "running": "RUNNING"}


@dataclass(frozen=True)
class Run:
    """One row of the `runs` table, as the commands show it."""

    state_id: str
    run_id: str  # canonical UUID text, with dashes, as in Meltano's log paths
    status: str  # success | failed | running
    started_at: datetime | None
    ended_at: datetime | None
    trigger: str | None
    error: str | None

    def to_json(self) -> dict:
        return {
            "run_id": self.run_id,
            "state_id": self.state_id,
            "status": self.status,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "trigger": self.trigger,
            "error": self.error,
        }


def connect(database_uri: str) -> Engine:
    """An engine on Meltano's system database (`MELTANO_DATABASE_URI`, SQLite or Postgres)."""
    return create_engine(database_uri)


def list_runs(
    engine: Engine,
    *,
    state_id: str | None = None,
    include_suffixed: bool = False,
    statuses: tuple[str, ...] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[Run]:
    """Pipeline runs, newest first. `statuses` are success / failed / running (default: all three).

    `state_id` with `include_suffixed` also matches `<state_id>:<suffix>` (resends, slices).
    """
    runs = _runs_table(engine)
    wanted = [STATUSES[status] for status in statuses] or list(STATUSES.values())
    query = select(runs).where(runs.c.state.in_(wanted)).order_by(runs.c.started_at.desc(), runs.c.id.desc())
    if state_id:
        same = runs.c.job_name == state_id
        suffixed = runs.c.job_name.startswith(f"{state_id}:", autoescape=True)
        query = query.where(or_(same, suffixed) if include_suffixed else same)
    if since:
        query = query.where(runs.c.started_at >= _naive_utc(since))
    if until:
        query = query.where(runs.c.started_at < _naive_utc(until))
    if limit:
        query = query.limit(limit)
    with engine.connect() as connection:
        return [_to_run(row) for row in connection.execute(query).mappings()]


def get_run(engine: Engine, run_id: str) -> Run | None:
    """The pipeline run with this id (dashes optional)."""
    runs = _runs_table(engine)
    wanted = uuid.UUID(run_id)
    stored = wanted.hex if engine.dialect.name == "sqlite" else wanted
    query = select(runs).where(runs.c.run_id == stored, runs.c.state.in_(STATUSES.values()))
    with engine.connect() as connection:
        row = connection.execute(query.order_by(runs.c.id.desc())).mappings().first()
    return _to_run(row) if row else None


def _runs_table(engine: Engine) -> Table:
    return Table("runs", MetaData(), autoload_with=engine)


def _to_run(row) -> Run:
    payload = row["payload"]
    if isinstance(payload, str):
        payload = json.loads(payload or "{}")
    status = {value: key for key, value in STATUSES.items()}[row["state"]]
    return Run(
        state_id=row["job_name"],
        run_id=str(uuid.UUID(str(row["run_id"]))),
        status=status,
        started_at=_as_utc(row["started_at"]),
        ended_at=_as_utc(row["ended_at"]),
        trigger=row["trigger"],
        error=(payload or {}).get("error"),
    )


def _as_utc(value: datetime | str | None) -> datetime | None:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is None or value.tzinfo:
        return value
    return value.replace(tzinfo=timezone.utc)


def _naive_utc(value: datetime) -> datetime:
    """Meltano stores UTC timestamps without a zone."""
    if value.tzinfo:
        value = value.astimezone(timezone.utc)
    return value.replace(tzinfo=None)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None
