"""Against the Salesforce sandbox (real HTTPS, SOAP login, Composite and Collections)."""

LOGIN_KEYS = ("username", "password", "security_token", "login_url")


def test_soap_login_creates_leads_and_members_in_few_calls(salesforce_sandbox, run, guest):
    sf = salesforce_sandbox
    config = {k: sf.credentials[k] for k in LOGIN_KEYS}
    config.update(ca_bundle=sf.ca_bundle, campaign_id=sf.campaign_id, writeback="none")
    run(config, [guest(i) for i in range(5)])
    counters = sf.counters()["by_endpoint"]
    assert counters["POST /services/data/{v}/composite"] == 2  # the start reads, the lookup
    assert counters["POST /services/data/{v}/composite/sobjects"] == 2
    snapshot = sf.store.to_dict()
    assert "person3@example.com" in str(snapshot)
