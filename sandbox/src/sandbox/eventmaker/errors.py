"""Errors the Eventmaker store raises; the app turns them into the API's error bodies."""

from __future__ import annotations


class NotFound(LookupError):
    """An event, guest category or guest that does not exist (HTTP 404 ``{"error": ...}``)."""


class ValidationError(ValueError):
    """A record the API would refuse (HTTP 422 ``{"errors": {field: [messages]}}``)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors
