"""Where Meltano 4 keeps a run's log, and what the plugins said in it: summary, progress, first error.

Meltano 4 writes `<user log dir>/elt/<sanitized state id>/<run id>/elt.log`, where the user log dir is
platformdirs' `user_log_path("meltano")` (what `meltano logs dir` prints). On Linux that follows
`XDG_STATE_HOME`, which `make` and `scripts/activate` point inside the project (.meltano/user-state).

The target's run summary and progress are structured SDK metric records (docs/contracts.md §6);
Meltano renders each as `metric_name=<name> metric_value=<dict literal>`, read back here as data.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from platformdirs import user_log_path

SUMMARY_METRIC = "salesforce_sync_summary"
PROGRESS_METRIC = "salesforce_sync_progress"
_LINE = re.compile(r"^\S+\s+\[(?P<level>\w+)\s*\]\s+(?P<source>\S+)\s+(?P<message>.*)$")
_EXC_MESSAGE = re.compile(r'plugin_exc_message=(?P<q>["\'])(?P<text>.*?)(?P=q)(?:\s+plugin_exc_type=|$)')
_TRACEBACK_END = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)(: .*)?$")
_CONSEQUENCES = ("BrokenPipeError", "Backing off ", "Loader failed", "Extractor failed", "Block run completed",
                 "Run completed", "Mappers failed", "Error, exiting")


def log_root() -> Path:
    """Meltano's log directory for this user and environment."""
    return user_log_path("meltano")


def find_run_log(run_id: str, root: Path | None = None) -> Path | None:
    """The `elt.log` of a run; run ids are unique, so the state id's directory need not be rebuilt."""
    matches = sorted((root or log_root()).glob(f"elt/*/{run_id}/elt.log"))
    return matches[0] if matches else None


def metric_record(line: str, metric: str) -> dict | None:
    """The value of a `metric` record in one Meltano log line; None if the line holds none."""
    marker = f"metric_name={metric} metric_value="
    start = line.find(marker)
    if start < 0:
        return None
    text = line[start + len(marker):].rstrip()
    end = len(text)
    while end > 0:  # other key=value pairs may follow the dict: try the longest literal first
        end = text.rfind("}", 0, end) + 1
        if end <= 0:
            return None
        try:
            value = ast.literal_eval(text[:end])
        except (ValueError, SyntaxError):
            end -= 1
            continue
        return value if isinstance(value, dict) else None
    return None


def read_summary(log_text: str) -> dict | None:
    """The last run summary record the target logged; None if there is none."""
    for line in reversed(log_text.splitlines()):
        if (record := metric_record(line, SUMMARY_METRIC)) is not None:
            return record
    return None


def first_error(log_text: str) -> str | None:
    """The plugins' own first error: the exception a plugin ended with, else its first error line, else the last
    line of a traceback it printed before it could log (e.g. a failed import), else Meltano's.

    Consequences of another failure (a broken pipe, "Loader failed", retry notices) are skipped.
    """
    exceptions, plugin_lines, meltano_lines, crashes = [], [], [], []
    for raw in log_text.splitlines():
        match = _LINE.match(raw.strip())
        if not match:
            continue
        if match["source"] != "meltano" and _TRACEBACK_END.match(match["message"]):  # a crash before logging
            crashes.append(f"{match['source']}: {match['message'].strip()}")
        if match["level"].lower() not in ("error", "critical"):
            continue
        message = match["message"].strip()
        if exc := _EXC_MESSAGE.search(message):
            message = exc["text"]
        if any(marker in message for marker in _CONSEQUENCES) or not message:
            continue
        line = message if match["source"] == "meltano" else f"{match['source']}: {message}"
        (exceptions if exc else meltano_lines if match["source"] == "meltano" else plugin_lines).append(line)
    found = exceptions or plugin_lines or crashes[-1:] or meltano_lines
    return found[0] if found else None


def describe_summary(summary: dict) -> str:
    """The summary record in a sentence, e.g. `read 3: created 2, updated 1, ...; Salesforce API calls 9`."""
    outcomes = summary.get("outcomes") or {}
    counts = ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in outcomes.items())
    failures = ", ".join(f"{code} {count}" for code, count in (summary.get("failed_by_code") or {}).items())
    text = f"read {summary.get('received', 0)}: {counts}" + (f" (failed by code: {failures})" if failures else "")
    if summary.get("writebacks") or summary.get("writeback_failures"):
        text += f"; written back to Eventmaker {summary.get('writebacks', 0)} ({summary.get('writeback_failures', 0)} not)"
    text += f"; Salesforce API calls {summary.get('salesforce_calls', 0)}"
    if usage := summary.get("api_usage"):
        text += f" ({usage['left']}/{usage['limit']} left, {usage['percent']:.1f}% used)"
    if summary.get("stopped") == "budget":
        text += "; stopped at the API budget, the next run resumes"
    return ("DRY RUN, nothing written: " if summary.get("dry_run") else "") + text
