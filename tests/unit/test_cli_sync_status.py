"""Every `--status` of a command reaches the tap it runs, as one array setting (no local filtering)."""

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sync_monitor import cli
from sync_monitor.meltano import Finished


@dataclass
class RecordingMeltano:
    """Stands in for the `meltano` CLI: keeps the environment of each command, starts nothing."""

    project_root: Path
    records: list[dict] = field(default_factory=list)
    envs: list[dict[str, str]] = field(default_factory=list)
    environment: str = "sandbox"

    def run(self, args, env, *, keep_stdout=False, on_line=None):
        self.envs.append(env)
        return Finished(1, "", "refused")

    def read_records(self, extractor, env, stream):
        self.envs.append(env)
        return self.records


@pytest.fixture
def meltano(monkeypatch, tmp_path):
    fake = RecordingMeltano(tmp_path)
    monkeypatch.setattr(cli.Meltano, "from_env", classmethod(lambda cls: fake))
    monkeypatch.setattr(cli, "_engine", lambda meltano: None)
    monkeypatch.setattr(cli.runs, "get_run", lambda engine, run_id: None)  # the run never started
    monkeypatch.setattr(cli, "check_pipeline", lambda *args: None)  # no API to reach here
    return fake


@pytest.mark.parametrize(
    ("command", "prefix"),
    [
        (["resend"], "TAP_EVENTMAKER__RESEND"),
        (["dry-run"], "TAP_EVENTMAKER__DRY_RUN"),
        (["export"], "TAP_EVENTMAKER__EXPORT"),  # writes under the fake project root
    ],
)
def test_a_pipeline_command_passes_every_status_to_its_tap(meltano, command, prefix, capsys):
    assert cli.main([*command, "--status", "synced", "--status", "error"]) == 1  # the fake run did not start
    (env,) = meltano.envs
    assert json.loads(env[f"{prefix}_SYNC_STATUS"]) == ["synced", "error"]
    assert json.loads(env["MELTANO_JOB_TRIGGER"])["filter"] == {"sync_status": ["synced", "error"]}
    assert "NOT STARTED" in capsys.readouterr().out


def test_participants_pass_every_status_and_list_what_the_tap_kept(meltano, capsys):
    meltano.records = [
        {"uid": "both", "salesforce_sync_status": ["synced", "error"]},
        {"uid": "only-error", "salesforce_sync_status": ["error"]},
    ]
    # The tap is the one place the filter applies: what it emits is listed as it is.
    assert cli.main(["participants", "--status", "synced", "--status", "error", "--format", "json"]) == 0
    (env,) = meltano.envs
    assert json.loads(env["TAP_EVENTMAKER_SYNC_STATUS"]) == ["synced", "error"]
    assert [row["uid"] for row in json.loads(capsys.readouterr().out)] == ["both", "only-error"]


def test_never_with_another_status_is_refused_before_meltano_starts(meltano, capsys):
    assert cli.main(["resend", "--status", "never", "--status", "error"]) == 2
    assert meltano.envs == []
    assert "'never' cannot be combined" in capsys.readouterr().err
