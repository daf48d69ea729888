"""The usual Salesforce API errors: cause and fix, shown next to a participant's last error."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Guide:
    code: str
    cause: str
    fix: str


GUIDES = {guide.code: guide for guide in (
    Guide("INVALID_EMAIL_ADDRESS", "The participant's email is not a valid address for Salesforce.",
          "Fix the participant's email in Eventmaker; the change triggers a new sync."),
    Guide("REQUIRED_FIELD_MISSING", "A field Salesforce requires is empty (Contact/Lead LastName, Lead Company).",
          "Fill the field in Eventmaker, map another field to it (field_mapping), or set lead_company_fallback."),
    Guide("STRING_TOO_LONG", "A value is longer than the Salesforce field allows.",
          "Shorten the value in Eventmaker, or map it to a longer field."),
    Guide("FIELD_CUSTOM_VALIDATION_EXCEPTION", "A validation rule of your Salesforce org rejected the record.",
          "Read the rule's message; fix the data in Eventmaker or ask your Salesforce admin to adapt the rule."),
    Guide("DUPLICATES_DETECTED", "A Salesforce duplicate rule blocked the creation of a Contact or Lead.",
          "Link the participant to the existing record (import its salesforce_contact_id/lead_id) "
          "or change the uniqueness key or the duplicate rule."),
    Guide("DUPLICATE_VALUE", "A unique field already holds this value on another record.",
          "Check the uniqueness key and the participant's data; merge the duplicates in Salesforce."),
    Guide("INVALID_CROSS_REFERENCE_KEY", "An id sent does not exist in this org (campaign, record type, owner, "
          "or an imported Contact/Lead id from another org).",
          "Check campaign_id and the imported salesforce_* ids; clear a wrong id in Eventmaker and resend."),
    Guide("ENTITY_IS_DELETED", "The Contact, Lead or CampaignMember linked to the participant was deleted.",
          "Resend the participant: the connector matches it again and recreates what is missing."),
    Guide("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "A value is not allowed by a picklist, often a "
          "CampaignMember status that the campaign does not define.",
          "Add the status to the campaign's member statuses or change status_mapping."),
    Guide("CANNOT_UPDATE_CONVERTED_LEAD", "The Lead was converted into a Contact.",
          "Resend the participant: the connector follows the converted Contact."),
    Guide("INVALID_SESSION_ID", "The Salesforce session expired or the credentials were revoked.",
          "Check the connected app and credentials (refresh token, password and security token)."),
    Guide("REQUEST_LIMIT_EXCEEDED", "The org's daily API request limit is reached.",
          "Wait for the 24 h window to free calls, lower max_api_usage_percent or ask Salesforce for more."),
    Guide("UNABLE_TO_LOCK_ROW", "Another process was updating the same record.",
          "Nothing: the connector retries; resend the participant if it stays in error."),
    Guide("INSUFFICIENT_ACCESS_OR_READONLY", "The integration user may not edit this record or field.",
          "Give the integration user's profile edit access to Contact, Lead, CampaignMember and the mapped fields."),
)}


def hint_for(code: str | None) -> str | None:
    """The fix to show next to an error code, if the guide knows it."""
    guide = GUIDES.get(code or "")
    return guide.fix if guide else None
