"""Monitoring, resend, dry run, export and run history for the Eventmaker -> Salesforce sync."""
