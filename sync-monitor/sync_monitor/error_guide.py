"""The Salesforce API error guide: cause and fix of each usual error, shown next to a participant's error.

The guide is the target's own data file (`target_salesforce_campaign/error_guide.json`, shipped with
the target), read here by path from the project, so this utility does not install the target: the
fix of a participant-level error is the very hint the target writes back into the participant.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

GUIDE_PATH = Path("target-salesforce-campaign") / "target_salesforce_campaign" / "error_guide.json"


@dataclass(frozen=True)
class Guide:
    code: str
    cause: str
    fix: str


def guide_file(project_root: Path | None = None) -> Path:
    """The target's error guide in this Meltano project."""
    root = project_root or Path(os.environ.get("MELTANO_PROJECT_ROOT", ".")).resolve()
    return root / GUIDE_PATH


@cache
def load_guides(path: Path | None = None) -> dict[str, Guide]:
    """Every code of the guide, in its order."""
    codes = json.loads((path or guide_file()).read_text(encoding="utf-8"))["codes"]
    return {code: Guide(code, entry["cause"], entry.get("hint") or entry["run_level_fix"]) for code, entry in codes.items()}


def hint_for(code: str | None) -> str | None:
    """The fix to show next to an error code, if the guide knows it."""
    guide = load_guides().get(code or "")
    return guide.fix if guide else None
