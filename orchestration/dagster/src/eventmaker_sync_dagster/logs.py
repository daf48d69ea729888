"""Reading a `meltano --log-format json` run as it streams: the target's summary and the error lines.

Every stderr line of `meltano --log-format json` is one JSON object. A plugin's own lines carry its
name in `name` (and `stdio`); Meltano's own lines do not. The target emits its run summary once as a
Singer SDK metric (contracts §6): `metric_info = {"type": "summary", "metric":
"salesforce_sync_summary", "value": {...}}`, next to the human line "Salesforce sync summary: ...".
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass, field

SUMMARY_METRIC = "salesforce_sync_summary"
PROGRESS_METRIC = "salesforce_sync_progress"
ERROR_LEVELS = frozenset({"error", "critical", "exception", "fatal"})
# Singer SDK / Python error lines printed by a plugin without a level (plain stderr).
PLAIN_ERROR = re.compile(r"^(\w+\.)*\w*(Error|Exception)\b|\bCRITICAL\b|\bERROR\b")
TAIL_LINES = 200


@dataclass
class RunLog:
    """What one `meltano` run logged, fed line by line."""

    summary: dict | None = None
    plugin_errors: list[str] = field(default_factory=list)
    meltano_errors: list[str] = field(default_factory=list)
    tail: deque = field(default_factory=lambda: deque(maxlen=TAIL_LINES))

    def feed(self, line: str) -> None:
        """Take one stderr line of the run."""
        line = line.rstrip("\n")
        if not line.strip():
            return
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            event = None
        if not isinstance(event, dict):
            self.tail.append(line)
            if PLAIN_ERROR.search(line):
                self.meltano_errors.append(line.strip())
            return
        message = str(event.get("event", "")).strip()
        plugin = event.get("name") if event.get("stdio") else None
        self.tail.append(f"[{plugin}] {message}" if plugin else message)
        metric = event.get("metric_info")
        if isinstance(metric, dict) and metric.get("metric") == SUMMARY_METRIC:
            self.summary = metric.get("value")
            return
        if not message or message == "METRIC":
            return
        is_error = str(event.get("level", "")).lower() in ERROR_LEVELS or PLAIN_ERROR.search(message)
        if not is_error:
            return
        if plugin:
            self.plugin_errors.append(f"{plugin}: {message}")
        else:
            self.meltano_errors.append(message)

    def error_line(self) -> str | None:
        """The line that says why the run failed: the plugin's own error first, then Meltano's."""
        if self.plugin_errors:
            return self.plugin_errors[-1]
        if self.meltano_errors:
            return self.meltano_errors[0]
        return self.tail[-1] if self.tail else None


def notable(line: str) -> tuple[str, str] | None:
    """(level, text) of a stderr line worth showing in Dagster's run log: warnings, errors, progress."""
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(event, dict):
        return None
    metric = event.get("metric_info")
    if isinstance(metric, dict) and metric.get("metric") == PROGRESS_METRIC:
        value = metric.get("value") or {}
        return "info", (f"progress: {value.get('processed')} processed, {value.get('sent')} sent, "
                        f"{value.get('failed')} failed, {value.get('salesforce_calls')} Salesforce calls")
    level = str(event.get("level", "")).lower()
    if level in ERROR_LEVELS or level == "warning":
        plugin = event.get("name") if event.get("stdio") else "meltano"
        return ("error" if level in ERROR_LEVELS else "warning"), f"{plugin}: {event.get('event', '')}"
    return None


def summary_metadata(summary: dict) -> dict[str, object]:
    """Flat Dagster metadata entries of the target's summary (pure)."""
    outcomes = summary.get("outcomes") or {}
    usage = summary.get("api_usage") or {}
    entries: dict[str, object] = {name: int(count) for name, count in outcomes.items()}
    entries["failed_by_code"] = dict(summary.get("failed_by_code") or {})
    entries["salesforce_calls"] = int(summary.get("salesforce_calls") or 0)
    entries["writebacks"] = int(summary.get("writebacks") or 0)
    entries["writeback_failures"] = int(summary.get("writeback_failures") or 0)
    if usage:
        entries["api_usage_left"] = usage.get("left")
        entries["api_usage_limit"] = usage.get("limit")
        entries["api_usage_percent"] = usage.get("percent")
    if summary.get("stopped"):
        entries["stopped"] = str(summary["stopped"])
    return entries
