"""No secret in any log line of the target's process, at any level, whoever logs it (issue 10 class 3).

The Eventmaker token travels in the query string of every write-back, so urllib3's request lines
(debug) and retry warnings print it; a Salesforce session id can show up in a traceback. A filter on
named loggers misses records of child loggers and of loggers nobody listed, so the redaction sits in
the log record factory: every record of the process is scrubbed when it is created, before any
handler or formatter. Redacted: the configured secret values, and by pattern `auth_token=`,
`access_token`, `refresh_token`, `client_secret`, `password` parameters, `Authorization` headers,
SOAP `sessionId` elements and Salesforce session ids (`00D...!...`), even ones never configured.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections.abc import Callable, Iterable

REDACTED = "[REDACTED]"
_KEY = r"(?:auth_token|access_token|refresh_token|client_secret|password|security_token|sessionId)"
PATTERNS = (
    # key=value in a URL or form, "key": "value" in JSON, key: value in a repr
    re.compile(rf"(?P<keep>\b{_KEY}\b[\"']?\s*[=:]\s*[\"']?)(?P<secret>[^\s&\"',}}<]+)", re.IGNORECASE),
    re.compile(r"(?P<keep>\bAuthorization[\"']?\s*[=:]\s*[\"']?(?:Bearer |OAuth |Basic )?)(?P<secret>[^\s\"',}]+)",
               re.IGNORECASE),
    re.compile(r"(?P<keep><(?:\w+:)?sessionId>)(?P<secret>[^<]+)"),
    re.compile(r"(?P<keep>)(?P<secret>\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]+)"),
)

_lock = threading.Lock()
_secrets: set[str] = set()


def redact(text: str) -> str:
    """`text` with every known secret value and every secret-looking parameter replaced."""
    for secret in sorted(_secrets, key=len, reverse=True):  # a longer secret may contain a shorter one
        text = text.replace(secret, REDACTED)
    for pattern in PATTERNS:
        text = pattern.sub(lambda m: m.group("keep") + REDACTED, text)
    return text


def scrub(record: logging.LogRecord) -> None:
    """Redact the record's message, exception text and stack (the exception is formatted here, once)."""
    message = record.getMessage()
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        record.exc_info = None  # else a formatter could print the original traceback again
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def _scrubbing(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make_record(*args: object, **kwargs: object) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        scrub(record)
        return record

    make_record.scrubs_secrets = True  # type: ignore[attr-defined]
    return make_record


def install(secrets: Iterable[str | None]) -> None:
    """Redact `secrets` (and the patterns) from every log record of this process from now on."""
    with _lock:
        _secrets.update(s for s in secrets if isinstance(s, str) and len(s) >= 4)
        factory = logging.getLogRecordFactory()
        if not getattr(factory, "scrubs_secrets", False):
            logging.setLogRecordFactory(_scrubbing(factory))


def secret_values(config: dict, schema: dict, extra: Iterable[str | None] = ()) -> list[str]:
    """The values of the settings the schema marks secret, plus `extra` (e.g. the tap's token from the env)."""
    names = [name for name, prop in schema.get("properties", {}).items() if prop.get("secret")]
    values = [config.get(name) for name in names] + list(extra)
    return [v for v in values if isinstance(v, str) and v]
