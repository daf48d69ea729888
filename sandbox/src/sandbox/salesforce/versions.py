"""The API versions the stand-in serves, as ``GET /services/data/`` lists them: every version from
31.0 (Summer '14, the oldest left after the 2025 retirement of 21.0-30.0) to 68.0 (Winter '27, the
current release in late 2026: the REST API guide of release 262 shows v68.0 in its examples)."""

from __future__ import annotations

OLDEST, CURRENT = 31, 68
API_VERSIONS = tuple(f"{major}.0" for major in range(OLDEST, CURRENT + 1))
SEASONS = ("Summer", "Winter", "Spring")  # 31.0 is Summer '14, then three releases a year


def release_label(version: str) -> str:
    """``Winter '24`` for ``59.0``."""
    index = int(version.split(".")[0]) - OLDEST
    return f"{SEASONS[index % 3]} '{14 + (index + 2) // 3}"


def versions_payload() -> list[dict[str, str]]:
    return [{"label": release_label(v), "url": f"/services/data/v{v}", "version": v} for v in API_VERSIONS]
