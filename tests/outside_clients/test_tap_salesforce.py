"""The Singer ``tap-salesforce`` from PyPI (pinned in requirements.txt) against the Salesforce stand-in.

The tap runs unchanged, as a subprocess of its own venv. Its login host is hard-coded
(``https://login.salesforce.com/services/oauth2/token``, ``test.salesforce.com`` with ``is_sandbox``)
and it has no option to change it, so it reaches the stand-in the way a corporate network would
let it: ``HTTPS_PROXY`` names a local CONNECT tunnel that sends only ``login.salesforce.com:443`` to
the stand-in (conftest.py), and ``REQUESTS_CA_BUNDLE`` makes it trust the test CA that signed the
stand-in's certificate for that name. No file of the tap is patched, no ``/etc/hosts`` entry made.
It logs in with a refresh token minted as ``sandbox token`` does (refresh_token + client_id +
client_secret), discovers the org, then syncs Contact, Lead, Campaign and CampaignMember with
``api_type: REST`` (``queryAll`` ordered by ``SystemModstamp``, following ``nextRecordsUrl``).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import defaultdict
from urllib.parse import parse_qs

import pytest
from simple_salesforce import Salesforce

from sandbox.seed import generate

STREAMS = ("Contact", "Lead", "Campaign", "CampaignMember")
PAGE_SIZE = 25  # forced query page size, so the Contact and Lead reads take several pages


@pytest.fixture(params=[False, True], ids=["login.salesforce.com", "test.salesforce.com"])
def org(login_host_sandbox, tmp_path, request):
    """A seeded org, the tap's config file (``is_sandbox`` both ways), and a runner for the tap."""
    sandbox = login_host_sandbox.sandbox
    sandbox.load(generate(participants=400, events=3, seed=11).salesforce)
    sandbox.configure(query_batch_size=PAGE_SIZE)
    minted = sandbox.call("POST", "token")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "refresh_token": minted["refresh_token"], "client_id": minted["client_id"],
        "client_secret": minted["client_secret"], "start_date": "2000-01-01T00:00:00Z", "api_type": "REST",
        "is_sandbox": request.param,
    }))

    def run_tap(outside_bin, *args) -> list[dict]:
        done = subprocess.run([str(outside_bin / "tap-salesforce"), "--config", str(config), *args],
                              env=login_host_sandbox.client_env(), capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-4000:]
        return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]

    sf = Salesforce(instance_url=sandbox.url, session_id=sandbox.access_token(), session=sandbox.session)
    return sandbox, run_tap, sf, tmp_path


def _selected(catalog: dict) -> dict:
    """The discovered catalog with the four streams and all their fields selected, incremental."""
    streams = [stream for stream in catalog["streams"] if stream["stream"] in STREAMS]
    for stream in streams:
        for entry in stream["metadata"]:
            entry["metadata"]["selected"] = True
            if entry["breadcrumb"] == []:
                entry["metadata"].update({"replication-method": "INCREMENTAL", "replication-key": "SystemModstamp"})
    return {"streams": streams}


def _records(messages: list[dict]) -> dict[str, list[dict]]:
    found = defaultdict(list)
    for message in messages:
        if message["type"] == "RECORD":
            found[message["stream"]].append(message["record"])
    return found


def test_discovery_then_rest_sync_of_the_four_streams(org, outside_bin, login_host_sandbox):
    sandbox, run_tap, sf, tmp_path = org
    deleted = sf.query("SELECT Id FROM Contact LIMIT 1")["records"][0]["Id"]
    sf.Contact.delete(deleted)  # queryAll still returns it, with IsDeleted true

    catalog = json.loads(subprocess.run(
        [str(outside_bin / "tap-salesforce"), "--config", str(tmp_path / "config.json"), "--discover"],
        env=login_host_sandbox.client_env(), capture_output=True, text=True, timeout=300, check=True).stdout)
    by_name = {stream["stream"]: stream for stream in catalog["streams"]}
    assert set(STREAMS) <= set(by_name)
    for name in STREAMS:
        top = next(e["metadata"] for e in by_name[name]["metadata"] if e["breadcrumb"] == [])
        assert top["valid-replication-keys"] == ["SystemModstamp"] and top["table-key-properties"] == ["Id"]
    (tmp_path / "catalog.json").write_text(json.dumps(_selected(catalog)))

    messages = run_tap(outside_bin, "--properties", str(tmp_path / "catalog.json"))
    records = _records(messages)
    snapshot = sandbox.snapshot()["records"]
    for name in STREAMS:
        assert sorted(r["Id"] for r in records[name]) == sorted(r["Id"] for r in snapshot[name]), name
    assert len(records["Campaign"]) == 3 and len(records["Contact"]) > 2 * PAGE_SIZE
    assert [r["IsDeleted"] for r in records["Contact"] if r["Id"] == deleted] == [True]
    login_host = "test.salesforce.com" if json.loads((tmp_path / "config.json").read_text())["is_sandbox"] \
        else "login.salesforce.com"
    assert (login_host_sandbox.tunnel.admitted, login_host_sandbox.tunnel.refused) == ({f"{login_host}:443"}, [])

    log = sandbox.requests()
    queries = [entry for entry in log if entry["path"].endswith("/queryAll")]
    assert len(queries) == len(STREAMS)
    assert any("/query/" in entry["path"] for entry in log)  # nextRecordsUrl pages were followed

    state = next(m["value"] for m in reversed(messages) if m["type"] == "STATE")
    assert set(state["bookmarks"]) == set(STREAMS)
    bookmark = state["bookmarks"]["Lead"]["SystemModstamp"]
    assert bookmark == max(r["SystemModstamp"] for r in records["Lead"])
    time.sleep(1.05)  # SystemModstamp has whole seconds, as in Salesforce
    changed = records["Lead"][0]["Id"]
    sf.Lead.update(changed, {"Title": "Changed after the first sync"})
    (tmp_path / "state.json").write_text(json.dumps(state))
    sandbox.clear_requests()
    again = _records(run_tap(outside_bin, "--properties", str(tmp_path / "catalog.json"),
                             "--state", str(tmp_path / "state.json")))
    [changed_again] = [r for r in again["Lead"] if r["Id"] == changed]
    assert changed_again["Title"] == "Changed after the first sync" and changed_again["SystemModstamp"] > bookmark
    lead_query = next(parse_qs(e["query"])["q"][0] for e in sandbox.requests()
                      if e["path"].endswith("/queryAll") and "FROM Lead" in parse_qs(e["query"])["q"][0])
    assert f"WHERE SystemModstamp >= {bookmark[:19]}" in lead_query  # incremental from the bookmark
