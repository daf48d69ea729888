"""Benchmark of the real `meltano run` sync job on private sandbox servers: API economy, speed, memory.

    .venv/bin/python benchmarks/run.py --sizes 1000,10000,100000 --latencies 0,50

For each size and added latency: seed N new participants, run the sync (new), run it again
(unchanged); at the economy size also change every participant and run (changed), and sync the
seeded special-case data (`sandbox seed --participants N`: seeded-new, seeded-unchanged). Figures come
from the sandboxes' request counters, the clock and psutil (peak RSS of the target's process tree).
The SDK floor (no-op SDK tap | no-op SDK target on the same N records) is measured in the same run;
each run with added latency also gets its latency floor and wall / floor ratio (goals.py). Prints
every figure, says whether each goal (issues 6 and 9) is met, and writes benchmarks/results/<stamp>.json.

The sandboxes run in this process on free ports with their own data dir; Meltano gets its own state
backend, system database and run directory in a temporary directory (the installed plugins linked
in), so neither a user's sandbox, the project's state nor a concurrent `meltano run` is touched.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import psutil
import requests

from goals import DEFAULT_WRITEBACK_CONCURRENCY, add_latency_floors, evaluate
from sandbox.meltano_project import StandIns, isolated_env

PROJECT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
VENV_BIN = PROJECT / ".venv" / "bin"
RECORDS_PER_CALL = 200  # sObject Collections limit: the theoretical minimum is one call per 200 records
WRITE_PHASES = {"new": 2, "changed": 2, "unchanged": 0, "seeded-new": 2, "seeded-unchanged": 0}  # person + member
# API calls are what the org counts against its daily limit: REST calls under /services/data/.
# Logins (OAuth token, SOAP login) are counted apart; Composite (POST) carries the target's queries.
SALESFORCE_API = re.compile(r"^\w+ /services/data/")
SALESFORCE_WRITE = re.compile(r"^(POST|PATCH|PUT|DELETE) /services/data/[^/]+/(composite/sobjects|sobjects/)")
EVENTMAKER_WRITE = re.compile(r"^(PUT|POST|DELETE) ")
WRITEBACK_READ = re.compile(r"^GET /api/v1/events/\{id\}/guests/\{id\}\.json$")  # the write-back's read of one guest
TARGET_PROCESS = "target-salesforce-campaign"
EVENTS = 4


# --------------------------------------------------------------------------- measurements


@dataclass
class Measurement:
    scenario: str  # new | unchanged | changed | sdk-floor
    participants: int
    latency_ms: int
    wall_s: float
    exit_code: int
    participants_per_s: float = 0.0
    salesforce_calls: int = 0
    salesforce_logins: int = 0
    salesforce_writes: int = 0
    eventmaker_calls: int = 0
    eventmaker_writes: int = 0
    writeback_reads: int = 0  # GETs of one guest (the write-back reads each participant before its PUT)
    salesforce_min_calls: int = 0
    salesforce_calls_per_1000: float = 0.0
    eventmaker_calls_per_1000: float = 0.0
    ratio_to_minimum: float | None = None
    target_peak_rss_mb: float | None = None
    latency_floor_s: float | None = None  # runs with added latency: goals.latency_floor_s
    wall_to_floor: float | None = None
    floor_with_reads_s: float | None = None  # the same floor counting the write-back's GETs like its PUTs
    wall_to_floor_with_reads: float | None = None
    salesforce_by_endpoint: dict = field(default_factory=dict)
    eventmaker_by_endpoint: dict = field(default_factory=dict)


def minimum_salesforce_calls(scenario: str, participants: int) -> int:
    """One call per 200 records per write phase (pure)."""
    return WRITE_PHASES.get(scenario, 0) * math.ceil(participants / RECORDS_PER_CALL)


def calls_matching(by_endpoint: dict, pattern: re.Pattern) -> int:
    return sum(n for endpoint, n in by_endpoint.items() if pattern.match(endpoint))


def economy(measurement: Measurement, salesforce: dict, eventmaker: dict) -> Measurement:
    """Fill the call counts, per-1,000 figures and the ratio to the theoretical minimum."""
    n = measurement.participants
    measurement.salesforce_by_endpoint = salesforce["by_endpoint"]
    measurement.eventmaker_by_endpoint = eventmaker["by_endpoint"]
    measurement.salesforce_calls = calls_matching(salesforce["by_endpoint"], SALESFORCE_API)
    measurement.salesforce_logins = salesforce["total"] - measurement.salesforce_calls
    measurement.eventmaker_calls = eventmaker["total"]
    measurement.salesforce_writes = calls_matching(salesforce["by_endpoint"], SALESFORCE_WRITE)
    measurement.eventmaker_writes = calls_matching(eventmaker["by_endpoint"], EVENTMAKER_WRITE)
    measurement.writeback_reads = calls_matching(eventmaker["by_endpoint"], WRITEBACK_READ)
    measurement.salesforce_min_calls = minimum_salesforce_calls(measurement.scenario, n)
    measurement.salesforce_calls_per_1000 = round(measurement.salesforce_calls * 1000 / n, 1)
    measurement.eventmaker_calls_per_1000 = round(measurement.eventmaker_calls * 1000 / n, 1)
    if measurement.salesforce_min_calls:
        measurement.ratio_to_minimum = round(measurement.salesforce_calls / measurement.salesforce_min_calls, 2)
    measurement.participants_per_s = round(n / measurement.wall_s, 1) if measurement.wall_s else 0.0
    return measurement


class PeakRss:
    """Samples the resident memory of a process tree's members whose command line names `needle`."""

    def __init__(self, root: psutil.Process, needle: str, every_s: float = 0.05) -> None:
        self.root, self.needle, self.every_s = root, needle, every_s
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _matching_tree_rss(self) -> int:
        total = 0
        for process in self.root.children(recursive=True):
            try:
                if any(self.needle in part for part in process.cmdline()):
                    total += process.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return total

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak_bytes = max(self.peak_bytes, self._matching_tree_rss())
            except psutil.NoSuchProcess:
                return
            time.sleep(self.every_s)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return round(self.peak_bytes / 2**20, 1)


# --------------------------------------------------------------------------- sandboxes


class Sandboxes:
    """Both stand-ins on free ports in this process, driven only through their control path."""

    def __init__(self, data_dir: Path) -> None:
        from sandbox.common.tls import ensure_tls_files

        self.tls = ensure_tls_files(data_dir / "tls")
        self._servers = []
        self.eventmaker_url = self.salesforce_url = ""

    def __enter__(self) -> Sandboxes:
        from sandbox.common.server import ServerThread
        from sandbox.common.standins import eventmaker_stand_in, salesforce_stand_in

        eventmaker = ServerThread(eventmaker_stand_in().app)
        salesforce = ServerThread(salesforce_stand_in().app, tls_pem=self.tls.server_pem)
        self.eventmaker_url, self.salesforce_url = eventmaker.start(), salesforce.start()
        self._servers = [eventmaker, salesforce]
        return self

    def __exit__(self, *exc) -> None:
        for server in self._servers:
            server.stop()

    def control(self, side: str, method: str, path: str, payload=None) -> dict:
        base = self.eventmaker_url if side == "eventmaker" else self.salesforce_url
        response = requests.request(method, f"{base}/__sandbox/{path}", json=payload,
                                    verify=str(self.tls.ca_pem), timeout=600)
        response.raise_for_status()
        return response.json() if response.content else {}

    def both(self, method: str, path: str, payload=None) -> None:
        for side in ("eventmaker", "salesforce"):
            self.control(side, method, path, payload)

    @staticmethod
    def link_campaigns(salesforce: dict, events: list[dict]) -> dict:
        """Every event's Campaign (the seed makes one per event, in order) carries its _id in the field the
        sandbox environment's campaign_event_field names: no run here pays the one-off creation of a
        campaign (3 calls per batch meeting new events, measured apart in BENCHMARKS.md)."""
        records = dict(salesforce["records"])
        records["Campaign"] = [{**c, "Eventmaker_Event_Id__c": c.get("Eventmaker_Event_Id__c") or e["_id"]}
                               for c, e in zip(records.get("Campaign", []), events)]
        return {**salesforce, "records": records}

    def reset_and_load(self, participants: int) -> None:
        """Fresh data: N plain, never-synced participants; no Contact, Lead or CampaignMember yet."""
        from sandbox.seed import generate

        dataset = generate(participants=participants, events=EVENTS, seed=0)
        special = {guest_id for ids in dataset.cases.values() for guest_id in ids}
        guests = [g for g in dataset.eventmaker["guests"] if g["_id"] not in special]
        shortfall = participants - len(guests)
        guests += [  # top up with copies of plain participants; the store gives them new ids
            {**{k: v for k, v in g.items() if k not in ("_id", "uid")}, "email": f"extra{i}.{g['email']}"}
            for i, g in zip(range(shortfall), guests)
        ]
        records = {name: rows for name, rows in dataset.salesforce["records"].items()
                   if name not in ("Contact", "Lead", "CampaignMember")}
        self.both("POST", "reset")
        self.control("eventmaker", "POST", "load", {**dataset.eventmaker, "guests": guests})
        self.control("salesforce", "POST", "load", self.link_campaigns({"records": records}, dataset.eventmaker["events"]))

    def reset_and_load_seeded(self, participants: int) -> None:
        """What `sandbox seed --participants N` loads: every special case, with its Salesforce records
        (every event's Campaign linked, see `link_campaigns`)."""
        from sandbox.seed import generate

        dataset = generate(participants=participants, seed=0, now=datetime.now(timezone.utc))
        self.both("POST", "reset")
        self.control("salesforce", "POST", "load", self.link_campaigns(dataset.salesforce, dataset.eventmaker["events"]))
        self.control("eventmaker", "POST", "load", dataset.eventmaker)

    def counters(self) -> tuple[dict, dict]:
        return self.control("salesforce", "GET", "counters"), self.control("eventmaker", "GET", "counters")

    def change_every_participant(self) -> None:
        """Through the real API: new first name and status for everyone (two write phases)."""
        snapshot = self.control("eventmaker", "GET", "snapshot")
        flip = {"registered": "invited", "invited": "registered"}
        with requests.Session() as session:
            for guest in snapshot["guests"]:
                if guest.get("deleted_at"):
                    continue
                body = {"first_name": f"{guest.get('first_name') or ''}-changed",
                        "status": flip.get(guest.get("status"), "registered")}
                session.put(f"{self.eventmaker_url}/api/v1/events/{guest['event_id']}/guests/{guest['_id']}.json",
                            params={"auth_token": "sandbox-token"}, json={"guest": body}, timeout=30,
                            ).raise_for_status()


# --------------------------------------------------------------------------- runs


def meltano_env(sandboxes: Sandboxes, work: Path) -> dict:
    """The sandbox environment of meltano.yml on these servers, isolated under `work`."""
    stand_ins = StandIns(sandboxes.eventmaker_url, sandboxes.salesforce_url, sandboxes.tls.ca_pem)
    return isolated_env(PROJECT, work, stand_ins)


def run_sync(sandboxes: Sandboxes, work: Path, scenario: str, participants: int, latency_ms: int,
             timeout_s: int, log: Path) -> Measurement:
    """One `meltano run` of the sync job, timed, its target's memory sampled, its calls counted."""
    sandboxes.both("DELETE", "requests")
    with log.open("ab") as log_file:
        started = time.monotonic()
        # Its own process group: a timeout or an interrupted benchmark stops meltano and its plugins.
        process = subprocess.Popen([str(VENV_BIN / "meltano"), "run", "sync"], cwd=PROJECT, start_new_session=True,
                                   env=meltano_env(sandboxes, work), stdout=log_file, stderr=subprocess.STDOUT)
        with PeakRss(psutil.Process(process.pid), TARGET_PROCESS) as rss:
            try:
                exit_code = process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                exit_code = process.wait()
            except BaseException:
                os.killpg(process.pid, signal.SIGKILL)
                raise
        wall = time.monotonic() - started
    salesforce, eventmaker = sandboxes.counters()
    measurement = Measurement(scenario, participants, latency_ms, round(wall, 2), exit_code,
                              target_peak_rss_mb=rss.peak_mb)
    return economy(measurement, salesforce, eventmaker)


def run_floor(participants: int, work: Path) -> Measurement:
    """The SDK floor: no-op SDK tap | no-op SDK target on the same number of records."""
    tap_config, target_config = work / "noop-tap.json", work / "noop-target.json"
    tap_config.write_text(json.dumps({"records": participants}))
    target_config.write_text("{}")
    python = str(VENV_BIN / "python")
    started = time.monotonic()
    tap = subprocess.Popen([python, str(HERE / "noop_tap.py"), "--config", str(tap_config)],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    target = subprocess.run([python, str(HERE / "noop_target.py"), "--config", str(target_config)],
                            stdin=tap.stdout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    tap.stdout.close()
    exit_code = tap.wait() or target.returncode
    wall = time.monotonic() - started
    return Measurement("sdk-floor", participants, 0, round(wall, 2), exit_code,
                       participants_per_s=round(participants / wall, 1))


# --------------------------------------------------------------------------- main


# Non-secret plugin settings a benchmark may be run with (e.g. TARGET_..._WRITEBACK_CONCURRENCY=32 before
# the command); recorded in the JSON so figures stay tied to them.
RECORDED_SETTINGS = ("TARGET_SALESFORCE_CAMPAIGN_WRITEBACK_CONCURRENCY", "TARGET_SALESFORCE_CAMPAIGN_BATCH_SIZE",
                     "TAP_EVENTMAKER_PAGE_SIZE")


def machine(load_at_start: tuple[float, ...]) -> dict:
    return {"cpus": psutil.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "platform": platform.platform(), "python": platform.python_version(),
            "load_avg_at_start": load_at_start, "load_avg_at_end": os.getloadavg(),
            "settings_from_environment": {name: os.environ[name] for name in RECORDED_SETTINGS if name in os.environ}}


def show(measurement: Measurement) -> None:
    m = measurement
    line = (f"{m.scenario:10} N={m.participants:>7} +{m.latency_ms:>2}ms  {m.wall_s:>8.2f} s  "
            f"{m.participants_per_s:>8.1f}/s  exit={m.exit_code}")
    if m.scenario != "sdk-floor":
        ratio = f" ratio={m.ratio_to_minimum}" if m.ratio_to_minimum is not None else ""
        line += (f"  SF={m.salesforce_calls} ({m.salesforce_calls_per_1000}/1k, min {m.salesforce_min_calls}{ratio},"
                 f" writes {m.salesforce_writes}, logins {m.salesforce_logins})  EM={m.eventmaker_calls} ({m.eventmaker_calls_per_1000}/1k,"
                 f" writes {m.eventmaker_writes})  target RSS {m.target_peak_rss_mb} MB")
    if m.latency_floor_s:
        line += (f"  latency floor {m.latency_floor_s} s, wall/floor {m.wall_to_floor}; with the write-back's"
                 f" {m.writeback_reads} GETs {m.floor_with_reads_s} s, wall/floor {m.wall_to_floor_with_reads}")
    print(line, flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="participant counts, comma-separated")
    parser.add_argument("--latencies", default="0,50", help="added ms per API call, comma-separated")
    parser.add_argument("--economy-size", type=int, default=1000, help="size of the new/changed/unchanged economy runs")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds before a run is killed")
    parser.add_argument("--output", type=Path, default=HERE / "results")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `kill` cleans up like Ctrl-C
    sizes = [int(s) for s in args.sizes.split(",") if s]
    latencies = [int(s) for s in args.latencies.split(",") if s]
    args.output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    load_at_start = os.getloadavg()
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        log = args.output / f"{stamp}-meltano.log"
        with Sandboxes(work / "sandbox") as sandboxes:
            plan = [(args.economy_size, 0, True)] + [(n, ms, False) for n in sizes for ms in latencies
                                                      if not (n == args.economy_size and ms == 0)]
            for n, latency, with_changes in plan:
                run_dir = work / f"run-{n}-{latency}"
                run_dir.mkdir()
                sandboxes.reset_and_load(n)
                sandboxes.both("POST", "latency", {"ms": latency})
                for scenario in ("new", "unchanged"):
                    results.append(run_sync(sandboxes, run_dir, scenario, n, latency, args.timeout, log))
                    show(results[-1])
                if with_changes:
                    sandboxes.both("POST", "latency", {"ms": 0})
                    sandboxes.change_every_participant()
                    sandboxes.both("POST", "latency", {"ms": latency})
                    results.append(run_sync(sandboxes, run_dir, "changed", n, latency, args.timeout, log))
                    show(results[-1])
                    sandboxes.reset_and_load_seeded(n)
                    for scenario in ("seeded-new", "seeded-unchanged"):
                        results.append(run_sync(sandboxes, run_dir, scenario, n, latency, args.timeout, log))
                        show(results[-1])
        for n in sorted({args.economy_size, *sizes}):
            results.append(run_floor(n, work))
            show(results[-1])
    concurrency = int(os.environ.get("TARGET_SALESFORCE_CAMPAIGN_WRITEBACK_CONCURRENCY", DEFAULT_WRITEBACK_CONCURRENCY))
    add_latency_floors(results, concurrency)
    for m in results:
        if m.latency_floor_s:
            show(m)
    goals = evaluate(results)
    print()
    for goal in goals:
        verdict = {True: "MET", False: "MISSED", None: "NOT MEASURED"}[goal.met]
        print(f"[{verdict:>12}] {goal.goal}: {goal.measured}")
    report = {"date": stamp, "machine": machine(load_at_start), "results": [asdict(m) for m in results],
              "goals": [asdict(g) for g in goals]}
    path = args.output / f"{stamp}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"\nwritten {path} (meltano output in {log})")
    return 0 if all(g.met is not False for g in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
