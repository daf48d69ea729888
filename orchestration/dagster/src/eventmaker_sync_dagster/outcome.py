"""A finished `meltano` run as Dagster sees it: metadata on success, a `Failure` otherwise (pure).

A failure is retried (the asset's RetryPolicy) unless it is one a retry cannot fix: a configuration
or credentials error the plugin reported, or Meltano refusing to start because the same state id is
already running (the RUNNING guard: the other run owns the partition).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from dagster import Failure, MetadataValue

from .logs import RunLog, notable, summary_metadata
from .resource import MeltanoResult

NOT_RETRYABLE = re.compile(
    r"Configuration errors|ConfigValidationError|Config validation failed|login \([^)]*\) at \S+ failed"
    r"|invalid_grant|INVALID_LOGIN|INVALID_SESSION_ID|401 Client Error|403 Client Error|Unauthorized"
    r"|already running|not known to Meltano|could not find|No such file or directory: '.*meltano'",
    re.IGNORECASE,
)
TAIL_IN_METADATA = 40


def forward_to(context) -> Callable[[str], None]:
    """A stderr-line callback putting Meltano's warnings, errors and progress in the Dagster run log."""
    def forward(line: str) -> None:
        shown = notable(line)
        if shown:
            getattr(context.log, shown[0])(shown[1])
    return forward


def is_retryable(log: RunLog) -> bool:
    """False when a retry would fail the same way (configuration, credentials, already running)."""
    lines = [*log.plugin_errors, *log.meltano_errors]
    return not any(NOT_RETRYABLE.search(line) for line in lines)


def run_metadata(result: MeltanoResult, **extra: object) -> dict[str, object]:
    """The metadata of one run: the target's summary (when it got that far) and `extra`."""
    metadata: dict[str, object] = {**extra, "meltano_exit_code": result.returncode}
    if result.log.summary:
        metadata.update(summary_metadata(result.log.summary))
        metadata["summary"] = MetadataValue.json(result.log.summary)
    return metadata


def failure(result: MeltanoResult, what: str, **extra: object) -> Failure:
    """The `Failure` of a run: the plugin's own error line as description and in metadata."""
    error = result.log.error_line() or f"meltano exited with {result.returncode}"
    metadata = run_metadata(result, **extra)
    metadata["error"] = MetadataValue.text(error)
    metadata["log_tail"] = MetadataValue.md("```\n" + "\n".join(list(result.log.tail)[-TAIL_IN_METADATA:]) + "\n```")
    retryable = is_retryable(result.log)
    metadata["retryable"] = retryable
    return Failure(description=f"{what} failed: {error}", metadata=metadata, allow_retries=retryable)
