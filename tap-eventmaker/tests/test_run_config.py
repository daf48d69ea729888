"""The tap's sync takes its secrets out of the config file Meltano wrote for the run, once read."""

from __future__ import annotations

import json
import logging
import signal
import stat
import subprocess
import sys

import pytest
import requests
from click.testing import CliRunner
from sandbox.seed import generate

from tap_eventmaker import run_config
from tap_eventmaker.tap import TapEventmaker

RUN_FILE = "tap.3f2b8c1e-7d4a-4e9b-8a51-0c6d2e9f1a77.config.json"


@pytest.fixture
def seeded(eventmaker_sandbox):
    """25 participants in one event."""
    eventmaker_sandbox.store.load(generate(participants=25, events=1, seed=3).eventmaker)
    return eventmaker_sandbox


@pytest.fixture
def settings(seeded) -> dict:
    return {"api_url": seeded.url, "auth_token": seeded.auth_token, "clock_skew_margin_seconds": 0, "page_size": 10}


def write_config(path, settings: dict):
    """A config file as Meltano writes it, with umask 022: 0644."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings))
    path.chmod(0o644)
    return path


@pytest.fixture
def run_file(tmp_path, settings):
    path = write_config(tmp_path / ".meltano" / "run" / "tap-eventmaker" / RUN_FILE, settings)
    for directory in (path.parent.parent, path.parent):
        directory.chmod(0o755)
    return path


@pytest.fixture
def cli(monkeypatch):
    """Run the tap's real command line in-process; return (exit code, stdout)."""
    root = logging.getLogger()
    monkeypatch.setattr(root, "level", root.level)  # the SDK's CLI sets the root level,
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # installs its excepthook
    added = []  # and adds a console handler each time

    def run(*args: str) -> tuple[int, str]:
        before = set(root.handlers)
        command = TapEventmaker.cli
        added.extend(h for h in root.handlers if h not in before)
        result = CliRunner().invoke(command, list(args), catch_exceptions=False)
        return result.exit_code, result.stdout

    yield run
    for handler in added:
        root.removeHandler(handler)
    logging.captureWarnings(False)  # the SDK's command turns it on


def records(stdout: str, stream: str) -> list[dict]:
    """The RECORD payloads of one stream in a sync's Singer output."""
    messages = [json.loads(line) for line in stdout.splitlines() if line]
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_only_the_secret_settings_are_named_secret():
    assert run_config.secret_settings(TapEventmaker.config_jsonschema) == {"auth_token"}


def test_a_sync_leaves_its_meltano_run_file_without_the_token_owner_only(cli, run_file, seeded, settings):
    code, messages = cli("--config", str(run_file))
    assert code == 0
    assert len(records(messages, "guests")) == 25  # it authenticated with the token it read first
    left = run_file.read_text()
    assert seeded.auth_token not in left
    assert json.loads(left) == {key: value for key, value in settings.items() if key != "auth_token"}
    assert mode(run_file) == 0o600
    assert mode(run_file.parent) == mode(run_file.parent.parent) == 0o700
    assert [p.name for p in run_file.parent.iterdir()] == [RUN_FILE]  # no temporary file left


def test_the_file_is_rewritten_after_the_read_and_before_the_first_request(cli, run_file, seeded, monkeypatch):
    """Too early, the sync would miss its token; too late, a kill at the first request would leave it."""
    send, seen = requests.Session.send, []

    def spying_send(session, request, **kwargs):
        seen.append((seeded.auth_token in (request.url or ""), seeded.auth_token in run_file.read_text()))
        return send(session, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", spying_send)
    code, messages = cli("--config", str(run_file))
    assert code == 0 and records(messages, "guests")
    assert seen and set(seen) == {(True, False)}  # every request carries the token; the file never does


def test_a_tap_process_killed_at_its_first_message_leaves_no_token(run_file, seeded):
    """The crash the rewrite is for: SIGKILL before the target could have scrubbed the tap's file."""
    seeded.set_latency(300)  # the tap is then waiting for its first reply
    command = [sys.executable, "-c", "from tap_eventmaker.tap import TapEventmaker; TapEventmaker.cli()"]
    tap = subprocess.Popen([*command, "--config", str(run_file)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        first_message = json.loads(tap.stdout.readline())
        tap.send_signal(signal.SIGKILL)
    finally:
        tap.kill()
        tap.wait(timeout=30)
        tap.stdout.close()
    assert first_message["type"] in ("SCHEMA", "STATE") and tap.returncode == -signal.SIGKILL
    assert seeded.auth_token not in run_file.read_text() and mode(run_file) == 0o600


@pytest.mark.parametrize("mode_args", [["--discover"], ["--about"], ["--about", "--format=json"], ["--test=schema"]])
def test_discovery_about_and_test_runs_leave_the_file_untouched(cli, run_file, mode_args):
    """Meltano discovers with the same file before the sync: it must still hold the token then."""
    before = run_file.read_bytes()
    code, stdout = cli("--config", str(run_file), *mode_args)
    assert code == 0 and stdout
    assert run_file.read_bytes() == before and mode(run_file) == 0o644 and mode(run_file.parent) == 0o755


@pytest.mark.parametrize("relative", [
    "config.json",  # a config passed by hand
    RUN_FILE,  # Meltano's name, but not in a run directory
    f"project/.meltano/tap-eventmaker/{RUN_FILE}",
    "project/.meltano/run/tap-eventmaker/config.json",
])
def test_a_config_outside_a_meltano_run_dir_is_never_touched(cli, tmp_path, settings, relative):
    path = write_config(tmp_path / relative, settings)
    before = path.read_bytes()
    code, messages = cli("--config", str(path))
    assert code == 0 and len(records(messages, "guests")) == 25
    assert path.read_bytes() == before and mode(path) == 0o644


def test_only_the_run_file_among_several_configs_is_rewritten(cli, tmp_path, run_file, settings, seeded):
    by_hand = write_config(tmp_path / "extra.json", {"page_size": 5})
    code, messages = cli("--config", str(by_hand), "--config", str(run_file), "--config", "ENV")
    assert code == 0 and len(records(messages, "guests")) == 25
    assert json.loads(by_hand.read_text()) == {"page_size": 5} and mode(by_hand) == 0o644
    assert seeded.auth_token not in run_file.read_text() and mode(run_file) == 0o600


def test_a_run_file_gone_after_the_read_is_a_warning_without_the_token(cli, run_file, seeded, monkeypatch, caplog):
    """Meltano's cleanup (or anyone) may remove the file between the SDK's read and the rewrite."""
    import singer_sdk.plugin_base as plugin_base

    read = plugin_base.read_json_file

    def read_then_remove(path):
        config = read(path)
        run_file.unlink()
        return config

    monkeypatch.setattr(plugin_base, "read_json_file", read_then_remove)
    with caplog.at_level(logging.WARNING, logger=run_config.__name__):
        code, messages = cli("--config", str(run_file))
    assert code == 0 and len(records(messages, "guests")) == 25
    warnings = [r.getMessage() for r in caplog.records if r.name == run_config.__name__]
    assert len(warnings) == 1 and "FileNotFoundError" in warnings[0] and RUN_FILE in warnings[0]
    assert seeded.auth_token not in caplog.text
    assert list(run_file.parent.iterdir()) == []


def test_a_rewrite_that_fails_midway_keeps_the_file_and_leaves_no_temporary(run_file, seeded, monkeypatch, caplog):
    """As on a read-only or full file system (root ignores permission bits, so the failure is injected)."""

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(run_config.os, "replace", refuse)
    with caplog.at_level(logging.WARNING, logger=run_config.__name__):
        assert run_config.protect_run_files([str(run_file)], frozenset({"auth_token"})) == []
    assert "PermissionError" in caplog.text and seeded.auth_token not in caplog.text
    assert json.loads(run_file.read_text())["auth_token"] == seeded.auth_token
    assert [p.name for p in run_file.parent.iterdir()] == [RUN_FILE]
