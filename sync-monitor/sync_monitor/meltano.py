"""Driving the `meltano` CLI: each pipeline run is a real `meltano run`, recorded in the run history.

A run started here gets a pre-generated run id (`MELTANO_RUN_ID`, so its `runs` row and log can be
found afterwards) and a trigger (`MELTANO_JOB_TRIGGER`, stored in `runs.trigger`) that records the
command and its participant filter, so that a retry can re-run the same pipeline with the same filter.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .filters import ParticipantFilter, env_prefix
from .logs import first_error
from .pipelines import Pipeline

TRIGGER_SOURCE = "sync-monitor"
TAIL_LINES = 15


@dataclass(frozen=True)
class PlannedRun:
    """Everything needed to start one pipeline run."""

    args: list[str]  # after `meltano --environment <env>`
    env: dict[str, str]
    run_id: str


def plan_run(
    pipeline: Pipeline,
    *,
    participants: ParticipantFilter = ParticipantFilter(),
    suffix: str | None = None,
    action: str | None = None,
    retry_of: str | None = None,
) -> PlannedRun:
    """The `meltano run` arguments and environment for `pipeline` on a participant selection."""
    args = ["run"]
    if suffix:
        args += ["--state-id-suffix", suffix]
    if pipeline.full_refresh:
        args.append("--full-refresh")
    args.append(pipeline.job)
    run_id = str(uuid.uuid4())
    trigger = {"by": TRIGGER_SOURCE, "action": action or pipeline.job, "filter": participants.to_json()}
    if retry_of:
        trigger["retry_of"] = retry_of
    env = {
        **participants.tap_env(pipeline.extractor),
        "MELTANO_RUN_ID": run_id,
        "MELTANO_JOB_TRIGGER": json.dumps(trigger, separators=(",", ":")),
    }
    return PlannedRun(args, env, run_id)


def parse_trigger(trigger: str | None) -> tuple[str | None, ParticipantFilter]:
    """(action, participant filter) of a run this utility started; (None, no filter) otherwise."""
    data = _own_trigger(trigger)
    if data is None:
        return None, ParticipantFilter()
    return data.get("action"), ParticipantFilter.from_json(data.get("filter") or {})


def retry_of(run) -> str | None:
    """The run id a run of this utility retried, if it was a retry."""
    return (_own_trigger(run.trigger) or {}).get("retry_of")


def _own_trigger(trigger: str | None) -> dict | None:
    """The trigger object of a run this utility started; None for any other run."""
    try:
        data = json.loads(trigger or "")
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) and data.get("by") == TRIGGER_SOURCE else None


@dataclass(frozen=True)
class Meltano:
    """The `meltano` CLI of this project, in one environment."""

    executable: str
    environment: str
    project_root: Path

    @classmethod
    def from_env(cls) -> Meltano:
        """As Meltano describes itself to a utility it invokes (`MELTANO_*` variables)."""
        project_root = Path(os.environ.get("MELTANO_PROJECT_ROOT", ".")).resolve()
        executable = shutil.which("meltano") or str(project_root / ".venv" / "bin" / "meltano")
        environment = os.environ.get("MELTANO_ENVIRONMENT") or os.environ.get("MELTANO_DEFAULT_ENVIRONMENT", "sandbox")
        return cls(executable, environment, project_root)

    def run(self, args: list[str], env: dict[str, str], *, keep_stdout: bool = False,
            on_line: Callable[[str], None] | None = None) -> Finished:
        """Run `meltano --environment <env> <args>`; each stderr line goes to `on_line` as it comes (the
        caller shows it: nothing is swallowed), and the end of it is kept (runs keep all of it in elt.log)."""
        kept: deque[str] = deque(maxlen=TAIL_LINES)
        with tempfile.TemporaryFile("w+", encoding="utf-8") as stdout:
            with subprocess.Popen(
                [self.executable, "--environment", self.environment, *args],
                cwd=self.project_root,
                env={**os.environ, "NO_COLOR": "1", **env},
                stdout=stdout if keep_stdout else subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
            ) as process:
                for line in process.stderr:
                    kept.append(line)
                    if on_line:
                        on_line(line.rstrip("\n"))
                returncode = process.wait()
            stdout.seek(0)
            return Finished(returncode, stdout.read() if keep_stdout else "", "".join(kept).rstrip("\n"))

    def read_records(self, extractor: str, env: dict[str, str], stream: str) -> list[dict]:
        """Records of one stream, read by `meltano invoke <extractor>` (no state, no run row)."""
        select_env = {f"{env_prefix(extractor)}__SELECT_FILTER": json.dumps([stream])}
        finished = self.run(["invoke", extractor], {**env, **select_env}, keep_stdout=True)
        if finished.returncode != 0:
            reason = first_error(finished.log_tail) or finished.log_tail
            raise MeltanoFailed(f"{extractor} failed (exit {finished.returncode}): {reason}")
        return list(singer_records(finished.stdout.splitlines(), stream))


@dataclass(frozen=True)
class Finished:
    """How a `meltano` command ended."""

    returncode: int
    stdout: str
    log_tail: str


class MeltanoFailed(RuntimeError):
    """A `meltano` command failed; the message ends with the end of its output."""


def singer_records(lines: list[str], stream: str):
    """The `record` of each Singer RECORD message of `stream` among a tap's output lines."""
    for line in lines:
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(message, dict) and message.get("type") == "RECORD" and message.get("stream") == stream:
            yield message["record"]
