"""Saving the stores: atomic files, save only on change, restore across a restart, reset."""

import json

import pytest
import requests

from sandbox.common.persistence import Saver, data_file, read_json, write_json_atomically
from sandbox.common.standins import eventmaker_stand_in, salesforce_stand_in
from sandbox.pytest_plugin import serving
from sandbox.seed import generate


def test_atomic_write_leaves_the_old_file_when_serialising_fails(tmp_path):
    path = tmp_path / "eventmaker.json"
    write_json_atomically(path, {"events": [1]})
    with pytest.raises(TypeError):
        write_json_atomically(path, {"events": [object()]})
    assert read_json(path) == {"events": [1]}
    assert [item.name for item in tmp_path.iterdir()] == ["eventmaker.json"]  # no temp file left behind
    assert read_json(tmp_path / "missing.json") is None


def test_data_survives_a_restart_and_is_saved_only_when_changed(tmp_path, sandbox_tls_files):
    dataset = generate(participants=25, events=2, seed=11)
    eventmaker, salesforce = eventmaker_stand_in(), salesforce_stand_in()
    saver = Saver(tmp_path, [eventmaker, salesforce])
    with serving(eventmaker) as em_url, serving(salesforce, sandbox_tls_files) as sf_url:
        assert saver.save_changed() == []
        requests.post(f"{em_url}/__sandbox/load", json=dataset.eventmaker, timeout=10).raise_for_status()
        assert saver.save_changed() == ["eventmaker"]
        assert saver.save_changed() == []
        requests.post(f"{sf_url}/__sandbox/load", json=dataset.salesforce, verify=str(sandbox_tls_files.ca_pem),
                      timeout=10).raise_for_status()
        saver.save_all()

    restored_em = eventmaker_stand_in(read_json(data_file(tmp_path, "eventmaker")))
    restored_sf = salesforce_stand_in(read_json(data_file(tmp_path, "salesforce")))
    assert restored_em.snapshot() == eventmaker.snapshot()
    assert len(restored_em.snapshot()["guests"]) == 25
    contact_ids = {record["Id"] for record in restored_sf.snapshot()["records"]["Contact"]}
    assert contact_ids == {record["Id"] for record in dataset.salesforce["records"]["Contact"]}


def test_reset_empties_eventmaker_and_keeps_the_salesforce_campaign(eventmaker_sandbox, salesforce_sandbox):
    dataset = generate(participants=25, events=1, seed=2)
    eventmaker_sandbox.load(dataset.eventmaker)
    salesforce_sandbox.load(dataset.salesforce)
    eventmaker_sandbox.reset()
    salesforce_sandbox.reset()
    assert eventmaker_sandbox.snapshot() == {"events": [], "guest_categories": [], "guests": []}
    records = salesforce_sandbox.snapshot()["records"]
    assert [campaign["Id"] for campaign in records["Campaign"]] == [salesforce_sandbox.campaign_id]
    assert records["Contact"] == [] and records["CampaignMember"] == []
    assert len(records["CampaignMemberStatus"]) == 7
    json.dumps(records)  # still serialisable for the next save
