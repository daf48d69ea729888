"""Flow 5: participants imported with Salesforce ids are matched on those ids at their first sync."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.both_homes
def test_imported_ids_win_over_the_uniqueness_key(project, seeded, tmp_path, sync_home):
    records = seeded.salesforce()["records"]
    contact = records["Contact"][0]
    lead = next(lead for lead in records["Lead"] if not lead["IsConverted"])
    first_guest = seeded.guests()[0]
    event_id, category_id = first_guest["event_id"], first_guest["guest_category_id"]
    csv_file = tmp_path / "import.csv"
    csv_file.write_text(
        "uid,email,first_name,last_name,salesforce_contact_id,salesforce_lead_id\n"
        f"imp-contact,someone.else@imported.example,Imported,Contact,{contact['Id']},\n"
        f"imp-lead,another.one@imported.example,Imported,Lead,,{lead['Id']}\n",
        encoding="utf-8",
    )

    home = sync_home.get("TARGET_SALESFORCE_CAMPAIGN_WRITEBACK_FIELD", "third_party_applications_refs")
    assert "imported 2 participants" in seeded.cli("import-csv", str(csv_file), "--event", event_id,
                                                    "--category", category_id, "--into", home)
    project.monitor("sync")

    by_uid = {row["uid"]: row for row in project.monitor_json("participants", "--search", "imported.example")}
    assert by_uid["imp-contact"]["contact_id"] == contact["Id"] and by_uid["imp-contact"]["sync_status"] == ["synced"]
    assert by_uid["imp-lead"]["lead_id"] == lead["Id"] and by_uid["imp-lead"]["sync_status"] == ["synced"]
    after = seeded.salesforce()["records"]
    created_for_them = [r for sobject in ("Contact", "Lead") for r in after[sobject]
                        if (r.get("Email") or "").endswith("@imported.example") and r["Id"] not in (contact["Id"], lead["Id"])]
    assert created_for_them == []
    members = {m["Id"]: (m.get("ContactId"), m.get("LeadId")) for m in after["CampaignMember"]}
    assert members[by_uid["imp-contact"]["campaign_member_id"]][0] == contact["Id"]
    assert members[by_uid["imp-lead"]["campaign_member_id"]][1] == lead["Id"]
