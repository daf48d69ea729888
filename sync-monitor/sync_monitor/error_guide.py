"""The usual Salesforce API errors: cause and fix, shown next to a participant's last error.

The fix of each participant-level error is the target's own hint (`target_salesforce_campaign.errors`,
the text it writes back into the participant's last error), so both always say the same thing; this
module adds the cause, and the fix of run-level errors that never reach a participant.
"""

from __future__ import annotations

from dataclasses import dataclass

from target_salesforce_campaign.errors import HINTS

CAUSES = {
    "INVALID_EMAIL_ADDRESS": "The participant's email is not a valid address for Salesforce.",
    "REQUIRED_FIELD_MISSING": "A field Salesforce requires is empty (LastName; Company for a Lead).",
    "STRING_TOO_LONG": "A value is longer than the Salesforce field allows.",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": "A value is not one of a restricted picklist's values.",
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": "A validation rule of your Salesforce org rejected the record.",
    "DUPLICATES_DETECTED": "A Salesforce duplicate rule blocked the creation of a Contact or Lead.",
    "DUPLICATE_VALUE": "A unique field (e.g. Eventmaker_Id__c) already holds this value on another record.",
    "INVALID_CROSS_REFERENCE_KEY": "An id sent does not exist in this org (often an imported id from another org).",
    "AMBIGUOUS_MATCH": "Several Contacts or Leads share the participant's uniqueness key.",
    "MISSING_UNIQUENESS_KEY": "The participant has no value for the uniqueness key, so it cannot be matched.",
    "STATUS_NOT_MAPPED": "The participant's status has no CampaignMember status in status_mapping.",
    "ENTITY_IS_DELETED": "The Contact, Lead or CampaignMember linked to the participant was deleted.",
    "CANNOT_UPDATE_CONVERTED_LEAD": "The Lead linked to the participant was converted into a Contact.",
    "INVALID_SESSION_ID": "The Salesforce session expired or the credentials were revoked (whole run).",
    "REQUEST_LIMIT_EXCEEDED": "The org's daily API request limit is reached (whole run stops cleanly).",
    "UNABLE_TO_LOCK_ROW": "Another process was updating the same Salesforce record.",
    "INSUFFICIENT_ACCESS": "The integration user may not read or edit an object or field (whole run).",
}

RUN_LEVEL_FIXES = {
    "DUPLICATE_VALUE": "Merge the duplicate records in Salesforce, or clear the value on the wrong one.",
    "INVALID_SESSION_ID": "Check the connected app and the credentials (refresh token, or password and "
    "security token); the target already re-authenticates once by itself.",
    "REQUEST_LIMIT_EXCEEDED": "Wait for the 24-hour window to free calls (the next run resumes where this one "
    "stopped), lower max_api_usage_percent, or raise the org's limit.",
    "UNABLE_TO_LOCK_ROW": "Nothing: the target retries with backoff; resend the participant if it stays in error.",
    "INSUFFICIENT_ACCESS": "Give the integration user's profile access to Contact, Lead, Campaign, "
    "CampaignMember and every mapped field.",
}


@dataclass(frozen=True)
class Guide:
    code: str
    cause: str
    fix: str


GUIDES = {code: Guide(code, cause, HINTS.get(code) or RUN_LEVEL_FIXES[code]) for code, cause in CAUSES.items()}


def hint_for(code: str | None) -> str | None:
    """The fix to show next to an error code, if the guide knows it."""
    guide = GUIDES.get(code or "")
    return guide.fix if guide else None
