"""The project's pipelines (meltano.yml jobs) and how their Meltano state ids are named.

Meltano names a `meltano run` state id `<environment>:<extractor>-to-<loader>[:<suffix>]`. The main
sync keeps the bare id (contracts §5); resends, dry runs and exports run inherited plugins, so their
state ids (and run directories) are their own and they can never move, rewind or corrupt the main
bookmark. Each of those has one state id, so Meltano's RUNNING guard also keeps two resends from
overlapping. Per-event slices of the sync (docs/orchestration.md) add `--state-id-suffix`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Pipeline:
    """One meltano.yml job made of a single extractor -> loader pair."""

    job: str
    extractor: str
    loader: str
    full_refresh: bool = False  # read every participant, ignoring (and not needing) a bookmark

    def state_id(self, environment: str, suffix: str | None = None) -> str:
        """The state id Meltano gives this pipeline's runs (also the `runs.job_name` column)."""
        base = f"{environment}:{self.extractor}-to-{self.loader}"
        return f"{base}:{suffix}" if suffix else base


SYNC = Pipeline("sync", "tap-eventmaker", "target-salesforce-campaign")
RESEND = Pipeline("resend", "tap-eventmaker--resend", "target-salesforce-campaign--resend", full_refresh=True)
DRY_RUN = Pipeline("dry-run", "tap-eventmaker--dry-run", "target-salesforce-campaign--dry-run", full_refresh=True)
EXPORT = Pipeline("export", "tap-eventmaker--export", "target-csv", full_refresh=True)
PIPELINES = {pipeline.job: pipeline for pipeline in (SYNC, RESEND, DRY_RUN, EXPORT)}

_STATE_ID = re.compile(r"^(?P<env>[^:]+):(?P<extractor>.+?)-to-(?P<loader>[^:]+)(?::(?P<suffix>[^:]+))?$")


@dataclass(frozen=True)
class ParsedStateId:
    """A state id split into its parts, with the pipeline it belongs to (None if unknown)."""

    environment: str
    pipeline: Pipeline | None
    suffix: str | None


def parse_state_id(state_id: str) -> ParsedStateId | None:
    """Split `env:tap-to-target[:suffix]`; None for ids that do not have that shape."""
    match = _STATE_ID.match(state_id)
    if not match:
        return None
    pipeline = next(
        (p for p in PIPELINES.values() if (p.extractor, p.loader) == (match["extractor"], match["loader"])),
        None,
    )
    return ParsedStateId(match["env"], pipeline, match["suffix"])


def runs_of(pipeline_or_state_id: str, environment: str) -> tuple[str, bool]:
    """What `runs.job_name` must be for a `--pipeline` filter: (state id, also its `:suffix` ids?).

    A job name (`sync`, `resend`, ...) covers its state id and every suffixed one (resends, per-event
    slices); anything else is taken as one exact state id.
    """
    pipeline = PIPELINES.get(pipeline_or_state_id)
    if pipeline is None:
        return pipeline_or_state_id, False
    return pipeline.state_id(environment), True
