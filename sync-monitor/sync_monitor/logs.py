"""Where Meltano 4 keeps a run's log, and the target's run summary inside it.

Meltano 4 writes `<user log dir>/elt/<sanitized state id>/<run id>/elt.log`, where the user log dir is
platformdirs' `user_log_path("meltano")` (what `meltano logs dir` prints). On Linux that follows
`XDG_STATE_HOME`, which `make` and `scripts/activate` point inside the project (.meltano/user-state).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from platformdirs import user_log_path

SUMMARY_COUNTS = ("created", "updated", "unchanged", "failed")


def log_root() -> Path:
    """Meltano's log directory for this user and environment."""
    return user_log_path("meltano")


def find_run_log(run_id: str, root: Path | None = None) -> Path | None:
    """The `elt.log` of a run; run ids are unique, so the state id's directory need not be rebuilt."""
    matches = sorted((root or log_root()).glob(f"elt/*/{run_id}/elt.log"))
    return matches[0] if matches else None


_KEY_VALUE = re.compile(r"(?P<key>[A-Za-z_][\w.]*)=(?P<value>\{[^}]*\}|\S+)")


def parse_summary(log_text: str) -> dict | None:
    """The last run summary the target logged, as a dict, or None if there is none.

    Accepts the summary as a JSON object on the line, or as `key=value` pairs (how Meltano renders
    structured log fields); a summary line mentions "summary" and the four counts.
    """
    for line in reversed(log_text.splitlines()):
        if "summary" not in line.lower() or not all(count in line for count in SUMMARY_COUNTS):
            continue
        parsed = _json_object_in(line) or _key_values_in(line)
        if parsed and all(count in parsed for count in SUMMARY_COUNTS):
            return parsed
    return None


def _json_object_in(line: str) -> dict | None:
    start = line.find("{")
    while start != -1:
        try:
            value, _ = json.JSONDecoder().raw_decode(line[start:])
        except json.JSONDecodeError:
            start = line.find("{", start + 1)
            continue
        if isinstance(value, dict):
            return value.get("summary") if isinstance(value.get("summary"), dict) else value
        start = line.find("{", start + 1)
    return None


def _key_values_in(line: str) -> dict:
    return {match["key"]: _scalar(match["value"]) for match in _KEY_VALUE.finditer(line)}


def _scalar(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
