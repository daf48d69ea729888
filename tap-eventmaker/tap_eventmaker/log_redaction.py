"""Keep the auth token out of every log line of the tap's process, whoever logs it.

The token travels in the query string, so any library that logs a URL (urllib3's request lines and
retry messages, requests, the SDK at ``--log-level=debug``) would print it. Filters on named loggers
miss loggers nobody listed and records that only propagate; a log record factory sees every record
of the process when it is created, before any handler or formatter.
"""

from __future__ import annotations

import logging
import threading
import traceback
import typing as t

from tap_eventmaker.errors import REDACTED, redact

_LOCK = threading.Lock()
_SECRETS: set[str] = set()


RecordFactory = t.Callable[..., logging.LogRecord]


def _redacted_record_factory(factory: RecordFactory) -> RecordFactory:
    """``factory``, whose records come out scrubbed."""

    def make_record(*args: t.Any, **kwargs: t.Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        scrub(record)
        return record

    make_record.redacts_tokens = True  # type: ignore[attr-defined]
    return make_record


def scrub(record: logging.LogRecord) -> None:
    """Hide the tokens in the record's message and exception text (formatted once, here)."""
    secrets = tuple(sorted(_SECRETS, key=len, reverse=True))  # a longer token may contain a shorter one
    message = record.getMessage()
    cleaned = _redact_all(message, secrets)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and record.exc_info[0] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        cleaned = _redact_all(text, secrets)
        if cleaned != text:  # formatters print exc_text; without exc_info none re-formats the original
            record.exc_text, record.exc_info = cleaned, None
    if record.stack_info:
        record.stack_info = _redact_all(record.stack_info, secrets)


def _redact_all(text: str, secrets: tuple[str, ...]) -> str:
    text = redact(text, None)  # any auth_token=... value, even a token this process never saw
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def install(secret: str | None) -> None:
    """Redact ``secret`` (and any ``auth_token=`` value) from every log record of this process."""
    with _LOCK:
        if secret:
            _SECRETS.add(secret)
        factory = logging.getLogRecordFactory()
        if not getattr(factory, "redacts_tokens", False):
            logging.setLogRecordFactory(_redacted_record_factory(factory))
