"""Malformed arguments refused before any request, missing prod variables named, retries of retried runs skipped."""

import json

import click
import pytest

from sync_monitor import cli
from sync_monitor.checks import missing_env_vars
from sync_monitor.outcome import nobody_text
from sync_monitor.filters import ParticipantFilter
from sync_monitor.retries import still_failed
from sync_monitor.runs import Run

MAIN = "sandbox:tap-eventmaker-to-target-salesforce-campaign"


@pytest.fixture
def no_meltano(monkeypatch):
    """Any attempt to reach Meltano fails the test: refusals must come first."""
    def refuse(cls):
        raise AssertionError("Meltano was reached")
    monkeypatch.setattr(cli.Meltano, "from_env", classmethod(refuse))


@pytest.mark.parametrize("argv, accepted", [
    (["resend", "--event", "not-an-id"], "24 hex characters"),
    (["participants", "--event", "6A96860000000001000000"], "24 hex characters"),
    (["runs", "show", "abc"], "a UUID as `runs list` prints it"),
    (["runs", "retry", "12"], "a UUID"),
    (["runs", "list", "--pipeline", "nightly"], "one of sync, resend, dry-run, export"),
    (["runs", "list", "--since", "last week"], "ISO date"),
    (["participants", "--status", "broken"], "'synced', 'error', 'never'"),
])
def test_malformed_arguments_are_refused_at_once_with_the_accepted_form(no_meltano, capsys, argv, accepted):
    assert cli.main(argv) == 2
    assert accepted in capsys.readouterr().err


def test_well_formed_arguments_pass_the_checks(monkeypatch):
    reached = []
    monkeypatch.setattr(cli, "_select_runs", lambda *args: reached.append(args) or [])
    assert cli.main(["runs", "list", "--pipeline", MAIN + ":resend-1", "--since", "2026-11-25", "--format", "json"]) == 0
    assert reached and reached[0][0] == MAIN + ":resend-1"


def test_prod_names_the_variables_it_still_needs(tmp_path, monkeypatch):
    (tmp_path / "meltano.yml").write_text(
        "environments:\n- name: prod\n  config:\n    plugins:\n      extractors:\n"
        "      - name: tap-eventmaker\n        config: {auth_token: '${EVENTMAKER_AUTH_TOKEN}', api_url: x,"
        " root: '${MELTANO_PROJECT_ROOT}/x'}\n"
        "      loaders:\n      - name: t\n        config: {campaign_id: '${SALESFORCE_CAMPAIGN_ID}',"
        " client_id: '${SALESFORCE_CLIENT_ID}'}\n- name: sandbox\n  config: {}\n")
    (tmp_path / ".env").write_text("# local\nSALESFORCE_CLIENT_ID=abc\n")
    for name in ("EVENTMAKER_AUTH_TOKEN", "SALESFORCE_CAMPAIGN_ID", "SALESFORCE_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SALESFORCE_CAMPAIGN_ID", "")
    assert missing_env_vars(tmp_path, "prod") == ["EVENTMAKER_AUTH_TOKEN", "SALESFORCE_CAMPAIGN_ID"]
    assert missing_env_vars(tmp_path, "prod", ("tap-eventmaker",)) == ["EVENTMAKER_AUTH_TOKEN"]
    monkeypatch.setenv("TAP_EVENTMAKER_AUTH_TOKEN", "set directly")  # the plugin's own variable replaces the reference
    assert missing_env_vars(tmp_path, "prod", ("tap-eventmaker",)) == []
    monkeypatch.delenv("TAP_EVENTMAKER_AUTH_TOKEN")
    monkeypatch.setenv("EVENTMAKER_AUTH_TOKEN", "t")
    assert missing_env_vars(tmp_path, "prod") == ["SALESFORCE_CAMPAIGN_ID"]
    assert missing_env_vars(tmp_path, "sandbox") == []


def run(run_id, status="failed", retry_of=None, state_id=MAIN):
    trigger = json.dumps({"by": "sync-monitor", "action": "sync", "filter": {}, **({"retry_of": retry_of} if retry_of else {})})
    return Run(state_id, run_id, status, None, None, trigger, "Loader failed")


def test_failed_runs_completed_by_a_later_retry_or_a_retry_of_a_retry_are_not_retried_again():
    history = [run("5", "success", retry_of="4"), run("4", retry_of="3"), run("3"), run("2", "success", retry_of="1"),
               run("1"), run("0"), run("x", "failed", retry_of="0")]
    failed = [r for r in history if r.status == "failed"]
    assert [r.run_id for r in still_failed(failed, history)] == ["0", "x"]


def test_a_selection_that_matches_nobody_says_so():
    assert nobody_text(ParticipantFilter(participant_uids=("doesnotexist",))) == \
        "0 participants selected by --uid doesnotexist"
    assert nobody_text(ParticipantFilter(event_ids=("a" * 24,), sync_status=("synced", "error"))) == \
        f"0 participants selected by --event {'a' * 24} --status synced --status error"
    assert nobody_text(ParticipantFilter()).startswith("read no participant")


def test_an_unreachable_api_is_one_line_with_its_url_and_what_to_do_after_a_bounded_retry(monkeypatch):
    from sync_monitor import reachability
    import socket
    import time
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("TAP_EVENTMAKER_API_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("TARGET_SALESFORCE_CAMPAIGN_LOGIN_URL", "https://127.0.0.1:1")
    started = time.monotonic()
    with pytest.raises(reachability.Unreachable) as refused:
        reachability.check_pipeline(None, "tap-eventmaker", "target-salesforce-campaign")
    assert time.monotonic() - started < 5
    message = str(refused.value)
    assert "\n" not in message and f"Eventmaker API at http://127.0.0.1:{port} cannot be reached" in message
    assert "after 3 tries" in message and "run `sandbox up`" in message and "`make demo`" in message
    monkeypatch.setenv("TAP_EVENTMAKER_API_URL", "https://eventmaker.invalid")
    assert "check tap-eventmaker's setting" in str(pytest.raises(reachability.Unreachable, reachability.check_pipeline,
                                                                None, "tap-eventmaker", None).value)


def test_a_listening_api_passes_the_check(monkeypatch):
    from sync_monitor import reachability
    import socket
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        monkeypatch.setenv("TAP_EVENTMAKER_API_URL", f"http://127.0.0.1:{server.getsockname()[1]}")
        monkeypatch.delenv("TARGET_SALESFORCE_CAMPAIGN_LOGIN_URL", raising=False)
        reachability.check_pipeline(None, "tap-eventmaker", "target-csv")  # target-csv has no API


def every_command(group=cli.cli, path=()):
    for name, command in group.commands.items():
        if isinstance(command, type(cli.cli)):
            yield from every_command(command, (*path, name))
        yield (*path, name), command


@pytest.mark.parametrize("path", [path for path, _ in every_command()], ids=" ".join)
def test_every_help_shows_defaults_and_an_example(path, capsys):
    assert cli.main([*path, "--help"]) == 0
    text = capsys.readouterr().out
    assert "Example" in text and "meltano invoke sync-monitor:" in text
    command = dict(every_command())[path]
    flat = " ".join(text.split())
    for option in command.params:
        default = option.default
        if isinstance(option, click.Option) and not option.is_flag and default not in (None, ()) \
                and not type(default).__name__.startswith("Sentinel"):
            assert f"[default: {default}" in flat, option.name
