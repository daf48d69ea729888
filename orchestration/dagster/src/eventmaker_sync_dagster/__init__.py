"""Dagster code location of the Eventmaker -> Salesforce campaign sync (drives the Meltano project)."""
