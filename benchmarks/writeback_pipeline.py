"""The real tap | target pipeline on N new participants at each write-back concurrency, outside Meltano.

    .venv/bin/python benchmarks/writeback_pipeline.py --participants 10000 --latency 50 --workers 16,32

Write-back (one PUT per participant, no bulk endpoint) was the measured bottleneck of "10k new
participants at 50 ms" (BENCHMARKS.md). This runs the installed tap and target with the target's
`writeback_concurrency` set to each value, on fresh private sandboxes adding `--latency` ms to
every call. (Before the setting existed, the figures in BENCHMARKS.md were taken by overriding
EventmakerWriter's `max_workers` default the same way.)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from run import PROJECT, Sandboxes

TAP = PROJECT / ".meltano" / "extractors" / "tap-eventmaker" / "venv" / "bin"
TARGET = PROJECT / ".meltano" / "loaders" / "target-salesforce-campaign" / "venv" / "bin"
PUT = "PUT /api/v1/events/{id}/guests/{id}.json"


def configs(sandboxes: Sandboxes, work: Path, **target_settings: object) -> tuple[Path, Path]:
    """The tap's and the target's config files, as meltano.yml's sandbox environment sets them."""
    tap, target = work / "tap.json", work / "target.json"
    tap.write_text(json.dumps({"api_url": sandboxes.eventmaker_url, "auth_token": "sandbox-token"}))
    target.write_text(json.dumps({
        "login_url": sandboxes.salesforce_url, "username": "integration@sandbox.example",
        "password": "sandbox-password", "security_token": "SANDBOXTOKEN", "client_id": "sandbox-client-id",
        "client_secret": "sandbox-client-secret", "ca_bundle": str(sandboxes.tls.ca_pem),
        "campaign_id": "701000000000001AAA", "eventmaker_api_url": sandboxes.eventmaker_url,
        "eventmaker_auth_token": "sandbox-token", **target_settings,
    }))
    return tap, target


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--latency", type=int, default=50)
    parser.add_argument("--workers", default="16,32")
    args = parser.parse_args(argv)
    with TemporaryDirectory(prefix="bench-wb-") as tmp, Sandboxes(Path(tmp) / "sandbox") as sandboxes:
        for workers in (int(w) for w in args.workers.split(",")):
            tap_config, target_config = configs(sandboxes, Path(tmp), writeback_concurrency=workers)
            sandboxes.reset_and_load(args.participants)
            sandboxes.both("POST", "latency", {"ms": args.latency})
            sandboxes.both("DELETE", "requests")
            started = time.monotonic()
            tap = subprocess.Popen([str(TAP / "tap-eventmaker"), "--config", str(tap_config)],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            target = subprocess.run(
                [str(TARGET / "target-salesforce-campaign"), "--config", str(target_config)],
                stdin=tap.stdout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            tap.stdout.close()
            exit_code = tap.wait() or target.returncode
            wall = time.monotonic() - started
            salesforce, eventmaker = sandboxes.counters()
            print(f"N={args.participants} +{args.latency} ms  writeback_concurrency={workers:>3}: {wall:6.1f} s  exit={exit_code}  "
                  f"Salesforce calls={salesforce['total']}  Eventmaker calls={eventmaker['total']} "
                  f"(PUTs {eventmaker['by_endpoint'].get(PUT, 0)})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
