"""Arguments checked before any request, and settings an environment still needs, named for the user."""

from __future__ import annotations

import os
import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
import yaml

from .filters import env_prefix
from .pipelines import PIPELINES, parse_state_id

EVENT_ID = re.compile(r"^[0-9a-f]{24}$")
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def event_id(ctx, param, values):
    """`--event`: Eventmaker event ids are 24 lowercase hex characters."""
    for value in values or ():
        if not EVENT_ID.match(value):
            raise click.BadParameter(f"{value!r} is not an event id: 24 hex characters, e.g. 6a9686000000000100000001")
    return values


def run_id(ctx, param, value):
    """A run id: a UUID as `runs list` prints it."""
    if value is None:
        return value
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a run id: a UUID as `runs list` prints it, "
                                 "e.g. 23ba2f8e-da61-4218-85ec-fc8395f0dd71") from None


def pipeline(ctx, param, value):
    """`--pipeline`: a job name or a state id of this project's pipelines."""
    parsed = parse_state_id(value) if value else None
    if value is None or value in PIPELINES or (parsed and parsed.pipeline):
        return value
    raise click.BadParameter(f"{value!r} is not a pipeline: one of {', '.join(PIPELINES)}, or a state id such as "
                             "sandbox:tap-eventmaker-to-target-salesforce-campaign")


def parse_time(text: str, *, end_of_day: bool = False) -> datetime:
    """An ISO date or date-time; a bare date as `--until` means up to the end of that day (UTC)."""
    value = datetime.fromisoformat(text)
    if end_of_day and len(text) <= len("2026-01-01"):
        value += timedelta(days=1)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def iso_time(ctx, param, value):
    """`--since` / `--until`: checked at once, parsed later."""
    if value is not None:
        try:
            parse_time(value)
        except ValueError:
            raise click.BadParameter(f"{value!r} is not an ISO date or date-time, e.g. 2026-11-25 or "
                                     "2026-11-25T10:30:00") from None
    return value


def missing_env_vars(project_root: Path, environment: str, plugins: tuple[str, ...] = ()) -> list[str]:
    """`${VAR}` references of this environment's settings in meltano.yml that the run still needs.

    A reference counts when its setting is for one of `plugins` (default: any), the plugin's own
    setting variable (e.g. `TAP_EVENTMAKER_API_URL`) does not replace it, and neither the process
    nor the project's `.env` sets the variable.
    """
    path = project_root / "meltano.yml"
    if not path.exists():  # not a project: Meltano itself says so
        return []
    project = yaml.safe_load(path.read_text(encoding="utf-8"))
    config = next((env.get("config") or {} for env in project.get("environments") or () if env.get("name") == environment), {})
    dotenv = _dotenv_names(project_root / ".env")
    wanted = set()
    for plugin_list in (config.get("plugins") or {}).values():
        for plugin in plugin_list or ():
            if plugins and plugin.get("name") not in plugins:
                continue
            for setting, value in (plugin.get("config") or {}).items():
                if os.environ.get(f"{env_prefix(plugin['name'])}_{setting.upper()}"):
                    continue
                wanted |= set(_ENV_REFERENCE.findall(yaml.safe_dump(value)))
    wanted -= {"MELTANO_PROJECT_ROOT"}
    return sorted(name for name in wanted if not os.environ.get(name) and name not in dotenv)


def _dotenv_names(path: Path) -> set[str]:
    if not path.exists():
        return set()
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.removeprefix("export ").partition("=")
        if sep and value.strip() and not name.strip().startswith("#"):
            names.add(name.strip())
    return names
