"""`make demo`'s script on other ports: the sandbox and meltano.yml move together (scripts/activate is the
one place that sets the ports), and the demo ends by writing the HTML report and printing its path. And the
`prod` environment without its variables names them before anything runs."""

import os
import re
import subprocess
from pathlib import Path

import pytest
import requests

from sandbox.meltano_project import StandIns, isolated_env, plugin_settings

from .conftest import PROJECT, free_port

pytestmark = [pytest.mark.e2e]


def project_env(tmp_path):
    """An isolated Meltano project whose plugins are configured by meltano.yml's environments alone."""
    stand_ins = StandIns("http://unused", "https://unused", tmp_path / "unused.pem")
    env = isolated_env(PROJECT, tmp_path / "work", stand_ins)
    for name in plugin_settings(stand_ins, tmp_path):
        env.pop(name, None)
    return env


def test_prod_without_its_variables_names_them_before_anything_runs(tmp_path, installed_plugins):
    env = {name: value for name, value in project_env(tmp_path).items()
           if not name.startswith(("EVENTMAKER_", "SALESFORCE_"))}
    result = subprocess.run([str(PROJECT / ".venv" / "bin" / "meltano"), "--environment", "prod", "invoke",
                             "sync-monitor:sync"], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert ("environment 'prod' needs these variables, unset now (export them or put them in .env): "
            "EVENTMAKER_AUTH_TOKEN, SALESFORCE_CAMPAIGN_ID, SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET, "
            "SALESFORCE_LOGIN_URL, SALESFORCE_REFRESH_TOKEN") in result.stderr
    assert "Running job" not in result.stderr


def test_demo_on_other_ports_syncs_and_ends_with_the_report(tmp_path, installed_plugins):
    ports = {"SANDBOX_EVENTMAKER_PORT": str(free_port()), "SANDBOX_SALESFORCE_PORT": str(free_port())}
    env = project_env(tmp_path)  # meltano.yml's sandbox environment must find the stand-ins by the ports alone
    env.update({**ports, "SANDBOX_DIR": str(tmp_path / "sandbox"), "DEMO_PARTICIPANTS": "20",
                "SYNC_MONITOR_REPORT": str(tmp_path / "report.html")})
    try:
        result = subprocess.run(["bash", "scripts/demo.sh"], cwd=PROJECT, env=env, capture_output=True, text=True,
                                timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr[-3000:]
        eventmaker = f"http://127.0.0.1:{ports['SANDBOX_EVENTMAKER_PORT']}"
        served = requests.get(f"{eventmaker}/__sandbox/requests", timeout=30).json()
    finally:
        subprocess.run([str(PROJECT / ".venv" / "bin" / "sandbox"), "down"], env=env, capture_output=True, timeout=60)
    assert "SUCCESS  run" in result.stdout and re.search(r"created [1-9]", result.stdout)
    assert any(request["path"].endswith("/guests.json") for request in served)  # the tap read this sandbox
    assert any(request["method"] == "PUT" for request in served)  # and the target wrote back to it
    last = result.stdout.strip().splitlines()[-1]
    report = Path(re.match(r"wrote (\S+) \((\d+) runs", last)[1])
    assert report == tmp_path / "report.html" and "Run history" in report.read_text(encoding="utf-8")
    assert "Progress:" in result.stderr or "salesforce_sync_summary" in result.stderr  # the pipeline's lines shown
