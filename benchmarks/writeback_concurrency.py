"""Write-back throughput of the target's EventmakerWriter against the Eventmaker stand-in, per concurrency.

    .venv/bin/python benchmarks/writeback_concurrency.py --puts 2000 --latency 50 --workers 4,8,16,32

The Eventmaker API has no bulk update, so write-back costs a GET (the fresh read that keeps other
applications' refs) and a PUT per synced participant; the only lever is how many are in flight.
This times the target's own writer (its retry policy and connection pool included) doing the same N
write-backs with each `max_workers`, the stand-in adding `--latency` ms to every call, and prints
write-backs per second and the projected time for 10k (ideal: 2 calls x latency / workers each).
"""

from __future__ import annotations

import argparse
import sys
import time

from sandbox.common.server import ServerThread
from sandbox.common.standins import eventmaker_stand_in
from sandbox.seed import generate
from target_salesforce_campaign.writeback import EventmakerWriter, Writeback
from target_salesforce_campaign.writeback_home import read_entry

AUTH_TOKEN = "sandbox-token"


def writebacks(guests: list[dict], round_: int) -> list[Writeback]:
    """One PUT per guest, carrying a sync entry that differs in every round (so every PUT is a change)."""
    items = []
    for guest in guests:
        entry = {**read_entry(guest), "fingerprint": f"{round_}{guest['_id']}".rjust(64, "0")}
        items.append(Writeback(guest["event_id"], guest["_id"], entry))
    return items


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--puts", type=int, default=2000)
    parser.add_argument("--latency", type=int, default=50, help="ms added to every call by the stand-in")
    parser.add_argument("--workers", default="4,8,16,32")
    args = parser.parse_args(argv)

    stand_in = eventmaker_stand_in()
    stand_in.store.load(generate(participants=args.puts, events=4, seed=0).eventmaker)
    stand_in.app.latency_ms = args.latency
    server = ServerThread(stand_in.app)
    url = server.start()
    try:
        guests = [g for event in stand_in.store.events() for g in stand_in.store.guests(event["_id"])][: args.puts]
        print(f"{len(guests)} PUTs, +{args.latency} ms per call")
        for round_, workers in enumerate(int(w) for w in args.workers.split(",")):
            items = writebacks(guests, round_)
            writer = EventmakerWriter(url, AUTH_TOKEN, max_workers=workers)
            started = time.monotonic()
            failures = writer.write(items).failures
            wall = time.monotonic() - started
            rate = len(items) / wall
            print(f"max_workers={workers:>3}: {wall:6.2f} s  {rate:7.1f} PUT/s  failures={len(failures)}  "
                  f"10k PUTs ≈ {10_000 / rate:6.1f} s  (ideal {2 * 10_000 * args.latency / 1000 / workers:6.1f} s)",
                  flush=True)
            writer.session.close()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
