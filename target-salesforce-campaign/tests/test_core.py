"""The SDK's standard target tests (streams other than `guests` are accepted and ignored)."""

from singer_sdk.testing import get_target_test_class

from target_salesforce_campaign.target import TargetSalesforceCampaign

SAMPLE_CONFIG = {
    "access_token": "unused",
    "instance_url": "https://127.0.0.1:1",
    "campaign_id": "701000000000001AAA",
    "writeback": "none",
}

StandardTargetTests = get_target_test_class(target_class=TargetSalesforceCampaign, config=SAMPLE_CONFIG)


class TestTargetSalesforceCampaign(StandardTargetTests):
    """Standard target tests."""
