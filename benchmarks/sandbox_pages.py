"""Time of one guests page from the Eventmaker sandbox at 100k participants, unfiltered and with updated_since.

    .venv/bin/python benchmarks/sandbox_pages.py

`updated_since` pages are filtered from the event's first guest on each call, so their cost grows
with the page number; this measures by how much (best of 3 per page).
"""

from __future__ import annotations

import time
from pathlib import Path
from tempfile import TemporaryDirectory

import requests

from run import Sandboxes

PARTICIPANTS = 100_000
AUTH = {"auth_token": "sandbox-token"}


def main() -> None:
    with TemporaryDirectory(prefix="bench-pages-") as tmp, Sandboxes(Path(tmp) / "sandbox") as sandboxes:
        sandboxes.reset_and_load(PARTICIPANTS)
        base = sandboxes.eventmaker_url
        event_id = requests.get(f"{base}/api/v1/events.json", params=AUTH, timeout=30).json()[0]["_id"]
        url = f"{base}/api/v1/events/{event_id}/guests.json"
        with requests.Session() as session:
            for label, extra in (("unfiltered", {}), ("updated_since", {"updated_since": "2000-01-01T00:00:00Z"})):
                for page in (1, 25, 50):
                    params = {**AUTH, "page": page, "per_page": 500, **extra}
                    times = []
                    for _ in range(3):
                        started = time.perf_counter()
                        guests = session.get(url, params=params, timeout=30).json()
                        times.append(time.perf_counter() - started)
                    print(f"{label:14} page {page:>2}: {len(guests)} guests, best of 3 {min(times) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
