"""Salesforce API errors and the two shapes Salesforce gives them.

Top-level REST errors are ``[{"message", "errorCode", "fields"}]``; per-record results of
Collections are ``{"statusCode", "message", "fields"}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NOT_FOUND_MESSAGE = "The requested resource does not exist"


@dataclass
class SalesforceError(Exception):
    """One error as Salesforce reports it; ``status`` is the HTTP status of a single-record call."""

    code: str
    message: str
    fields: list[str] = field(default_factory=list)
    status: int = 400
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def as_rest(self) -> dict[str, Any]:
        return {"message": self.message, "errorCode": self.code, "fields": self.fields, **self.extra}

    def as_save_error(self) -> dict[str, Any]:
        return {"statusCode": self.code, "message": self.message, "fields": self.fields, **self.extra}


def not_found(message: str = NOT_FOUND_MESSAGE) -> SalesforceError:
    return SalesforceError("NOT_FOUND", message, status=404)


def entity_is_deleted() -> SalesforceError:
    return SalesforceError("ENTITY_IS_DELETED", "entity is deleted", status=404)


def malformed_id(label: str, value: object, field_name: str = "Id") -> SalesforceError:
    return SalesforceError(
        "MALFORMED_ID", f"{label} ID: id value of incorrect type: {value}", [field_name]
    )


def json_parser_error(detail: str) -> SalesforceError:
    return SalesforceError("JSON_PARSER_ERROR", detail)
