"""jsforce from npm (pinned in js/package-lock.json) against the Salesforce stand-in, unchanged.

jsforce takes its login host as an option (``loginUrl``), so it talks to the stand-in directly and
trusts its CA through Node's ``NODE_EXTRA_CA_CERTS``. ``js/run.mjs`` logs in (SOAP partner login),
reads its identity, creates 230 Contacts (two sObject Collections calls), updates and upserts some
(Collections), reads them back over several query pages, and sends a Composite call whose second
subrequest references the first.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).with_name("js")
PAGE_SIZE = 100


@pytest.fixture(scope="module")
def node() -> str:
    """Node.js (skipped without it: a fresh machine may have none), with jsforce installed (else a failure)."""
    path = shutil.which("node")
    if path is None:
        pytest.skip("no Node.js on this machine (apt-get install nodejs npm, then make outside-clients)")
    if not (JS / "node_modules" / "jsforce").is_dir():
        pytest.fail("jsforce is not installed: run `make outside-clients` (npm ci in tests/outside_clients/js)")
    return path


def test_jsforce_login_collections_paged_query_and_composite(salesforce_sandbox, node):
    salesforce_sandbox.configure(query_batch_size=PAGE_SIZE)
    credentials = salesforce_sandbox.credentials
    env = {**os.environ, "SF_LOGIN_URL": salesforce_sandbox.url, "SF_USERNAME": credentials["username"],
           "SF_PASSWORD": credentials["password"] + credentials["security_token"],
           "NODE_EXTRA_CA_CERTS": salesforce_sandbox.ca_bundle}
    done = subprocess.run([node, str(JS / "run.mjs")], cwd=JS, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout)

    assert result["identity"] == {"user_id": result["login"]["id"], "username": credentials["username"]}
    assert result["created"] == [True] * 230 and result["updated"] == [True] * 5
    assert result["upserted"] == [{"success": True, "created": False}, {"success": True, "created": True}]
    assert result["queried"]["totalSize"] == 230  # js-new has no Email
    assert sorted(result["queried"]["titles"]) == ["Updated by jsforce"] * 4 + ["Upserted by jsforce"]
    assert result["pages"] == [100, 100, 31]
    assert result["composite"] == [{"referenceId": "newLead", "status": 201, "company": None},
                                   {"referenceId": "readLead", "status": 200, "company": "jsforce"}]
    contacts = salesforce_sandbox.snapshot()["records"]["Contact"]
    assert len(contacts) == 231 and {c["Eventmaker_Id__c"] for c in contacts} >= {"js-0", "js-229", "js-new"}
    calls = salesforce_sandbox.requests()
    assert sum(1 for c in calls if c["method"] == "POST" and c["path"].endswith("/composite/sobjects")) == 2
    assert any(c["method"] == "PATCH" and c["path"].endswith("/composite/sobjects/Contact/Eventmaker_Id__c")
               for c in calls)
