"""`sandbox` as a user runs it: subprocesses on free ports with a tmp SANDBOX_DIR."""

import json
import os
import subprocess
import sys

import requests

from sandbox.common.server import free_port


def _sandbox(env, *args, check=True):
    result = subprocess.run([sys.executable, "-m", "sandbox", *args], env=env, capture_output=True, text=True,
                            timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def _refresh(status, refresh_token):
    return requests.post(f"{status['salesforce']['url']}/services/oauth2/token", verify=status["ca_bundle"], timeout=5,
                         data={"grant_type": "refresh_token", "refresh_token": refresh_token,
                               "client_id": "sandbox-client-id", "client_secret": "sandbox-client-secret"})


def test_up_status_seed_import_down_up_reset(tmp_path):
    env = {**os.environ, "SANDBOX_DIR": str(tmp_path / "data"), "SANDBOX_EVENTMAKER_PORT": str(free_port()),
           "SANDBOX_SALESFORCE_PORT": str(free_port())}
    env.pop("REQUESTS_CA_BUNDLE", None)
    try:
        _sandbox(env, "up")
        assert "already up" in _sandbox(env, "up").stdout
        tokens = json.loads(_sandbox(env, "token", "--json").stdout)
        seeded = _sandbox(env, "seed", "--participants", "60", "--events", "2", "--seed", "7").stdout
        assert "60 participants in 2 events" in seeded and "-> Campaign 701000000000001AAA" in seeded
        assert "the next `meltano run sync` reads them all" in seeded

        status = json.loads(_sandbox(env, "status", "--json").stdout)
        assert _refresh(status, tokens["refresh_token"]).status_code == 200  # the seed kept it valid
        text = _sandbox(env, "token").stdout
        assert {line.split()[0] for line in text.splitlines()} >= {"refresh_token", "access_token", "instance_url",
                                                                  "client_id", "client_secret", "ca_bundle"}
        assert status["running"] and status["eventmaker"]["running"] and status["salesforce"]["running"]
        assert status["salesforce"]["credentials"]["login_url"] == status["salesforce"]["url"]
        eventmaker_url, auth = status["eventmaker"]["url"], status["eventmaker"]["credentials"]["auth_token"]
        events = requests.get(f"{eventmaker_url}/api/v1/events.json", params={"auth_token": auth}, timeout=5).json()
        event_id = events[0]["_id"]
        oauth = requests.post(f"{status['salesforce']['url']}/services/oauth2/token", verify=status["ca_bundle"],
                              data={"grant_type": "client_credentials", "client_id": "sandbox-client-id",
                                    "client_secret": "sandbox-client-secret"}, timeout=5)
        assert oauth.status_code == 200

        csv_file = tmp_path / "people.csv"
        csv_file.write_text("email,last_name,salesforce_lead_id\nada@example.org,Lovelace,00Q000000000001\n"
                            "bad@example.org,Nobody,003000000000001\n")
        category = requests.get(f"{eventmaker_url}/api/v1/events/{event_id}/guest_categories.json",
                                params={"auth_token": auth}, timeout=5).json()[0]["_id"]
        imported = _sandbox(env, "import-csv", str(csv_file), "--event", event_id, "--category", category)
        assert "imported 2 participants" in imported.stdout  # Ids stored as written, like Eventmaker's import

        counters = json.loads(_sandbox(env, "status", "--json").stdout)["eventmaker"]["counters"]
        assert counters["by_endpoint"]["GET /api/v1/events.json"] == 1
        assert counters["by_endpoint"]["POST /api/v1/events/{id}/guests.json"] == 2

        assert json.loads(_sandbox(env, "config", "ignore_refs_writes=true").stdout) == {"ignore_refs_writes": True}
        assert json.loads(_sandbox(env, "config").stdout) == {"ignore_refs_writes": True}
        refused = _sandbox(env, "config", "ignore_ref_writes=true", check=False)
        assert refused.returncode == 1 and "unknown settings" in refused.stderr
        assert json.loads(_sandbox(env, "config", "--on", "salesforce", "query_batch_size=300").stdout)[
            "query_batch_size"] == 300

        _sandbox(env, "down")
        assert "stopped" in _sandbox(env, "status").stdout
        _sandbox(env, "up")  # data and tokens persisted across down/up
        assert _refresh(status, tokens["refresh_token"]).status_code == 200
        identity = requests.get(tokens["id"], headers={"Authorization": f"Bearer {tokens['access_token']}"},
                                verify=status["ca_bundle"], timeout=5)
        assert identity.status_code == 200 and identity.json()["username"] == status["salesforce"]["credentials"]["username"]
        found = requests.get(f"{eventmaker_url}/api/v1/events/{event_id}/guests.json",
                             params={"auth_token": auth, "page": 1, "search": "ada@example.org"}, timeout=5).json()
        assert [guest["third_party_applications_refs"]["salesforce"]["lead_id"] for guest in found] == \
            ["00Q000000000001"]
        snapshot = requests.get(f"{eventmaker_url}/__sandbox/snapshot", timeout=5).json()
        assert len(snapshot["guests"]) == 62

        _sandbox(env, "reset")
        assert requests.get(f"{eventmaker_url}/__sandbox/snapshot", timeout=5).json()["guests"] == []
    finally:
        _sandbox(env, "down", check=False)


def test_commands_that_need_a_running_sandbox_say_so(tmp_path):
    env = {**os.environ, "SANDBOX_DIR": str(tmp_path), "SANDBOX_EVENTMAKER_PORT": str(free_port()),
           "SANDBOX_SALESFORCE_PORT": str(free_port())}
    result = _sandbox(env, "seed", "--participants", "5", check=False)
    assert result.returncode == 1 and "not running" in result.stderr and "sandbox up" in result.stderr
    assert "not running" in _sandbox(env, "down").stdout


def test_up_refuses_a_busy_port(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        env = {**os.environ, "SANDBOX_DIR": str(tmp_path), "SANDBOX_EVENTMAKER_PORT": str(busy.getsockname()[1]),
               "SANDBOX_SALESFORCE_PORT": str(free_port())}
        result = _sandbox(env, "up", check=False)
    assert result.returncode == 1 and "is busy" in result.stderr and "SANDBOX_EVENTMAKER_PORT" in result.stderr
