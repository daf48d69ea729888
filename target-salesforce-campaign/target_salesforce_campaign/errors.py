"""Salesforce error classification (by errorCode, never by HTTP status) and fix hints."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from importlib import resources


class ErrorClass(enum.Enum):
    """What the target does about an error."""

    TRANSIENT = "transient"  # retry with backoff inside the run
    AUTH = "auth"  # re-authenticate once, then retry
    BUDGET = "budget"  # stop cleanly, keep the bookmark
    DATA = "data"  # the participant's own error; the run continues
    CONFIG = "config"  # fail at start, before any write


TRANSIENT_CODES = frozenset(
    {
        "UNABLE_TO_LOCK_ROW",
        "UNKNOWN_EXCEPTION",
        "SERVER_UNAVAILABLE",
        "REQUEST_RUNNING_TOO_LONG",
        "QUERY_TIMEOUT",
        "CONNECTION_ERROR",
        "INCOMPLETE_REPLY",  # a Salesforce reply that does not cover the request (issue 10, class 5)
        "HTTP_500",
        "HTTP_502",
        "HTTP_503",
        "HTTP_504",
    }
)
AUTH_CODES = frozenset({"INVALID_SESSION_ID", "INVALID_AUTH_HEADER"})
BUDGET_CODES = frozenset({"REQUEST_LIMIT_EXCEEDED", "API_USAGE_ABOVE_LIMIT"})
CONFIG_CODES = frozenset(
    {"INVALID_FIELD", "INVALID_TYPE", "INSUFFICIENT_ACCESS", "API_DISABLED_FOR_ORG", "NOT_FOUND"}
)

GUIDE_FILE = "error_guide.json"  # shipped with the package; sync-monitor reads it by path


def load_hints() -> dict[str, str]:
    """Fix hints per error code, from the error guide this package ships."""
    codes = json.loads(resources.files(__package__).joinpath(GUIDE_FILE).read_text(encoding="utf-8"))["codes"]
    return {code: entry["hint"] for code, entry in codes.items() if entry.get("hint")}


HINTS = load_hints()


def classify(code: str, message: str = "") -> ErrorClass:
    """Return the class of a Salesforce error code (concurrency limits are transient)."""
    if code == "REQUEST_LIMIT_EXCEEDED" and "concurrent" in message.lower():
        return ErrorClass.TRANSIENT
    if code in TRANSIENT_CODES:
        return ErrorClass.TRANSIENT
    if code in AUTH_CODES:
        return ErrorClass.AUTH
    if code in BUDGET_CODES:
        return ErrorClass.BUDGET
    if code in CONFIG_CODES:
        return ErrorClass.CONFIG
    return ErrorClass.DATA


@dataclass(frozen=True)
class RecordError:
    """One participant's error, as written back into its sync state."""

    code: str
    message: str
    fields: tuple[str, ...] = field(default_factory=tuple)

    @property
    def hint(self) -> str | None:
        """Fix hint for the usual codes."""
        return HINTS.get(self.code)

    @property
    def error_class(self) -> ErrorClass:
        """Class of this error."""
        return classify(self.code, self.message)

    def to_state(self, at: str) -> dict:
        """The `last_error` object of contracts §1."""
        return {"code": self.code, "message": self.message, "fields": list(self.fields), "hint": self.hint, "at": at}


ROLLED_BACK = "ALL_OR_NONE_OPERATION_ROLLED_BACK"


def error_from_save_result(result: dict) -> RecordError:
    """First meaningful error of an sObject Collections result (statusCode shape)."""
    errors = [e for e in result.get("errors") or [] if e.get("statusCode") != ROLLED_BACK] or result.get(
        "errors"
    ) or [{"statusCode": "UNKNOWN_EXCEPTION", "message": "Salesforce returned no error detail"}]
    first = errors[0]
    return RecordError(
        code=str(first.get("statusCode") or first.get("errorCode") or "UNKNOWN_EXCEPTION"),
        message=str(first.get("message") or ""),
        fields=tuple(first.get("fields") or ()),
    )


class TargetError(Exception):
    """Base class of errors that end the run with a clear message."""


class ConfigError(TargetError):
    """Configuration problem found at start; says what to fix."""


class BudgetExceeded(TargetError):
    """The org's API budget is spent (or above max_api_usage_percent): stop cleanly."""


class SalesforceCallError(TargetError):
    """A Salesforce call failed for good (after retries)."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status

    @property
    def error_class(self) -> ErrorClass:
        """Class of this error."""
        return classify(self.code, self.message)


class WritebackFailed(TargetError):
    """Write-back to Eventmaker kept failing after the Salesforce work."""
