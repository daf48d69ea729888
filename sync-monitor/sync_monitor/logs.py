"""Where Meltano 4 keeps a run's log, and the target's run summary inside it.

Meltano 4 writes `<user log dir>/elt/<sanitized state id>/<run id>/elt.log`, where the user log dir is
platformdirs' `user_log_path("meltano")` (what `meltano logs dir` prints). On Linux that follows
`XDG_STATE_HOME`, which `make` and `scripts/activate` point inside the project (.meltano/user-state).
"""

from __future__ import annotations

import re
from pathlib import Path

from platformdirs import user_log_path


def log_root() -> Path:
    """Meltano's log directory for this user and environment."""
    return user_log_path("meltano")


def find_run_log(run_id: str, root: Path | None = None) -> Path | None:
    """The `elt.log` of a run; run ids are unique, so the state id's directory need not be rebuilt."""
    matches = sorted((root or log_root()).glob(f"elt/*/{run_id}/elt.log"))
    return matches[0] if matches else None


SUMMARY_MARKER = "Salesforce sync summary:"
_COUNT = re.compile(r"(?P<key>[a-z_-]+)=(?P<value>\d+)")
_CODE_COUNT = re.compile(r"(?P<code>[A-Z][A-Z0-9_]*)=(?P<value>\d+)")


def parse_summary(log_text: str) -> dict | None:
    """The last summary line target-salesforce-campaign logged, as a dict; None if there is none.

    The line (the target's `RunSummary.render`) reads: `[DRY RUN (nothing written) ]Salesforce sync
    summary: created=1, updated=0, ...; failed by code: CODE=n, ...; write-backs=n (failed n);
    Salesforce API calls used=n; API usage: <left>`.
    """
    line = next((line for line in reversed(log_text.splitlines()) if SUMMARY_MARKER in line), None)
    if line is None:
        return None
    head, _, body = line.partition(SUMMARY_MARKER)
    counts, _, rest = body.partition("; failed by code:")
    by_code, _, rest = rest.partition(";")
    summary = {match["key"]: int(match["value"]) for match in _COUNT.finditer(counts)}
    summary["failed_by_code"] = {m["code"]: int(m["value"]) for m in _CODE_COUNT.finditer(by_code)}
    if calls := re.search(r"API calls used=(\d+)", rest):
        summary["api_calls"] = int(calls[1])
    if usage := re.search(r"API usage: (.+)$", rest):
        summary["api_usage"] = usage[1].strip()
    summary["dry_run"] = "DRY RUN" in head
    return summary


def describe_summary(summary: dict) -> str:
    """The summary in a sentence, e.g. `created 2, updated 1, ... failed 1 (STRING_TOO_LONG 1)`."""
    counts = [f"{key.replace('_', ' ')} {value}" for key, value in summary.items() if isinstance(value, int)
              and not isinstance(value, bool) and key != "api_calls"]
    failures = ", ".join(f"{code} {count}" for code, count in summary.get("failed_by_code", {}).items())
    text = ", ".join(counts) + (f" (failed by code: {failures})" if failures else "")
    if "api_calls" in summary:
        text += f"; Salesforce API calls {summary['api_calls']}"
    if summary.get("api_usage"):
        text += f" ({summary['api_usage']})"
    return ("DRY RUN, nothing written: " if summary.get("dry_run") else "") + text
