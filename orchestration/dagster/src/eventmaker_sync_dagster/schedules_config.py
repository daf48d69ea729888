"""The schedules of meltano.yml (interval, job, env), read so Dagster fires what Meltano declares."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml


@dataclass(frozen=True)
class MeltanoSchedule:
    name: str
    interval: str
    job: str
    env: dict[str, str] = field(default_factory=dict)


def meltano_schedules(project_root: Path) -> dict[str, MeltanoSchedule]:
    """meltano.yml's job schedules by job name (the first one of each job)."""
    project = yaml.safe_load((project_root / "meltano.yml").read_text(encoding="utf-8"))
    found: dict[str, MeltanoSchedule] = {}
    for entry in project.get("schedules") or []:
        if "job" in entry and entry["job"] not in found:
            env = {str(name): str(value) for name, value in (entry.get("env") or {}).items()}
            found[entry["job"]] = MeltanoSchedule(entry["name"], entry["interval"], entry["job"], env)
    return found
